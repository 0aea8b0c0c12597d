// Deployments and ReplicaSets as a kubectl user meets them: rollout status, history and undo,
// scale, set image, Recreate, pause/resume, restart, progress deadlines, history limits, and the
// events `kubectl describe` shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { startTestCluster, type TestCluster } from './harness.ts';

let t: TestCluster;

beforeAll(async () => {
  t = await startTestCluster();
});

afterAll(async () => {
  await t?.stop();
});

async function namespace(name: string): Promise<string> {
  const created = await t.kubectl(['create', 'namespace', name]);
  expect(created.code, created.stderr).toBe(0);
  return name;
}

function replicaSets(ns: string): KubeObject[] {
  return t.list('apps', 'v1', 'replicasets', ns);
}

function revision(object: KubeObject): string | undefined {
  return object.metadata.annotations?.['deployment.kubernetes.io/revision'];
}

function eventMessages(ns: string, reason: string): string[] {
  return t
    .list('', 'v1', 'events', ns)
    .filter((e) => e['reason'] === reason)
    .map((e) => String(e['message']));
}

describe('Deployment rollout', () => {
  it('creates a ReplicaSet <deployment>-<pod-template-hash> whose pods become available, as rollout status reports', async () => {
    const ns = await namespace('rollout');
    expect((await t.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx', '--replicas=3'])).code).toBe(0);
    const status = await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s']);
    expect(status.stdout).toContain('deployment "web" successfully rolled out');
    expect(status.code).toBe(0);

    const [rs] = replicaSets(ns);
    const hash = rs?.metadata.labels?.['pod-template-hash'];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(rs?.metadata.name).toBe(`web-${hash}`);
    expect(revision(rs as KubeObject)).toBe('1');
    expect(rs?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true, blockOwnerDeletion: true });
    const pods = t.list('', 'v1', 'pods', ns);
    expect(pods).toHaveLength(3);
    for (const pod of pods) expect(pod.metadata.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));

    await t.settle();
    const deployment = t.get('apps', 'v1', 'deployments', ns, 'web') as KubeObject;
    expect(deployment.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    // The revision annotation goes in with the status, as upstream's UpdateStatus: no new generation.
    expect(deployment.metadata.generation).toBe(1);
    expect(deployment.status).toMatchObject({ observedGeneration: 1 });
    const conditions = (deployment.status as { conditions: Array<Record<string, string>> }).conditions;
    expect(conditions.map((c) => [c['type'], c['status'], c['reason'], c['message']])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'],
      ['Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "web-${hash}" has successfully progressed.`],
    ]);
    expect(eventMessages(ns, 'ScalingReplicaSet')).toEqual([`Scaled up replica set web-${hash} from 0 to 3`]);
    expect(eventMessages(ns, 'SuccessfulCreate').sort()).toEqual(pods.map((p) => `Created pod: ${p.metadata.name}`).sort());
    expect(eventMessages(ns, 'Scheduled')).toHaveLength(3);

    const describe = await t.kubectl(['-n', ns, 'describe', 'deployment', 'web']);
    expect(describe.stdout).toMatch(/Replicas:\s+3 desired \| 3 updated \| 3 total \| 3 available \| 0 unavailable/);
    expect(describe.stdout).toContain(`NewReplicaSet:   web-${hash} (3/3 replicas created)`);
    expect(describe.stdout).toMatch(new RegExp(`ScalingReplicaSet\\s+\\S+\\s+deployment-controller\\s+Scaled up replica set web-${hash} from 0 to 3`));
  });

  it('rolls a new image out, keeps history, and rolls back with undo', async () => {
    const ns = await namespace('history');
    await t.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx:1.26', '--replicas=4']);
    expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s'])).code).toBe(0);
    expect((await t.kubectl(['-n', ns, 'set', 'image', 'deployment/web', 'nginx=nginx:1.27'])).code).toBe(0);
    // Annotated after the change, as the docs advise: the annotation is copied to the new ReplicaSet only.
    await t.kubectl(['-n', ns, 'annotate', 'deployment/web', 'kubernetes.io/change-cause=update to 1.27']);
    expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s'])).code).toBe(0);
    await t.settle();

    const byRevision = new Map(replicaSets(ns).map((rs) => [revision(rs), rs]));
    expect([...byRevision.keys()].sort()).toEqual(['1', '2']);
    expect((byRevision.get('1')?.spec as { replicas: number }).replicas).toBe(0);
    expect((byRevision.get('2')?.spec as { replicas: number }).replicas).toBe(4);
    const pods = t.list('', 'v1', 'pods', ns);
    expect(pods.map((p) => (p.spec as { containers: Array<{ image: string }> }).containers[0]?.image)).toEqual(Array(4).fill('nginx:1.27'));
    // Rolling: never more than replicas + maxSurge (1) pods, never fewer than replicas - maxUnavailable (1) available.
    const scaling = eventMessages(ns, 'ScalingReplicaSet');
    expect(scaling[0]).toMatch(/^Scaled up replica set web-\w+ from 0 to 4$/);
    expect(scaling.some((m) => /^Scaled down replica set web-\w+ from 4 to [23]$/.test(m))).toBe(true);

    const history = await t.kubectl(['-n', ns, 'rollout', 'history', 'deployment/web']);
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+update to 1.27\n/);

    expect((await t.kubectl(['-n', ns, 'rollout', 'undo', 'deployment/web'])).stdout).toContain('deployment.apps/web rolled back');
    expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s'])).code).toBe(0);
    await t.settle();
    const after = await t.kubectl(['-n', ns, 'rollout', 'history', 'deployment/web']);
    // undo puts the old ReplicaSet's annotations back on the Deployment: revision 3 has no cause.
    expect(after.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+update to 1.27\n3\s+<none>\n/);
    const restored = replicaSets(ns).find((rs) => revision(rs) === '3');
    expect(restored?.metadata.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1');
    expect(t.list('', 'v1', 'pods', ns).every((p) => (p.spec as { containers: Array<{ image: string }> }).containers[0]?.image === 'nginx:1.26')).toBe(true);
    expect((t.get('apps', 'v1', 'deployments', ns, 'web') as KubeObject).metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
  });

  it('undo to a revision made from an applied manifest reuses its ReplicaSet (kubectl sends the template with creationTimestamp: null)', async () => {
    const ns = await namespace('undo-applied');
    const manifest = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.26' }] } } },
    });
    const applied = await t.kubectl(['-n', ns, 'apply', '-f', '-'], { stdin: manifest });
    expect(applied.code, applied.stderr).toBe(0);
    expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s'])).code).toBe(0);
    expect((await t.kubectl(['-n', ns, 'set', 'image', 'deployment/web', 'nginx=nginx:1.27'])).code).toBe(0);
    expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s'])).code).toBe(0);
    expect((await t.kubectl(['-n', ns, 'rollout', 'undo', 'deployment/web', '--to-revision=1'])).code).toBe(0);
    expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s'])).code).toBe(0);
    await t.settle();
    const sets = replicaSets(ns);
    expect(sets).toHaveLength(2);
    const current = sets.find((rs) => revision(rs) === '3');
    expect((current?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image).toBe('nginx:1.26');
  });

  it('scales with kubectl scale and reports it as a scaling event', async () => {
    const ns = await namespace('scale');
    await t.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
    await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s']);
    const scaled = await t.kubectl(['-n', ns, 'scale', 'deployment/web', '--replicas=5']);
    expect(scaled.stdout).toContain('deployment.apps/web scaled');
    expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s'])).code).toBe(0);
    await t.settle();
    expect(t.list('', 'v1', 'pods', ns)).toHaveLength(5);
    const get = await t.kubectl(['-n', ns, 'get', 'deployment', 'web']);
    expect(get.stdout).toMatch(/web\s+5\/5\s+5\s+5\s+/);
    expect(eventMessages(ns, 'ScalingReplicaSet')).toContainEqual(expect.stringMatching(/^Scaled up replica set web-\w+ from 2 to 5$/));

    await t.kubectl(['-n', ns, 'scale', 'deployment/web', '--replicas=1']);
    await t.until('one pod left', () => t.list('', 'v1', 'pods', ns).length === 1);
    expect(t.list('apps', 'v1', 'replicasets', ns)[0]?.metadata.annotations?.['deployment.kubernetes.io/desired-replicas']).toBe('1');
  });

  it('Recreate removes every old pod before the new ReplicaSet scales up', async () => {
    const ns = await namespace('recreate');
    await t.kubectl(['-n', ns, 'apply', '-f', '-'], {
      stdin: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'db' },
        spec: { replicas: 2, strategy: { type: 'Recreate' }, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:16' }] } } },
      }),
    });
    expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/db', '--timeout=20s'])).code).toBe(0);
    const seen: Array<{ old: number; fresh: number }> = [];
    const pods = t.def('', 'v1', 'pods');
    const watch = t.registry.watch(pods, { namespace: ns }, () => {
      const live = t.registry.list(pods, { namespace: ns }).items.filter((p) => !p.metadata.deletionTimestamp);
      const images = live.map((p) => (p.spec as { containers: Array<{ image: string }> }).containers[0]?.image);
      seen.push({ old: images.filter((i) => i === 'postgres:16').length, fresh: images.filter((i) => i === 'postgres:17').length });
    });
    await t.kubectl(['-n', ns, 'set', 'image', 'deployment/db', 'db=postgres:17']);
    expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/db', '--timeout=20s'])).code).toBe(0);
    watch.stop();
    expect(seen.some((s) => s.old > 0 && s.fresh > 0)).toBe(false);
    expect(seen.at(-1)).toEqual({ old: 0, fresh: 2 });
    const scaling = eventMessages(ns, 'ScalingReplicaSet');
    expect(scaling.at(-2)).toMatch(/^Scaled down replica set db-\w+ from 2 to 0$/);
    expect(scaling.at(-1)).toMatch(/^Scaled up replica set db-\w+ from 0 to 2$/);
  });

  it('a paused Deployment starts no rollout until resumed', async () => {
    const ns = await namespace('paused');
    await t.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx:1.26', '--replicas=2']);
    await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s']);
    expect((await t.kubectl(['-n', ns, 'rollout', 'pause', 'deployment/web'])).stdout).toContain('deployment.apps/web paused');
    await t.kubectl(['-n', ns, 'set', 'image', 'deployment/web', 'nginx=nginx:1.27']);
    await t.settle();
    expect(replicaSets(ns)).toHaveLength(1);
    const paused = t.get('apps', 'v1', 'deployments', ns, 'web') as KubeObject;
    expect((paused.status as { conditions: Array<Record<string, string>> }).conditions.find((c) => c['type'] === 'Progressing')).toMatchObject({
      status: 'Unknown',
      reason: 'DeploymentPaused',
      message: 'Deployment is paused',
    });
    expect((await t.kubectl(['-n', ns, 'rollout', 'resume', 'deployment/web'])).stdout).toContain('deployment.apps/web resumed');
    expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s'])).code).toBe(0);
    await t.settle();
    expect(replicaSets(ns)).toHaveLength(2);
  });

  it('rollout restart rolls out a new ReplicaSet with the same image', async () => {
    const ns = await namespace('restart');
    await t.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
    await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s']);
    const before = new Set(t.list('', 'v1', 'pods', ns).map((p) => p.metadata.name));
    expect((await t.kubectl(['-n', ns, 'rollout', 'restart', 'deployment/web'])).stdout).toContain('deployment.apps/web restarted');
    expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s'])).code).toBe(0);
    await t.until('old pods gone', () => t.list('', 'v1', 'pods', ns).every((p) => !before.has(p.metadata.name)));
    const newest = replicaSets(ns).find((rs) => revision(rs) === '2') as KubeObject;
    const template = (newest.spec as { template: { metadata: { annotations: Record<string, string> } } }).template;
    expect(template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBeTruthy();
  });

  it('a rollout that makes no progress reports ProgressDeadlineExceeded and rollout status fails', async () => {
    const ns = await namespace('deadline');
    t.kubelet.behaviour.ready = (pod) => pod.metadata.namespace !== ns;
    await t.kubectl(['-n', ns, 'apply', '-f', '-'], {
      stdin: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'stuck' },
        spec: { replicas: 1, progressDeadlineSeconds: 1, selector: { matchLabels: { app: 'stuck' } }, template: { metadata: { labels: { app: 'stuck' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
      }),
    });
    const status = await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/stuck', '--timeout=20s']);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('error: deployment "stuck" exceeded its progress deadline');
    const deployment = t.get('apps', 'v1', 'deployments', ns, 'stuck') as KubeObject;
    const progressing = (deployment.status as { conditions: Array<Record<string, string>> }).conditions.find((c) => c['type'] === 'Progressing');
    expect(progressing).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(progressing?.['message']).toMatch(/^ReplicaSet "stuck-\w+" has timed out progressing\.$/);
    t.kubelet.behaviour.ready = undefined;
  });

  it('keeps only revisionHistoryLimit old ReplicaSets', async () => {
    const ns = await namespace('cleanup');
    await t.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx:1.20', '--replicas=1']);
    await t.kubectl(['-n', ns, 'patch', 'deployment/web', '-p', '{"spec":{"revisionHistoryLimit":1}}']);
    for (const tag of ['1.21', '1.22', '1.23']) {
      await t.kubectl(['-n', ns, 'set', 'image', 'deployment/web', `nginx=nginx:${tag}`]);
      expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s'])).code).toBe(0);
    }
    await t.settle();
    await t.until('old ReplicaSets cleaned up', () => replicaSets(ns).length === 2);
    expect(replicaSets(ns).map(revision).sort()).toEqual(['3', '4']);
  });

  it('a ReplicaSet under a ResourceQuota reports the admission error as FailedCreate', async () => {
    const ns = await namespace('quota');
    await t.kubectl(['-n', ns, 'create', 'quota', 'pods', '--hard=pods=2']);
    await t.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx', '--replicas=3']);
    await t.until('two pods', () => t.list('', 'v1', 'pods', ns).length === 2);
    const failure = await t.until('FailedCreate', () => eventMessages(ns, 'FailedCreate')[0]);
    expect(failure).toMatch(/^Error creating: pods "web-\w+-\w{5}" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2$/);
    const rs = await t.until('ReplicaFailure', () => replicaSets(ns).find((r) => JSON.stringify(r.status).includes('ReplicaFailure')));
    expect((rs.status as { conditions: Array<Record<string, string>> }).conditions[0]).toMatchObject({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate' });
    const deployment = await t.until('deployment ReplicaFailure', () => {
      const d = t.get('apps', 'v1', 'deployments', ns, 'web');
      return JSON.stringify(d?.status).includes('ReplicaFailure') ? d : undefined;
    });
    expect(JSON.stringify(deployment.status)).toContain('exceeded quota');
    t.list('', 'v1', 'pods', ns);
  });
});
