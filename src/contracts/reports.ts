// The reports' shapes, as zod schemas: what the API routes accept (the period, filters) and
// answer (rows), one definition for validation, for the TypeScript types and for the OpenAPI
// document at /api/openapi.json.

import { z } from 'zod';

const day = z.iso.date({ message: 'must be a date as YYYY-MM-DD, such as 2025-03-01' });

export const reportFormat = z.enum(['json', 'csv']).default('json').describe('json (the default) or csv (RFC 4180, with a header row)');

/** A period of whole UTC days; `to` is included. Either end may be left open. */
export const periodQuery = z
  .strictObject({
    from: day.optional().describe('first day of the period (UTC), included'),
    to: day.optional().describe('last day of the period (UTC), included'),
    format: reportFormat,
  })
  .refine((query) => !query.from || !query.to || query.from <= query.to, { path: ['to'], message: 'must not be before from' });
export type PeriodQuery = z.infer<typeof periodQuery>;

export const checksQuery = z
  .strictObject({
    from: day.optional().describe('first day of the period (UTC), included'),
    to: day.optional().describe('last day of the period (UTC), included'),
    lab: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'must be a lab id, such as deploy-and-expose')
      .optional()
      .describe('only the checks of this lab'),
    limit: z.coerce.number().int().min(1).max(1000).default(50).describe('at most this many checks, those failing most first'),
    format: reportFormat,
  })
  .refine((query) => !query.from || !query.to || query.from <= query.to, { path: ['to'], message: 'must not be before from' });
export type ChecksQuery = z.infer<typeof checksQuery>;

/** How reports name learners in no group of the identity provider. */
export const NO_TEAM = 'no team';

export interface Period {
  from: string | null;
  to: string | null;
}

const ms = z.number().int().nullable();

export const pathCompletionRow = z.object({
  path: z.string(),
  title: z.string(),
  learnersStarted: z.number().int().describe('learners whose first lesson of the path was in the period'),
  learnersCompleted: z.number().int().describe('learners who completed the path in the period'),
  stillInProgress: z.number().int().describe('of those who started in the period, how many have not completed it yet'),
  completionRate: z.number().nullable().describe('of those who started in the period, the share that completed it (0–1); null when nobody started'),
  medianTimeToCompleteMs: ms.describe('first lesson to completion, over the completions in the period'),
  p90TimeToCompleteMs: ms,
});
export type PathCompletionRow = z.infer<typeof pathCompletionRow>;

export const labCompletionRow = z.object({
  lab: z.string(),
  learnersStarted: z.number().int().describe('learners who first started the lab in the period'),
  learnersCompleted: z.number().int().describe('learners who first completed the lab in the period'),
  completionRate: z.number().nullable().describe('of those who started in the period, the share that completed it (0–1)'),
  attempts: z.number().int().describe('attempts (lab sessions) of the learners who started in the period'),
  checks: z.number().int(),
  failedChecks: z.number().int(),
  hints: z.number().int(),
  solutions: z.number().int(),
  medianTimeToCompleteMs: ms.describe('time spent in the lab until it was completed, over the completions in the period'),
  p90TimeToCompleteMs: ms,
});
export type LabCompletionRow = z.infer<typeof labCompletionRow>;

export const teamCompletionRow = z.object({
  team: z.string().nullable().describe('a group from the identity provider; null for learners in no group ("no team")'),
  learners: z.number().int().describe('learners in the team who have signed in'),
  activeLearners: z.number().int().describe('of them, those who started a path or a lab in the period'),
  pathsStarted: z.number().int(),
  pathsCompleted: z.number().int(),
  labsStarted: z.number().int(),
  labsCompleted: z.number().int(),
  learnersWithACompletedPath: z.number().int().describe('learners who completed at least one path in the period'),
});
export type TeamCompletionRow = z.infer<typeof teamCompletionRow>;

export const failingCheckRow = z.object({
  lab: z.string(),
  step: z.string(),
  check: z.string().describe('the check’s position in the step (from 0) and kind, e.g. 1:field'),
  kind: z.string(),
  expected: z.string(),
  failures: z.number().int().describe('Checks of the step in which this check failed'),
  stepChecks: z.number().int().describe('Checks of the step in the period'),
  failureRate: z.number().nullable().describe('failures / stepChecks'),
  messages: z.array(z.object({ message: z.string(), count: z.number().int() })).describe('what learners were told, most frequent first (up to 5)'),
});
export type FailingCheckRow = z.infer<typeof failingCheckRow>;

export const period = z.object({ from: z.string().nullable(), to: z.string().nullable() });

export const pathReport = z.object({ period, paths: z.array(pathCompletionRow) });
export const labReport = z.object({ period, labs: z.array(labCompletionRow) });
export const teamReport = z.object({ period, teams: z.array(teamCompletionRow) });
export const checkReport = z.object({ period, checks: z.array(failingCheckRow) });
