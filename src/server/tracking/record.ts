// The learning record: an append-only table of learning events, and the summaries derived from
// them. `record(event)` validates the event, appends it and brings the summaries up to date in one
// transaction — so a reader never sees an event without its effect — and, when the event
// completes the last lesson of a path, records `path.completed` (once) and issues the
// certificate. Sinks (lesson progress rows, the xAPI outbox) write in the same transaction;
// listeners hear of events after it commits. Its writer (writer.ts) lets lesson progress and lab
// sessions write their own rows in the transaction that appends their events.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database, Queryable, SqlValue } from '../db/index.ts';
import { createCertificates, issueCertificate, type Certificates } from './certificates.ts';
import { LEARNING_EVENT_KINDS, LearningEventError, parseEvent, pathCompleted, type EventDetail, type LearningEvent, type PendingEvent } from './events.ts';
import type { PathOutline, PathOutlines } from './outlines.ts';
import type { LabRecordSummary, MyLearning, PathProgress } from '../../contracts/index.ts';
import { lessonProgressSink } from './lessons.ts';
import { rebuildSummaries } from './rebuild.ts';
import type { EventSink, EventWriter, LearnerIdentity, RecordOutcome } from './writer.ts';

export interface EventQuery {
  /** Only this learner's events. */
  learnerId?: string;
  /** Events recorded after this one (its `seq`). */
  afterSeq?: number;
  /** occurred_at ≥ since, < until (ISO 8601). */
  since?: string;
  until?: string;
  limit?: number;
}

export interface LearningRecord {
  /** Validates and appends one event; throws LearningEventError naming the field when it is not a valid event. */
  record(event: unknown): Promise<RecordOutcome>;
  /** Appends several events in one transaction (imports, tests, the bench); each as `record` would. */
  recordAll(events: readonly unknown[]): Promise<RecordOutcome[]>;
  /**
   * Appends validated events in bulk without deriving anything from them (a large import); follow
   * it with rebuildSummaries() and completePaths(). Returns how many were appended (once-only
   * events already recorded are not).
   */
  importEvents(events: readonly unknown[]): Promise<number>;
  /** Derives every summary again from the events (see rebuild.ts). */
  rebuildSummaries(): Promise<void>;
  /**
   * Completes every path whose lessons a learner has all completed but that is not completed yet
   * (lessons recorded before the record existed, an import, a lesson removed from a path), as of
   * the last of those completions. Returns the path.completed events recorded.
   */
  completePaths(): Promise<LearningEvent[]>;
  /** Events in recording order. */
  events(query?: EventQuery): Promise<LearningEvent[]>;
  myLearning(learnerId: string): Promise<MyLearning>;
  /** Name and email of each of these learners that exists (xAPI actors of downloaded statements). */
  identities(learnerIds: readonly string[]): Promise<LearnerIdentity[]>;
  certificates: Certificates;
  /** Called after each recording commits, with the events appended (derived ones included). */
  subscribe(listener: (events: readonly LearningEvent[]) => void): () => void;
}

export interface LearningRecordOptions {
  outlines: PathOutlines;
  now?: () => Date;
  sinks?: readonly EventSink[];
  /** Told when a listener throws; listeners cannot fail a recording that has committed. */
  onListenerError?: (error: unknown) => void;
}

const MAX_MESSAGE_LENGTH = 500;
const COMPLETIONS_PER_TRANSACTION = 200;
const DEFAULT_EVENT_LIMIT = 500;
const MAX_EVENT_LIMIT = 5000;

const count = z.coerce.number();
const ms = z.coerce.number().nullable();

const eventRow = z.object({
  seq: z.coerce.number(),
  id: z.string(),
  learner_id: z.string(),
  kind: z.enum(LEARNING_EVENT_KINDS),
  occurred_at: z.string(),
  path: z.string().nullable(),
  lesson: z.string().nullable(),
  lab: z.string().nullable(),
  step: z.string().nullable(),
  lab_session: z.string().nullable(),
  workshop: z.string().nullable(),
  duration_ms: ms,
  detail: z.string().nullable(),
});
const EVENT_COLUMNS = 'seq, id, learner_id, kind, occurred_at, path, lesson, lab, step, lab_session, workshop, duration_ms, detail';

