// Every check kind against a real embedded cluster, objects created through client-node.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCheck, evaluateChecks, type CheckClock, type CheckInput, type CheckTarget, type KubeObject } from '../../../src/labs/index.ts';
import { startTestCluster, type TestCluster } from '../cluster.ts';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

function deployment(name: string, replicas: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.27',
              env: [
                { name: 'GREETING', value: 'hello' },
                { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'level' } } },
                { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
              ],
              envFrom: [{ configMapRef: { name: 'settings' } }],
              volumeMounts: [{ name: 'pages', mountPath: '/usr/share/nginx/html', readOnly: true }],
              readinessProbe: { httpGet: { path: '/', port: 80 } },
              resources: { requests: { cpu: '0.1', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
            },
          ],
          volumes: [{ name: 'pages', configMap: { name: 'pages' } }],
        },
      },
      ...extra,
    },
  };
}

async function sandbox(): Promise<CheckTarget> {
  const namespace = await cluster.namespace('checks');
  return { client: cluster.client, namespace, workbench: { pod: 'workbench', container: 'workbench' } };
}

const run = (check: CheckInput, target: CheckTarget) => evaluateCheck(check, target);
const check = <T extends CheckInput>(value: T) => value;

describe('exists and absent', () => {
  it('resolves resource names as kubectl does and says what is missing', async () => {
    const target = await sandbox();
    const before = await run({ kind: 'exists', resource: 'deploy', name: 'web' }, target);
    expect(before).toEqual({ kind: 'exists', passed: false, expected: 'Deployment web exists', found: 'no Deployment named web', message: 'There is no Deployment web in your namespace yet.' });
    await cluster.create(target.namespace, deployment('web', 1));
    for (const resource of ['deploy', 'deployment', 'deployments', 'Deployment', 'deployments.apps', 'deployments.v1.apps']) {
      expect((await run({ kind: 'exists', resource, name: 'web' }, target)).passed, resource).toBe(true);
    }
    const gone = await run({ kind: 'absent', resource: 'deployment', name: 'web' }, target);
    expect(gone).toMatchObject({ passed: false, message: 'Deployment web still exists; this step asks for it to be gone.' });
    expect((await run({ kind: 'absent', resource: 'svc', name: 'web' }, target)).passed).toBe(true);
  });

  it('fails with the cluster\'s reason when a resource name is unknown, and the author\'s message replaces a failure text', async () => {
    const target = await sandbox();
    const unknown = await run({ kind: 'exists', resource: 'deploymints', name: 'web' }, target);
    expect(unknown.passed).toBe(false);
    expect(unknown.error).toMatch(/no resource called "deploymints"/);
    const custom = await run({ kind: 'exists', resource: 'cm', name: 'nope', message: 'Create the ConfigMap first.' }, target);
    expect(custom).toMatchObject({ passed: false, message: 'Create the ConfigMap first.', found: 'no ConfigMap named nope' });
  });
});

describe('field', () => {
  it('compares the value at a JSONPath in every way the format offers', async () => {
    const target = await sandbox();
    await cluster.create(target.namespace, deployment('web', 2));
    const base = { kind: 'field' as const, resource: 'deployment', name: 'web' };
    const replicas = await run({ ...base, path: '{.spec.replicas}', equals: 3 }, target);
    expect(replicas).toEqual({ kind: 'field', passed: false, expected: '.spec.replicas = 3', found: '2', message: '.spec.replicas of Deployment web is 2; this step asks for 3.' });
    const cases: Array<[Record<string, unknown>, boolean]> = [
      [{ path: '{.spec.replicas}', equals: 2 }, true],
      [{ path: '{.spec.replicas}', equals: '2' }, true],
      [{ path: '{.spec.replicas}', notEquals: 2 }, false],
      [{ path: '{.spec.template.spec.containers[0].image}', matches: '^nginx:1\\.2[0-9]$' }, true],
      [{ path: '{.spec.template.spec.containers[*].image}', contains: 'nginx' }, true],
      [{ path: '{.metadata.labels.app}', oneOf: ['api', 'web'] }, true],
      [{ path: '{.spec.replicas}', greaterThan: 2 }, false],
      [{ path: '{.spec.replicas}', atLeast: 2 }, true],
      [{ path: '{.spec.replicas}', lessThan: 3 }, true],
      [{ path: '{.spec.template.spec.containers[0].resources.limits.memory}', atMost: '256Mi' }, true],
      [{ path: '{.spec.paused}', empty: true }, true],
      [{ path: '{.spec.template.spec.containers[?(@.name=="web")].readinessProbe.httpGet.path}', equals: '/' }, true],
    ];
    for (const [fields, expected] of cases) {
      const result = await run({ ...base, ...fields } as CheckInput, target);
      expect(result.passed, JSON.stringify(fields)).toBe(expected);
    }
    const missing = await run({ ...base, name: 'api', path: '{.spec.replicas}', equals: 1 }, target);
    expect(missing.message).toBe('There is no Deployment api in your namespace yet, so .spec.replicas cannot be checked.');
  });
});

