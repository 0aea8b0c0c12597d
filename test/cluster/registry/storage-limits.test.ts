// What the store holds at most: etcd's limit on one object, the namespace's byte budget (a
// learner is refused, the cluster's own components are not), and old versions that expire by
// bytes so a watch from before them gets 410, as after etcd's compaction.
import { afterEach, describe, expect, it } from 'vitest';
import type { UserInfo } from '../../../src/cluster/registry/index.ts';
import { serializedBytes } from '../../../src/cluster/registry/storage-limits.ts';
import { StatusError, type KubeObject } from '../../../src/cluster/types.ts';
import { openTestRegistry, type TestRegistry } from './helpers.ts';

const learner: UserInfo = { username: 'system:serviceaccount:lab-a:learner', groups: ['system:serviceaccounts', 'system:serviceaccounts:lab-a', 'system:authenticated'] };
const controller: UserInfo = { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] };

let t: TestRegistry | undefined;
afterEach(async () => {
  await t?.registry.close();
  t = undefined;
});

const configMap = (name: string, bytes: number): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { blob: 'x'.repeat(bytes) } });

function refusal(work: () => unknown): StatusError {
  try {
    work();
  } catch (error) {
    if (error instanceof StatusError) return error;
    throw error;
  }
  throw new Error('the write was not refused');
}

describe('storage limits', () => {
  it('refuses an object past 1.5 MiB with etcd’s error, for every user, and never a dry run', async () => {
    t = await openTestRegistry();
    const pods = t.def('', 'v1', 'pods');
    const huge: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'huge' }, spec: { containers: [{ name: 'c', image: 'busybox', env: [{ name: 'BLOB', value: 'e'.repeat(1_600_000) }] }] } };
    const error = refusal(() => t!.registry.create(pods, 'default', huge, { user: { username: 'kubernetes-admin', groups: ['system:masters'] } }));
    expect(error.status).toMatchObject({ code: 500, message: 'etcdserver: request is too large' });
    expect(error.status.reason).toBeUndefined();
    expect(t.registry.create(pods, 'default', huge, { dryRun: true }).metadata.name).toBe('huge');
  });

  it('keeps a namespace within its budget for learners, counting growth only, and lets the cluster’s own writes through', async () => {
    t = await openTestRegistry({ limits: { namespaceBytes: 50_000 } });
    const configmaps = t.def('', 'v1', 'configmaps');
    t.registry.create(t.def('', 'v1', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lab-a' } });
    t.registry.create(configmaps, 'lab-a', configMap('one', 20_000), { user: learner });
    t.registry.create(configmaps, 'lab-a', configMap('two', 20_000), { user: learner });
    const error = refusal(() => t!.registry.create(configmaps, 'lab-a', configMap('three', 20_000), { user: learner }));
    expect(error.status).toMatchObject({ code: 403, reason: 'Forbidden', details: { name: 'three', kind: 'configmaps' } });
    expect(error.status.message).toMatch(
      /^configmaps "three" is forbidden: exceeded the storage budget of namespace "lab-a": requested: \d+ bytes, used: \d+ bytes, limited: 50000 bytes \(the embedded cluster stores at most 49 KiB of objects a namespace; delete objects you no longer need\)$/,
    );
    // Shrinking is always allowed; the cluster's own components are never refused.
    t.registry.update(configmaps, 'lab-a', 'one', configMap('one', 10), { user: learner });
    t.registry.create(configmaps, 'lab-a', configMap('three', 20_000), { user: learner });
    t.registry.create(configmaps, 'lab-a', configMap('four', 20_000), { user: controller });
    expect(refusal(() => t!.registry.create(configmaps, 'lab-a', configMap('five', 100), { user: learner })).code).toBe(403);
    // Another namespace has a budget of its own.
    t.registry.create(t.def('', 'v1', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lab-b' } });
    expect(t.registry.create(configmaps, 'lab-b', configMap('one', 20_000), { user: learner }).metadata.name).toBe('one');
    // Deleting makes room.
    t.registry.delete(configmaps, 'lab-a', 'three', { user: learner });
    t.registry.delete(configmaps, 'lab-a', 'four', { user: learner });
    expect(t.registry.create(configmaps, 'lab-a', configMap('five', 20_000), { user: learner }).metadata.name).toBe('five');
  });

  it('lets old versions expire by bytes: a watch from before them is told 410', async () => {
    t = await openTestRegistry({ limits: { historyBytes: 100_000 } });
    const configmaps = t.def('', 'v1', 'configmaps');
    const first = t.registry.create(configmaps, 'default', configMap('churn', 10_000));
    for (let i = 0; i < 30; i++) t.registry.update(configmaps, 'default', 'churn', { ...configMap('churn', 10_000 + i) });
    const error = refusal(() => t!.registry.watch(configmaps, { namespace: 'default', resourceVersion: first.metadata.resourceVersion }, () => undefined));
    expect(error.status).toMatchObject({ code: 410, reason: 'Expired' });
    expect(error.status.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
    // Recent versions are still there to resume from.
    const latest = t.registry.get(configmaps, 'default', 'churn').metadata.resourceVersion as string;
    const events: string[] = [];
    const watch = t.registry.watch(configmaps, { namespace: 'default', resourceVersion: String(Number(latest) - 2) }, (event) => events.push(event.type));
    expect(events).toEqual(['MODIFIED', 'MODIFIED']);
    watch.stop();
  });

  it('counts an object\'s bytes as its JSON has them, escapes and UTF-8 included', () => {
    const objects: KubeObject[] = [
      configMap('plain', 1_000),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'text', labels: { 'app.kubernetes.io/name': 'web' }, annotations: { note: 'say "hi"\\n\ttab\u0001\u007f' } }, data: { 'grüße.txt': 'Grüße, 世界 🐜', lone: '\ud800 and \udc00' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'numbers', generation: 3 }, spec: { priority: -0, ratio: 0.1, big: 1e21, small: 1e-7, none: null, empty: {}, list: [], mixed: [1, 'a', null, true, false, { nested: [[]] }], skipped: undefined, holes: [undefined, () => 1] } },
      { apiVersion: 'v1', kind: 'Event', metadata: { name: 'dated' }, eventTime: new Date(0) } as unknown as KubeObject,
    ];
    for (const object of objects) expect(serializedBytes(object)).toBe(Buffer.byteLength(JSON.stringify(object)));
  });
});
