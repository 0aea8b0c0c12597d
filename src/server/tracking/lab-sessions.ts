// The record of lab attempts: lab sessions, every Check with its results, hints and solutions
// shown, completion. Each write that is something a learner did goes in one transaction with the
// learning event that tells of it (a session opened is `lab.started`, a Check `check.passed` or
// `check.failed`, a hint or solution shown `hint.shown` / `solution.shown`, completion
// `lab.completed` with `lesson.completed` for the lessons the lab was started from, an ended
// session `lab.ended`). Writes are idempotent where a retry could repeat them (a hint shown twice
// is one reveal); reads come back validated, so the pages and reports get exact shapes.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { checkResult, LAB_SESSION_STATUSES, stepPassed, type CheckResult, type LabSessionStatus } from '../../contracts/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { END_REASONS, type EndReason, type LearningEventInput } from './events.ts';
import type { AppendEvent, EventWriter } from './writer.ts';

export interface LessonRef {
  path: string;
  lesson: string;
}

export interface LabSessionRecord {
  id: string;
  learnerId: string;
  lab: string;
  status: LabSessionStatus;
  phase: string | null;
  namespace: string | null;
  step: string | null;
  lessons: LessonRef[];
  startedAt: string;
  readyAt: string | null;
  expiresAt: string | null;
  completedAt: string | null;
  endedAt: string | null;
  endReason: EndReason | null;
  detail: string | null;
}

export interface CheckRecord {
  id: string;
  step: string;
  passed: boolean;
  results: CheckResult[];
  durationMs: number;
  checkedAt: string;
}

export interface RevealRecord {
  step: string;
  kind: 'hint' | 'solution';
  number: number;
  shownAt: string;
}

/** A session whose time a workshop extended: its sandbox (if it has one yet) must live as long. */
export interface ExtendedLabSession {
  id: string;
  namespace: string | null;
  expiresAt: string;
}

/** A learner's lab, as the progress pages show it. */
export interface LabProgress {
  lab: string;
  attempts: number;
  checks: number;
  completedAt: string | null;
  lastStartedAt: string;
}

const lessonRefs = z.array(z.object({ path: z.string(), lesson: z.string() }));

const sessionRow = z.object({
  id: z.string(),
  learner_id: z.string(),
  lab: z.string(),
  status: z.enum(LAB_SESSION_STATUSES),
  phase: z.string().nullable(),
  namespace: z.string().nullable(),
  step: z.string().nullable(),
  lessons: z.string(),
  started_at: z.string(),
  ready_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  end_reason: z.enum(END_REASONS).nullable(),
  detail: z.string().nullable(),
});

const SESSION_COLUMNS =
  'id, learner_id, lab, status, phase, namespace, step, lessons, started_at, ready_at, expires_at, completed_at, ended_at, end_reason, detail';

const checkRow = z.object({
  id: z.string(),
  step: z.string(),
  passed: z.coerce.number(),
  results: z.string(),
  duration_ms: z.coerce.number(),
  checked_at: z.string(),
});

const revealRow = z.object({ step: z.string(), kind: z.enum(['hint', 'solution']), number: z.coerce.number(), shown_at: z.string() });

const progressRow = z.object({
  lab: z.string(),
  attempts: z.coerce.number(),
  checks: z.coerce.number(),
  completed_at: z.string().nullable(),
  last_started_at: z.string(),
});

function toSession(row: z.infer<typeof sessionRow>): LabSessionRecord {
  return {
    id: row.id,
    learnerId: row.learner_id,
    lab: row.lab,
    status: row.status,
    phase: row.phase,
    namespace: row.namespace,
    step: row.step,
    lessons: lessonRefs.parse(JSON.parse(row.lessons)),
    startedAt: row.started_at,
    readyAt: row.ready_at,
    expiresAt: row.expires_at,
    completedAt: row.completed_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    detail: row.detail,
  };
}

/** A lab session as a workshop's dashboard reads it. */
export interface LabActivitySession {
  id: string;
  learnerId: string;
  lab: string;
  status: LabSessionStatus;
  step: string | null;
  startedAt: string;
  completedAt: string | null;
  endedAt: string | null;
}

