// Workshops and seats in the database (the learners' lab sessions are tracking's, read through
// src/server/tracking). Seats are counted inside the transaction that takes one, with the
// workshop row locked on PostgreSQL, so two portal replicas cannot both hand out the last seat.

import { randomInt, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database, Queryable, SqlValue } from '../db/index.ts';
import type { Workshop, WorkshopInstructor } from '../../contracts/index.ts';
import { WorkshopError, type Seat } from './model.ts';

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 6;

const workshopRow = z.object({
  id: z.string(),
  title: z.string(),
  code: z.string(),
  instructor_id: z.string(),
  labs: z.string(),
  paths: z.string(),
  starts_at: z.string(),
  ends_at: z.string(),
  seats: z.coerce.number(),
  stuck_minutes: z.coerce.number(),
  stuck_failures: z.coerce.number(),
  prewarm: z.coerce.number(),
  message: z.string().nullable(),
  message_at: z.string().nullable(),
  created_at: z.string(),
  ended_at: z.string().nullable(),
});
const WORKSHOP_COLUMNS = 'id, title, code, instructor_id, labs, paths, starts_at, ends_at, seats, stuck_minutes, stuck_failures, prewarm, message, message_at, created_at, ended_at';
const ids = z.array(z.string());

function toWorkshop(row: z.infer<typeof workshopRow>): Workshop {
  return {
    id: row.id,
    title: row.title,
    code: row.code,
    instructorId: row.instructor_id,
    labs: ids.parse(JSON.parse(row.labs)),
    paths: ids.parse(JSON.parse(row.paths)),
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    seats: row.seats,
    stuckMinutes: row.stuck_minutes,
    stuckFailures: row.stuck_failures,
    prewarm: row.prewarm,
    message: row.message,
    messageAt: row.message_at,
    createdAt: row.created_at,
    endedAt: row.ended_at,
  };
}

const instructorRow = z.object({ id: z.string(), display_name: z.string(), added_at: z.string() });
const seatRow = z.object({ learner_id: z.string(), display_name: z.string(), joined_at: z.string(), extra_minutes: z.coerce.number() });
const countRow = z.object({ n: z.coerce.number() });

export function normalizeCode(code: string): string {
  return code.trim().toUpperCase().replace(/[\s-]/g, '');
}

export interface NewWorkshop {
  title: string;
  instructorId: string;
  labs: string[];
  paths: string[];
  startsAt: string;
  endsAt: string;
  seats: number;
  stuckMinutes: number;
  stuckFailures: number;
  prewarm: number;
  createdAt: string;
}

