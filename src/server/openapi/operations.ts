// The portal's JSON API, operation by operation, with the zod schemas its routes use. A route
// that is added or changed is described here too; test/pages/learning.test.ts calls the described
// GET operations and checks their answers against these schemas.

import { z } from 'zod';
import { certificateList, certificateSchema, certificatesQuery, myLearningSchema, revokeRequest } from '../learning/index.ts';
import { checkReport, checksQuery, labReport, pathReport, periodQuery, teamReport } from '../reports/index.ts';
import { ROLES } from '../services.ts';
import { statementResult, statementsQuery } from '../xapi/index.ts';
import type { ApiOperation } from './document.ts';

const health = z.object({ status: z.literal('ok'), uptimeSeconds: z.number() });
const readiness = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ready: z.boolean(), detail: z.string() })).describe('portal, database, migrations, cluster'),
});
const learner = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  groups: z.array(z.string()),
  roles: z.array(z.enum(ROLES)),
});
const signIn = z.object({
  name: z.string().describe('the name to sign in with (AUTH=dev)'),
  role: z.enum(['learner', ...ROLES]).optional().describe('dev sign-in only: the role to take'),
  next: z.string().optional().describe('a form is sent here afterwards'),
});
const lessonProgress = z.object({ path: z.string(), lesson: z.string(), viewedAt: z.string().nullable(), completedAt: z.string().nullable() });
const markProgress = z.object({ path: z.string(), lesson: z.string(), status: z.enum(['viewed', 'completed']).default('completed') });
const labSession = z.object({ session: z.string().optional().describe('a lab session id of the learner; their open session of the lab when left out') });
const labState = z.looseObject({ lab: z.string(), session: z.unknown(), now: z.string() }).describe('the lab and the learner’s session of it: steps, checks, hints (LabStateView)');
const labParameters = z.object({ lab: z.string().describe('the lab id') });
const certificateParameters = z.object({ id: z.string().describe('the certificate id, as in /certificates/{id}') });
const search = z.object({ q: z.string().describe('what to look for'), limit: z.coerce.number().int().min(1).max(50).default(10) });

const report = (path: string, summary: string, response: z.ZodType, query: z.ZodType = periodQuery): ApiOperation => ({
  method: 'get',
  path,
  summary,
  tag: 'reports',
  access: 'admin',
  query,
  responses: { 200: { description: 'The report; with format=csv a CSV file with the same columns', schema: response, csv: true } },
});

const labAction = (name: string, summary: string): ApiOperation => ({
  method: 'post',
  path: `/api/labs/{lab}/${name}`,
  summary,
  tag: 'labs',
  access: 'learner',
  pathParameters: labParameters,
  body: labSession,
  responses: { 200: { description: 'What happened and the lab’s state after it', schema: z.looseObject({}) }, 404: { description: 'No such lab' }, 409: { description: 'The lab is not in a state that allows it' } },
});