describe('count, condition, rollout, podsReady and event', () => {
  it('follows a Deployment the controllers work on', async () => {
    const target = await sandbox();
    await cluster.create(target.namespace, deployment('web', 3));
    const count = await run({ kind: 'count', resource: 'pods', selector: 'app=web', equals: 3, timeout: 10 }, target);
    expect(count).toMatchObject({ passed: true, message: 'There are 3 Pods with app=web.' });
    const tooFew = await run({ kind: 'count', resource: 'pods', selector: 'app=web', atLeast: 5 }, target);
    expect(tooFew.message).toBe('There are 3 Pods with app=web; this step asks for at least 5.');

    const progressing = await run({ kind: 'condition', resource: 'deploy', name: 'web', type: 'Progressing', status: 'True', timeout: 5 }, target);
    expect(progressing).toMatchObject({ passed: true, message: 'Deployment web is Progressing.' });
    const missingType = await run({ kind: 'condition', resource: 'deploy', name: 'web', type: 'Frozen', status: 'True' }, target);
    expect(missingType.message).toBe('Deployment web has no Frozen condition yet.');

    const scaled = await run({ kind: 'event', reason: 'ScalingReplicaSet', involvedKind: 'Deployment', involvedName: 'web', timeout: 10 }, target);
    expect(scaled.passed).toBe(true);
    expect(scaled.found).toMatch(/^ScalingReplicaSet on Deployment web: Scaled up replica set web-[a-z0-9]+ from 0 to 3$/);
    const noEvent = await run({ kind: 'event', reason: 'Killing', involvedKind: 'Pod' }, target);
    expect(noEvent).toMatchObject({ passed: false, message: 'There is no event Killing about Pod in your namespace yet.' });

    const notOurs = await run({ kind: 'rollout', resource: 'svc', name: 'web' }, target);
    expect(notOurs.message).toBe('A rollout check needs a Deployment, StatefulSet or DaemonSet, not a Service.');
  }, 30_000);
});

describe('container', () => {
  it('reads image, environment (resolved through ConfigMaps and Secrets), mounts, probes and resources', async () => {
    const target = await sandbox();
    await cluster.create(
      target.namespace,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { level: 'debug', COLOR: 'blue' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 's3cret' } },
      deployment('web', 1),
    );
    const ok = await run(
      check({
        kind: 'container',
        resource: 'deployment',
        name: 'web',
        image: 'nginx',
        env: { GREETING: 'hello', LEVEL: 'debug', COLOR: 'blue', PASSWORD: { secretKeyRef: { name: 'db', key: 'password' } } },
        envFrom: [{ configMapRef: 'settings' }],
        volumeMount: { mountPath: '/usr/share/nginx/html/', configMap: 'pages', readOnly: true },
        probe: { type: 'readiness', handler: 'httpGet', path: '/', port: 80 },
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '0.2' } },
      }),
      target,
    );
    expect(ok.passed, ok.message).toBe(true);

    const wrong = await run(
      check({ kind: 'container', resource: 'deploy', name: 'web', image: 'nginx:1.28', env: { LEVEL: 'info', PASSWORD: 'hunter2' }, probe: { type: 'liveness' }, resources: { limits: { memory: '256Mi' } } }),
      target,
    );
    expect(wrong.passed).toBe(false);
    expect(wrong.message).toBe(
      'Deployment web runs nginx:1.27; this step asks for nginx:1.28; Deployment web sets LEVEL to "debug"; this step asks for "info"; Deployment web sets PASSWORD to a different value from a Secret; this step asks for another value; Deployment web has no liveness probe; Deployment web is limited to 128Mi memory; this step asks for 256Mi.',
    );
    expect(JSON.stringify(wrong)).not.toContain('s3cret');
    const noContainer = await run(check({ kind: 'container', resource: 'deploy', name: 'web', container: 'sidecar', image: 'x' }), target);
    expect(noContainer.message).toBe('Deployment web has no container named sidecar; its containers are web.');
  });
});

