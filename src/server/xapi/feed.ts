// Statements for download (GET /api/xapi/statements): made from the learning record on request,
// with the same mapping the outbox sends, in the shape of the xAPI StatementResult — a page of
// statements and `more`, the address of the next page ("" after the last).

import type { EventQuery, LearningRecord } from '../learning/index.ts';
import type { Statement } from './spec.ts';
import { statementsFor } from './statements.ts';

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
