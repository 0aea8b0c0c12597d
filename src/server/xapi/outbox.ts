// The xAPI outbox: statements are written to a table in the transaction that records their
// learning event (so none is lost, and none is sent for an event that was rolled back), and a
// background worker sends them to the LRS. A learner's request never waits for the LRS: it only
// adds rows. The worker takes due rows with a lease (several portal processes share the table;
// a process that dies lets its rows go when the lease ends), sends them in batches in the order
// their events were recorded, and on failure waits longer each time (exponential back-off with
// jitter). Statements the LRS refuses for what
// they say are set aside as rejected, with the LRS's answer.

import { z } from 'zod';
import { redactUrl } from '../config.ts';
import type { Database, Queryable } from '../db/index.ts';
import type { EventSink } from '../tracking/index.ts';
import type { Logger } from '../log.ts';
import type { Lrs } from './lrs.ts';
import { statementProblems, type Statement } from './spec.ts';
import { statementsFor } from './statements.ts';

export interface OutboxStatus {
  pending: number;
  sent: number;
  rejected: number;
  /** The oldest statement still waiting, if any. */
  oldestPendingAt: string | null;
  /** What went wrong last, for the statements still waiting. */
  lastError: string | null;
}

export interface StatementOutbox {
  /** For the learning record: queues the statements of the events it appends, in its transaction. */
  readonly sink: EventSink;
  /** Starts the background worker. */
  start(): void;
  /** Asks the worker to send soon; returns at once. */
  nudge(): void;
  /** Sends what is due now; resolves when the worker has nothing due left (tests, tools). */
  flush(): Promise<void>;
  status(): Promise<OutboxStatus>;
  /** Stops the worker: a send in flight is abandoned (its statements go again later), nothing new starts. */
  stop(): Promise<void>;
}

export interface StatementOutboxOptions {
  db: Database;
  lrs: Lrs;
  /** The portal's address: actor home page and activity ids. */
  portalUrl: () => string;
  log: Logger;
  now?: () => Date;
  /** Statements per request; default 50. */
  batchSize?: number;
  /** How often the worker looks for due statements when nobody nudges it; default 2 s. */
  pollMs?: number;
  /** The first wait after a failure, doubled for each further one, up to maxDelayMs. */
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** How long a worker may hold rows it took; default 60 s. */
  leaseMs?: number;
  /** Jitter source (tests pin it). */
  random?: () => number;
}

const DEFAULTS = { batchSize: 50, pollMs: 2_000, firstDelayMs: 2_000, maxDelayMs: 10 * 60_000, leaseMs: 60_000 };
/** Batches per round before the worker yields to its timer: a round always ends. */
const MAX_BATCHES_PER_ROUND = 200;

const claimedRow = z.object({ statement_id: z.string(), statement: z.string(), attempts: z.coerce.number(), event_seq: z.coerce.number(), position: z.coerce.number() });
type Claimed = z.infer<typeof claimedRow>;
const dueRow = z.object({ due: z.coerce.number() });
const statusRow = z.object({ pending: z.coerce.number(), sent: z.coerce.number(), rejected: z.coerce.number(), oldest: z.string().nullable() });
const errorRow = z.object({ last_error: z.string().nullable() });

