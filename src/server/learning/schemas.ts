// The learning record's JSON, as zod schemas: what /api/me/learning and the certificate routes
// answer (and /api/openapi.json documents). `satisfies` keeps each schema to its TypeScript type.

import { z } from 'zod';
import type { Certificate } from './certificates.ts';
import type { LabRecordSummary, MyLearning, PathProgress } from './store.ts';

export const certificateSchema = z.object({
  id: z.string().describe('the unguessable part of the verification address /certificates/{id}'),
  code: z.string().describe('XXXX-XXXX-XXXX, printed on the certificate'),
  learnerId: z.string(),
  learnerName: z.string().describe('as it was when the certificate was issued'),
  path: z.string(),
  pathTitle: z.string(),
  issuedAt: z.string(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
  revokedReason: z.string().nullable(),
}) satisfies z.ZodType<Certificate>;

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
}) satisfies z.ZodType<PathProgress>;

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
}) satisfies z.ZodType<LabRecordSummary>;

export const myLearningSchema = z.object({
  learner: z.object({ id: z.string(), name: z.string() }),
  paths: z.array(pathProgressSchema),
  labs: z.array(labRecordSchema),
}) satisfies z.ZodType<MyLearning & { learner: { id: string; name: string } }>;

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
