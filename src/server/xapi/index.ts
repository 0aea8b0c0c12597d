// xAPI: learning events as statements with the cmi5 verbs, a durable outbox that sends them to
// the configured LRS in the background, downloads of the same statements, and the 1.0.3
// Statement schema they are checked against.

export { createStatementOutbox } from './outbox.ts';
export type { OutboxStatus, StatementOutbox, StatementOutboxOptions } from './outbox.ts';
export { createLrs, statementsUrl } from './lrs.ts';
export type { Lrs, LrsAnswer } from './lrs.ts';
export { actorOf, extensionIri, pathRegistration, PLATFORM, statementsFor, VERBS } from './statements.ts';
export type { VerbName } from './statements.ts';
export { statementPage, statementResult, statementsQuery } from './feed.ts';
export type { StatementPageQuery, StatementResult, StatementsQuery } from './feed.ts';
export { isoDuration } from './duration.ts';
export { nameUuid } from './uuid.ts';
export { statement, statementProblems, XAPI_VERSION } from './spec.ts';
export type { Activity, Agent, Statement } from './spec.ts';
