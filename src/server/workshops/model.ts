// What a workshop is, what an instructor may send to make or change one, and what the live
// dashboard shows. The request schemas validate bodies from outside; the views are what the API
// and the event streams send.

import { z } from 'zod';

const LAB_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const createWorkshopInput = z
  .object({
    title: z.string().trim().min(1, 'give the workshop a title').max(200, 'at most 200 characters'),
    labs: z.array(z.string().regex(LAB_ID, 'lab ids are lower-case letters, digits and dashes')).max(20, 'at most 20 labs').default([]),
    paths: z.array(z.string().regex(LAB_ID, 'path ids are lower-case letters, digits and dashes')).max(20, 'at most 20 paths').default([]),
    startsAt: z.iso.datetime({ offset: true, message: 'an ISO 8601 date and time, e.g. 2026-03-01T09:00:00Z' }),
    endsAt: z.iso.datetime({ offset: true, message: 'an ISO 8601 date and time, e.g. 2026-03-01T12:00:00Z' }),
    seats: z.number('a whole number of seats, e.g. 30').int('a whole number').min(1, 'at least 1').max(500, 'at most 500'),
    stuckMinutes: z.number().int().min(1, 'at least 1').max(240, 'at most 240').default(10),
    stuckFailures: z.number().int().min(1, 'at least 1').max(50, 'at most 50').default(3),
    prewarm: z.number().int().min(0, '0 or more').max(100, 'at most 100 sandboxes per lab').default(0),
  })
  .refine((input) => Date.parse(input.endsAt) > Date.parse(input.startsAt), { message: 'must be after startsAt', path: ['endsAt'] })
  .refine((input) => input.labs.length + input.paths.length > 0, { message: 'name at least one lab or path', path: ['labs'] });
export type CreateWorkshopInput = z.output<typeof createWorkshopInput>;

export const joinInput = z.object({ code: z.string('type the workshop code your instructor gave you').trim().min(1, 'type the workshop code your instructor gave you').max(40) });
export type JoinInput = z.output<typeof joinInput>;
export const messageInput = z.object({ message: z.string('the message to every learner, or "" to take it down').trim().max(500, 'at most 500 characters') });
export type MessageInput = z.output<typeof messageInput>;
export const extendInput = z.object({
  minutes: z.number('a whole number of minutes, e.g. 15').int('a whole number').min(1, 'at least 1').max(480, 'at most 480'),
  /** One learner; every learner (the workshop's end) when absent. */
  learnerId: z.string().min(1).optional(),
});
export type ExtendInput = z.output<typeof extendInput>;
export const resetInput = z.object({ lab: z.string('name the lab to reset, e.g. {"lab": "deploy-and-expose"}').regex(LAB_ID, 'a lab id: lower-case letters, digits and dashes') });
export type ResetInput = z.output<typeof resetInput>;
export const addInstructorInput = z.object({
  instructor: z.string('the name (or email) the instructor signs in with').trim().min(1, 'the name (or email) the instructor signs in with').max(200),
});
export type AddInstructorInput = z.output<typeof addInstructorInput>;

export interface Workshop {
  id: string;
  title: string;
  code: string;
  instructorId: string;
  labs: string[];
  paths: string[];
  startsAt: string;
  endsAt: string;
  seats: number;
  stuckMinutes: number;
  stuckFailures: number;
  prewarm: number;
  message: string | null;
  messageAt: string | null;
  createdAt: string;
  endedAt: string | null;
}

export interface Seat {
  learnerId: string;
  name: string;
  joinedAt: string;
  extraMinutes: number;
}

export const CELL_STATUSES = ['not-started', 'working', 'failed', 'passed'] as const;
export type CellStatus = (typeof CELL_STATUSES)[number];

/** One column of the grid: a step of a lab. */
export interface GridColumn {
  lab: string;
  labTitle: string;
  step: string;
  title: string;
}

export type StuckReason = 'no-progress' | 'failing';

export interface LearnerRow {
  learnerId: string;
  name: string;
  joinedAt: string;
  /** The learner's own end: the workshop's plus their extra minutes. */
  endsAt: string;
  /** One per column, in column order. */
  cells: CellStatus[];
  /** Where the learner is now: the step of their most recently started open lab. */
  current: { lab: string; step: string; since: string; failuresInARow: number } | null;
  lastProgressAt: string;
  stuck: StuckReason | null;
  passedSteps: number;
}

/** Who runs a workshop: its owner (who created it) and the co-instructors the owner added. */
export interface WorkshopInstructor {
  id: string;
  name: string;
  owner: boolean;
}

export interface WorkshopView extends Workshop {
  joinPath: string;
  taken: number;
  instructors: WorkshopInstructor[];
}

export interface Dashboard {
  workshop: WorkshopView;
  columns: GridColumn[];
  rows: LearnerRow[];
  /** Learners who passed each column's step, in column order. */
  completions: number[];
  at: string;
}

/** What a learner sees of the workshop they joined. */
export interface LearnerWorkshopView {
  id: string;
  title: string;
  labs: string[];
  paths: string[];
  startsAt: string;
  endsAt: string;
  message: string | null;
  messageAt: string | null;
  endedAt: string | null;
}

export class WorkshopError extends Error {
  readonly status: 400 | 403 | 404 | 409;

  constructor(status: 400 | 403 | 404 | 409, message: string) {
    super(message);
    this.name = 'WorkshopError';
    this.status = status;
  }
}
