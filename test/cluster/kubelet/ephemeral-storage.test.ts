// The eviction manager's local storage arithmetic, as upstream does it: the pod's limit from its
// containers, sidecars and init containers (resourcehelper.PodLimits), which check speaks first,
// and the size of the file system a pod gets.
import { describe, expect, it } from 'vitest';
import { localStorageEvictionMessage, nodeFsEvictionMessage, podEphemeralStorageLimit, podStorageCeilingBytes, rankForDiskPressure } from '../../../src/cluster/kubelet/ephemeral-storage/index.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';

const MiB = 1024 * 1024;

function pod(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec };
}

const limited = (name: string, limit: string, extra: Record<string, unknown> = {}) => ({ name, image: 'busybox', resources: { limits: { 'ephemeral-storage': limit } }, ...extra });

describe("a pod's ephemeral-storage limit", () => {
  it('is the sum of its containers that set one, and none when no container does', () => {
    expect(podEphemeralStorageLimit(pod({ containers: [limited('a', '20Mi'), limited('b', '1Gi'), { name: 'c', image: 'busybox' }] }))?.toString()).toBe('1044Mi');
    expect(podEphemeralStorageLimit(pod({ containers: [{ name: 'c', image: 'busybox' }] }))).toBeUndefined();
  });

  it('adds sidecars and takes a larger init container (with the sidecars before it) instead', () => {
    const spec = {
      initContainers: [limited('sidecar', '10Mi', { restartPolicy: 'Always' }), limited('setup', '100Mi')],
      containers: [limited('app', '20Mi')],
    };
    expect(podEphemeralStorageLimit(pod(spec))?.toString()).toBe('110Mi');
    expect(podEphemeralStorageLimit(pod({ ...spec, initContainers: [spec.initContainers[0], limited('setup', '5Mi')] }))?.toString()).toBe('30Mi');
  });
});

describe('which check evicts', () => {
  const spec = { containers: [limited('app', '20Mi'), limited('log', '20Mi')], volumes: [{ name: 'cache', emptyDir: { sizeLimit: '10Mi' } }] };
  const stats = (total: number, app: number, cache: number) => ({ totalBytes: total * MiB, containers: new Map([['app', app * MiB], ['log', 0]]), volumes: new Map([['cache', cache * MiB]]) });

  it('an emptyDir past its sizeLimit first, then the pod past its total, then a container past its own', () => {
    expect(localStorageEvictionMessage(pod(spec), stats(50, 30, 11))).toBe('Usage of EmptyDir volume "cache" exceeds the limit "10Mi". ');
    expect(localStorageEvictionMessage(pod(spec), stats(50, 30, 10))).toBe('Pod ephemeral local storage usage exceeds the total limit of containers 40Mi. ');
    expect(localStorageEvictionMessage(pod(spec), stats(35, 30, 5))).toBe('Container app exceeded its local ephemeral storage limit "20Mi". ');
    expect(localStorageEvictionMessage(pod(spec), stats(40, 20, 10))).toBeUndefined();
  });
});

describe("the pod's file system", () => {
  it('is twice the limit (or the emptyDir sizeLimits) and 16 MiB more, and the node default without a limit', () => {
    expect(podStorageCeilingBytes(pod({ containers: [limited('app', '20Mi')] }))).toBe(56 * MiB);
    expect(podStorageCeilingBytes(pod({ containers: [limited('app', '20Mi')], volumes: [{ name: 'v', emptyDir: { sizeLimit: '100Mi' } }] }))).toBe(216 * MiB);
    expect(podStorageCeilingBytes(pod({ containers: [{ name: 'c', image: 'busybox' }] }), 64 * MiB)).toBe(64 * MiB);
    expect(podStorageCeilingBytes(pod({ containers: [{ name: 'c', image: 'busybox' }] }))).toBe(1024 * MiB);
  });
});

describe('node-pressure eviction for the disk', () => {
  const candidate = (name: string, spec: Record<string, unknown>) => ({ evictable: true, pod: { ...pod(spec), metadata: { name, namespace: 'default' } }, storageStats: () => Promise.reject(new Error('unused')), evict: () => true });
  const usage = (total: number) => ({ totalBytes: total * MiB, containers: new Map([['c', total * MiB]]) });
  const requesting = (request: string) => ({ containers: [{ name: 'c', image: 'busybox', resources: { requests: { 'ephemeral-storage': request } } }] });

  it('ranks as rankDiskPressureFunc: past its request first, then lower priority, then the most past its request', () => {
    const ranked = rankForDiskPressure([
      { candidate: candidate('within', requesting('500Mi')), usage: usage(400) },
      { candidate: candidate('important', { ...requesting('0'), priority: 1000 }), usage: usage(300) },
      { candidate: candidate('small', requesting('0')), usage: usage(10) },
      { candidate: candidate('large', requesting('0')), usage: usage(200) },
    ]);
    expect(ranked.map((r) => r.candidate.pod.metadata.name)).toEqual(['large', 'small', 'important', 'within']);
  });

  it("says so in upstream's words, naming each container past its request", () => {
    const spec = { containers: [{ name: 'c', image: 'busybox' }, { name: 'd', image: 'busybox', resources: { requests: { 'ephemeral-storage': '1Gi' } } }] };
    const measured = { totalBytes: 300 * MiB, containers: new Map([['c', 200 * MiB], ['d', 100 * MiB]]) };
    expect(nodeFsEvictionMessage(pod(spec), measured, { availableBytes: 1000 * MiB, thresholdBytes: 2 * 1024 * MiB })).toBe(
      'The node was low on resource: ephemeral-storage. Threshold quantity: 2Gi, available: 1000Mi. Container c was using 200Mi, request is 0, has larger consumption of ephemeral-storage. ',
    );
  });
});