describe('canI', () => {
  it('asks the authorizer what a ServiceAccount may do, both ways', async () => {
    const target = await sandbox();
    await cluster.create(
      target.namespace,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: target.namespace }] },
    );
    const results = await evaluateChecks(
      [
        { kind: 'canI', serviceAccount: 'reader', verb: 'list', resource: 'pods', allowed: true },
        { kind: 'canI', serviceAccount: 'reader', verb: 'delete', resource: 'pods', allowed: false },
        { kind: 'canI', serviceAccount: 'reader', verb: 'get', resource: 'po', subresource: 'log', allowed: true },
        { kind: 'canI', serviceAccount: 'reader', verb: 'list', resource: 'deployments.apps', allowed: true },
        { kind: 'canI', serviceAccount: 'reader', verb: 'list', resource: 'pods', namespace: 'default', allowed: true },
      ],
      target,
    );
    expect(results.map((r) => r.passed)).toEqual([true, true, false, false, false]);
    expect(results[2]?.message).toBe(`ServiceAccount reader cannot get po/log in your namespace yet; this step asks that it can.`);
    expect(results[4]?.message).toBe('ServiceAccount reader cannot list pods in namespace default yet; this step asks that it can.');
    const tooMuch = await run({ kind: 'canI', serviceAccount: 'reader', verb: 'get', resource: 'pods', allowed: false }, target);
    expect(tooMuch.message).toBe('ServiceAccount reader can get pods in your namespace; this step asks that it cannot — grant only what it needs.');
  });
});

describe('with pods running', () => {
  it('rollout and podsReady follow pods the kubelet starts; logs read what containers print', async () => {
    const target = await sandbox();
    await cluster.create(target.namespace, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'talker' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'talker' } },
        template: { metadata: { labels: { app: 'talker' } }, spec: { containers: [{ name: 'sh', image: 'busybox:1.36', command: ['sh', '-c', 'echo "hello from $HOSTNAME"; sleep 3600'] }] } },
      },
    });
    const ready = await run({ kind: 'podsReady', selector: 'app=talker', count: 2, timeout: 60 }, target);
    expect(ready).toMatchObject({ passed: true, message: '2 pods with app=talker are Ready.' });
    expect((await run({ kind: 'rollout', resource: 'deploy', name: 'talker', timeout: 30 }, target)).message).toBe('The rollout of Deployment talker is complete.');
    expect((await run({ kind: 'condition', resource: 'deployment', name: 'talker', type: 'Available', timeout: 30 }, target)).passed).toBe(true);
    const logs = await run({ kind: 'logs', selector: 'app=talker', contains: 'hello from talker-', timeout: 20 }, target);
    expect(logs.passed, logs.message).toBe(true);
    const silent = await run({ kind: 'logs', selector: 'app=talker', contains: 'goodbye' }, target);
    expect(silent.message).toMatch(/^The log of pods with app=talker does not contain "goodbye" \(its last line is "hello from talker-[a-z0-9-]+"\)\.$/);

    await cluster.create(target.namespace, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'typo', labels: { app: 'typo' } }, spec: { containers: [{ name: 'web', image: 'ngnix:1.27' }] } });
    const broken = await run({ kind: 'podsReady', selector: 'app=typo', timeout: 5 }, target);
    expect(broken.passed).toBe(false);
    expect(broken.message).toMatch(/^0 of 1 pods with app=typo are Ready \(typo: (ErrImagePull|ImagePullBackOff)\); this step asks for all of them\.$/);
    const pulled = await run({ kind: 'event', reason: 'Failed', involvedKind: 'Pod', involvedName: 'typo', type: 'Warning', contains: 'ngnix', timeout: 20 }, target);
    expect(pulled.passed).toBe(true);
  }, 90_000);

  it('file checks read the workbench, never change it', async () => {
    const target = await sandbox();
    await cluster.create(
      target.namespace,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'learner' } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'workbench' },
        spec: { serviceAccountName: 'learner', containers: [{ name: 'workbench', image: 'formicary/workbench:1.0', volumeMounts: [{ name: 'home', mountPath: '/home/learner' }] }], volumes: [{ name: 'home', emptyDir: {} }] },
      },
    );
    expect((await run({ kind: 'condition', resource: 'pod', name: 'workbench', type: 'Ready', timeout: 60 }, target)).passed).toBe(true);
    expect(await run({ kind: 'file', path: '~/notes.txt', exists: true }, target)).toMatchObject({ passed: false, message: 'There is no file ~/notes.txt in your workbench yet.' });
    expect((await run({ kind: 'file', path: '~/notes.txt', exists: false }, target)).passed).toBe(true);
    await cluster.client.exec(target.namespace, 'workbench', 'workbench', ['bash', '-lc', 'printf "topic: pods\\nlevel: 2\\n" > ~/notes.txt']);
    expect((await run({ kind: 'file', path: '~/notes.txt', contains: 'level: 2' }, target)).passed).toBe(true);
    expect((await run({ kind: 'file', path: '/home/learner/notes.txt' }, target)).passed).toBe(true);
    expect(await run({ kind: 'file', path: '~/notes.txt', contains: 'level: 3' }, target)).toMatchObject({ passed: false, found: '~/notes.txt starts with "topic: pods"', message: '~/notes.txt does not contain "level: 3".' });
    expect(await run({ kind: 'file', path: '~/notes.txt', exists: false }, target)).toMatchObject({ passed: false, message: '~/notes.txt still exists; this step asks for it to be gone.' });
  }, 90_000);
});

