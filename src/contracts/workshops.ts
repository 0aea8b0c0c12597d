// Instructor-led workshops on the wire: what an instructor sends to make or change one, what the
// API answers, what the live dashboard shows (learners × lab steps) and what the event streams
// send, to the instructor and to each learner. Validated bodies and views in one place.

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

export const workshop = z.object({
  id: z.string(),
  title: z.string(),
  code: z.string().describe('what learners type to join'),
  instructorId: z.string().describe('the owner: the instructor who created it'),
  labs: z.array(z.string()),
  paths: z.array(z.string()),
  startsAt: z.string(),
  endsAt: z.string(),
  seats: z.number().int(),
  stuckMinutes: z.number().int(),
  stuckFailures: z.number().int(),
  prewarm: z.number().int(),
  message: z.string().nullable(),
  messageAt: z.string().nullable(),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
});
export type Workshop = z.infer<typeof workshop>;

/** Who runs a workshop: its owner (who created it) and the co-instructors the owner added. */
export const workshopInstructor = z.object({ id: z.string(), name: z.string(), owner: z.boolean() });
export type WorkshopInstructor = z.infer<typeof workshopInstructor>;

export const workshopView = workshop.extend({
  joinPath: z.string().describe('the address learners open to join, with the code'),
  taken: z.number().int().describe('seats taken'),
  instructors: z.array(workshopInstructor),
});
export type WorkshopView = z.infer<typeof workshopView>;

export const workshopList = z.object({ workshops: z.array(workshopView) });

export const CELL_STATUSES = ['not-started', 'working', 'failed', 'passed'] as const;
export type CellStatus = (typeof CELL_STATUSES)[number];

/** One column of the grid: a step of a lab. */
export const gridColumn = z.object({ lab: z.string(), labTitle: z.string(), step: z.string(), title: z.string() });
export type GridColumn = z.infer<typeof gridColumn>;

export const STUCK_REASONS = ['no-progress', 'failing'] as const;
export type StuckReason = (typeof STUCK_REASONS)[number];

export const learnerRow = z.object({
  learnerId: z.string(),
  name: z.string(),
  joinedAt: z.string(),
  endsAt: z.string().describe('the learner’s own end: the workshop’s plus their extra minutes'),
  cells: z.array(z.enum(CELL_STATUSES)).describe('one per column, in column order'),
  current: z
    .object({ lab: z.string(), step: z.string(), since: z.string(), failuresInARow: z.number().int() })
    .nullable()
    .describe('where the learner is now: the step of their most recently started open lab'),
  lastProgressAt: z.string(),
  stuck: z.enum(STUCK_REASONS).nullable(),
  passedSteps: z.number().int(),
});
export type LearnerRow = z.infer<typeof learnerRow>;

export const dashboard = z.object({
  workshop: workshopView,
  columns: z.array(gridColumn),
  rows: z.array(learnerRow),
  completions: z.array(z.number().int()).describe('learners who passed each column’s step, in column order'),
  at: z.string(),
});
export type Dashboard = z.infer<typeof dashboard>;

/** The instructor's event stream (GET /api/workshops/{id}/events): `dashboard` first and after big changes, then `row`. */
export const dashboardRowEvent = z.object({ row: learnerRow, completions: z.array(z.number().int()) });
export type InstructorEvent = { type: 'dashboard'; dashboard: Dashboard } | ({ type: 'row' } & z.infer<typeof dashboardRowEvent>);

/** What a learner sees of the workshop they joined. */
export const learnerWorkshopView = z.object({
  id: z.string(),
  title: z.string(),
  labs: z.array(z.string()),
  paths: z.array(z.string()),
  startsAt: z.string(),
  endsAt: z.string(),
  message: z.string().nullable(),
  messageAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type LearnerWorkshopView = z.infer<typeof learnerWorkshopView>;

export const joinAnswer = z.object({ workshop: learnerWorkshopView, joined: z.boolean() });
export const currentWorkshop = z.object({ workshop: learnerWorkshopView.nullable() });

/** The learner's event stream (GET /api/workshops/current/events): the workshop, the banner, the instructor viewing. */
export const learnerEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('workshop'), workshop: learnerWorkshopView }),
  z.object({ type: z.literal('message'), message: z.string().nullable(), at: z.string().nullable() }),
  z.object({ type: z.literal('viewing'), viewing: z.boolean() }),
]);
export type LearnerEvent = z.infer<typeof learnerEvent>;
