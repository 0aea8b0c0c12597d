// What can happen in a learner's learning, as the record keeps it. `record(event)` takes a
// LearningEventInput (validated here: it comes from other parts of the portal and from imports);
// what comes back, and what every reader sees, is a LearningEvent.

import { z } from 'zod';
import { checkResult, type CheckResult } from '../../contracts/index.ts';

/** Why a lab session ended. */
export const END_REASONS = ['ended', 'reset', 'expired', 'idle', 'failed'] as const;
export type EndReason = (typeof END_REASONS)[number];

export const LEARNING_EVENT_KINDS = [
  'lesson.viewed',
  'lesson.completed',
  'lab.started',
  'check.passed',
  'check.failed',
  'hint.shown',
  'solution.shown',
  'lab.completed',
  'lab.ended',
  'path.completed',
] as const;
export type LearningEventKind = (typeof LEARNING_EVENT_KINDS)[number];

/** Recorded by the record itself, when the last lesson of a path is completed. */
const DERIVED_KINDS: readonly LearningEventKind[] = ['path.completed'];

export const contentId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'must be an id of lower-case letters, digits and dashes (up to 100), such as deploy-and-expose');

const common = {
  learnerId: z.string().min(1, 'must name the learner (learners.id)').max(200),
  /** When it happened; defaults to the time of recording. */
  at: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date and time, such as 2025-03-01T09:30:00.000Z' }).optional(),
  /** The workshop the learner was in, if any. */
  workshop: z.string().min(1).max(200).nullable().optional(),
};

const lessonEvent = <K extends 'lesson.viewed' | 'lesson.completed'>(kind: K) =>
  z.strictObject({ kind: z.literal(kind), ...common, path: contentId, lesson: contentId });

const labCommon = {
  lab: contentId,
  labSession: z.uuid('must be the lab session id (a UUID), which is also the xAPI registration of the attempt'),
  /** The lesson the lab was started from, when there was one. */
  path: contentId.optional(),
  lesson: contentId.optional(),
};

const checkEvent = <K extends 'check.passed' | 'check.failed'>(kind: K) =>
  z.strictObject({
    kind: z.literal(kind),
    ...common,
    ...labCommon,
    step: contentId,
    results: z.array(checkResult).min(1, 'must hold the result of every check of the step'),
    durationMs: z.number().nonnegative().optional(),
  });

const learningEventInput = z
  .discriminatedUnion('kind', [
    lessonEvent('lesson.viewed'),
    lessonEvent('lesson.completed'),
    z.strictObject({ kind: z.literal('lab.started'), ...common, ...labCommon }),
    checkEvent('check.passed'),
    checkEvent('check.failed'),
    z.strictObject({ kind: z.literal('hint.shown'), ...common, ...labCommon, step: contentId, number: z.int().min(0).describe('which hint, from 0') }),
    z.strictObject({ kind: z.literal('solution.shown'), ...common, ...labCommon, step: contentId }),
    z.strictObject({ kind: z.literal('lab.completed'), ...common, ...labCommon, durationMs: z.number().nonnegative().optional() }),
    z.strictObject({ kind: z.literal('lab.ended'), ...common, ...labCommon, reason: z.enum(END_REASONS), durationMs: z.number().nonnegative().optional() }),
  ])
  .superRefine((event, context) => {
    if (event.kind === 'check.passed' && event.results.some((result) => !result.passed)) {
      context.addIssue({ code: 'custom', path: ['results'], message: 'has a failed check; a step whose checks do not all pass is check.failed' });
    }
    if (event.kind === 'check.failed' && event.results.every((result) => result.passed)) {
      context.addIssue({ code: 'custom', path: ['results'], message: 'has no failed check; a step whose checks all pass is check.passed' });
    }
  });

export type LearningEventInput = z.input<typeof learningEventInput>;
type ParsedInput = z.output<typeof learningEventInput>;

export class LearningEventError extends Error {
  readonly issues: string[];