export function workshopStore(db: Database) {
  const read = (q: Queryable, id: string) => q.one(workshopRow, `SELECT ${WORKSHOP_COLUMNS} FROM workshops WHERE id = $1`, [id]).then((row) => (row ? toWorkshop(row) : null));

  return {
    get: (id: string) => read(db, id),

    async byCode(code: string): Promise<Workshop | null> {
      const row = await db.one(workshopRow, `SELECT ${WORKSHOP_COLUMNS} FROM workshops WHERE code = $1`, [normalizeCode(code)]);
      return row ? toWorkshop(row) : null;
    },

    /** The workshops `instructorId` owns or co-instructs; every workshop when null (admins). */
    async list(instructorId: string | null): Promise<Workshop[]> {
      if (instructorId === null) {
        return (await db.all(workshopRow, `SELECT ${WORKSHOP_COLUMNS} FROM workshops ORDER BY starts_at DESC, created_at DESC LIMIT 200`)).map(toWorkshop);
      }
      const rows = await db.all(
        workshopRow,
        `SELECT ${WORKSHOP_COLUMNS} FROM workshops WHERE instructor_id = $1 OR id IN (SELECT workshop_id FROM workshop_instructors WHERE learner_id = $1)
         ORDER BY starts_at DESC, created_at DESC LIMIT 200`,
        [instructorId],
      );
      return rows.map(toWorkshop);
    },

    /** The owner first, then co-instructors in the order they were added. */
    async instructors(workshop: Workshop): Promise<WorkshopInstructor[]> {
      const rows = await db.all(
        instructorRow,
        `SELECT l.id, l.display_name, '' AS added_at FROM learners l WHERE l.id = $1
         UNION ALL
         SELECT l.id, l.display_name, i.added_at FROM workshop_instructors i JOIN learners l ON l.id = i.learner_id WHERE i.workshop_id = $2
         ORDER BY added_at`,
        [workshop.instructorId, workshop.id],
      );
      return rows.map((row) => ({ id: row.id, name: row.display_name, owner: row.id === workshop.instructorId }));
    },

    async isCoInstructor(workshopId: string, learnerId: string): Promise<boolean> {
      return ((await db.one(countRow, 'SELECT count(*) AS n FROM workshop_instructors WHERE workshop_id = $1 AND learner_id = $2', [workshopId, learnerId]))?.n ?? 0) > 0;
    },

    /** Adds a co-instructor; false when they already were one. */
    async addInstructor(workshopId: string, learnerId: string, at: string): Promise<boolean> {
      if (await this.isCoInstructor(workshopId, learnerId)) return false;
      await db.run('INSERT INTO workshop_instructors (workshop_id, learner_id, added_at) VALUES ($1, $2, $3)', [workshopId, learnerId, at]);
      return true;
    },

    /** A learner by the name they sign in with (any case and spacing) or by email, with their roles. */
    async findLearner(nameOrEmail: string): Promise<{ id: string; name: string; roles: string[] } | null> {
      const key = nameOrEmail.normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase('en');
      const row = await db.one(
        z.object({ id: z.string(), display_name: z.string(), roles: z.string() }),
        'SELECT id, display_name, roles FROM learners WHERE name = $1 OR lower(email) = $1 ORDER BY created_at LIMIT 1',
        [key],
      );
      return row ? { id: row.id, name: row.display_name, roles: z.array(z.string()).parse(JSON.parse(row.roles)) } : null;
    },

    async create(input: NewWorkshop): Promise<Workshop> {
      const id = randomUUID();
      // A clash of codes is rare (32^6); the unique index catches it and another code is tried.
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const code = Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
        if (await db.one(countRow, 'SELECT count(*) AS n FROM workshops WHERE code = $1', [code]).then((row) => (row?.n ?? 0) > 0)) continue;
        await db.run(
          `INSERT INTO workshops (${WORKSHOP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL, $13, NULL)`,
          [
            id,
            input.title,
            code,
            input.instructorId,
            JSON.stringify(input.labs),
            JSON.stringify(input.paths),
            input.startsAt,
            input.endsAt,
            input.seats,
            input.stuckMinutes,
            input.stuckFailures,
            input.prewarm,
            input.createdAt,
          ],
        );
        const made = await read(db, id);
        if (made) return made;
      }
      throw new Error('could not find an unused workshop code in 5 attempts');
    },

    /** Takes a seat (or finds the learner's); refuses when the workshop has ended or is full. */
    async join(workshopId: string, learnerId: string, at: string): Promise<{ joined: boolean }> {
      return db.transaction(async (tx) => {
        const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
        const row = await tx.one(workshopRow, `SELECT ${WORKSHOP_COLUMNS} FROM workshops WHERE id = $1${lock}`, [workshopId]);
        if (!row) throw new WorkshopError(404, `there is no workshop ${workshopId}`);
        const workshop = toWorkshop(row);
        const seated = await tx.one(countRow, 'SELECT count(*) AS n FROM workshop_seats WHERE workshop_id = $1 AND learner_id = $2', [workshopId, learnerId]);
        if ((seated?.n ?? 0) > 0) return { joined: false };
        if (workshop.endedAt !== null) throw new WorkshopError(409, `the workshop “${workshop.title}” has ended; ask your instructor for the code of a current one`);
        const taken = (await tx.one(countRow, 'SELECT count(*) AS n FROM workshop_seats WHERE workshop_id = $1', [workshopId]))?.n ?? 0;
        if (taken >= workshop.seats) throw new WorkshopError(409, `the workshop “${workshop.title}” is full: all ${workshop.seats} seats are taken; ask your instructor to add seats`);
        await tx.run('INSERT INTO workshop_seats (workshop_id, learner_id, joined_at, extra_minutes) VALUES ($1, $2, $3, 0)', [workshopId, learnerId, at]);
        return { joined: true };
      });
    },

    async seats(workshopId: string, learnerId?: string): Promise<Seat[]> {
      const params: SqlValue[] = learnerId ? [workshopId, learnerId] : [workshopId];
      const rows = await db.all(
        seatRow,
        `SELECT s.learner_id, l.display_name, s.joined_at, s.extra_minutes FROM workshop_seats s JOIN learners l ON l.id = s.learner_id
         WHERE s.workshop_id = $1${learnerId ? ' AND s.learner_id = $2' : ''} ORDER BY s.joined_at, l.display_name`,
        params,
      );
      return rows.map((row) => ({ learnerId: row.learner_id, name: row.display_name, joinedAt: row.joined_at, extraMinutes: row.extra_minutes }));
    },

    async taken(workshopId: string): Promise<number> {
      return (await db.one(countRow, 'SELECT count(*) AS n FROM workshop_seats WHERE workshop_id = $1', [workshopId]))?.n ?? 0;
    },

    /** The workshop the learner joined last that has not ended. */
    async currentOf(learnerId: string): Promise<Workshop | null> {
      const row = await db.one(
        workshopRow,
        `SELECT ${WORKSHOP_COLUMNS.split(', ').map((column) => `w.${column}`).join(', ')} FROM workshops w JOIN workshop_seats s ON s.workshop_id = w.id
         WHERE s.learner_id = $1 AND w.ended_at IS NULL ORDER BY s.joined_at DESC LIMIT 1`,
        [learnerId],
      );
      return row ? toWorkshop(row) : null;
    },

    async setMessage(workshopId: string, message: string | null, at: string): Promise<void> {
      await db.run('UPDATE workshops SET message = $2, message_at = $3 WHERE id = $1', [workshopId, message, message === null ? null : at]);
    },

    async setEndsAt(workshopId: string, endsAt: string): Promise<void> {
      await db.run('UPDATE workshops SET ends_at = $2 WHERE id = $1', [workshopId, endsAt]);
    },

    async addMinutes(workshopId: string, learnerId: string, minutes: number): Promise<boolean> {
      return (await db.run('UPDATE workshop_seats SET extra_minutes = extra_minutes + $3 WHERE workshop_id = $1 AND learner_id = $2', [workshopId, learnerId, minutes])) > 0;
    },

    async end(workshopId: string, at: string): Promise<boolean> {
      return (await db.run('UPDATE workshops SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL', [workshopId, at])) > 0;
    },
  };
}

export type WorkshopStore = ReturnType<typeof workshopStore>;