describe('custom', () => {
  it('runs a function from checks.ts with read-only access to the sandbox', async () => {
    const target = await sandbox();
    const dir = await mkdtemp(join(tmpdir(), 'formicary-custom-'));
    try {
      const file = join(dir, 'checks.ts');
      await writeFile(
        file,
        `export const twoConfigMaps = async (ctx) => {
  const maps = (await ctx.list('cm')).filter((cm) => cm.metadata.name !== 'kube-root-ca.crt');
  return { passed: maps.length === 2, expected: '2 ConfigMaps', found: String(maps.length) + ' ConfigMaps' };
};
export const broken = async () => ({ passed: 'yes' });
`,
      );
      const withFile = { ...target, customChecksFile: file };
      await cluster.create(target.namespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' } });
      expect(await run({ kind: 'custom', name: 'twoConfigMaps' }, withFile)).toEqual({ kind: 'custom', passed: false, expected: '2 ConfigMaps', found: '1 ConfigMaps', message: 'Found 1 ConfigMaps; this step asks for 2 ConfigMaps.' });
      await cluster.create(target.namespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'two' } });
      expect((await run({ kind: 'custom', name: 'twoConfigMaps' }, withFile)).passed).toBe(true);
      expect((await run({ kind: 'custom', name: 'broken' }, withFile)).error).toMatch(/must resolve to \{ passed, expected, found, message\? \}/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('timeouts', () => {
  /** A clock the check's waiting moves: each pause passes at once, and `onPause` sees the time waited so far. */
  function steppedClock(onPause: (waitedMs: number) => Promise<void> = async () => undefined): CheckClock & { pauses: number[] } {
    let now = 0;
    const pauses: number[] = [];
    return {
      pauses,
      now: () => now,
      async sleep(ms) {
        pauses.push(ms);
        now += ms;
        await onPause(now);
      },
    };
  }

  it('keeps evaluating until the check passes, within its timeout', async () => {
    const target = await sandbox();
    // The ConfigMap appears after the second pause: the check passes on its third look, not before.
    const clock = steppedClock(async (waited) => {
      if (waited === 500) await cluster.create(target.namespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } });
    });
    const result = await evaluateCheck({ kind: 'exists', resource: 'cm', name: 'late', timeout: 5 }, target, { clock });
    expect(result.passed).toBe(true);
    expect(clock.pauses).toEqual([250, 250]);
  });

  it('gives up when the timeout is spent, or at the cap the portal sets, and waits not at all when told', async () => {
    const target = await sandbox();
    const oneSecond = steppedClock();
    const never = await evaluateCheck({ kind: 'exists', resource: 'cm', name: 'never', timeout: 1 }, target, { clock: oneSecond });
    expect(never).toMatchObject({ passed: false, message: expect.stringContaining('never') });
    expect(oneSecond.pauses).toEqual([250, 250, 250, 250]);
    const capped = steppedClock();
    expect((await evaluateCheck({ kind: 'exists', resource: 'cm', name: 'never', timeout: 30 }, target, { clock: capped, maxWaitMs: 5_000 })).passed).toBe(false);
    expect(capped.pauses.reduce((sum, ms) => sum + ms, 0)).toBe(5_000);
    const once = steppedClock();
    expect((await evaluateCheck({ kind: 'exists', resource: 'cm', name: 'never', timeout: 30 }, target, { clock: once, waitForTimeouts: false })).passed).toBe(false);
    expect(once.pauses).toEqual([]);
  });
});
