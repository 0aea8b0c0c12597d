// The portal's JSON API, operation by operation, with the zod schemas its routes use (from
// src/contracts). A route that is added is described here too: test/server/openapi/routes.test.ts
// fails for an API route this list does not name, and test/pages/learning.test.ts calls the
// described GET operations and checks their answers against these schemas.

import { z } from 'zod';
import {
  addInstructorInput,
  certificateList,
  certificateSchema,
  certificatesQuery,
  checkOutcome,
  checkReport,
  checksQuery,
  createWorkshopInput,
  currentWorkshop,
  dashboard,
  dashboardRowEvent,
  extendInput,
  hintOutcome,
  joinAnswer,
  joinInput,
  labActionInput,
  labReport,
  labStateView,
  learner,
  learnerEvent,
  lessonProgress,
  markProgressInput,
  messageInput,
  myLearningSchema,
  pathReport,
  periodQuery,
  resetInput,
  revokeRequest,
  signInInput,
  solutionOutcome,
  teamReport,
  workshopList,
  workshopView,
} from '../../contracts/index.ts';
import { statementResult, statementsQuery } from '../xapi/index.ts';
import type { ApiOperation, OperationResponse } from './document.ts';

const health = z.object({ status: z.literal('ok'), uptimeSeconds: z.number() });
const readiness = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ready: z.boolean(), detail: z.string() })).describe('portal, database, migrations, cluster'),
});
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

const labAction = (name: string, summary: string, answer: z.ZodType, status = 200): ApiOperation => ({
  method: 'post',
  path: `/api/labs/{lab}/${name}`,
  summary,
  tag: 'labs',
  access: 'learner',
  pathParameters: labParameters,
  body: labActionInput,
  responses: { [status]: { description: 'What happened and the lab’s state after it', schema: answer }, 404: { description: 'No such lab' }, 409: { description: 'The lab is not in a state that allows it' } },
});

const workshopParameters = z.object({ id: z.string().describe('the workshop id') });
const notYours: OperationResponse = { description: 'No such workshop, or one the caller does not run (the same answer)' };

/** An instructor's operation on one workshop. */
const workshopAction = (method: 'get' | 'post', name: string, summary: string, answer: OperationResponse, body?: z.ZodType): ApiOperation => ({
  method,
  path: `/api/workshops/{id}${name}`,
  summary,
  tag: 'workshops',
  access: 'instructor',
  pathParameters: workshopParameters,
  ...(body ? { body } : {}),
  responses: { 200: answer, 404: notYours },
});

/** A server-sent event stream: `text/event-stream`, each event named, its data JSON. */
const eventStream = (events: Record<string, z.ZodType>) =>
  z.object(events).describe(`each event's data is JSON; this object lists the events by name: ${Object.keys(events).join(', ')}`);

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
    body: signInInput,
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
    body: markProgressInput,
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
    query: labActionInput,
    responses: { 200: { description: 'The lab’s state', schema: labStateView }, 404: { description: 'No such lab' } },
  },
  labAction('start', 'Start the lab (or find the learner’s open session of it); poll the state until it is ready', labStateView, 202),
  labAction('check', 'Check the current step', checkOutcome),
  labAction('hint', 'Show the next hint of the current step', hintOutcome),
  labAction('solution', 'Show the solution of the current step', solutionOutcome),
  labAction('reset', 'End the session and start a fresh sandbox', labStateView),
  labAction('end', 'End the session and remove its sandbox', labStateView),
  {
    method: 'get',
    path: '/api/workshops',
    summary: 'The workshops the instructor runs (every workshop for an admin)',
    tag: 'workshops',
    access: 'instructor',
    responses: { 200: { description: 'Newest first', schema: workshopList } },
  },
  {
    method: 'post',
    path: '/api/workshops',
    summary: 'Create a workshop; the caller owns it',
    description: 'Learners join with its code. The owner may add co-instructors; other instructors do not see it.',
    tag: 'workshops',
    access: 'instructor',
    body: createWorkshopInput,
    responses: { 201: { description: 'The workshop, with its join code and link', schema: workshopView } },
  },
  {
    method: 'post',
    path: '/api/workshops/join',
    summary: 'Take a seat in the workshop of a code',
    tag: 'workshops',
    access: 'learner',
    body: joinInput,
    responses: { 200: { description: 'The workshop; joined is false when the learner already had a seat', schema: joinAnswer }, 404: { description: 'No workshop has that code' }, 409: { description: 'The workshop has ended or is full' } },
  },
  {
    method: 'get',
    path: '/api/workshops/current',
    summary: 'The workshop the learner is in now',
    tag: 'workshops',
    access: 'learner',
    responses: { 200: { description: 'The workshop, or null', schema: currentWorkshop } },
  },
  {
    method: 'get',
    path: '/api/workshops/current/events',
    summary: 'The learner’s workshop, live: the workshop, the instructor’s message, the instructor viewing their terminal',
    tag: 'workshops',
    access: 'learner',
    responses: { 200: { description: 'Server-sent events', stream: true, schema: eventStream({ workshop: learnerEvent.options[0], message: learnerEvent.options[1], viewing: learnerEvent.options[2] }) } },
  },
  workshopAction('get', '', 'A workshop', { description: 'The workshop', schema: workshopView }),
  workshopAction('get', '/dashboard', 'The dashboard now: learners × lab steps, who is stuck, completions per step', { description: 'The dashboard', schema: dashboard }),
  workshopAction('get', '/events', 'The dashboard, live', {
    description: 'Server-sent events: the whole dashboard first (and after big changes), then changed rows',
    stream: true,
    schema: eventStream({ dashboard, row: dashboardRowEvent }),
  }),
  workshopAction('get', '/results.csv', 'The results: a row per learner, a column per lab step', { description: 'RFC 4180 CSV', csv: true }),
  workshopAction('post', '/message', 'Post (or take down, with "") the message every learner sees', { description: 'The workshop', schema: workshopView }, messageInput),
  workshopAction('post', '/extend', 'More time for one learner, or for everyone', { description: 'The workshop', schema: workshopView }, extendInput),
  workshopAction('post', '/end', 'End the workshop and every learner’s lab of it', { description: 'The workshop, ended', schema: workshopView }),
  workshopAction('post', '/instructors', 'Add a co-instructor (the owner only)', { description: 'The workshop with its instructors', schema: workshopView }, addInstructorInput),
  {
    method: 'post',
    path: '/api/workshops/{id}/learners/{learner}/reset',
    summary: 'Reset a learner’s lab: a fresh sandbox',
    tag: 'workshops',
    access: 'instructor',
    pathParameters: workshopParameters.extend({ learner: z.string().describe('the learner’s id') }),
    body: resetInput,
    responses: { 200: { description: 'Reset', schema: z.object({ reset: z.literal(true) }) }, 404: notYours },
  },
];