export function createStatementOutbox(options: StatementOutboxOptions): StatementOutbox {
  const { db, lrs, log } = options;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const settings = {
    batchSize: options.batchSize ?? DEFAULTS.batchSize,
    pollMs: options.pollMs ?? DEFAULTS.pollMs,
    firstDelayMs: options.firstDelayMs ?? DEFAULTS.firstDelayMs,
    maxDelayMs: options.maxDelayMs ?? DEFAULTS.maxDelayMs,
    leaseMs: options.leaseMs ?? DEFAULTS.leaseMs,
  };
  const target = redactUrl(lrs.statementsUrl);
  const abort = new AbortController();
  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;

  const sink: EventSink = async (tx: Queryable, events, learner) => {
    const at = now().toISOString();
    for (const event of events) {
      for (const [position, statement] of statementsFor(event, learner, options.portalUrl()).entries()) {
        // A statement the spec would refuse is a bug here, not the learner's: the event is still
        // recorded, and the statement is kept aside with what is wrong with it.
        const problems = statementProblems(statement);
        if (problems.length > 0) log.error({ statement: statement.id, event: event.id, problems }, 'an xAPI statement made from a learning event is not valid; it is not sent');
        await tx.run(
          `INSERT INTO xapi_outbox (statement_id, event_id, learner_id, event_seq, position, statement, created_at, attempts, next_attempt_at, rejected_at, last_error)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $7, $8, $9) ON CONFLICT (statement_id) DO NOTHING`,
          [
            statement.id ?? '',
            event.id,
            event.learnerId,
            event.seq,
            position,
            JSON.stringify(statement),
            at,
            problems.length > 0 ? at : null,
            problems.length > 0 ? `not a valid xAPI statement: ${problems.join('; ')}` : null,
          ],
        );
      }
    }
  };

  const claim = async (): Promise<Claimed[]> => {
    const at = now();
    // Statements go in the order their events were recorded: while an earlier one waits to be
    // tried again, later ones wait behind it (an LMS reading the LRS sees `launched` before
    // `initialized`). The row's state is checked again outside the subquery: of two processes
    // that picked the same rows, the second finds them leased, or already sent, once the first
    // is done with them (PostgreSQL re-reads a row it waited for, but not the subquery).
    const rows = await db.all(
      claimedRow,
      `UPDATE xapi_outbox SET lease_until = $1, attempts = attempts + 1
        WHERE statement_id IN (
                SELECT statement_id FROM xapi_outbox o
                 WHERE sent_at IS NULL AND rejected_at IS NULL AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
                   AND NOT EXISTS (
                         SELECT 1 FROM xapi_outbox w
                          WHERE w.sent_at IS NULL AND w.rejected_at IS NULL AND w.next_attempt_at > $2 AND w.event_seq <= o.event_seq)
                 ORDER BY event_seq, position LIMIT $3)
          AND sent_at IS NULL AND rejected_at IS NULL AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
        RETURNING statement_id, statement, attempts, event_seq, position`,
      [new Date(at.getTime() + settings.leaseMs).toISOString(), at.toISOString(), settings.batchSize],
    );
    return rows.sort((a, b) => a.event_seq - b.event_seq || a.position - b.position);
  };

  const placeholders = (rows: readonly Claimed[], from: number) => rows.map((_, index) => `$${index + from}`).join(', ');
  const ids = (rows: readonly Claimed[]) => rows.map((row) => row.statement_id);

  const markSent = (rows: readonly Claimed[]) =>
    db.run(`UPDATE xapi_outbox SET sent_at = $1, lease_until = NULL, last_error = NULL WHERE statement_id IN (${placeholders(rows, 2)})`, [now().toISOString(), ...ids(rows)]);

  const markRejected = (rows: readonly Claimed[], message: string) =>
    db.run(`UPDATE xapi_outbox SET rejected_at = $1, lease_until = NULL, last_error = $2 WHERE statement_id IN (${placeholders(rows, 3)})`, [
      now().toISOString(),
      message,
      ...ids(rows),
    ]);

  /** Back to the queue, due now: what a stopping worker had in hand. */
  const release = (rows: readonly Claimed[]) =>
    db.run(`UPDATE xapi_outbox SET lease_until = NULL, next_attempt_at = $1 WHERE statement_id IN (${placeholders(rows, 2)})`, [now().toISOString(), ...ids(rows)]);

  const retryLater = async (rows: readonly Claimed[], message: string) => {
    for (const row of rows) {
      const wait = Math.min(settings.maxDelayMs, settings.firstDelayMs * 2 ** Math.max(0, row.attempts - 1)) * (0.5 + random() / 2);
      await db.run('UPDATE xapi_outbox SET lease_until = NULL, next_attempt_at = $2, last_error = $3 WHERE statement_id = $1', [
        row.statement_id,
        new Date(now().getTime() + wait).toISOString(),
        message,
      ]);
    }
  };

  const deliver = async (rows: readonly Claimed[]): Promise<void> => {
    const statements = rows.map((row) => JSON.parse(row.statement) as Statement);
    const answer = await lrs.send(statements, abort.signal);
    if (answer.delivered) {
      await markSent(rows);
      log.debug({ lrs: target, statements: rows.length }, 'xAPI statements sent');
      return;
    }
    const message = redactUrl(answer.message);
    if (stopped) {
      await release(rows);
    } else if (!answer.retry && rows.length > 1) {
      // One bad statement must not hold back the others: each goes on its own.
      for (const row of rows) await deliver([row]);
    } else if (!answer.retry) {
      await markRejected(rows, message);
      log.warn({ lrs: target, statement: rows[0]?.statement_id, status: answer.status, error: message }, 'the LRS refused an xAPI statement; it is not sent again');
    } else {
      await retryLater(rows, message);
      log.warn({ lrs: target, statements: rows.length, status: answer.status, error: message }, 'could not send xAPI statements; trying again later');
    }
  };

  const schedule = (ms: number) => {
    if (stopped || !started) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void run(), ms);
    timer.unref();
  };

  const round = async () => {
    for (let batch = 0; batch < MAX_BATCHES_PER_ROUND && !stopped; batch += 1) {
      const rows = await claim();
      if (rows.length === 0) return;
      await deliver(rows);
    }
  };

  const run = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await round();
        } while (again && !stopped);
      } catch (error) {
        if (!stopped) log.warn({ err: error, lrs: target }, 'the xAPI outbox worker failed; it tries again');
      } finally {
        running = null;
        schedule(settings.pollMs);
      }
    })();
    return running;
  };

  return {
    sink,

    start() {
      if (started || stopped) return;
      started = true;
      schedule(0);
    },

    nudge() {
      schedule(0);
    },

    async flush() {
      await run();
      // A round that stopped at its batch limit leaves due rows behind: go on until none are left.
      for (let round = 0; round < MAX_BATCHES_PER_ROUND && !stopped; round += 1) {
        const due = await db.one(
          dueRow,
          'SELECT COUNT(*) AS due FROM xapi_outbox WHERE sent_at IS NULL AND rejected_at IS NULL AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)',
          [now().toISOString()],
        );
        if (!due || due.due === 0) return;
        await run();
      }
    },

    async status() {
      const row = await db.one(
        statusRow,
        `SELECT COALESCE(SUM(CASE WHEN sent_at IS NULL AND rejected_at IS NULL THEN 1 ELSE 0 END), 0) AS pending,
                COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS sent,
                COALESCE(SUM(CASE WHEN rejected_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS rejected,
                MIN(CASE WHEN sent_at IS NULL AND rejected_at IS NULL THEN created_at END) AS oldest
           FROM xapi_outbox`,
      );
      const failing = await db.one(
        errorRow,
        'SELECT last_error FROM xapi_outbox WHERE sent_at IS NULL AND rejected_at IS NULL AND last_error IS NOT NULL ORDER BY next_attempt_at DESC LIMIT 1',
      );
      return {
        pending: row?.pending ?? 0,
        sent: row?.sent ?? 0,
        rejected: row?.rejected ?? 0,
        oldestPendingAt: row?.oldest ?? null,
        lastError: failing?.last_error ?? null,
      };
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      abort.abort(new Error('the portal is stopping'));
      await running;
    },
  };
}
