import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, openDatabase, readMigrations, type Database } from '../../../src/server/db/index.ts';
import { createSessions } from '../../../src/server/auth/index.ts';
import { createTracking, fixedOutlines } from '../../../src/server/tracking/index.ts';
import { DIALECTS, useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';

const databases = useTestDatabases();
const { log } = captureLogs();

const failing = { kind: 'field', passed: false, expected: '3', found: '2', message: 'Deployment web has 2 replicas; this step asks for 3.' };
const passing = { kind: 'exists', passed: true, expected: 'deployment web', found: 'deployment web', message: 'Deployment web exists.' };

describe.each(DIALECTS)('lab records on %s', (dialect) => {
  const open: Database[] = [];
  let clock = new Date('2025-03-01T09:00:00.000Z');
  const now = () => clock;
  const tick = (ms: number) => (clock = new Date(clock.getTime() + ms));

  async function setUp() {
    const db = openDatabase(await databases.fresh(dialect), log);
    open.push(db);
    await applyMigrations(db, await readMigrations(dialect));
    const sessions = createSessions(db, now);
    const ada = (await sessions.signIn('Ada')).learner;
    const grace = (await sessions.signIn('Grace')).learner;
    const tracking = createTracking(db, { outlines: fixedOutlines([]), now });
    return { db, records: tracking.labs, learning: tracking.record, ada, grace };
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.close()));
    clock = new Date('2025-03-01T09:00:00.000Z');
  });

  const lessons = [{ path: 'kubernetes-foundations', lesson: 'deployments-and-replicasets' }];

  it('opens one session per learner and lab; a second start finds the first', async () => {
    const { records, ada, grace } = await setUp();
    const first = await records.open({ learnerId: ada.id, lab: 'deploy-and-expose', lessons, step: 'create', expiresAt: '2025-03-01T09:45:00.000Z' });
    expect(first.created).toBe(true);
    expect(first.session).toMatchObject({ learnerId: ada.id, lab: 'deploy-and-expose', status: 'starting', step: 'create', lessons, startedAt: '2025-03-01T09:00:00.000Z', expiresAt: '2025-03-01T09:45:00.000Z', endedAt: null });
    const again = await records.open({ learnerId: ada.id, lab: 'deploy-and-expose', lessons, step: 'create', expiresAt: null });
    expect(again).toEqual({ session: first.session, created: false });
    const other = await records.open({ learnerId: grace.id, lab: 'deploy-and-expose', lessons, step: 'create', expiresAt: null });
    expect(other.created).toBe(true);
    expect(other.session.id).not.toBe(first.session.id);
  });

  it('makes one session when the same learner starts the same lab twice at once', async () => {
    const { records, ada } = await setUp();
    const results = await Promise.all(
      Array.from({ length: 4 }, () => records.open({ learnerId: ada.id, lab: 'scale', lessons: [], step: 'one', expiresAt: null })),
    );
    expect(new Set(results.map((r) => r.session.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('follows a session from starting to ready, records checks with their results and moves to the next step', async () => {
    const { records, ada } = await setUp();
    const { session } = await records.open({ learnerId: ada.id, lab: 'scale', lessons, step: 'create', expiresAt: null });
    await records.setPhase(session.id, 'namespace', 'lab-ada-scale');
    expect(await records.get(session.id)).toMatchObject({ phase: 'namespace', namespace: 'lab-ada-scale', status: 'starting' });
    tick(1200);
    await records.ready(session.id, 'lab-ada-scale');
    expect(await records.get(session.id)).toMatchObject({ status: 'ready', phase: null, readyAt: '2025-03-01T09:00:01.200Z' });

    tick(60_000);
    const failed = await records.recordCheck(session.id, { step: 'create', results: [passing, failing], durationMs: 42.4 });
    expect(failed).toMatchObject({ step: 'create', passed: false, durationMs: 42 });
    tick(30_000);
    const passed = await records.recordCheck(session.id, { step: 'create', results: [passing], durationMs: 12, nextStep: 'scale' });
    expect(passed.passed).toBe(true);
    expect((await records.get(session.id))?.step).toBe('scale');
    expect(await records.checks(session.id)).toEqual([
      { id: failed.id, step: 'create', passed: false, results: [passing, failing], durationMs: 42, checkedAt: '2025-03-01T09:01:01.200Z' },
      { id: passed.id, step: 'create', passed: true, results: [passing], durationMs: 12, checkedAt: '2025-03-01T09:01:31.200Z' },
    ]);
  });

  it('reads back only each step’s latest check, and whether the step ever passed', async () => {
    const { records, ada } = await setUp();
    const { session } = await records.open({ learnerId: ada.id, lab: 'scale', lessons, step: 'create', expiresAt: null });
    expect(await records.latestChecks(session.id)).toEqual(new Map());
    await records.recordCheck(session.id, { step: 'create', results: [failing], durationMs: 3 });
    tick(1000);
    await records.recordCheck(session.id, { step: 'create', results: [passing], durationMs: 4, nextStep: 'scale' });
    tick(1000);
    const lastCreate = await records.recordCheck(session.id, { step: 'create', results: [failing], durationMs: 5 });
    tick(1000);
    const lastScale = await records.recordCheck(session.id, { step: 'scale', results: [failing], durationMs: 6 });
    const latest = await records.latestChecks(session.id);
    expect([...latest.keys()]).toEqual(['create', 'scale']);
    expect(latest.get('create')).toEqual({ latest: lastCreate, passedOnce: true });
    expect(latest.get('scale')).toEqual({ latest: lastScale, passedOnce: false });
  });

  it('gives open sessions with a time limit more time (a workshop extends it); others stay as they are', async () => {
    const { records, ada, grace } = await setUp();
    const timed = (await records.open({ learnerId: ada.id, lab: 'scale', lessons, step: 'create', expiresAt: '2025-03-01T09:45:00.000Z' })).session;
    const untimed = (await records.open({ learnerId: ada.id, lab: 'untimed', lessons, step: 'create', expiresAt: null })).session;
    const ended = (await records.open({ learnerId: grace.id, lab: 'scale', lessons, step: 'create', expiresAt: '2025-03-01T09:45:00.000Z' })).session;
    await records.end(ended.id, 'ended');
    const elsewhere = (await records.open({ learnerId: ada.id, lab: 'other', lessons, step: 'create', expiresAt: '2025-03-01T09:45:00.000Z' })).session;
    await records.extend([ada.id, grace.id], ['scale', 'untimed'], 30);
    expect((await records.get(timed.id))?.expiresAt).toBe('2025-03-01T10:15:00.000Z');
    expect((await records.get(untimed.id))?.expiresAt).toBeNull();
    expect((await records.get(ended.id))?.expiresAt).toBe('2025-03-01T09:45:00.000Z');
    expect((await records.get(elsewhere.id))?.expiresAt).toBe('2025-03-01T09:45:00.000Z');
  });

  it('refuses a Check with no results (every step has a check) and records nothing of it', async () => {
    const { records, ada } = await setUp();
    const { session } = await records.open({ learnerId: ada.id, lab: 'scale', lessons, step: 'create', expiresAt: null });
    await expect(records.recordCheck(session.id, { step: 'create', results: [], durationMs: 1 })).rejects.toThrow('results: must hold the result of every check of the step');
    expect(await records.checks(session.id)).toEqual([]);
  });

  it('records each hint and the solution once, in the order shown', async () => {
    const { records, ada } = await setUp();
    const { session } = await records.open({ learnerId: ada.id, lab: 'scale', lessons, step: 'create', expiresAt: null });
    await records.recordReveal(session.id, { step: 'create', kind: 'hint', number: 0 });
    tick(1000);
    await records.recordReveal(session.id, { step: 'create', kind: 'hint', number: 0 });
    await records.recordReveal(session.id, { step: 'create', kind: 'hint', number: 1 });
    tick(1000);
    await records.recordReveal(session.id, { step: 'create', kind: 'solution', number: 0 });
    expect(await records.reveals(session.id)).toEqual([
      { step: 'create', kind: 'hint', number: 0, shownAt: '2025-03-01T09:00:00.000Z' },
      { step: 'create', kind: 'hint', number: 1, shownAt: '2025-03-01T09:00:01.000Z' },
      { step: 'create', kind: 'solution', number: 0, shownAt: '2025-03-01T09:00:02.000Z' },
    ]);
  });

  it('keeps the first completion time, ends a session once, and lets the learner start again', async () => {
    const { records, ada } = await setUp();
    const { session } = await records.open({ learnerId: ada.id, lab: 'scale', lessons, step: 'create', expiresAt: null });
    tick(5000);
    expect((await records.complete(session.id)).completedAt).toBe('2025-03-01T09:00:05.000Z');
    tick(5000);
    expect((await records.complete(session.id)).completedAt).toBe('2025-03-01T09:00:05.000Z');
    expect(await records.end(session.id, 'ended')).toBe(true);
    expect(await records.end(session.id, 'expired')).toBe(false);
    expect(await records.get(session.id)).toMatchObject({ status: 'ended', endReason: 'ended', endedAt: '2025-03-01T09:00:10.000Z' });
    expect(await records.current(ada.id, 'scale')).toBeNull();
    const next = await records.open({ learnerId: ada.id, lab: 'scale', lessons, step: 'create', expiresAt: null });
    expect(next.created).toBe(true);
    expect((await records.allOpen()).map((s) => s.id)).toEqual([next.session.id]);
  });

  it('keeps a failed start with its reason until the session is ended', async () => {
    const { records, ada } = await setUp();
    const { session } = await records.open({ learnerId: ada.id, lab: 'scale', lessons, step: 'create', expiresAt: null });
    await records.failed(session.id, 'the workbench did not start within 60 s');
    expect(await records.current(ada.id, 'scale')).toMatchObject({ status: 'failed', detail: 'the workbench did not start within 60 s' });
  });

  it('sums up a learner’s labs: attempts, checks and the first completion', async () => {
    const { records, ada, grace } = await setUp();
    const first = (await records.open({ learnerId: ada.id, lab: 'scale', lessons, step: 'create', expiresAt: null })).session;
    await records.recordCheck(first.id, { step: 'create', results: [failing], durationMs: 5 });
    await records.end(first.id, 'reset');
    tick(60_000);
    const second = (await records.open({ learnerId: ada.id, lab: 'scale', lessons, step: 'create', expiresAt: null })).session;
    await records.recordCheck(second.id, { step: 'create', results: [passing], durationMs: 5, nextStep: null });
    await records.complete(second.id);
    await records.open({ learnerId: ada.id, lab: 'rbac', lessons: [], step: 'one', expiresAt: null });
    await records.open({ learnerId: grace.id, lab: 'scale', lessons, step: 'create', expiresAt: null });
    expect(await records.progress(ada.id)).toEqual([
      { lab: 'rbac', attempts: 1, checks: 0, completedAt: null, lastStartedAt: '2025-03-01T09:01:00.000Z' },
      { lab: 'scale', attempts: 2, checks: 2, completedAt: '2025-03-01T09:01:00.000Z', lastStartedAt: '2025-03-01T09:01:00.000Z' },
    ]);
  });
});
