import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applyMigrations, openDatabase, readMigrations, type Database } from '../../../src/server/db/index.ts';
import { createSessions } from '../../../src/server/auth/index.ts';
import type { Queryable } from '../../../src/server/db/index.ts';
import { createTracking, fixedOutlines, LearningEventError, type LearningEvent, type LearningRecord } from '../../../src/server/tracking/index.ts';
import { DIALECTS, useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';

const databases = useTestDatabases();
const { log } = captureLogs();

const outlines = fixedOutlines([
  { id: 'container-basics', title: 'Container basics', lessons: ['images', 'first-pod', 'logs'] },
  { id: 'cluster-operations', title: 'Cluster operations', lessons: ['rollouts'] },
]);

const failing = { kind: 'field', passed: false, expected: '3', found: '2', message: 'Deployment web has 2 replicas; this step asks for 3.' };
const passing = { kind: 'exists', passed: true, expected: 'deployment web', found: 'deployment web', message: 'Deployment web exists.' };
const attempt1 = '0b0e7a52-3c1d-4a8e-9f1a-2b3c4d5e6f70';
const attempt2 = '1c1f8b63-4d2e-4b9f-8a2b-3c4d5e6f7081';

/** Lesson progress as a portal from before the learning record wrote it: the row alone. */
async function markedBefore(db: Queryable, learnerId: string, lesson: string, times: { viewedAt: string; completedAt: string | null }, path = 'container-basics') {
  await db.run('INSERT INTO lesson_progress (learner_id, path, lesson, viewed_at, completed_at) VALUES ($1, $2, $3, $4, $5)', [learnerId, path, lesson, times.viewedAt, times.completedAt]);
}

describe.each(DIALECTS)('learning record on %s', (dialect) => {
  const open: Database[] = [];
  let clock = new Date('2025-03-01T09:00:00.000Z');
  const now = () => clock;
  const at = (minutes: number) => new Date(Date.parse('2025-03-01T09:00:00.000Z') + minutes * 60_000).toISOString();

  async function setUp() {
    const db = openDatabase(await databases.fresh(dialect), log);
    open.push(db);
    await applyMigrations(db, await readMigrations(dialect));
    const sessions = createSessions(db, now);
    const ada = (await sessions.signIn('Ada Lovelace')).learner;
    const grace = (await sessions.signIn('Grace Hopper')).learner;
    const tracking = createTracking(db, { outlines, now });
    return { db, learning: tracking.record, tracking, ada, grace };
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.close()));
    clock = new Date('2025-03-01T09:00:00.000Z');
  });

  const completeLessons = async (learning: LearningRecord, learnerId: string, lessons: string[], from = 0) => {
    for (const [index, lesson] of lessons.entries()) {
      await learning.record({ kind: 'lesson.completed', learnerId, path: 'container-basics', lesson, at: at(from + index * 10) });
    }
  };

  it('appends events in order and derives lesson and path progress from them', async () => {
    const { learning, ada } = await setUp();
    const viewed = await learning.record({ kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'images' });
    expect(viewed).toMatchObject({ recorded: true, derived: [], event: { kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'images', at: '2025-03-01T09:00:00.000Z' } });
    await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson: 'images', at: at(5) });

    const mine = await learning.myLearning(ada.id);
    expect(mine.paths).toEqual([
      {
        path: 'container-basics',
        title: 'Container basics',
        lessonsCompleted: 1,
        lessonsTotal: 3,
        startedAt: at(0),
        lastAt: at(5),
        completedAt: null,
        timeToCompleteMs: null,
        certificate: null,
      },
    ]);
    const events = await learning.events({ learnerId: ada.id });
    expect(events.map((event) => event.kind)).toEqual(['lesson.viewed', 'lesson.completed']);
    expect(events[1]!.seq).toBeGreaterThan(events[0]!.seq);
  });

  it('records a once-only event once: completing a lesson again finds the first completion', async () => {
    const { learning, ada } = await setUp();
    const first = await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson: 'images', at: at(1) });
    const again = await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson: 'images', at: at(9) });
    expect(again.recorded).toBe(false);
    expect(again.event).toEqual(first.event);
    expect(await learning.events({ learnerId: ada.id })).toHaveLength(1);
  });

  it('completes a path when its last lesson is completed: path.completed once, with a certificate', async () => {
    const { learning, ada } = await setUp();
    await completeLessons(learning, ada.id, ['images', 'first-pod']);
    const last = await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson: 'logs', at: at(90) });
    expect(last.derived).toHaveLength(1);
    const completion = last.derived[0]!;
    expect(completion).toMatchObject({ kind: 'path.completed', path: 'container-basics', at: at(90), durationMs: 90 * 60_000 });

    const [path] = (await learning.myLearning(ada.id)).paths;
    expect(path).toMatchObject({ lessonsCompleted: 3, lessonsTotal: 3, completedAt: at(90), timeToCompleteMs: 90 * 60_000 });
    expect(path!.certificate).toMatchObject({ learnerName: 'Ada Lovelace', path: 'container-basics', pathTitle: 'Container basics', issuedAt: at(90), revokedAt: null });
    expect(completion.detail).toEqual({ certificate: path!.certificate!.id });

    // Viewing and completing again changes nothing about the completion.
    await learning.record({ kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'logs', at: at(120) });
    const repeat = await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson: 'logs', at: at(121) });
    expect(repeat).toMatchObject({ recorded: false, derived: [] });
    const completions = (await learning.events({ learnerId: ada.id })).filter((event) => event.kind === 'path.completed');
    expect(completions).toHaveLength(1);
    expect(await learning.certificates.forLearner(ada.id)).toHaveLength(1);
  });

  it('completes the path exactly once when its last two lessons are completed at the same moment', async () => {
    const { learning, ada } = await setUp();
    await completeLessons(learning, ada.id, ['images']);
    const outcomes = await Promise.all(
      ['first-pod', 'logs'].map((lesson) => learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson, at: at(30) })),
    );
    expect(outcomes.flatMap((outcome) => outcome.derived).map((event) => event.kind)).toEqual(['path.completed']);
    expect((await learning.myLearning(ada.id)).paths[0]).toMatchObject({ lessonsCompleted: 3, completedAt: at(30) });
  });

  it('does not complete a path the content does not know, nor count lessons that are not in it', async () => {
    const { learning, ada } = await setUp();
    await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'retired-path', lesson: 'gone', at: at(1) });
    await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'cluster-operations', lesson: 'old-lesson', at: at(2) });
    const mine = await learning.myLearning(ada.id);
    expect(mine.paths.find((path) => path.path === 'retired-path')).toMatchObject({ title: 'retired-path', lessonsTotal: 0, completedAt: null });
    expect(mine.paths.find((path) => path.path === 'cluster-operations')).toMatchObject({ lessonsCompleted: 0, lessonsTotal: 1, completedAt: null });
  });

  it('derives lab attempts, checks, hints, solutions and time spent from lab events', async () => {
    const { learning, ada } = await setUp();
    const lab = { learnerId: ada.id, lab: 'deploy-and-expose', path: 'container-basics', lesson: 'first-pod' };
    // First attempt: started, a failed check after 10 minutes, a hint, then ended without completing.
    await learning.record({ kind: 'lab.started', ...lab, labSession: attempt1, at: at(0) });
    await learning.record({ kind: 'check.failed', ...lab, labSession: attempt1, step: 'scale', results: [passing, failing], durationMs: 230, at: at(10) });
    await learning.record({ kind: 'hint.shown', ...lab, labSession: attempt1, step: 'scale', number: 0, at: at(12) });
    await learning.record({ kind: 'lab.ended', ...lab, labSession: attempt1, reason: 'reset', at: at(15) });
    // Second attempt: the solution, a passing check, completion after 20 minutes.
    await learning.record({ kind: 'lab.started', ...lab, labSession: attempt2, at: at(60) });
    await learning.record({ kind: 'solution.shown', ...lab, labSession: attempt2, step: 'scale', at: at(70) });
    await learning.record({ kind: 'check.passed', ...lab, labSession: attempt2, step: 'scale', results: [passing], at: at(75) });
    const completed = await learning.record({ kind: 'lab.completed', ...lab, labSession: attempt2, at: at(80) });
    expect(completed.event.durationMs).toBe(20 * 60_000);

    expect((await learning.myLearning(ada.id)).labs).toEqual([
      {
        lab: 'deploy-and-expose',
        attempts: 2,
        checks: 2,
        failedChecks: 1,
        hints: 1,
        solutions: 1,
        timeSpentMs: 35 * 60_000,
        firstStartedAt: at(0),
        lastAt: at(80),
        completedAt: at(80),
        timeToCompleteMs: 35 * 60_000,
      },
    ]);
    const failed = (await learning.events({ learnerId: ada.id })).find((event) => event.kind === 'check.failed');
    expect(failed).toMatchObject({ step: 'scale', labSession: attempt1, durationMs: 230, detail: { results: [passing, failing] } });
  });

  /** Every summary table, in a stable order. */
  const summaries = async (db: Database) => {
    const tables: Record<string, string> = {
      learning_lessons: 'learner_id, path, lesson',
      learning_paths: 'learner_id, path',
      learning_attempts: 'lab_session',
      learning_labs: 'learner_id, lab',
      learning_step_days: 'lab, step, day',
      learning_check_failures: 'lab, step, check_key, message, day',
    };
    const snapshot: Record<string, unknown[]> = {};
    for (const [table, order] of Object.entries(tables)) {
      snapshot[table] = (await db.all(z.record(z.string(), z.unknown()), `SELECT * FROM ${table} ORDER BY ${order}`)).map((row) =>
        // PostgreSQL answers BIGINT as text; the values, not their spelling, must match.
        Object.fromEntries(Object.entries(row).map(([column, value]) => [column, typeof value === 'string' && /^\d+$/.test(value) && column.endsWith('_ms') ? Number(value) : value])),
      );
    }
    return snapshot;
  };

  const aLearningDay = async (learning: LearningRecord, ada: string, grace: string) => {
    const lab = { learnerId: ada, lab: 'deploy-and-expose', path: 'container-basics', lesson: 'first-pod' };
    await learning.record({ kind: 'lesson.viewed', learnerId: ada, path: 'container-basics', lesson: 'images', at: at(0) });
    await learning.record({ kind: 'lesson.viewed', learnerId: ada, path: 'container-basics', lesson: 'images', at: at(1) });
    await completeLessons(learning, ada, ['images', 'first-pod'], 2);
    await learning.record({ kind: 'lab.started', ...lab, labSession: attempt1, at: at(20) });
    await learning.record({ kind: 'check.failed', ...lab, labSession: attempt1, step: 'scale', results: [passing, failing], durationMs: 230, at: at(30) });
    await learning.record({ kind: 'check.failed', ...lab, labSession: attempt1, step: 'scale', results: [failing, failing], at: at(31) });
    await learning.record({ kind: 'hint.shown', ...lab, labSession: attempt1, step: 'scale', number: 0, at: at(32) });
    await learning.record({ kind: 'lab.ended', ...lab, labSession: attempt1, reason: 'reset', at: at(35) });
    await learning.record({ kind: 'lab.started', ...lab, labSession: attempt2, at: at(60) });
    await learning.record({ kind: 'solution.shown', ...lab, labSession: attempt2, step: 'scale', at: at(70) });
    await learning.record({ kind: 'check.passed', ...lab, labSession: attempt2, step: 'scale', results: [passing], at: at(75) });
    await learning.record({ kind: 'lab.completed', ...lab, labSession: attempt2, at: at(80) });
    await learning.record({ kind: 'check.passed', ...lab, labSession: attempt2, step: 'scale', results: [passing], at: at(85) });
    await learning.record({ kind: 'lab.ended', ...lab, labSession: attempt2, reason: 'ended', at: at(90) });
    await learning.record({ kind: 'lesson.completed', learnerId: ada, path: 'container-basics', lesson: 'logs', at: at(100) });
    await learning.record({ kind: 'lesson.viewed', learnerId: grace, path: 'cluster-operations', lesson: 'rollouts', at: at(3) });
    await learning.record({ kind: 'check.failed', learnerId: grace, lab: 'rollout', labSession: '2d2f8b63-4d2e-4b9f-8a2b-3c4d5e6f7092', step: 'one', results: [failing], at: at(4) });
  };

  it('derives the same summaries again from the events alone', async () => {
    const { db, learning, ada, grace } = await setUp();
    await aLearningDay(learning, ada.id, grace.id);
    const recorded = await summaries(db);
    expect(recorded.learning_labs).toHaveLength(2);
    await learning.rebuildSummaries();
    expect(await summaries(db)).toEqual(recorded);
  });

  it('imports events in bulk, then derives summaries and completes paths as recording one by one does', async () => {
    const one = await setUp();
    await aLearningDay(one.learning, one.ada.id, one.grace.id);
    const events = await one.learning.events({ limit: 1000 });
    const inputs = events
      .filter((event) => event.kind !== 'path.completed')
      .map(({ id: _id, seq: _seq, detail, durationMs, path, lesson, lab, step, labSession, workshop: _workshop, learnerId, ...event }) => {
        const learner = learnerId === one.ada.id ? 'ada' : 'grace';
        return {
          ...event,
          learner,
          ...(path ? { path } : {}),
          ...(lesson ? { lesson } : {}),
          ...(lab ? { lab } : {}),
          ...(step ? { step } : {}),
          ...(labSession ? { labSession } : {}),
          ...(durationMs !== null && ['check.passed', 'check.failed', 'lab.completed', 'lab.ended'].includes(event.kind) ? { durationMs } : {}),
          ...(detail ?? {}),
        };
      });

    const two = await setUp();
    const ids = { ada: two.ada.id, grace: two.grace.id };
    const appended = await two.learning.importEvents(inputs.map(({ learner, ...event }) => ({ ...event, learnerId: ids[learner as 'ada' | 'grace'] })));
    expect(appended).toBe(inputs.length);
    await two.learning.rebuildSummaries();
    const completions = await two.learning.completePaths();
    expect(completions.map((event) => [event.kind, event.path, event.at])).toEqual([['path.completed', 'container-basics', at(100)]]);
    expect(await two.learning.completePaths()).toEqual([]);

    // Learner ids differ between the two databases: compare with names, rows in a stable order.
    const withoutIds = (snapshot: Record<string, unknown[]>) =>
      Object.fromEntries(
        Object.entries(snapshot).map(([table, rows]) => [
          table,
          rows
            .map((row) => JSON.stringify(row).replaceAll(one.ada.id, 'ada').replaceAll(one.grace.id, 'grace').replaceAll(two.ada.id, 'ada').replaceAll(two.grace.id, 'grace'))
            .sort(),
        ]),
      );
    expect(withoutIds(await summaries(two.db))).toEqual(withoutIds(await summaries(one.db)));
    expect((await two.learning.myLearning(two.ada.id)).paths[0]!.certificate).toMatchObject({ issuedAt: at(100), learnerName: 'Ada Lovelace' });
  });

  it('counts a lab attempt whose start was never recorded, from its first event', async () => {
    const { learning, ada } = await setUp();
    await learning.record({ kind: 'check.failed', learnerId: ada.id, lab: 'scale', labSession: attempt1, step: 'one', results: [failing], at: at(3) });
    await learning.record({ kind: 'check.passed', learnerId: ada.id, lab: 'scale', labSession: attempt1, step: 'one', results: [passing], at: at(8) });
    expect((await learning.myLearning(ada.id)).labs[0]).toMatchObject({ attempts: 1, checks: 2, failedChecks: 1, timeSpentMs: 5 * 60_000, completedAt: null });
  });

  it('refuses events that are not valid, naming the field and what would be right', async () => {
    const { learning, ada } = await setUp();
    const refusal = async (event: unknown) => {
      const error = await learning.record(event).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(LearningEventError);
      return (error as LearningEventError).message;
    };
    expect(await refusal({ kind: 'lesson.viewed', learnerId: ada.id, path: 'Container Basics', lesson: 'images' })).toMatch(/path: must be an id of lower-case letters/);
    expect(await refusal({ kind: 'check.passed', learnerId: ada.id, lab: 'x', labSession: attempt1, step: 's', results: [failing] })).toMatch(
      /results: has a failed check; a step whose checks do not all pass is check.failed/,
    );
    expect(await refusal({ kind: 'lab.started', learnerId: ada.id, lab: 'x', labSession: 'not-a-uuid' })).toMatch(/labSession: must be the lab session id/);
    expect(await refusal({ kind: 'path.completed', learnerId: ada.id, path: 'container-basics' })).toMatch(/recorded by the learning record itself/);
    expect(await refusal({ kind: 'lesson.viewed', learnerId: 'nobody', path: 'container-basics', lesson: 'images' })).toMatch(/learnerId: there is no learner "nobody"/);
    expect(await refusal({ kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'images', extra: 1 })).toMatch(/Unrecognized key/);
    expect(await learning.events()).toEqual([]);
  });

  it('keeps events as they were recorded: the table refuses updates and deletes', async () => {
    const { db, learning, ada } = await setUp();
    await learning.record({ kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'images' });
    await expect(db.run("UPDATE learning_events SET kind = 'lesson.completed'")).rejects.toThrow(/append-only/);
    await expect(db.run('DELETE FROM learning_events')).rejects.toThrow(/append-only/);
    expect(await learning.events()).toHaveLength(1);
  });

  it('tells listeners what was appended once it is committed', async () => {
    const { learning, ada } = await setUp();
    const heard: LearningEvent[][] = [];
    const unsubscribe = learning.subscribe((events) => heard.push([...events]));
    await completeLessons(learning, ada.id, ['images', 'first-pod', 'logs']);
    await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson: 'logs' });
    unsubscribe();
    await learning.record({ kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'logs' });
    expect(heard.map((events) => events.map((event) => event.kind))).toEqual([['lesson.completed'], ['lesson.completed'], ['lesson.completed', 'path.completed']]);
  });

  it('rolls back every event of a batch when one of them is refused', async () => {
    const { learning, ada } = await setUp();
    await expect(
      learning.recordAll([
        { kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'images' },
        { kind: 'lesson.viewed', learnerId: 'ghost', path: 'container-basics', lesson: 'images' },
      ]),
    ).rejects.toThrow(LearningEventError);
    expect(await learning.events()).toEqual([]);
    expect((await learning.myLearning(ada.id)).paths).toEqual([]);
  });

  it('pages through events by sequence, per learner and time', async () => {
    const { learning, ada, grace } = await setUp();
    for (let minute = 0; minute < 5; minute += 1) {
      await learning.record({ kind: 'lesson.viewed', learnerId: minute % 2 === 0 ? ada.id : grace.id, path: 'container-basics', lesson: 'images', at: at(minute) });
    }
    const first = await learning.events({ limit: 2 });
    expect(first.map((event) => event.at)).toEqual([at(0), at(1)]);
    const rest = await learning.events({ afterSeq: first[1]!.seq });
    expect(rest.map((event) => event.at)).toEqual([at(2), at(3), at(4)]);
    expect((await learning.events({ learnerId: grace.id })).map((event) => event.at)).toEqual([at(1), at(3)]);
    expect((await learning.events({ since: at(1), until: at(3) })).map((event) => event.at)).toEqual([at(1), at(2)]);
  });

  describe('certificates', () => {
    it('finds a certificate by id and by its code as people type it, and revokes it once', async () => {
      const { learning, ada, grace } = await setUp();
      await completeLessons(learning, ada.id, ['images', 'first-pod', 'logs']);
      const [certificate] = await learning.certificates.forLearner(ada.id);
      expect(certificate!.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(certificate!.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
      expect(await learning.certificates.get(certificate!.id)).toEqual(certificate);
      expect(await learning.certificates.byCode(certificate!.code.toLowerCase().replace(/-/g, ' '))).toEqual(certificate);
      expect(await learning.certificates.get('../../etc/passwd')).toBeNull();
      expect(await learning.certificates.byCode('nonsense')).toBeNull();

      clock = new Date('2025-04-01T12:00:00.000Z');
      const revoked = await learning.certificates.revoke(certificate!.id, { learnerId: grace.id, reason: '  Completed with a shared account. ' });
      expect(revoked).toMatchObject({ revokedAt: '2025-04-01T12:00:00.000Z', revokedBy: grace.id, revokedReason: 'Completed with a shared account.' });
      clock = new Date('2025-05-01T12:00:00.000Z');
      expect(await learning.certificates.revoke(certificate!.id, { learnerId: grace.id, reason: 'again' })).toEqual(revoked);
      expect(await learning.certificates.list()).toEqual([revoked]);
    });
  });

  describe('lesson progress', () => {
    it('writes a mark and its event in one transaction: when the event cannot be kept, neither is the mark', async () => {
      const { db, ada } = await setUp();
      const refusing = createTracking(db, {
        outlines,
        now,
        sinks: [
          async () => {
            throw new Error('the outbox is full');
          },
        ],
      });
      const progress = refusing.lessons;
      await expect(progress.markCompleted(ada.id, 'container-basics', 'images')).rejects.toThrow('the outbox is full');
      expect(await progress.forLearner(ada.id)).toEqual([]);
      expect(await db.all(z.object({ n: z.coerce.number() }), 'SELECT count(*) AS n FROM learning_events')).toEqual([{ n: 0 }]);

      const recording = createTracking(db, { outlines, now }).lessons;
      await recording.markCompleted(ada.id, 'container-basics', 'images');
      expect(await recording.forLearner(ada.id)).toEqual([{ path: 'container-basics', lesson: 'images', viewedAt: clock.toISOString(), completedAt: clock.toISOString() }]);
    });


    it('appends a view and a completion for every mark, and answers as before', async () => {
      const { tracking, learning, ada } = await setUp();
      const progress = tracking.lessons;
      await progress.markViewed(ada.id, 'container-basics', 'images');
      await progress.markCompleted(ada.id, 'container-basics', 'images');
      expect(await progress.forLearner(ada.id)).toEqual([
        { path: 'container-basics', lesson: 'images', viewedAt: '2025-03-01T09:00:00.000Z', completedAt: '2025-03-01T09:00:00.000Z' },
      ]);
      expect((await learning.events({ learnerId: ada.id })).map((event) => event.kind)).toEqual(['lesson.viewed', 'lesson.completed']);
      await expect(progress.markViewed(ada.id, '../etc', 'images')).rejects.toThrow(/path: "..\/etc" is not a slug/);
      expect(await learning.events({ learnerId: ada.id })).toHaveLength(2);
    });

    it('takes over lesson progress recorded before the learning record existed', async () => {
      const db = openDatabase(await databases.fresh(dialect), log);
      open.push(db);
      const migrations = await readMigrations(dialect);
      await applyMigrations(db, migrations.filter((migration) => migration.id < '0005'));
      const ada = (await createSessions(db, now).signIn('Ada')).learner;
      await markedBefore(db, ada.id, 'images', { viewedAt: '2025-03-01T09:00:00.000Z', completedAt: '2025-03-02T09:00:00.000Z' });
      await markedBefore(db, ada.id, 'first-pod', { viewedAt: '2025-03-02T09:00:00.000Z', completedAt: '2025-03-02T09:00:00.000Z' });
      await applyMigrations(db, migrations);

      const learning = createTracking(db, { outlines, now }).record;
      expect((await learning.events({ learnerId: ada.id })).map((event) => [event.kind, event.lesson])).toEqual([
        ['lesson.viewed', 'images'],
        ['lesson.viewed', 'first-pod'],
        ['lesson.completed', 'images'],
        ['lesson.completed', 'first-pod'],
      ]);
      expect((await learning.myLearning(ada.id)).paths[0]).toMatchObject({ lessonsCompleted: 2, startedAt: '2025-03-01T09:00:00.000Z' });
      // The once-only keys match: completing a taken-over lesson again is no new event; the last one completes the path.
      expect((await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson: 'images' })).recorded).toBe(false);
      const last = await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson: 'logs' });
      expect(last.derived.map((event) => event.kind)).toEqual(['path.completed']);
    });

    it('completes paths whose every lesson was completed before the learning record existed', async () => {
      const db = openDatabase(await databases.fresh(dialect), log);
      open.push(db);
      const migrations = await readMigrations(dialect);
      await applyMigrations(db, migrations.filter((migration) => migration.id < '0005'));
      const ada = (await createSessions(db, now).signIn('Ada')).learner;
      await markedBefore(db, ada.id, 'rollouts', { viewedAt: '2025-03-01T09:00:00.000Z', completedAt: '2025-03-01T09:00:00.000Z' }, 'cluster-operations');
      await applyMigrations(db, migrations);
      const learning = createTracking(db, { outlines, now }).record;
      const completed = await learning.completePaths();
      expect(completed.map((event) => [event.kind, event.path, event.at])).toEqual([['path.completed', 'cluster-operations', '2025-03-01T09:00:00.000Z']]);
      expect(await learning.certificates.forLearner(ada.id)).toHaveLength(1);
      expect(await learning.completePaths()).toEqual([]);
    });
  });

  describe('lab records', () => {
    it('appends what the lab service records: start, checks, reveals, completion with the lesson, end', async () => {
      const { tracking, learning, ada } = await setUp();
      const records = tracking.labs;
      const lessons = [{ path: 'container-basics', lesson: 'first-pod' }];
      const { session } = await records.open({ learnerId: ada.id, lab: 'first-pod', lessons, step: 'run', expiresAt: null });
      await records.open({ learnerId: ada.id, lab: 'first-pod', lessons, step: 'run', expiresAt: null });
      clock = new Date('2025-03-01T09:05:00.000Z');
      await records.recordCheck(session.id, { step: 'run', results: [failing], durationMs: 120 });
      await records.recordReveal(session.id, { step: 'run', kind: 'hint', number: 0 });
      await records.recordReveal(session.id, { step: 'run', kind: 'hint', number: 0 });
      await records.recordReveal(session.id, { step: 'run', kind: 'solution', number: 0 });
      clock = new Date('2025-03-01T09:12:00.000Z');
      await records.recordCheck(session.id, { step: 'run', results: [passing], durationMs: 80, nextStep: null });
      await records.complete(session.id);
      clock = new Date('2025-03-01T09:13:00.000Z');
      await records.end(session.id, 'ended');
      await records.end(session.id, 'ended');

      const events = await learning.events({ learnerId: ada.id });
      expect(events.map((event) => event.kind)).toEqual(['lab.started', 'check.failed', 'hint.shown', 'solution.shown', 'check.passed', 'lab.completed', 'lesson.completed', 'lab.ended']);
      for (const event of events.filter((event) => event.kind !== 'lesson.completed')) {
        expect(event).toMatchObject({ lab: 'first-pod', labSession: session.id, path: 'container-basics', lesson: 'first-pod' });
      }
      expect(events.find((event) => event.kind === 'lesson.completed')).toMatchObject({ path: 'container-basics', lesson: 'first-pod', at: '2025-03-01T09:12:00.000Z' });
      expect(await tracking.lessons.forLearner(ada.id)).toEqual([expect.objectContaining({ lesson: 'first-pod', completedAt: '2025-03-01T09:12:00.000Z' })]);
      expect(events.find((event) => event.kind === 'lab.completed')).toMatchObject({ at: '2025-03-01T09:12:00.000Z', durationMs: 12 * 60_000 });
      expect(events.find((event) => event.kind === 'lab.ended')).toMatchObject({ detail: { reason: 'ended' }, durationMs: 13 * 60_000 });
      expect((await learning.myLearning(ada.id)).labs[0]).toMatchObject({ attempts: 1, checks: 2, failedChecks: 1, hints: 1, solutions: 1, timeSpentMs: 12 * 60_000 });
      // The lab records answer as they did.
      expect(await records.checks(session.id)).toHaveLength(2);
    });

    it('writes a lab record and its event in one transaction: when the event cannot be kept, neither is the record', async () => {
      const { db, tracking, learning, ada } = await setUp();
      let refuse = false;
      const refusing = createTracking(db, {
        outlines,
        now,
        sinks: [
          async () => {
            if (refuse) throw new Error('the outbox is full');
          },
        ],
      }).labs;
      const { session } = await refusing.open({ learnerId: ada.id, lab: 'first-pod', lessons: [{ path: 'container-basics', lesson: 'first-pod' }], step: 'run', expiresAt: null });
      refuse = true;
      await expect(refusing.recordCheck(session.id, { step: 'run', results: [passing], durationMs: 80, nextStep: null })).rejects.toThrow('the outbox is full');
      await expect(refusing.recordReveal(session.id, { step: 'run', kind: 'hint', number: 0 })).rejects.toThrow('the outbox is full');
      await expect(refusing.complete(session.id)).rejects.toThrow('the outbox is full');
      await expect(refusing.end(session.id, 'ended')).rejects.toThrow('the outbox is full');
      expect(await refusing.checks(session.id)).toEqual([]);
      expect(await refusing.reveals(session.id)).toEqual([]);
      expect(await refusing.get(session.id)).toMatchObject({ step: 'run', completedAt: null, endedAt: null, status: 'starting' });
      expect(await tracking.lessons.forLearner(ada.id)).toEqual([]);
      expect((await learning.events({ learnerId: ada.id })).map((event) => event.kind)).toEqual(['lab.started']);
    });
  });

  it('stores durations past 24 days (BIGINT) and reads them back exactly', async () => {
    const { db, learning, ada } = await setUp();
    await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'cluster-operations', lesson: 'rollouts', at: '2025-03-01T09:00:00.000Z' });
    const { derived } = await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson: 'images', at: '2025-01-01T00:00:00.000Z' });
    expect(derived).toEqual([]);
    await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson: 'first-pod', at: '2025-02-01T00:00:00.000Z' });
    await learning.record({ kind: 'lesson.completed', learnerId: ada.id, path: 'container-basics', lesson: 'logs', at: '2025-03-01T00:00:00.000Z' });
    const row = await db.one(z.object({ time_to_complete_ms: z.coerce.number() }), "SELECT time_to_complete_ms FROM learning_paths WHERE path = 'container-basics'");
    expect(row?.time_to_complete_ms).toBe(59 * 24 * 3_600_000);
  });
});