/** A Check as a workshop's dashboard reads it. */
export interface LabActivityCheck {
  labSession: string;
  step: string;
  passed: boolean;
  checkedAt: string;
}

export interface OpenLabSession {
  learnerId: string;
  lab: string;
  lessons: LessonRef[];
  /** The first step. */
  step: string;
  /** When Start was pressed; now when absent. */
  startedAt?: string;
  expiresAt: string | null;
}

export interface LabRecords {
  /** Opens a session, or returns the learner's open session of this lab; `created` says which. */
  open(input: OpenLabSession): Promise<{ session: LabSessionRecord; created: boolean }>;
  get(id: string): Promise<LabSessionRecord | null>;
  /** The learner's open (not ended) session of the lab. */
  current(learnerId: string, lab: string): Promise<LabSessionRecord | null>;
  /** The learner's latest attempt of the lab that has ended (one that never started aside): what the lab page shows between sessions. */
  latestEnded(learnerId: string, lab: string): Promise<LabSessionRecord | null>;
  /** Every open session (for expiry after a restart). */
  allOpen(): Promise<LabSessionRecord[]>;
  setPhase(id: string, phase: string, namespace?: string): Promise<void>;
  ready(id: string, namespace: string): Promise<void>;
  failed(id: string, detail: string): Promise<void>;
  /** Records a Check; moves the session to `nextStep` when given (the step passed). */
  recordCheck(id: string, check: { step: string; results: CheckResult[]; durationMs: number; nextStep?: string | null }): Promise<CheckRecord>;
  /** Marks the session completed (once; later calls keep the first time), and the lessons it was started from. */
  complete(id: string): Promise<LabSessionRecord>;
  recordReveal(id: string, reveal: { step: string; kind: 'hint' | 'solution'; number: number }): Promise<void>;
  /** Moves the expiry of the learners' open sessions of these labs that have one (a workshop's extended time); returns the sessions moved, with their new expiry. */
  extend(learnerIds: readonly string[], labs: readonly string[], minutes: number): Promise<ExtendedLabSession[]>;
  /** Ends an open session; false when it had already ended. */
  end(id: string, reason: EndReason): Promise<boolean>;
  checks(id: string): Promise<CheckRecord[]>;
  /** Per step checked so far: its latest Check, and whether any Check of it passed (what the step list shows). */
  latestChecks(id: string): Promise<Map<string, { latest: CheckRecord; passedOnce: boolean }>>;
  reveals(id: string): Promise<RevealRecord[]>;
  /** Per lab the learner ever started: attempts, checks, first completion. */
  progress(learnerId: string): Promise<LabProgress[]>;
  /**
   * Per learner and lab, the session a dashboard shows: the latest that is open or was started
   * since the learner's `since` (when they joined); with the Checks of those sessions, oldest first.
   */
  activity(learners: readonly { learnerId: string; since: string }[], labs: readonly string[]): Promise<{ sessions: LabActivitySession[]; checks: LabActivityCheck[] }>;
}

export interface LabRecordsOptions {
  now?: () => Date;
  /** The workshop a learner is in right now, if any, to tag their lab events with. */
  workshopOf?: (learnerId: string) => Promise<string | null>;
}

/** `$from, $from+1, …`: `count` placeholders of an IN list. */
const list = (from: number, count: number) => Array.from({ length: count }, (_, index) => `$${from + index}`).join(', ');

/** What every lab event of a session says: who, which lab, which attempt, from which lesson, in which workshop. */
type LabEventCommon = { learnerId: string; lab: string; labSession: string; path?: string; lesson?: string; workshop?: string };