const learnerRow = z.object({ id: z.string(), display_name: z.string(), email: z.string().nullable() });
const seqRow = z.object({ seq: z.coerce.number() });
const lessonRow = z.object({ lesson: z.string() });
const pathLessonRow = z.object({ path: z.string(), lesson: z.string() });
const startedRow = z.object({ started_at: z.string() });
const dueRow = z.object({ learner_id: z.string(), completed_at: z.string() });

const pathRow = z.object({
  path: z.string(),
  started_at: z.string(),
  last_at: z.string(),
  completed_at: z.string().nullable(),
  time_to_complete_ms: ms,
});

const attemptRow = z.object({ started_at: z.string(), last_at: z.string(), completed_at: z.string().nullable(), ended_at: z.string().nullable() });

const labRow = z.object({
  lab: z.string(),
  attempts: count,
  checks: count,
  failed_checks: count,
  hints: count,
  solutions: count,
  time_spent_ms: count,
  first_started_at: z.string(),
  last_at: z.string(),
  completed_at: z.string().nullable(),
  time_to_complete_ms: ms,
});

function toEvent(row: z.infer<typeof eventRow>): LearningEvent {
  return {
    id: row.id,
    seq: row.seq,
    learnerId: row.learner_id,
    kind: row.kind,
    at: row.occurred_at,
    path: row.path,
    lesson: row.lesson,
    lab: row.lab,
    step: row.step,
    labSession: row.lab_session,
    workshop: row.workshop,
    durationMs: row.duration_ms,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as EventDetail),
  };
}

/** An event's values in the order of the INSERT's columns (one row, or one row of a batch). */
function insertValues(id: string, event: PendingEvent): SqlValue[] {
  return [
    id,
    event.learnerId,
    event.kind,
    event.at,
    event.path,
    event.lesson,
    event.lab,
    event.step,
    event.labSession,
    event.workshop,
    event.durationMs,
    event.detail === null ? null : JSON.stringify(event.detail),
    event.onceKey,
  ];
}

const later = (a: string, b: string) => (a > b ? a : b);
const between = (from: string, to: string) => Math.max(0, Date.parse(to) - Date.parse(from));
/** PostgreSQL must lock a summary row it reads and then writes; SQLite's writers are one at a time anyway. */
const forUpdate = (tx: Queryable) => (tx.dialect === 'postgres' ? ' FOR UPDATE' : '');

