// The host's disk running low: the kubelet's eviction manager sees nodefs.available under its
// threshold, the node reports DiskPressure and is tainted so nothing new lands on it, the pod
// using the most of the disk is evicted with upstream's message, pods that use little keep
// running, and once the disk is back above the threshold the pressure clears.
// The threshold is set just under what is free now, so only a few hundred MiB are written.
import { rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/types.ts';
import { type KubeletCluster, startKubeletCluster } from '../cluster/kubelet/harness.ts';

const MiB = 1024 * 1024;
const ns = 'pressure';
let lab: KubeletCluster;
// Stands for what other programs on the host write: no single pod may cross the reserve alone
// (its file system is only made while the host keeps its reserve even if the pod filled it).
const hostFile = join(tmpdir(), `formicary-disk-pressure-${process.pid}`);

function free(): number {
  const disk = statfsSync(tmpdir());
  return disk.bavail * disk.bsize;
}

function status(pod: KubeObject | undefined): { phase?: string; reason?: string; message?: string } {
  return (pod?.status ?? {}) as { phase?: string; reason?: string; message?: string };
}

function nodeOf(): KubeObject {
  const definition = lab.cluster.registry.lookup('', 'v1', 'nodes')!;
  return lab.cluster.registry.get(definition, undefined, 'node-1');
}

function diskPressure(): string | undefined {
  const conditions = ((nodeOf().status ?? {}) as { conditions?: Array<{ type: string; status: string }> }).conditions ?? [];
  return conditions.find((c) => c.type === 'DiskPressure')?.status;
}

function taints(): Array<{ key: string; effect: string }> {
  return ((nodeOf().spec ?? {}) as { taints?: Array<{ key: string; effect: string }> }).taints ?? [];
}

beforeAll(async () => {
  // 400 MiB above the reserve now; the writer's file system is 256 MiB.
  lab = await startKubeletCluster({ nodes: 1, timeScale: 0.1, kubelet: { hostDiskReserveBytes: free() - 400 * MiB, unlimitedPodStorageBytes: 256 * MiB } });
  await lab.apply(`apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
`);
  await lab.serviceAccountReady(ns);
}, 60_000);
afterAll(async () => {
  rmSync(hostFile, { force: true });
  await lab?.stop();
});

describe('a node low on disk', () => {
  it('evicts the pod filling the disk with upstream message, taints the node and clears once the disk is freed', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  containers:
  - name: writer
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
---
apiVersion: v1
kind: Pod
metadata: {name: quiet}
spec:
  containers:
  - name: quiet
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
    resources: {limits: {ephemeral-storage: 8Mi}}
`,
      ns,
    );
    for (const name of ['writer', 'quiet']) await lab.until(`${name} running`, () => status(lab.pod(ns, name)).phase === 'Running', 60_000);
    expect(diskPressure()).toBe('False');

    writeFileSync(hostFile, Buffer.alloc(250 * MiB, 1));
    // The writer fills its file system (it stops at its ceiling, or when the pod is evicted).
    await lab.kubectl(['exec', '-n', ns, 'writer', '--', 'dd', 'if=/dev/zero', 'of=/tmp/fill', 'bs=1M', 'count=250'], { timeoutMs: 60_000 });

    const evicted = await lab.until('writer evicted', () => status(lab.pod(ns, 'writer')).reason === 'Evicted' && status(lab.pod(ns, 'writer')), 60_000);
    expect(evicted.phase).toBe('Failed');
    expect(evicted.message).toMatch(
      /^The node was low on resource: ephemeral-storage\. Threshold quantity: \d+(Ki|Mi)?, available: \d+(Ki|Mi)?\. Container writer was using \d+(Ki|Mi)?, request is 0, has larger consumption of ephemeral-storage\. $/,
    );
    const event = lab.events(ns, 'writer').find((e) => e.reason === 'Evicted');
    expect(event?.type).toBe('Warning');

    await lab.until('DiskPressure True', () => diskPressure() === 'True', 30_000);
    await lab.until('the disk-pressure taint', () => taints().some((t) => t.key === 'node.kubernetes.io/disk-pressure' && t.effect === 'NoSchedule'), 30_000);
    const described = await lab.kubectl(['describe', 'node', 'node-1']);
    expect(described.stdout).toMatch(/Taints:\s+node\.kubernetes\.io\/disk-pressure:NoSchedule/);
    expect(described.stdout).toMatch(/DiskPressure\s+True\s.*KubeletHasDiskPressure\s+kubelet has disk pressure/);

    // Nothing new lands on the node while the pressure lasts.
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: late}
spec:
  containers:
  - name: late
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
`,
      ns,
    );
    const unscheduled = await lab.until('late unschedulable', () => lab.events(ns, 'late').find((e) => e.reason === 'FailedScheduling'), 30_000);
    expect(unscheduled.message).toMatch(/untolerated taint/);
    expect(status(lab.pod(ns, 'late')).phase).toBe('Pending');
    expect((lab.pod(ns, 'late')?.spec as { nodeName?: string } | undefined)?.nodeName).toBeUndefined();
    expect(status(lab.pod(ns, 'quiet')).phase).toBe('Running');

    // The writer's file system went with it: the disk is above the threshold again, the pressure clears.
    rmSync(hostFile, { force: true });
    await lab.until('DiskPressure False', () => diskPressure() === 'False', 90_000);
    await lab.until('the taint removed', () => !taints().some((t) => t.key === 'node.kubernetes.io/disk-pressure'), 30_000);
    await lab.until('late running', () => status(lab.pod(ns, 'late')).phase === 'Running', 60_000);
    expect(status(lab.pod(ns, 'quiet')).phase).toBe('Running');
    expect(status(lab.pod(ns, 'quiet')).reason).toBeUndefined();
  }, 240_000);
});