export const PORTAL_OPERATIONS: readonly ApiOperation[] = [
  { method: 'get', path: '/api/health', summary: 'Whether the portal process answers', tag: 'portal', access: 'public', responses: { 200: { description: 'It does', schema: health } } },
  {
    method: 'get',
    path: '/api/ready',
    summary: 'Whether the portal can serve: database, migrations, lab cluster',
    tag: 'portal',
    access: 'public',
    responses: { 200: { description: 'Ready', schema: readiness }, 503: { description: 'Not ready; the checks say which part', schema: readiness } },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    tag: 'portal',
    access: 'public',
    responses: { 200: { description: 'OpenAPI 3.1', schema: z.looseObject({ openapi: z.string() }) } },
  },
  {
    method: 'post',
    path: '/api/session',
    summary: 'Sign in with a name (AUTH=dev)',
    description: 'Starts a new session and sets its cookie. With AUTH=oidc, sign in through /auth/login instead.',
    tag: 'sign-in',
    access: 'public',
    body: signIn,
    form: true,
    responses: { 200: { description: 'Signed in', schema: z.object({ learner, csrfToken: z.string() }) }, 403: { description: 'This portal signs in through the identity provider' } },
  },
  { method: 'delete', path: '/api/session', summary: 'Sign out', tag: 'sign-in', access: 'public', responses: { 204: { description: 'Signed out' } } },
  {
    method: 'get',
    path: '/api/search',
    summary: 'Search every path and lesson',
    tag: 'content',
    access: 'public',
    query: search,
    responses: { 200: { description: 'Matches, best first, with snippets and deep links', schema: z.looseObject({ results: z.array(z.looseObject({})) }) } },
  },
  {
    method: 'get',
    path: '/api/progress',
    summary: 'The signed-in learner’s lesson progress',
    tag: 'learning',
    access: 'learner',
    responses: { 200: { description: 'One record per lesson opened', schema: z.object({ progress: z.array(lessonProgress) }) } },
  },
  {
    method: 'post',
    path: '/api/progress',
    summary: 'Mark a lesson viewed or completed',
    description: 'Appends lesson.viewed or lesson.completed to the learning record; completing the last lesson of a path completes the path and issues its certificate.',
    tag: 'learning',
    access: 'learner',
    body: markProgress,
    form: true,
    responses: { 200: { description: 'The lesson’s progress', schema: lessonProgress.nullable() }, 404: { description: 'No such lesson' } },
  },
  {
    method: 'get',
    path: '/api/me/learning',
    summary: 'My learning: paths with progress and certificates, labs with attempts and time spent',
    tag: 'learning',
    access: 'learner',
    responses: { 200: { description: 'The signed-in learner’s record', schema: myLearningSchema } },
  },
  {
    method: 'get',
    path: '/api/xapi/statements',
    summary: 'xAPI 1.0.3 statements (cmi5 verbs) of the learning record',
    description: 'A StatementResult, as an LRS answers: the statements sent to the configured LRS are the same ones. Learners get their own; admins anyone’s.',
    tag: 'xapi',
    access: 'learner',
    query: statementsQuery,
    responses: { 200: { description: 'A page of statements', schema: statementResult } },
  },
  report('/api/reports/paths', 'Completion by path: started, completed, still in progress, time to complete (median, p90)', pathReport),
  report('/api/reports/labs', 'Completion by lab: attempts, checks, hints, solutions, time to complete', labReport),
  report('/api/reports/teams', 'Completion by team (the identity provider’s groups; learners in none as “no team”)', teamReport),
  report('/api/reports/checks', 'The checks that fail most, with the messages learners saw (for lab authors)', checkReport, checksQuery),
  report('/api/reports/certificates', 'Certificates issued, newest first', certificateList, certificatesQuery),
  {
    method: 'post',
    path: '/api/reports/certificates/{id}/revoke',
    summary: 'Revoke a certificate',
    description: 'Its verification page then says it was revoked, when, and why. A form is sent back to /admin/reports/certificates.',
    tag: 'reports',
    access: 'admin',
    pathParameters: certificateParameters,
    body: revokeRequest,
    form: true,
    responses: { 200: { description: 'The certificate, revoked', schema: certificateSchema }, 404: { description: 'No such certificate' } },
  },
  {
    method: 'get',
    path: '/api/labs/{lab}/state',
    summary: 'A lab and the learner’s session of it',
    tag: 'labs',
    access: 'learner',
    pathParameters: labParameters,
    query: labSession,
    responses: { 200: { description: 'The lab’s state', schema: labState }, 404: { description: 'No such lab' } },
  },
  labAction('start', 'Start the lab (or find the learner’s open session of it)'),
  labAction('check', 'Check the current step'),
  labAction('hint', 'Show the next hint of the current step'),
  labAction('solution', 'Show the solution of the current step'),
  labAction('reset', 'End the session and start a fresh sandbox'),
  labAction('end', 'End the session and remove its sandbox'),
];
