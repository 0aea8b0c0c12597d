import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applyMigrations, openDatabase, readMigrations, type Database } from '../../../src/server/db/index.ts';
import { createSessions } from '../../../src/server/auth/index.ts';
import { createTracking, fixedOutlines, type LearningRecord } from '../../../src/server/tracking/index.ts';
import { createLrs, createStatementOutbox, type StatementOutbox, type StatementOutboxOptions } from '../../../src/server/xapi/index.ts';
import { DIALECTS, useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';
import { startTestLrs, type TestLrs, type TestLrsOptions } from './test-lrs.ts';

const databases = useTestDatabases();

const outlines = fixedOutlines([{ id: 'container-basics', title: 'Container basics', lessons: ['images', 'first-pod'] }]);
const failing = { kind: 'field', passed: false, expected: '3', found: '2', message: 'Deployment web has 2 replicas; this step asks for 3.' };
const passing = { kind: 'exists', passed: true, expected: 'deployment web', found: 'deployment web', message: 'Deployment web exists.' };
const labSession = '0b0e7a52-3c1d-4a8e-9f1a-2b3c4d5e6f70';
const PORTAL = 'https://learn.example.com';
const credentials = { username: 'formicary', password: 's3cret-lrs-password' };

/** Waits for a condition the worker brings about, a bounded number of times. */
async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(DIALECTS)('xAPI outbox on %s', (dialect) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(lrsOptions: TestLrsOptions = {}, outboxOptions: Partial<StatementOutboxOptions> = {}, useCredentials = credentials) {
    const logs = captureLogs();
    const db: Database = openDatabase(await databases.fresh(dialect), logs.log);
    cleanups.push(() => db.close());
    await applyMigrations(db, await readMigrations(dialect));
    const lrs: TestLrs = await startTestLrs({ ...credentials, ...lrsOptions });
    cleanups.push(() => lrs.stop());
    const outbox = createStatementOutbox({
      db,
      lrs: createLrs({ endpoint: lrs.endpoint, ...useCredentials }, { timeoutMs: 2_000 }),
      portalUrl: () => PORTAL,
      log: logs.log,
      pollMs: 50,
      firstDelayMs: 20,
      maxDelayMs: 200,
      ...outboxOptions,
    });
    cleanups.push(() => outbox.stop());
    const learning = createTracking(db, { outlines, sinks: [outbox.sink] }).record;
    learning.subscribe(() => outbox.nudge());
    const sessions = createSessions(db);
    const ada = (await sessions.signIn('Ada Lovelace')).learner;
    return { db, lrs, outbox, learning, ada, logs };
  }

  const labRun = async (learning: LearningRecord, learnerId: string) => {
    const lab = { learnerId, lab: 'first-pod', labSession, path: 'container-basics', lesson: 'first-pod' };
    await learning.record({ kind: 'lesson.viewed', learnerId, path: 'container-basics', lesson: 'images' });
    await learning.record({ kind: 'lesson.completed', learnerId, path: 'container-basics', lesson: 'images' });
    await learning.record({ kind: 'lab.started', ...lab });
    await learning.record({ kind: 'check.failed', ...lab, step: 'run', results: [failing], durationMs: 300 });
    await learning.record({ kind: 'hint.shown', ...lab, step: 'run', number: 0 });
    await learning.record({ kind: 'check.passed', ...lab, step: 'run', results: [passing], durationMs: 200 });
    await learning.record({ kind: 'lab.completed', ...lab });
    await learning.record({ kind: 'lesson.completed', learnerId, path: 'container-basics', lesson: 'first-pod' });
    await learning.record({ kind: 'lab.ended', ...lab, reason: 'ended' });
  };
  /** experienced, completed, launched+initialized, failed, experienced, passed, completed+passed, completed (lesson) + completed (path), terminated */
  const EXPECTED_VERBS = ['experienced', 'completed', 'launched', 'initialized', 'failed', 'experienced', 'passed', 'completed', 'passed', 'completed', 'completed', 'terminated'];

  it('sends every statement to the LRS in order, each valid, through failures and a dropped connection', async () => {
    // The LRS answers 503 to the first request, cuts the second's connection, and 500s the third.
    const { lrs, outbox, learning, ada } = await setUp({
      answer: (request) => (request === 1 ? { status: 503 } : request === 2 ? 'drop' : request === 3 ? { status: 500 } : 'normal'),
    });
    outbox.start();
    await labRun(learning, ada.id);
    await eventually(async () => (await outbox.status()).pending === 0, 'the outbox to empty');

    expect(lrs.problems).toEqual([]);
    expect(lrs.statements.map((statement) => statement.verb.display?.['en-US'])).toEqual(EXPECTED_VERBS);
    expect(new Set(lrs.statements.map((statement) => statement.id)).size).toBe(EXPECTED_VERBS.length);
    expect(lrs.requests.filter((request) => request.status !== 200)).toHaveLength(3);
    expect(await outbox.status()).toMatchObject({ pending: 0, sent: EXPECTED_VERBS.length, rejected: 0, lastError: null });
    for (const statement of lrs.statements) {
      expect(statement.actor).toEqual({ objectType: 'Agent', name: 'Ada Lovelace', account: { homePage: PORTAL, name: ada.id } });
      expect(statement.object).toMatchObject({ id: expect.stringMatching(/^https:\/\/learn\.example\.com\/(paths|labs)\//) });
    }
    // The cmi5 rules for the lab as an assignable unit: registration, category, durations.
    const labLevel = lrs.statements.filter((statement) => 'id' in statement.object && statement.object.id === `${PORTAL}/labs/first-pod`);
    expect(labLevel.map((statement) => statement.verb.display?.['en-US'])).toEqual(['launched', 'initialized', 'completed', 'passed', 'terminated']);
    for (const statement of labLevel) {
      expect(statement.context?.registration).toBe(labSession);
      expect(statement.context?.contextActivities?.category).toContainEqual({ id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' });
    }
    for (const statement of labLevel.slice(2)) expect(statement.result?.duration).toMatch(/^PT/);
  });

  it('never makes a learner wait for the LRS: recording returns while the LRS hangs, and stopping is prompt', async () => {
    const { lrs, outbox, learning, ada, db } = await setUp({ answer: () => 'hang' });
    outbox.start();
    await learning.record({ kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'images' });
    await eventually(() => lrs.requests.length > 0, 'the worker to reach the LRS');
    // The LRS never answers: were recording or stopping waiting for it, the test would time out.
    for (let index = 0; index < 5; index += 1) await learning.record({ kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'images' });
    await outbox.stop();
    // What the stopped worker had in hand is due again, for the next process to send.
    const rows = await db.all(z.object({ lease_until: z.string().nullable(), sent_at: z.string().nullable() }), 'SELECT lease_until, sent_at FROM xapi_outbox');
    expect(rows).toHaveLength(6);
    expect(rows.every((row) => row.lease_until === null && row.sent_at === null)).toBe(true);
  });

  it('sets aside a statement the LRS refuses for what it says, and sends the others', async () => {
    let refusedId = '';
    const { lrs, outbox, learning, ada } = await setUp({
      answer: (_, statements) => {
        refusedId ||= statements.find((statement) => statement.verb.display?.['en-US'] === 'initialized')?.id ?? '';
        return statements.some((statement) => statement.id === refusedId) ? { status: 400, body: 'initialized is not allowed here' } : 'normal';
      },
    });
    await labRun(learning, ada.id);
    outbox.start();
    await eventually(async () => (await outbox.status()).pending === 0, 'the outbox to empty');
    expect(await outbox.status()).toMatchObject({ sent: EXPECTED_VERBS.length - 1, rejected: 1 });
    expect(lrs.statements.map((statement) => statement.id)).not.toContain(refusedId);
    // Refused once on its own: it is not sent again.
    const tries = lrs.requests.filter((request) => request.ids.length === 1 && request.ids[0] === refusedId);
    expect(tries).toHaveLength(1);
  });

  it('keeps statements while the LRS refuses the credentials, without putting the password in logs', async () => {
    const { lrs, outbox, learning, ada, logs } = await setUp({}, {}, { username: 'formicary', password: 'wrong-password' });
    outbox.start();
    await learning.record({ kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'images' });
    await eventually(() => lrs.problems.length >= 2, 'two refused attempts');
    const status = await outbox.status();
    expect(status).toMatchObject({ pending: 1, sent: 0, rejected: 0 });
    expect(status.lastError).toMatch(/401/);
    expect(logs.text()).toContain('could not send xAPI statements');
    expect(logs.text()).not.toContain('wrong-password');
  });

  it('waits twice as long after each failure, up to the limit', async () => {
    let clock = new Date('2025-03-01T09:00:00.000Z');
    const { outbox, learning, ada, db } = await setUp(
      { answer: () => ({ status: 503 }) },
      { now: () => clock, random: () => 1, firstDelayMs: 1_000, maxDelayMs: 5_000 },
    );
    await learning.record({ kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'images' });
    const due = async () => (await db.one(z.object({ next_attempt_at: z.string(), attempts: z.coerce.number() }), 'SELECT next_attempt_at, attempts FROM xapi_outbox'))!;
    const waits: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await outbox.flush();
      const row = await due();
      waits.push(Date.parse(row.next_attempt_at) - clock.getTime());
      clock = new Date(row.next_attempt_at);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect((await due()).attempts).toBe(5);
  });

  it('sends each statement once when three portal processes share the outbox', async () => {
    const { db, lrs, learning, ada, logs } = await setUp();
    await labRun(learning, ada.id);
    for (let view = 0; view < 40; view += 1) await learning.record({ kind: 'lesson.viewed', learnerId: ada.id, path: 'container-basics', lesson: 'images' });
    const total = EXPECTED_VERBS.length + 40;
    const workers = Array.from({ length: 3 }, () =>
      createStatementOutbox({ db, lrs: createLrs({ endpoint: lrs.endpoint, ...credentials }), portalUrl: () => PORTAL, log: logs.log, pollMs: 5, batchSize: 2 }),
    );
    cleanups.push(...workers.map((worker) => () => worker.stop()));
    for (const worker of workers) worker.start();
    await eventually(async () => (await workers[0]!.status()).pending === 0, 'the outbox to empty');
    const posted = lrs.requests.flatMap((request) => request.ids);
    expect(new Set(posted).size).toBe(total);
    expect(posted).toHaveLength(total);
  });
});