  constructor(issues: string[]) {
    super(`learning event: ${issues.join('; ')}`);
    this.name = 'LearningEventError';
    this.issues = issues;
  }
}

export type EventDetail =
  | { results: CheckResult[] }
  | { number: number }
  | { reason: EndReason }
  | { certificate: string };

export interface LearningEvent {
  id: string;
  /** The order of recording. */
  seq: number;
  learnerId: string;
  kind: LearningEventKind;
  /** ISO 8601, UTC, milliseconds. */
  at: string;
  path: string | null;
  lesson: string | null;
  lab: string | null;
  step: string | null;
  labSession: string | null;
  workshop: string | null;
  durationMs: number | null;
  detail: EventDetail | null;
}

/** A validated event, before it has an id and a place in the record. */
export type PendingEvent = Omit<LearningEvent, 'id' | 'seq'> & {
  /** Set for what happens once; a second record of it finds the first. */
  onceKey: string | null;
};

export function parseEvent(input: unknown, now: Date): PendingEvent {
  const parsed = learningEventInput.safeParse(input);
  if (!parsed.success) {
    const kind = typeof input === 'object' && input !== null && 'kind' in input ? String((input as { kind: unknown }).kind) : '';
    if ((DERIVED_KINDS as readonly string[]).includes(kind)) {
      throw new LearningEventError([`kind: ${kind} is recorded by the learning record itself when every lesson of a path is completed`]);
    }
    throw new LearningEventError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'event'}: ${issue.message}`));
  }
  return pending(parsed.data, now);
}

function pending(event: ParsedInput, now: Date): PendingEvent {
  const base = {
    learnerId: event.learnerId,
    kind: event.kind,
    at: new Date(event.at ?? now).toISOString(),
    workshop: event.workshop ?? null,
    path: event.path ?? null,
    lesson: event.lesson ?? null,
    lab: null,
    step: null,
    labSession: null,
    durationMs: null,
    detail: null,
    onceKey: null,
  };
  switch (event.kind) {
    case 'lesson.viewed':
      return base;
    case 'lesson.completed':
      return { ...base, onceKey: `lesson.completed/${event.learnerId}/${event.path}/${event.lesson}` };
    case 'lab.started':
      return { ...base, lab: event.lab, labSession: event.labSession, onceKey: `lab.started/${event.labSession}` };
    case 'check.passed':
    case 'check.failed':
      return {
        ...base,
        lab: event.lab,
        labSession: event.labSession,
        step: event.step,
        durationMs: event.durationMs === undefined ? null : Math.round(event.durationMs),
        detail: { results: event.results },
      };
    case 'hint.shown':
      return {
        ...base,
        lab: event.lab,
        labSession: event.labSession,
        step: event.step,
        detail: { number: event.number },
        onceKey: `hint.shown/${event.labSession}/${event.step}/${event.number}`,
      };
    case 'solution.shown':
      return { ...base, lab: event.lab, labSession: event.labSession, step: event.step, onceKey: `solution.shown/${event.labSession}/${event.step}` };
    case 'lab.completed':
      return {
        ...base,
        lab: event.lab,
        labSession: event.labSession,
        durationMs: event.durationMs === undefined ? null : Math.round(event.durationMs),
        onceKey: `lab.completed/${event.labSession}`,
      };
    case 'lab.ended':
      return {
        ...base,
        lab: event.lab,
        labSession: event.labSession,
        durationMs: event.durationMs === undefined ? null : Math.round(event.durationMs),
        detail: { reason: event.reason },
        onceKey: `lab.ended/${event.labSession}`,
      };
  }
}

export function pathCompleted(learnerId: string, path: string, at: string, durationMs: number, certificate: string, workshop: string | null): PendingEvent {
  return {
    learnerId,
    kind: 'path.completed',
    at,
    path,
    lesson: null,
    lab: null,
    step: null,
    labSession: null,
    workshop,
    durationMs,
    detail: { certificate },
    onceKey: `path.completed/${learnerId}/${path}`,
  };
}
