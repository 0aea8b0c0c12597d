// Statements for download (GET /api/xapi/statements): made from the learning record on request,
// with the same mapping the outbox sends, in the shape of the xAPI StatementResult — a page of
// statements and `more`, the address of the next page ("" after the last).

import { z } from 'zod';
import type { EventQuery, LearningRecord } from '../tracking/index.ts';
import { statement, type Statement } from './spec.ts';
import { statementsFor } from './statements.ts';

/** GET /api/xapi/statements: whose statements, which period, which page. */
export const statementsQuery = z.strictObject({
  learner: z.string().min(1).max(200).optional().describe('whose statements (a learner id); learners may ask only for their own, admins for anyone’s, or for everyone’s by leaving it out'),
  since: z.iso.datetime({ offset: true }).optional().describe('statements of events that happened at or after this time'),
  until: z.iso.datetime({ offset: true }).optional().describe('statements of events that happened before this time'),
  limit: z.coerce.number().int().min(1).max(1000).default(200).describe('learning events per page; each gives one or two statements'),
  after: z.coerce.number().int().min(0).optional().describe('the page after this event, as `more` gives it'),
  download: z.literal('1').optional().describe('1: answer as a file to save'),
});
export type StatementsQuery = z.infer<typeof statementsQuery>;

/** The xAPI StatementResult: a page of statements and the address of the next one. */
export const statementResult = z.object({
  statements: z.array(statement),
  more: z.string().describe('the address of the next page; empty after the last'),
});

export interface StatementResult {
  statements: Statement[];
  more: string;
}

export interface StatementPageQuery {
  learnerId?: string;
  since?: string;
  until?: string;
  /** Events per page (a page holds their statements); default 200. */
  limit?: number;
  /** The `after` of the previous page's `more`. */
  after?: number;
}

const DEFAULT_PAGE_EVENTS = 200;

export async function statementPage(
  learning: Pick<LearningRecord, 'events' | 'identities'>,
  portalUrl: string,
  query: StatementPageQuery,
  nextAddress: (after: number) => string,
): Promise<StatementResult> {
  const limit = query.limit ?? DEFAULT_PAGE_EVENTS;
  const eventQuery: EventQuery = { limit };
  if (query.learnerId !== undefined) eventQuery.learnerId = query.learnerId;
  if (query.since !== undefined) eventQuery.since = query.since;
  if (query.until !== undefined) eventQuery.until = query.until;
  if (query.after !== undefined) eventQuery.afterSeq = query.after;
  const events = await learning.events(eventQuery);
  const learners = new Map((await learning.identities(events.map((event) => event.learnerId))).map((learner) => [learner.id, learner]));
  const statements = events.flatMap((event) => {
    const learner = learners.get(event.learnerId);
    return learner ? statementsFor(event, learner, portalUrl) : [];
  });
  const last = events.at(-1);
  return { statements, more: events.length === limit && last ? nextAddress(last.seq) : '' };
}
