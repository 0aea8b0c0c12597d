// The portal's wiring, for main.ts: what the pages and API routes may ask of the runtime
// (PortalServices, passed to Astro's handler as `locals.services` with the signed-in learner), and
// tracking assembled with its reports and the xAPI outbox. Only main.ts (and the pages, for
// types) import this file; the rooms it wires never do.

import type { PortalConfig, XapiConfig } from './config.ts';
import type { Database } from './db/index.ts';
import type { Auth, Sessions } from './auth/index.ts';
import type { LabSessions } from './labs/index.ts';
import type { Logger } from './log.ts';
import { createReports, type Reports } from './reports/index.ts';
import { contentOutlines, createTracking, type LearningRecord, type PathOutlines, type Progress, type Tracking } from './tracking/index.ts';
import type { Workshops } from './workshops/index.ts';
import { createLrs, createStatementOutbox, statementPage, type OutboxStatus, type StatementOutbox, type StatementPageQuery, type StatementResult } from './xapi/index.ts';

export type { Learner, LessonProgress, Role } from '../contracts/index.ts';

export interface PortalServices {
  sessions: Sessions;
  progress: Progress;
  auth: Auth;
  /** Lab sessions (start, check, hints, reset, end, the terminal's access); absent where the portal runs without labs. */
  labs?: LabSessions;
  /** Instructor-led workshops: create, join, the live dashboard, the instructor's actions. */
  workshops?: Workshops;
  /** The learning record (events, My learning, certificates), reports and xAPI downloads; absent where the portal runs without it. */
  learning?: LearningServices;
}

/** What pages and API routes use (PortalServices.learning). */
export interface LearningServices {
  record: LearningRecord;
  reports: Reports;
  outlines: PathOutlines;
  /** A page of xAPI statements, as GET /api/xapi/statements answers; `more` made by `nextAddress`. */
  statements(query: StatementPageQuery, nextAddress: (after: number) => string): Promise<StatementResult>;
  /** The outbox's state; null when no LRS is configured. */
  outboxStatus(): Promise<OutboxStatus | null>;
  /** The portal's address, as xAPI actors and activity ids name it. */
  portalUrl(): string;
}

export interface Learning {
  services: LearningServices;
  /** Lesson progress and lab sessions, recorded with their learning events (for the pages and the lab service). */
  tracking: Tracking;
  /** Stops the xAPI worker; call before closing the database. */
  stop(): Promise<void>;
}

export interface LearningOptions {
  db: Database;
  /** The project root: path outlines are read from ROOT/content/paths. */
  root: string;
  xapi: XapiConfig | null;
  /** The portal's public address; asked when statements are made, so it may be known only once the server listens. */
  portalUrl: () => string;
  /** The workshop a learner is in right now, if any, to tag their lab events with. */
  workshopOf?: (learnerId: string) => Promise<string | null>;
  log: Logger;
  /** Overrides for tests: outlines other than the content's, the worker's timing. */
  outlines?: PathOutlines;
  outbox?: { pollMs?: number; firstDelayMs?: number; maxDelayMs?: number };
}

/** Where learners reach the portal: OIDC_REDIRECT_URL's origin when signing in through a provider, else where it listens. */
export function publicPortalUrl(config: Pick<PortalConfig, 'auth'>, listening: string): string {
  return config.auth.mode === 'oidc' ? new URL(config.auth.redirectUrl).origin : listening;
}

export function startLearning(options: LearningOptions): Learning {
  const log = options.log.child({ component: 'learning' });
  const outlines = options.outlines ?? contentOutlines(options.root);
  const outbox: StatementOutbox | null = options.xapi
    ? createStatementOutbox({ db: options.db, lrs: createLrs(options.xapi), portalUrl: options.portalUrl, log: log.child({ component: 'xapi' }), ...options.outbox })
    : null;
  const tracking = createTracking(options.db, {
    outlines,
    sinks: outbox ? [outbox.sink] : [],
    onListenerError: (error) => log.warn({ err: error }, 'a learning event listener failed'),
    ...(options.workshopOf ? { workshopOf: options.workshopOf } : {}),
  });
  const { record } = tracking;
  if (outbox) {
    record.subscribe(() => outbox.nudge());
    outbox.start();
  }
  // Paths whose lessons were all completed before the record existed, or before a lesson was
  // taken out of them, are completed now (in the background: nothing waits for it).
  const completing = record.completePaths().then(
    (completed) => {
      if (completed.length > 0) log.info({ paths: completed.length }, 'completed paths whose every lesson was already completed');
    },
    (error: unknown) => log.warn({ err: error }, 'could not look for paths to complete'),
  );
  const reports = createReports(options.db, outlines);

  return {
    services: {
      record,
      reports,
      outlines,
      statements: (query, nextAddress) => statementPage(record, options.portalUrl(), query, nextAddress),
      outboxStatus: async () => (outbox ? outbox.status() : null),
      portalUrl: options.portalUrl,
    },
    tracking,
    stop: async () => {
      await completing;
      await outbox?.stop();
    },
  };
}
