// Lab sessions in the portal, end to end below HTTP: real sandboxes on an embedded cluster started
// for this file, real checks, the record in a real database, lesson progress.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type RunningCluster } from '../../../src/cluster/index.ts';
import { startLabCluster, type LabCluster } from '../../../src/server/cluster/index.ts';
import { applyMigrations, openDatabase, readMigrations, type Database, type Dialect } from '../../../src/server/db/index.ts';
import { startLabs, type Labs, type LabStateView } from '../../../src/server/labs/index.ts';
import { createSessions } from '../../../src/server/auth/index.ts';
import type { Learner } from '../../../src/server/services.ts';
import { createTracking, fixedOutlines } from '../../../src/server/tracking/index.ts';
import { DIALECTS, useTestDatabases } from '../../support/databases.ts';
import { FIXTURE_LAB, labProject } from '../../support/lab-fixture.ts';
import { captureLogs } from '../../support/logs.ts';

const databases = useTestDatabases();
const { log } = captureLogs();
const lessons = [{ path: 'kubernetes-foundations', lesson: 'configmaps-and-secrets' }];

let dataDir: string;
let root: string;
let cluster: RunningCluster;
let labCluster: LabCluster;
let core: CoreV1Api;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'formicary-lab-sessions-'));
  root = await labProject();
  // Pod directories outlive a cluster's stop (as on a node): beside the data dir, so the test removes them.
  cluster = await startCluster({ dataDir, port: 0, nodes: 1, kubelet: { kubeletDir: `${dataDir}-kubelet`, timing: { startDelayScale: 0 } } });
  const kubeconfigFile = path.join(dataDir, 'admin.kubeconfig');
  await writeFile(kubeconfigFile, cluster.kubeconfig(), { mode: 0o600 });
  labCluster = startLabCluster({ mode: 'kubernetes', kubeconfig: kubeconfigFile }, { root, log });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(cluster.kubeconfig());
  core = kubeConfig.makeApiClient(CoreV1Api);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(`${dataDir}-kubelet`, { recursive: true, force: true });
  await rm(root, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(DIALECTS)('lab sessions on %s', (dialect: Dialect) => {
  const running: Array<{ labs: Labs; db: Database }> = [];
  let clock: Date | null = null;

  async function setUp() {
    const db = openDatabase(await databases.fresh(dialect), log);
    await applyMigrations(db, await readMigrations(dialect));
    const people = createSessions(db);
    const ada = (await people.signIn('Ada')).learner;
    const grace = (await people.signIn('Grace')).learner;
    const now = () => clock ?? new Date();
    const tracking = createTracking(db, { outlines: fixedOutlines([]), now });
    const labs = startLabs({ root, cluster: labCluster, records: tracking.labs, log, now, expirySweepMs: 100 });
    running.push({ labs, db });
    return { db, labs, sessions: labs.sessions, progress: tracking.lessons, records: tracking.labs, learning: tracking.record, ada, grace };
  }

  async function ready(labs: Labs, learner: Learner): Promise<LabStateView> {
    return until('the lab to be ready', async () => {
      const state = await labs.sessions.state(learner, FIXTURE_LAB);
      if (state.session?.status === 'failed') throw new Error(`the lab failed to start: ${state.session.detail}`);
      return state.session?.status === 'ready' ? state : null;
    });
  }

  afterEach(async () => {
    for (const { labs, db } of running.splice(0)) {
      await labs.stop();
      await db.close();
    }
    clock = null;
  });

  it('starts a sandbox, teaches with failing checks, reveals hints and the solution, and completes the lab and its lesson', async () => {
    const { sessions, labs, progress, records, learning, ada } = await setUp();
    const described = await sessions.describe(FIXTURE_LAB);
    expect(described).toMatchObject({ title: 'Configure an app', timeLimit: 30, steps: [{ id: 'create', hintCount: 2 }, { id: 'change', hintCount: 1 }] });
    expect(described?.steps[0]?.instructionsHtml).toContain('<code class="language-bash">kubectl create configmap settings --from-literal=mode=fast');

    const started = await sessions.start(ada, FIXTURE_LAB, { lessons });
    // Ready already when the sandbox was made within the start's short wait (a warm one), else starting.
    expect(started.session).toMatchObject({ status: expect.stringMatching(/^(starting|ready)$/), currentStep: 'create' });
    expect(new Date(started.session!.expiresAt!).getTime() - new Date(started.session!.startedAt).getTime()).toBe(30 * 60_000);
    expect((await sessions.start(ada, FIXTURE_LAB, { lessons })).session?.id).toBe(started.session?.id);
    const state = await ready(labs, ada);
    const namespace = state.session!.namespace!;
    expect(namespace).toMatch(/^lab-/);
    expect(state.session?.steps.map((step) => step.status)).toEqual(['current', 'not-started']);

    const failed = await sessions.check(ada, FIXTURE_LAB);
    expect(failed).toMatchObject({ step: 'create', passed: false, completed: false });
    expect(failed.results).toEqual([expect.objectContaining({ kind: 'exists', passed: false, message: 'There is no ConfigMap named settings yet; create it with kubectl create configmap.' })]);
    expect(failed.state.session?.steps[0]).toMatchObject({ status: 'failed', lastCheck: { passed: false } });

    expect(await sessions.hint(ada, FIXTURE_LAB)).toMatchObject({ step: 'create', number: 1, hint: 'Look at kubectl create configmap --help.', hintsLeft: 1 });
    expect(await sessions.hint(ada, FIXTURE_LAB)).toMatchObject({ number: 2, hint: 'Use --from-literal=mode=fast.', hintsLeft: 0 });
    await expect(sessions.hint(ada, FIXTURE_LAB)).rejects.toMatchObject({ name: 'LabRequestError', status: 409 });
    const solution = await sessions.solution(ada, FIXTURE_LAB);
    expect(solution).toMatchObject({ step: 'create', commands: ['kubectl create configmap settings --from-literal=mode=fast'] });
    expect(solution.state.session?.steps[0]).toMatchObject({ hints: ['Look at kubectl create configmap --help.', 'Use --from-literal=mode=fast.'], hintsLeft: 0, solution: solution.commands });

    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { mode: 'fast' } } });
    const passed = await sessions.check(ada, FIXTURE_LAB);
    expect(passed).toMatchObject({ step: 'create', passed: true, nextStep: 'change', completed: false });
    expect(passed.state.session?.steps.map((step) => step.status)).toEqual(['passed', 'current']);

    const wrong = await sessions.check(ada, FIXTURE_LAB);
    expect(wrong.results[0]).toMatchObject({ kind: 'field', passed: false, expected: expect.stringContaining('slow'), found: expect.stringContaining('fast') });
    const settings = await core.readNamespacedConfigMap({ namespace, name: 'settings' });
    await core.replaceNamespacedConfigMap({ namespace, name: 'settings', body: { ...settings, data: { mode: 'slow' } } });
    const done = await sessions.check(ada, FIXTURE_LAB);
    expect(done).toMatchObject({ step: 'change', passed: true, nextStep: null, completed: true });
    expect(done.state.session).toMatchObject({ currentStep: null, completedAt: expect.any(String) });
    await expect(sessions.check(ada, FIXTURE_LAB)).rejects.toMatchObject({ status: 409 });

    expect(await progress.forLearner(ada.id)).toEqual([expect.objectContaining({ ...lessons[0], completedAt: expect.any(String) })]);
    const record = done.state.session!.id;
    expect((await records.checks(record)).map((check) => [check.step, check.passed])).toEqual([
      ['create', false],
      ['create', true],
      ['change', false],
      ['change', true],
    ]);
    expect((await records.reveals(record)).map((reveal) => `${reveal.kind}:${reveal.number}`)).toEqual(['hint:0', 'hint:1', 'solution:0']);
    expect(await sessions.progress(ada.id)).toEqual([expect.objectContaining({ lab: FIXTURE_LAB, attempts: 1, checks: 4, completedAt: expect.any(String) })]);

    const ended = await sessions.end(ada, FIXTURE_LAB);
    expect(ended.session).toBeNull();
    // The page shows what the learner did, after End and after a reload: the attempt, ended, its steps passed with the Checks' messages.
    expect(ended.lastAttempt).toMatchObject({ id: record, status: 'ended', completedAt: expect.any(String) });
    expect(ended.lastAttempt?.steps.map((step) => [step.status, step.lastCheck?.passed])).toEqual([
      ['passed', true],
      ['passed', true],
    ]);
    expect((await sessions.state(ada, FIXTURE_LAB)).lastAttempt).toEqual(ended.lastAttempt);
    expect(await records.get(record)).toMatchObject({ status: 'ended', endReason: 'ended' });
    // Every action is in the learning record too, the lesson's completion with the lab's.
    expect((await learning.events({ learnerId: ada.id })).map((event) => event.kind)).toEqual([
      'lab.started',
      'check.failed',
      'hint.shown',
      'hint.shown',
      'solution.shown',
      'check.passed',
      'check.failed',
      'check.passed',
      'lab.completed',
      'lesson.completed',
      'lab.ended',
    ]);
    await until('the sandbox namespace to go', async () => {
      const found = await core.readNamespace({ name: namespace }).catch(() => null);
      return !found || Boolean(found.metadata?.deletionTimestamp);
    });
  });

  it('lets only the session’s own learner see it, check it, reveal its hints, reset or end it, or open its terminal', async () => {
    const { sessions, labs, ada, grace } = await setUp();
    await sessions.start(ada, FIXTURE_LAB, { lessons });
    const state = await ready(labs, ada);
    const id = state.session!.id;
    for (const attempt of [
      () => sessions.state(grace, FIXTURE_LAB, id),
      () => sessions.check(grace, FIXTURE_LAB, id),
      () => sessions.hint(grace, FIXTURE_LAB, id),
      () => sessions.solution(grace, FIXTURE_LAB, id),
      () => sessions.reset(grace, FIXTURE_LAB, id),
      () => sessions.end(grace, FIXTURE_LAB, id),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ name: 'LabRequestError', status: 403 });
    }
    expect(await sessions.authorizeTerminal(grace, FIXTURE_LAB, id)).toMatchObject({ allowed: false, status: 403 });
    expect(await sessions.authorizeTerminal(grace, FIXTURE_LAB, null)).toMatchObject({ allowed: false, status: 409 });
    expect((await sessions.state(grace, FIXTURE_LAB)).session).toBeNull();
    expect(await sessions.authorizeTerminal(ada, FIXTURE_LAB, id)).toEqual({
      allowed: true,
      labSession: id,
      target: { namespace: state.session!.namespace, pod: 'workbench', container: 'workbench' },
    });
    // Ada's session is untouched by Grace's attempts.
    expect((await sessions.state(ada, FIXTURE_LAB)).session).toMatchObject({ id, status: 'ready' });
    // A workshop's extra time moves the sandbox's own expiry too, where the sandboxes' reaper reads it.
    await sessions.extend([ada.id], [FIXTURE_LAB], 45);
    const extended = (await sessions.state(ada, FIXTURE_LAB)).session!;
    expect(Date.parse(extended.expiresAt!) - Date.parse(state.session!.expiresAt!)).toBe(45 * 60_000);
    const labelled = await core.readNamespace({ name: extended.namespace! });
    expect(Number(labelled.metadata?.labels?.['formicary.dev/expires']) * 1000).toBeGreaterThanOrEqual(Date.parse(extended.expiresAt!) - 1000);
    await expect(sessions.check(ada, 'no-such-lab')).rejects.toMatchObject({ status: 404 });
    await sessions.end(ada, FIXTURE_LAB);
  });

  it('starts again a session that a stopped portal left starting', async () => {
    const { sessions, labs, records, ada } = await setUp();
    // As a portal that stopped mid-start leaves it: recorded, starting, nobody working on it.
    const { session } = await records.open({ learnerId: ada.id, lab: FIXTURE_LAB, lessons, step: 'create', expiresAt: new Date(Date.now() + 30 * 60_000).toISOString() });
    expect((await sessions.state(ada, FIXTURE_LAB)).session?.status).toBe('starting');
    // A workshop's extra time while it has no sandbox yet: the sandbox it gets lives as long.
    await sessions.extend([ada.id], [FIXTURE_LAB], 60);
    clock = new Date(Date.now() + 4 * 60_000);
    const state = await ready(labs, ada);
    expect(state.session).toMatchObject({ id: session.id, status: 'ready', namespace: expect.stringMatching(/^lab-/) });
    const labelled = await core.readNamespace({ name: state.session!.namespace! });
    expect(Number(labelled.metadata?.labels?.['formicary.dev/expires']) * 1000).toBeGreaterThanOrEqual(Date.parse(state.session!.expiresAt!) - 1000);
    await sessions.end(ada, FIXTURE_LAB);
  });

  it('resets to a fresh sandbox from the first step, and ends a session whose sandbox was reaped or whose time is up', async () => {
    const { sessions, labs, records, ada, grace } = await setUp();
    await sessions.start(ada, FIXTURE_LAB, { lessons });
    const first = (await ready(labs, ada)).session!;
    await core.createNamespacedConfigMap({ namespace: first.namespace!, body: { metadata: { name: 'settings' }, data: { mode: 'fast' } } });
    await sessions.check(ada, FIXTURE_LAB);

    const reset = await sessions.reset(ada, FIXTURE_LAB);
    expect(reset.session?.id).not.toBe(first.id);
    expect(await records.get(first.id)).toMatchObject({ status: 'ended', endReason: 'reset' });
    const second = (await ready(labs, ada)).session!;
    expect(second.namespace).not.toBe(first.namespace);
    expect(second.steps.map((step) => step.status)).toEqual(['current', 'not-started']);
    const failing = await sessions.check(ada, FIXTURE_LAB);
    expect(failing.state.lastAttempt).toBeNull();

    // The sandboxes' reaper removes an idle sandbox: its session ends too.
    const ended = await sessions.end(ada, FIXTURE_LAB);
    // An ended attempt's unfinished step is not current any more; its last Check still says why it failed.
    expect(ended.lastAttempt).toMatchObject({ id: second.id, status: 'ended' });
    expect(ended.lastAttempt?.steps[0]).toMatchObject({ status: 'not-started', lastCheck: { passed: false, results: failing.results } });
    expect(ended.lastAttempt?.steps[1]).toMatchObject({ status: 'not-started', lastCheck: null });
    await sessions.start(ada, FIXTURE_LAB, { lessons });
    const idle = (await ready(labs, ada)).session!;
    await core.deleteNamespace({ name: idle.namespace! });
    await until('the idle session to end', async () => (await records.get(idle.id))?.endReason === 'idle');

    await sessions.start(ada, FIXTURE_LAB, { lessons });
    const timed = (await ready(labs, ada)).session!;
    clock = new Date(Date.now() + 31 * 60_000);
    await until('the session to expire', async () => (await records.get(timed.id))?.endReason === 'expired');
    const after = await sessions.state(ada, FIXTURE_LAB);
    expect(after.session).toBeNull();
    expect(after.lastAttempt).toMatchObject({ id: timed.id, status: 'ended' });
    // Another learner has no attempt of their own to see.
    expect((await sessions.state(grace, FIXTURE_LAB)).lastAttempt).toBeNull();
  });
});
