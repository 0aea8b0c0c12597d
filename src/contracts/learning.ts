// The learning record's JSON: what /api/progress, /api/me/learning and the certificate routes
// answer (and /api/openapi.json documents); the server's types are these.

import { z } from 'zod';

export const lessonProgress = z.object({ path: z.string(), lesson: z.string(), viewedAt: z.string().nullable(), completedAt: z.string().nullable() });
export type LessonProgress = z.infer<typeof lessonProgress>;

export const certificateSchema = z.object({
  id: z.string().describe('the unguessable part of the verification address /certificates/{id}'),
  code: z.string().describe('XXXX-XXXX-XXXX in Crockford’s base 32 (no I, L, O, U), printed on the certificate'),
  learnerId: z.string(),
  learnerName: z.string().describe('as it was when the certificate was issued'),
  path: z.string(),
  pathTitle: z.string(),
  issuedAt: z.string(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
  revokedReason: z.string().nullable(),
});
export type Certificate = z.infer<typeof certificateSchema>;

export const pathProgressSchema = z.object({
  path: z.string(),
  title: z.string(),
  lessonsCompleted: z.number().int(),
  lessonsTotal: z.number().int(),
  startedAt: z.string(),
  lastAt: z.string(),
  completedAt: z.string().nullable(),
  timeToCompleteMs: z.number().nullable(),
  certificate: certificateSchema.nullable(),
});
export type PathProgress = z.infer<typeof pathProgressSchema>;

export const labRecordSchema = z.object({
  lab: z.string(),
  attempts: z.number().int(),
  checks: z.number().int(),
  failedChecks: z.number().int(),
  hints: z.number().int(),
  solutions: z.number().int(),
  timeSpentMs: z.number().describe('from Start to the last event (or completion) of each attempt, added up'),
  firstStartedAt: z.string(),
  lastAt: z.string(),
  completedAt: z.string().nullable(),
  timeToCompleteMs: z.number().nullable(),
});
export type LabRecordSummary = z.infer<typeof labRecordSchema>;

export const myLearning = z.object({
  paths: z.array(pathProgressSchema).describe('every path the learner opened a lesson of, most recent first'),
  labs: z.array(labRecordSchema).describe('every lab the learner started, most recent first'),
});
export type MyLearning = z.infer<typeof myLearning>;

export const myLearningSchema = myLearning.extend({ learner: z.object({ id: z.string(), name: z.string() }) });

export const certificateList = z.object({ certificates: z.array(certificateSchema) });

export const certificatesQuery = z.strictObject({
  path: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'must be a path id, such as kubernetes-foundations')
    .optional()
    .describe('only the certificates of this path'),
  format: z.enum(['json', 'csv']).default('json').describe('json (the default) or csv (RFC 4180, with a header row)'),
});

export const revokeRequest = z.strictObject({ reason: z.string().max(500).default('').describe('why, shown on the verification page') });

/** What POST /api/progress takes: a lesson and what the learner did with it. */
export const markProgressInput = z.object({
  path: z.string('the path of the lesson, e.g. kubernetes-foundations'),
  lesson: z.string('the lesson, e.g. pods'),
  status: z.enum(['completed', 'viewed'], 'must be "completed" or "viewed"').default('completed'),
});