export function createLabRecords(db: Database, writer: EventWriter, options: LabRecordsOptions = {}): LabRecords {
  const now = options.now ?? (() => new Date());
  const stamp = () => now().toISOString();
  const read = async (q: Queryable, id: string) => {
    const row = await q.one(sessionRow, `SELECT ${SESSION_COLUMNS} FROM lab_sessions WHERE id = $1`, [id]);
    return row ? toSession(row) : null;
  };
  const readCurrent = async (q: Queryable, learnerId: string, lab: string) => {
    const row = await q.one(sessionRow, `SELECT ${SESSION_COLUMNS} FROM lab_sessions WHERE learner_id = $1 AND lab = $2 AND ended_at IS NULL`, [learnerId, lab]);
    return row ? toSession(row) : null;
  };
  const mustExist = (session: LabSessionRecord | null, id: string) => {
    if (!session) throw new Error(`lab session ${id} does not exist`);
    return session;
  };
  /** Asked before the transaction: the workshop's tables are read through the database, which the transaction holds on SQLite. */
  const workshopOf = async (learnerId: string) => (await options.workshopOf?.(learnerId)) ?? null;
  const about = (session: LabSessionRecord, workshop: string | null): LabEventCommon => {
    const lesson = session.lessons[0];
    return {
      learnerId: session.learnerId,
      lab: session.lab,
      labSession: session.id,
      ...(lesson ? { path: lesson.path, lesson: lesson.lesson } : {}),
      ...(workshop ? { workshop } : {}),
    };
  };
  /** The session as it is before the write, and the workshop its learner is in. */
  const beforeWrite = async (id: string) => {
    const session = mustExist(await read(db, id), id);
    return { session, workshop: await workshopOf(session.learnerId) };
  };
  const appendAll = async (append: AppendEvent, events: readonly LearningEventInput[]) => {
    for (const event of events) await append(event);
  };

  return {
    async open(input) {
      const id = randomUUID();
      const workshop = await workshopOf(input.learnerId);
      return writer.write(async (tx, append) => {
        // Two Start clicks at once: the unique index on open sessions lets one insert win.
        const inserted = await tx.run(
          `INSERT INTO lab_sessions (id, learner_id, lab, status, phase, step, lessons, started_at, expires_at)
           VALUES ($1, $2, $3, 'starting', NULL, $4, $5, $6, $7)
           ON CONFLICT (learner_id, lab) WHERE ended_at IS NULL DO NOTHING`,
          [id, input.learnerId, input.lab, input.step, JSON.stringify(input.lessons), input.startedAt ?? stamp(), input.expiresAt],
        );
        const session = mustExist(await readCurrent(tx, input.learnerId, input.lab), id);
        const created = inserted === 1;
        if (created) await append({ kind: 'lab.started', ...about(session, workshop), at: session.startedAt });
        return { session, created };
      });
    },

    get: (id) => read(db, id),
    current: (learnerId, lab) => readCurrent(db, learnerId, lab),

    async latestEnded(learnerId, lab) {
      const row = await db.one(
        sessionRow,
        `SELECT ${SESSION_COLUMNS} FROM lab_sessions
          WHERE learner_id = $1 AND lab = $2 AND ended_at IS NOT NULL AND end_reason <> 'failed'
          ORDER BY ended_at DESC, started_at DESC LIMIT 1`,
        [learnerId, lab],
      );
      return row ? toSession(row) : null;
    },

    async allOpen() {
      const rows = await db.all(sessionRow, `SELECT ${SESSION_COLUMNS} FROM lab_sessions WHERE ended_at IS NULL ORDER BY started_at`);
      return rows.map(toSession);
    },

    async setPhase(id, phase, namespace) {
      await db.run(
        `UPDATE lab_sessions SET phase = $2, namespace = COALESCE($3, namespace) WHERE id = $1 AND status = 'starting'`,
        [id, phase, namespace ?? null],
      );
    },

    async ready(id, namespace) {
      await db.run(`UPDATE lab_sessions SET status = 'ready', phase = NULL, namespace = $2, ready_at = $3 WHERE id = $1 AND ended_at IS NULL`, [
        id,
        namespace,
        stamp(),
      ]);
    },

    async failed(id, detail) {
      await db.run(`UPDATE lab_sessions SET status = 'failed', detail = $2 WHERE id = $1 AND ended_at IS NULL`, [id, detail]);
    },

    async recordCheck(id, check) {
      const record: CheckRecord = {
        id: randomUUID(),
        step: check.step,
        passed: stepPassed(check.results),
        results: check.results,
        durationMs: Math.round(check.durationMs),
        checkedAt: stamp(),
      };
      const { session, workshop } = await beforeWrite(id);
      await writer.write(async (tx, append) => {
        await tx.run(
          'INSERT INTO lab_checks (id, lab_session_id, step, passed, results, duration_ms, checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
          [record.id, id, record.step, record.passed ? 1 : 0, JSON.stringify(record.results), record.durationMs, record.checkedAt],
        );
        if (check.nextStep !== undefined) await tx.run('UPDATE lab_sessions SET step = $2 WHERE id = $1', [id, check.nextStep]);
        await append({
          kind: record.passed ? 'check.passed' : 'check.failed',
          ...about(session, workshop),
          at: record.checkedAt,
          step: record.step,
          results: record.results,
          durationMs: record.durationMs,
        });
      });
      return record;
    },

    async complete(id) {
      const before = await beforeWrite(id);
      return writer.write(async (tx, append) => {
        await tx.run('UPDATE lab_sessions SET completed_at = COALESCE(completed_at, $2) WHERE id = $1', [id, stamp()]);
        const session = mustExist(await read(tx, id), id);
        const completedAt = session.completedAt ?? stamp();
        // Completion happens once (the events' once keys); a lesson with a lab completes when its lab does.
        await appendAll(append, [
          {
            kind: 'lab.completed',
            ...about(session, before.workshop),
            at: completedAt,
            durationMs: Math.max(0, Date.parse(completedAt) - Date.parse(session.startedAt)),
          },
          ...session.lessons.map(
            (lesson): LearningEventInput => ({
              kind: 'lesson.completed',
              learnerId: session.learnerId,
              path: lesson.path,
              lesson: lesson.lesson,
              at: completedAt,
              ...(before.workshop ? { workshop: before.workshop } : {}),
            }),
          ),
        ]);
        return session;
      });
    },

    async recordReveal(id, reveal) {
      const { session, workshop } = await beforeWrite(id);
      await writer.write(async (tx, append) => {
        await tx.run(
          `INSERT INTO lab_reveals (lab_session_id, step, kind, number, shown_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (lab_session_id, step, kind, number) DO NOTHING`,
          [id, reveal.step, reveal.kind, reveal.number, stamp()],
        );
        if (reveal.kind === 'hint') await append({ kind: 'hint.shown', ...about(session, workshop), step: reveal.step, number: reveal.number });
        else await append({ kind: 'solution.shown', ...about(session, workshop), step: reveal.step });
      });
    },

    async end(id, reason) {
      const session = await read(db, id);
      if (!session || session.endedAt !== null) return false;
      const workshop = await workshopOf(session.learnerId);
      return writer.write(async (tx, append) => {
        const endedAt = stamp();
        const changed = await tx.run(
          `UPDATE lab_sessions SET status = 'ended', phase = NULL, ended_at = $2, end_reason = $3 WHERE id = $1 AND ended_at IS NULL`,
          [id, endedAt, reason],
        );
        if (changed !== 1) return false;
        await append({ kind: 'lab.ended', ...about(session, workshop), at: endedAt, reason });
        return true;
      });
    },

    async extend(learnerIds, labs, minutes) {
      if (learnerIds.length === 0 || labs.length === 0) return [];
      return db.transaction(async (tx) => {
        const open = await tx.all(
          z.object({ id: z.string(), namespace: z.string().nullable(), expires_at: z.string() }),
          `SELECT id, namespace, expires_at FROM lab_sessions
            WHERE ended_at IS NULL AND expires_at IS NOT NULL AND learner_id IN (${list(1, learnerIds.length)}) AND lab IN (${list(learnerIds.length + 1, labs.length)})`,
          [...learnerIds, ...labs],
        );
        const moved: ExtendedLabSession[] = [];
        for (const session of open) {
          const expiresAt = new Date(Date.parse(session.expires_at) + minutes * 60_000).toISOString();
          await tx.run('UPDATE lab_sessions SET expires_at = $2 WHERE id = $1', [session.id, expiresAt]);
          moved.push({ id: session.id, namespace: session.namespace, expiresAt });
        }
        return moved;
      });
    },

    async checks(id) {
      const rows = await db.all(
        checkRow,
        'SELECT id, step, passed, results, duration_ms, checked_at FROM lab_checks WHERE lab_session_id = $1 ORDER BY checked_at, id',
        [id],
      );
      return rows.map((row) => ({
        id: row.id,
        step: row.step,
        passed: row.passed === 1,
        results: z.array(checkResult).parse(JSON.parse(row.results)),
        durationMs: row.duration_ms,
        checkedAt: row.checked_at,
      }));
    },

    async latestChecks(id) {
      // Only the newest Check of each step is read back in full: a long session's history stays in the table.
      const rows = await db.all(
        checkRow.extend({ passed_once: z.coerce.number() }),
        `SELECT c.id, c.step, c.passed, c.results, c.duration_ms, c.checked_at, s.passed_once
           FROM lab_checks c
           JOIN (SELECT step, MAX(checked_at) AS latest, MAX(passed) AS passed_once FROM lab_checks WHERE lab_session_id = $1 GROUP BY step) s
             ON s.step = c.step AND s.latest = c.checked_at
          WHERE c.lab_session_id = $1
          ORDER BY c.checked_at, c.id`,
        [id],
      );
      const latest = new Map<string, { latest: CheckRecord; passedOnce: boolean }>();
      for (const row of rows) {
        latest.set(row.step, {
          latest: { id: row.id, step: row.step, passed: row.passed === 1, results: z.array(checkResult).parse(JSON.parse(row.results)), durationMs: row.duration_ms, checkedAt: row.checked_at },
          passedOnce: row.passed_once === 1,
        });
      }
      return latest;
    },

    async reveals(id) {
      const rows = await db.all(revealRow, 'SELECT step, kind, number, shown_at FROM lab_reveals WHERE lab_session_id = $1 ORDER BY shown_at, step, kind, number', [id]);
      return rows.map((row) => ({ step: row.step, kind: row.kind, number: row.number, shownAt: row.shown_at }));
    },

    async activity(learners, labs) {
      if (learners.length === 0 || labs.length === 0) return { sessions: [], checks: [] };
      const since = new Map(learners.map((learner) => [learner.learnerId, learner.since]));
      const ids = [...since.keys()];
      const rows = await db.all(
        sessionRow,
        `SELECT ${SESSION_COLUMNS} FROM lab_sessions
          WHERE learner_id IN (${list(1, ids.length)}) AND lab IN (${list(ids.length + 1, labs.length)})
          ORDER BY started_at`,
        [...ids, ...labs],
      );
      const latest = new Map<string, LabActivitySession>();
      for (const row of rows) {
        if (row.ended_at !== null && row.started_at < (since.get(row.learner_id) ?? '')) continue;
        latest.set(`${row.learner_id}\n${row.lab}`, {
          id: row.id,
          learnerId: row.learner_id,
          lab: row.lab,
          status: row.status,
          step: row.step,
          startedAt: row.started_at,
          completedAt: row.completed_at,
          endedAt: row.ended_at,
        });
      }
      const sessions = [...latest.values()];
      if (sessions.length === 0) return { sessions, checks: [] };
      const checks = await db.all(
        z.object({ lab_session_id: z.string(), step: z.string(), passed: z.coerce.number(), checked_at: z.string() }),
        `SELECT lab_session_id, step, passed, checked_at FROM lab_checks WHERE lab_session_id IN (${list(1, sessions.length)}) ORDER BY checked_at, id`,
        sessions.map((session) => session.id),
      );
      return { sessions, checks: checks.map((check) => ({ labSession: check.lab_session_id, step: check.step, passed: check.passed === 1, checkedAt: check.checked_at })) };
    },

    async progress(learnerId) {
      const rows = await db.all(
        progressRow,
        `SELECT s.lab AS lab,
                COUNT(DISTINCT s.id) AS attempts,
                COUNT(c.id) AS checks,
                MIN(s.completed_at) AS completed_at,
                MAX(s.started_at) AS last_started_at
           FROM lab_sessions s LEFT JOIN lab_checks c ON c.lab_session_id = s.id
          WHERE s.learner_id = $1
          GROUP BY s.lab
          ORDER BY s.lab`,
        [learnerId],
      );
      return rows.map((row) => ({ lab: row.lab, attempts: row.attempts, checks: row.checks, completedAt: row.completed_at, lastStartedAt: row.last_started_at }));
    },
  };
}