export function createLearningRecord(db: Database, options: LearningRecordOptions): { record: LearningRecord; writer: EventWriter } {
  const now = options.now ?? (() => new Date());
  // Lesson progress rows are written with their events, in one transaction.
  const sinks = [lessonProgressSink, ...(options.sinks ?? [])];
  const listeners = new Set<(events: readonly LearningEvent[]) => void>();
  const certificatesOf = createCertificates(db, now);

  const append = async (tx: Queryable, event: PendingEvent, id: string = randomUUID()): Promise<{ event: LearningEvent; recorded: boolean }> => {
    const inserted = await tx.one(
      seqRow,
      `INSERT INTO learning_events (id, learner_id, kind, occurred_at, path, lesson, lab, step, lab_session, workshop, duration_ms, detail, once_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (once_key) WHERE once_key IS NOT NULL DO NOTHING
       RETURNING seq`,
      insertValues(id, event),
    );
    if (inserted) {
      const { onceKey: _onceKey, ...rest } = event;
      return { event: { ...rest, id, seq: inserted.seq }, recorded: true };
    }
    const earlier = await tx.one(eventRow, `SELECT ${EVENT_COLUMNS} FROM learning_events WHERE once_key = $1`, [event.onceKey]);
    if (!earlier) throw new Error(`learning event ${event.onceKey} was neither appended nor found`);
    return { event: toEvent(earlier), recorded: false };
  };

  /** The learner's row of the path, made on their first lesson event; locked until the transaction ends. */
  const touchPath = async (tx: Queryable, learnerId: string, path: string, at: string) => {
    await tx.run(
      `INSERT INTO learning_paths (learner_id, path, started_at, last_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (learner_id, path) DO UPDATE SET
         started_at = CASE WHEN excluded.started_at < learning_paths.started_at THEN excluded.started_at ELSE learning_paths.started_at END,
         last_at = CASE WHEN excluded.last_at > learning_paths.last_at THEN excluded.last_at ELSE learning_paths.last_at END`,
      [learnerId, path, at],
    );
  };

  const lessonViewed = async (tx: Queryable, event: LearningEvent) => {
    const { learnerId, path, lesson, at } = event as LearningEvent & { path: string; lesson: string };
    await touchPath(tx, learnerId, path, at);
    await tx.run(
      `INSERT INTO learning_lessons (learner_id, path, lesson, first_viewed_at, views) VALUES ($1, $2, $3, $4, 1)
       ON CONFLICT (learner_id, path, lesson) DO UPDATE SET
         first_viewed_at = CASE WHEN excluded.first_viewed_at < learning_lessons.first_viewed_at THEN excluded.first_viewed_at ELSE learning_lessons.first_viewed_at END,
         views = learning_lessons.views + 1`,
      [learnerId, path, lesson, at],
    );
  };

  /** Returns the path.completed event when this lesson was the path's last. */
  const lessonCompleted = async (tx: Queryable, event: LearningEvent, outline: PathOutline | null, learner: LearnerIdentity) => {
    const { learnerId, path, lesson, at } = event as LearningEvent & { path: string; lesson: string };
    // The path's row is locked first: of two last lessons completed at once, the second waits and
    // then sees the first, so the path is completed exactly once.
    await touchPath(tx, learnerId, path, at);
    await tx.run(
      `INSERT INTO learning_lessons (learner_id, path, lesson, first_viewed_at, completed_at, views) VALUES ($1, $2, $3, $4, $4, 0)
       ON CONFLICT (learner_id, path, lesson) DO UPDATE SET
         first_viewed_at = CASE WHEN excluded.first_viewed_at < learning_lessons.first_viewed_at THEN excluded.first_viewed_at ELSE learning_lessons.first_viewed_at END,
         completed_at = COALESCE(learning_lessons.completed_at, excluded.completed_at)`,
      [learnerId, path, lesson, at],
    );
    const completed = new Set(
      (await tx.all(lessonRow, 'SELECT lesson FROM learning_lessons WHERE learner_id = $1 AND path = $2 AND completed_at IS NOT NULL', [learnerId, path])).map(
        (row) => row.lesson,
      ),
    );
    if (!outline || outline.lessons.length === 0 || outline.lessons.some((id) => !completed.has(id))) return null;
    return completePath(tx, learner, outline, at, event.workshop);
  };

  /** Completes the learner's path (its row locked by the caller): path.completed and the certificate, once. */
  const completePath = async (tx: Queryable, learner: LearnerIdentity, outline: PathOutline, at: string, workshop: string | null): Promise<LearningEvent | null> => {
    const row = await tx.one(pathRow, `SELECT path, started_at, last_at, completed_at, time_to_complete_ms FROM learning_paths WHERE learner_id = $1 AND path = $2`, [
      learner.id,
      outline.id,
    ]);
    if (!row || row.completed_at !== null) return null;
    const durationMs = between(row.started_at, at);
    await tx.run('UPDATE learning_paths SET completed_at = $3, time_to_complete_ms = $4 WHERE learner_id = $1 AND path = $2 AND completed_at IS NULL', [
      learner.id,
      outline.id,
      at,
      durationMs,
    ]);
    const eventId = randomUUID();
    const certificate = await issueCertificate(tx, { learnerId: learner.id, learnerName: learner.name, path: outline.id, pathTitle: outline.title, issuedAt: at, eventId });
    const appended = await append(tx, pathCompleted(learner.id, outline.id, at, durationMs, certificate.id, workshop), eventId);
    return appended.recorded ? appended.event : null;
  };

  /** The attempt's row, made when an attempt's first event is not its start (recorded before the record existed). */
  const attemptOf = async (tx: Queryable, event: LearningEvent & { labSession: string; lab: string }) => {
    const read = () =>
      tx.one(attemptRow, `SELECT started_at, last_at, completed_at, ended_at FROM learning_attempts WHERE lab_session = $1${forUpdate(tx)}`, [event.labSession]);
    const found = await read();
    if (found) return found;
    await labStarted(tx, event);
    const made = await read();
    if (!made) throw new Error(`lab attempt ${event.labSession} vanished while recording ${event.kind}`);
    return made;
  };

  const labStarted = async (tx: Queryable, event: LearningEvent) => {
    const { learnerId, lab, labSession, at } = event as LearningEvent & { lab: string; labSession: string };
    const made = await tx.run(
      `INSERT INTO learning_attempts (lab_session, learner_id, lab, started_at, last_at, checks, failed_checks) VALUES ($1, $2, $3, $4, $4, 0, 0)
       ON CONFLICT (lab_session) DO NOTHING`,
      [labSession, learnerId, lab, at],
    );
    if (made === 0) return;
    await tx.run(
      `INSERT INTO learning_labs (learner_id, lab, first_started_at, last_at, attempts, checks, failed_checks, hints, solutions, time_spent_ms)
       VALUES ($1, $2, $3, $3, 1, 0, 0, 0, 0, 0)
       ON CONFLICT (learner_id, lab) DO UPDATE SET
         attempts = learning_labs.attempts + 1,
         first_started_at = CASE WHEN excluded.first_started_at < learning_labs.first_started_at THEN excluded.first_started_at ELSE learning_labs.first_started_at END,
         last_at = CASE WHEN excluded.last_at > learning_labs.last_at THEN excluded.last_at ELSE learning_labs.last_at END`,
      [learnerId, lab, at],
    );
  };

  /** Everything in an attempt after its start: counts, time spent, completion. */
  const labActivity = async (tx: Queryable, event: LearningEvent & { labSession: string; lab: string }) => {
    const attempt = await attemptOf(tx, event);
    // An attempt's time runs from Start to its last event, and stops at completion.
    const running = attempt.completed_at === null;
    const lastAt = running ? later(attempt.last_at, event.at) : attempt.last_at;
    const spent = between(attempt.last_at, lastAt);
    const checked = event.kind === 'check.passed' || event.kind === 'check.failed' ? 1 : 0;
    const failed = event.kind === 'check.failed' ? 1 : 0;
    const completes = event.kind === 'lab.completed' && running;
    await tx.run(
      `UPDATE learning_attempts SET last_at = $2, checks = checks + $3, failed_checks = failed_checks + $4,
              completed_at = CASE WHEN $5 = 1 THEN $6 ELSE completed_at END,
              ended_at = CASE WHEN $7 = 1 THEN COALESCE(ended_at, $6) ELSE ended_at END
        WHERE lab_session = $1`,
      [event.labSession, lastAt, checked, failed, completes ? 1 : 0, event.at, event.kind === 'lab.ended' ? 1 : 0],
    );
    await tx.run(
      `UPDATE learning_labs SET
         last_at = CASE WHEN $3 > last_at THEN $3 ELSE last_at END,
         checks = checks + $4, failed_checks = failed_checks + $5, hints = hints + $6, solutions = solutions + $7,
         time_spent_ms = time_spent_ms + $8,
         completed_at = CASE WHEN $9 = 1 THEN COALESCE(completed_at, $3) ELSE completed_at END,
         time_to_complete_ms = CASE WHEN $9 = 1 THEN COALESCE(time_to_complete_ms, time_spent_ms + $8) ELSE time_to_complete_ms END
       WHERE learner_id = $1 AND lab = $2`,
      [
        event.learnerId,
        event.lab,
        event.at,
        checked,
        failed,
        event.kind === 'hint.shown' ? 1 : 0,
        event.kind === 'solution.shown' ? 1 : 0,
        spent,
        completes ? 1 : 0,
      ],
    );
    if (checked) await checkRan(tx, event);
  };

  const checkRan = async (tx: Queryable, event: LearningEvent & { lab: string }) => {
    const day = event.at.slice(0, 10);
    const step = event.step ?? '';
    const failed = event.kind === 'check.failed' ? 1 : 0;
    await tx.run(
      `INSERT INTO learning_step_days (lab, step, day, runs, failures) VALUES ($1, $2, $3, 1, $4)
       ON CONFLICT (lab, step, day) DO UPDATE SET runs = learning_step_days.runs + 1, failures = learning_step_days.failures + excluded.failures`,
      [event.lab, step, day, failed],
    );
    if (!failed || event.detail === null || !('results' in event.detail)) return;
    for (const [index, result] of event.detail.results.entries()) {
      if (result.passed) continue;
      await tx.run(
        `INSERT INTO learning_check_failures (lab, step, check_key, kind, expected, message, day, failures) VALUES ($1, $2, $3, $4, $5, $6, $7, 1)
         ON CONFLICT (lab, step, check_key, message, day) DO UPDATE SET failures = learning_check_failures.failures + 1, expected = excluded.expected`,
        [event.lab, step, `${index}:${result.kind}`, result.kind, result.expected.slice(0, MAX_MESSAGE_LENGTH), result.message.slice(0, MAX_MESSAGE_LENGTH), day],
      );
    }
  };

  /** Looked up once per learner and transaction. */
  const learnerOf = async (tx: Queryable, learnerId: string, known: Map<string, LearnerIdentity>): Promise<LearnerIdentity> => {
    const cached = known.get(learnerId);
    if (cached) return cached;
    const row = await tx.one(learnerRow, 'SELECT id, display_name, email FROM learners WHERE id = $1', [learnerId]);
    if (!row) throw new LearningEventError([`learnerId: there is no learner ${JSON.stringify(learnerId)}`]);
    const learner = { id: row.id, name: row.display_name, email: row.email };
    known.set(learnerId, learner);
    return learner;
  };

  /** A completion or an end not told how long the attempt took is as long as the attempt has run. */
  const withAttemptDuration = async (tx: Queryable, event: PendingEvent): Promise<PendingEvent> => {
    if ((event.kind !== 'lab.completed' && event.kind !== 'lab.ended') || event.durationMs !== null || event.labSession === null) return event;
    const attempt = await tx.one(startedRow, 'SELECT started_at FROM learning_attempts WHERE lab_session = $1', [event.labSession]);
    return attempt ? { ...event, durationMs: between(attempt.started_at, event.at) } : event;
  };

  const apply = async (tx: Queryable, pending: PendingEvent, outline: PathOutline | null, known: Map<string, LearnerIdentity>): Promise<RecordOutcome> => {
    const learner = await learnerOf(tx, pending.learnerId, known);
    const event = await withAttemptDuration(tx, pending);
    const appended = await append(tx, event);
    if (!appended.recorded) return { ...appended, derived: [] };
    const recorded = appended.event;
    const derived: LearningEvent[] = [];
    switch (recorded.kind) {
      case 'lesson.viewed':
        await lessonViewed(tx, recorded);
        break;
      case 'lesson.completed': {
        const completion = await lessonCompleted(tx, recorded, outline, learner);
        if (completion) derived.push(completion);
        break;
      }
      case 'lab.started':
        await labStarted(tx, recorded);
        break;
      case 'path.completed':
        break;
      default:
        await labActivity(tx, recorded as LearningEvent & { labSession: string; lab: string });
    }
    for (const sink of sinks) await sink(tx, [recorded, ...derived], learner);
    return { event: recorded, recorded: true, derived };
  };

  /**
   * Outlines are read before the transaction: no file reads while SQLite's writer is held. Only a
   * lesson completion needs them, so content that cannot be read fails only that.
   */
  const readOutlines = async (): Promise<{ get(path: string): PathOutline | null }> => {
    try {
      const byId = new Map((await options.outlines.all()).map((outline) => [outline.id, outline]));
      return { get: (path) => byId.get(path) ?? null };
    } catch (error) {
      return {
        get: () => {
          throw error;
        },
      };
    }
  };

  const tell = (outcomes: readonly RecordOutcome[]) => {
    const appended = outcomes.flatMap((outcome) => (outcome.recorded ? [outcome.event, ...outcome.derived] : []));
    if (appended.length === 0) return;
    for (const listener of listeners) {
      try {
        listener(appended);
      } catch (error) {
        options.onListenerError?.(error);
      }
    }
  };

  const write = async <T>(work: (tx: Queryable, append: (input: unknown) => Promise<RecordOutcome>) => Promise<T>): Promise<T> => {
    const outlines = await readOutlines();
    const outcomes: RecordOutcome[] = [];
    const result = await db.transaction(async (tx) => {
      const known = new Map<string, LearnerIdentity>();
      const appendIn = async (input: unknown): Promise<RecordOutcome> => {
        const event = parseEvent(input, now());
        const outline = event.kind === 'lesson.completed' && event.path ? outlines.get(event.path) : null;
        const outcome = await apply(tx, event, outline, known);
        outcomes.push(outcome);
        return outcome;
      };
      return work(tx, appendIn);
    });
    tell(outcomes);
    return result;
  };

  const recordAll = (inputs: readonly unknown[]): Promise<RecordOutcome[]> =>
    write(async (_tx, append) => {
      const done: RecordOutcome[] = [];
      for (const input of inputs) done.push(await append(input));
      return done;
    });

  // Rows per INSERT: node:sqlite binds long parameter lists slowly (500 rows take 8 times as long as 10 × 50).
  const IMPORT_ROWS = 50;
  const importEvents = async (inputs: readonly unknown[]): Promise<number> => {
    const at = now();
    const events = inputs.map((input) => parseEvent(input, at));
    return db.transaction(async (tx) => {
      let appended = 0;
      for (let start = 0; start < events.length; start += IMPORT_ROWS) {
        const chunk = events.slice(start, start + IMPORT_ROWS);
        const values = chunk.map((_, row) => `(${Array.from({ length: 13 }, (_, column) => `$${row * 13 + column + 1}`).join(', ')})`).join(', ');
        appended += await tx.run(
          `INSERT INTO learning_events (id, learner_id, kind, occurred_at, path, lesson, lab, step, lab_session, workshop, duration_ms, detail, once_key)
           VALUES ${values} ON CONFLICT (once_key) WHERE once_key IS NOT NULL DO NOTHING`,
          chunk.flatMap((event) => insertValues(randomUUID(), event)),
        );
      }
      return appended;
    });
  };

  const completePaths = async (): Promise<LearningEvent[]> => {
    const completed: LearningEvent[] = [];
    for (const outline of await options.outlines.all()) {
      if (outline.lessons.length === 0) continue;
      const lessons = outline.lessons.map((_, index) => `$${index + 2}`).join(', ');
      const due = await db.all(
        dueRow,
        `SELECT l.learner_id, MAX(l.completed_at) AS completed_at
           FROM learning_lessons l
           JOIN learning_paths p ON p.learner_id = l.learner_id AND p.path = l.path AND p.completed_at IS NULL
          WHERE l.path = $1 AND l.completed_at IS NOT NULL AND l.lesson IN (${lessons})
          GROUP BY l.learner_id
         HAVING COUNT(*) = ${outline.lessons.length}`,
        [outline.id, ...outline.lessons],
      );
      for (let start = 0; start < due.length; start += COMPLETIONS_PER_TRANSACTION) {
        const appended = await db.transaction(async (tx) => {
          const events: LearningEvent[] = [];
          const known = new Map<string, LearnerIdentity>();
          for (const row of due.slice(start, start + COMPLETIONS_PER_TRANSACTION)) {
            await touchPath(tx, row.learner_id, outline.id, row.completed_at);
            const learner = await learnerOf(tx, row.learner_id, known);
            const event = await completePath(tx, learner, outline, row.completed_at, null);
            if (!event) continue;
            for (const sink of sinks) await sink(tx, [event], learner);
            events.push(event);
          }
          return events;
        });
        completed.push(...appended);
      }
    }
    if (completed.length > 0) tell(completed.map((event) => ({ event, recorded: true, derived: [] })));
    return completed;
  };

  const record: LearningRecord = {
    importEvents,
    rebuildSummaries: () => db.transaction(rebuildSummaries),
    completePaths,

    async record(input) {
      const [outcome] = await recordAll([input]);
      if (!outcome) throw new Error('recording one event gave no outcome');
      return outcome;
    },

    recordAll,

    async events(query = {}) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      const add = (condition: string, value: string | number) => {
        params.push(value);
        where.push(condition.replace('?', `$${params.length}`));
      };
      if (query.learnerId !== undefined) add('learner_id = ?', query.learnerId);
      if (query.afterSeq !== undefined) add('seq > ?', query.afterSeq);
      if (query.since !== undefined) add('occurred_at >= ?', query.since);
      if (query.until !== undefined) add('occurred_at < ?', query.until);
      params.push(Math.max(1, Math.min(query.limit ?? DEFAULT_EVENT_LIMIT, MAX_EVENT_LIMIT)));
      const rows = await db.all(
        eventRow,
        `SELECT ${EVENT_COLUMNS} FROM learning_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`,
        params,
      );
      return rows.map(toEvent);
    },

    async myLearning(learnerId) {
      const [paths, lessons, labs, certificates, outlines] = await Promise.all([
        db.all(pathRow, 'SELECT path, started_at, last_at, completed_at, time_to_complete_ms FROM learning_paths WHERE learner_id = $1', [learnerId]),
        db.all(pathLessonRow, 'SELECT path, lesson FROM learning_lessons WHERE learner_id = $1 AND completed_at IS NOT NULL', [
          learnerId,
        ]),
        db.all(
          labRow,
          `SELECT lab, attempts, checks, failed_checks, hints, solutions, time_spent_ms, first_started_at, last_at, completed_at, time_to_complete_ms
             FROM learning_labs WHERE learner_id = $1`,
          [learnerId],
        ),
        certificatesOf.forLearner(learnerId),
        options.outlines.all(),
      ]);
      const outlineOf = new Map(outlines.map((outline) => [outline.id, outline]));
      const completedIn = (path: string) => new Set(lessons.filter((row) => row.path === path).map((row) => row.lesson));
      return {
        paths: paths
          .map((row): PathProgress => {
            const outline = outlineOf.get(row.path);
            const done = completedIn(row.path);
            return {
              path: row.path,
              title: outline?.title ?? row.path,
              lessonsCompleted: outline ? outline.lessons.filter((lesson) => done.has(lesson)).length : done.size,
              lessonsTotal: outline?.lessons.length ?? 0,
              startedAt: row.started_at,
              lastAt: row.last_at,
              completedAt: row.completed_at,
              timeToCompleteMs: row.time_to_complete_ms,
              certificate: certificates.find((certificate) => certificate.path === row.path) ?? null,
            };
          })
          .sort((a, b) => b.lastAt.localeCompare(a.lastAt) || a.path.localeCompare(b.path)),
        labs: labs
          .map(
            (row): LabRecordSummary => ({
              lab: row.lab,
              attempts: row.attempts,
              checks: row.checks,
              failedChecks: row.failed_checks,
              hints: row.hints,
              solutions: row.solutions,
              timeSpentMs: row.time_spent_ms,
              firstStartedAt: row.first_started_at,
              lastAt: row.last_at,
              completedAt: row.completed_at,
              timeToCompleteMs: row.time_to_complete_ms,
            }),
          )
          .sort((a, b) => b.lastAt.localeCompare(a.lastAt) || a.lab.localeCompare(b.lab)),
      };
    },

    async identities(learnerIds) {
      const unique = [...new Set(learnerIds)];
      if (unique.length === 0) return [];
      const rows = await db.all(learnerRow, `SELECT id, display_name, email FROM learners WHERE id IN (${unique.map((_, index) => `$${index + 1}`).join(', ')})`, unique);
      return rows.map((row) => ({ id: row.id, name: row.display_name, email: row.email }));
    },

    certificates: certificatesOf,

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { record, writer: { write } };
}
