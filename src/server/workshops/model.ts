// What a workshop is, what an instructor may send to make or change one, and what the live
// dashboard shows. The request schemas validate bodies from outside; the views are what the API
// and the event streams send.

import { z } from 'zod';

const LAB_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const createWorkshopInput = z
  .object({
    title: z.string().trim().min(1, 'title: give the workshop a title').max(200, 'title: at most 200 characters'),
    labs: z.array(z.string().regex(LAB_ID, 'labs: lab ids are lower-case letters, digits and dashes')).max(20, 'labs: at most 20 labs').default([]),
    paths: z.array(z.string().regex(LAB_ID, 'paths: path ids are lower-case letters, digits and dashes')).max(20, 'paths: at most 20 paths').default([]),
    startsAt: z.iso.datetime({ offset: true, message: 'startsAt: an ISO 8601 date and time, e.g. 2026-03-01T09:00:00Z' }),
    endsAt: z.iso.datetime({ offset: true, message: 'endsAt: an ISO 8601 date and time, e.g. 2026-03-01T12:00:00Z' }),
    seats: z.number().int('seats: a whole number').min(1, 'seats: at least 1').max(500, 'seats: at most 500'),
    stuckMinutes: z.number().int().min(1, 'stuckMinutes: at least 1').max(240, 'stuckMinutes: at most 240').default(10),
    stuckFailures: z.number().int().min(1, 'stuckFailures: at least 1').max(50, 'stuckFailures: at most 50').default(3),
    prewarm: z.number().int().min(0, 'prewarm: 0 or more').max(100, 'prewarm: at most 100 sandboxes per lab').default(0),
  })
  .refine((input) => Date.parse(input.endsAt) > Date.parse(input.startsAt), { message: 'endsAt: must be after startsAt', path: ['endsAt'] })
  .refine((input) => input.labs.length + input.paths.length > 0, { message: 'labs: name at least one lab or path', path: ['labs'] });
export type CreateWorkshopInput = z.input<typeof createWorkshopInput>;

export const joinInput = z.object({ code: z.string().trim().min(1, 'code: type the workshop code your instructor gave you').max(40) });
export const messageInput = z.object({ message: z.string().trim().max(500, 'message: at most 500 characters') });
export const extendInput = z.object({
  minutes: z.number().int('minutes: a whole number').min(1, 'minutes: at least 1').max(480, 'minutes: at most 480'),
  /** One learner; every learner (the workshop's end) when absent. */
  learnerId: z.string().min(1).optional(),
});

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

export interface WorkshopView extends Workshop {
  joinPath: string;
  taken: number;
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
