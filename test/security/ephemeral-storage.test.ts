// A learner filling the disk: the kubelet measures each pod's local storage and evicts a pod past
// its containers' ephemeral-storage limits or an emptyDir's sizeLimit, with the eviction manager's
// reason, message and event; and whatever the limits, writes stop at the pod's own file system's
// ceiling, so `dd` of several GB never reaches the host's disk.
import { existsSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/types.ts';
import { type KubeletCluster, phase, startKubeletCluster } from '../cluster/kubelet/harness.ts';
import { startSecurityFixture, type Learner, type SecurityFixture } from './learner.ts';

const MiB = 1024 * 1024;
let lab: KubeletCluster;
const ns = 'disk';

beforeAll(async () => {
  // A pod without limits gets a 64 MiB file system here (1 GiB by default): small enough for CI.
  lab = await startKubeletCluster({ nodes: 1, kubelet: { unlimitedPodStorageBytes: 64 * MiB } });
  await lab.apply(`apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
`);
  await lab.serviceAccountReady(ns);
}, 60_000);
afterAll(async () => {
  await lab?.stop();
});

function status(pod: KubeObject | undefined): { phase?: string; reason?: string; message?: string } {
  return (pod?.status ?? {}) as { phase?: string; reason?: string; message?: string };
}

async function evicted(name: string): Promise<{ phase?: string; reason?: string; message?: string }> {
  return lab.until(`${name} evicted`, () => status(lab.pod(ns, name)).reason === 'Evicted' && status(lab.pod(ns, name)), 30_000);
}

describe('a pod past its ephemeral-storage limit', () => {
  it('is evicted as the kubelet does: phase Failed, reason Evicted, the upstream message and a Warning event', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: filler}
spec:
  containers:
  - name: filler
    image: busybox
    command: [sh, -c, 'dd if=/dev/zero of=/tmp/fill bs=1M count=30 2>/dev/null; exec sleep 3600']
    resources: {limits: {ephemeral-storage: 20Mi}}
`,
      ns,
    );
    const final = await evicted('filler');
    const message = 'Pod ephemeral local storage usage exceeds the total limit of containers 20Mi. ';
    expect(final).toMatchObject({ phase: 'Failed', reason: 'Evicted', message });
    expect(lab.events(ns, 'filler')).toContainEqual({ type: 'Warning', reason: 'Evicted', message });
    const described = await lab.kubectl(['describe', 'pod', 'filler', '-n', ns]);
    expect(described.stdout).toMatch(/Status:\s+Failed\nReason:\s+Evicted\nMessage:\s+Pod ephemeral local storage usage exceeds the total limit of containers 20Mi\./);
  });

  it('is evicted when one container passes its own limit while the pod stays under the sum', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  containers:
  - name: quiet
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
    resources: {limits: {ephemeral-storage: 40Mi}}
  - name: hog
    image: busybox
    command: [sh, -c, 'dd if=/dev/zero of=/tmp/fill bs=1M count=30 2>/dev/null; exec sleep 3600']
    resources: {limits: {ephemeral-storage: 20Mi}}
`,
      ns,
    );
    const message = 'Container hog exceeded its local ephemeral storage limit "20Mi". ';
    expect(await evicted('two')).toMatchObject({ phase: 'Failed', reason: 'Evicted', message });
    expect(lab.events(ns, 'two')).toContainEqual({ type: 'Warning', reason: 'Evicted', message });
  });

  it('is evicted when an emptyDir passes its sizeLimit, even with no container limits', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: cache}
spec:
  containers:
  - name: cache
    image: busybox
    command: [sh, -c, 'dd if=/dev/zero of=/cache/blob bs=1M count=30 2>/dev/null; exec sleep 3600']
    volumeMounts: [{name: scratch, mountPath: /cache}]
  volumes:
  - {name: scratch, emptyDir: {sizeLimit: 20Mi}}
`,
      ns,
    );
    const message = 'Usage of EmptyDir volume "scratch" exceeds the limit "20Mi". ';
    expect(await evicted('cache')).toMatchObject({ phase: 'Failed', reason: 'Evicted', message });
    expect(lab.events(ns, 'cache')).toContainEqual({ type: 'Warning', reason: 'Evicted', message });
  });

  it('is left alone while it stays within its limits', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: modest}
spec:
  containers:
  - name: modest
    image: busybox
    command: [sh, -c, 'dd if=/dev/zero of=/tmp/fill bs=1M count=5 2>/dev/null; exec sleep 3600']
    resources: {limits: {ephemeral-storage: 20Mi}}
    volumeMounts: [{name: scratch, mountPath: /cache}]
  volumes:
  - {name: scratch, emptyDir: {sizeLimit: 20Mi}}
`,
      ns,
    );
    await lab.until('modest running', () => phase(lab.pod(ns, 'modest')) === 'Running');
    const wrote = await lab.kubectl(['exec', '-n', ns, 'modest', '--', 'sh', '-c', 'dd if=/dev/zero of=/cache/blob bs=1M count=5 2>/dev/null && du -sk /tmp/fill /cache/blob']);
    expect(wrote.code, wrote.stderr).toBe(0);
    expect(wrote.stdout).toMatch(/^5\d{3}\s+\/tmp\/fill\n5\d{3}\s+\/cache\/blob\n$/);
    // Its file system is twice its limit and 16 MiB more: room to pass the limit and be evicted, then a wall.
    expect(statSync(join(lab.kubeletDir, 'ephemeral', `${lab.pod(ns, 'modest')?.metadata.uid ?? ''}.img`)).size).toBe(56 * MiB);
    // Several eviction passes later (one every 200 ms here) it still runs.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(status(lab.pod(ns, 'modest'))).toMatchObject({ phase: 'Running' });
    expect(lab.events(ns, 'modest').filter((event) => event.reason === 'Evicted')).toEqual([]);
  });
});

describe('a learner writing several GB', () => {
  it('stops at the file system ceiling with ENOSPC, in /tmp and ~ alike, and the host keeps its disk', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: workbench}
spec:
  containers:
  - name: workbench
    image: formicary/workbench:1.0
    volumeMounts: [{name: home, mountPath: /home/learner}]
  volumes: [{name: home, emptyDir: {}}]
`,
      ns,
    );
    await lab.until('the workbench running', () => phase(lab.pod(ns, 'workbench')) === 'Running', 60_000);
    const uid = lab.pod(ns, 'workbench')?.metadata.uid ?? '';
    const result = await lab.kubectl(['exec', '-n', ns, 'workbench', '--', 'bash', '-c', 'dd if=/dev/zero of=/tmp/fill bs=1M count=4096 2>&1 | head -1; dd if=/dev/zero of=~/fill bs=1M count=4096 2>&1 | head -1; du -sm /tmp/fill ~/fill'], { timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    const [tmpError, homeError, ...sizes] = result.stdout.trim().split('\n');
    expect(tmpError).toBe("dd: error writing '/tmp/fill': No space left on device");
    expect(homeError).toBe("dd: error writing '/home/learner/fill': No space left on device");
    const total = sizes.reduce((sum, line) => sum + Number(line.split(/\s+/)[0]), 0);
    expect(total).toBeGreaterThan(16);
    expect(total).toBeLessThanOrEqual(64);
    // What the host gave the pod is its image: the blocks it holds stay under the ceiling.
    const image = statSync(join(lab.kubeletDir, 'ephemeral', `${uid}.img`));
    expect(image.size).toBe(64 * MiB);
    expect(image.blocks * 512).toBeLessThanOrEqual(64 * MiB);
    // The learner frees the space and carries on.
    const after = await lab.kubectl(['exec', '-n', ns, 'workbench', '--', 'bash', '-c', 'rm /tmp/fill ~/fill && echo notes > ~/notes.txt && cat ~/notes.txt']);
    expect(after.stdout).toBe('notes\n');
  });

  it('a PersistentVolumeClaim is a file system of the size it asked for: writes stop there, and its data outlives the pod', async () => {
    await lab.apply(
      `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 20Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  containers:
  - name: writer
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
`,
      ns,
    );
    await lab.until('the writer running', () => phase(lab.pod(ns, 'writer')) === 'Running', 30_000);
    const filled = await lab.kubectl(['exec', '-n', ns, 'writer', '--', 'sh', '-c', 'dd if=/dev/zero of=/data/fill bs=1M count=4096 2>&1 | head -1; rm /data/fill; echo kept > /data/notes; du -sm /data | cut -f1']);
    expect(filled.code, filled.stderr).toBe(0);
    expect(filled.stdout).toMatch(/^dd: error writing '\/data\/fill': No space left on device\n\d+\n$/);
    expect((await lab.kubectl(['delete', 'pod', 'writer', '-n', ns, '--wait=true'])).code).toBe(0);
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  containers:
  - name: reader
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
`,
      ns,
    );
    await lab.until('the reader running', () => phase(lab.pod(ns, 'reader')) === 'Running', 30_000);
    const read = await lab.kubectl(['exec', '-n', ns, 'reader', '--', 'sh', '-c', 'cat /data/notes; df -k /data | tail -1']);
    expect(read.stdout.split('\n')[0]).toBe('kept');
    const size = Number(read.stdout.split('\n')[1]?.split(/\s+/)[1]);
    expect(size).toBeGreaterThan(10 * 1024);
    expect(size).toBeLessThanOrEqual(20 * 1024);

    // Deleting the claim frees its disk: create, fill, delete cannot pile up past the quota.
    const uid = (await lab.kubectl(['get', 'pvc', 'data', '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).stdout;
    const image = join(lab.kubeletDir, 'claim-images', `${uid}.img`);
    expect(existsSync(image)).toBe(true);
    expect((await lab.kubectl(['delete', 'pod', 'reader', '-n', ns, '--wait=true'])).code).toBe(0);
    expect((await lab.kubectl(['delete', 'pvc', 'data', '-n', ns, '--wait=true'])).code).toBe(0);
    await lab.until('the claim image gone', () => !existsSync(image) && !existsSync(join(lab.kubeletDir, 'claims', uid)));
  });
});

describe("a sandbox's disk budget", () => {
  const lab = {
    'lab.yaml': `title: Disk
summary: The learner has a sandbox.
duration: 5
timeLimit: 30
steps:
  - id: look
    title: Look around
    instructions: List the pods.
    checks:
      - kind: exists
        resource: pod
        name: workbench
        passesBefore: true
    solution:
      - kubectl get pods
`,
  };
  let fixture: SecurityFixture;
  let learner: Learner;
  beforeAll(async () => {
    fixture = await startSecurityFixture({ disk: lab });
    learner = await fixture.learner('disk');
  }, 120_000);
  afterAll(async () => {
    await fixture?.stop();
  });

  it('refuses a claim or a pod that asks for more disk than the sandbox has, with the quota message', async () => {
    const claim = await learner.kubectl(['create', '-f', '-'], {
      stdin: 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: huge}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 100Gi}}\n',
    });
    expect(claim.stderr).toBe(
      'Error from server (Forbidden): error when creating "STDIN": persistentvolumeclaims "huge" is forbidden: exceeded quota: lab-budget, requested: requests.storage=100Gi, used: requests.storage=0, limited: requests.storage=2Gi\n',
    );
    const pod = await learner.kubectl(['create', '-f', '-'], {
      stdin: `apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: big
    image: busybox
    command: [sleep, '3600']
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
    resources: {limits: {ephemeral-storage: 100Gi}}
`,
    });
    expect(pod.stderr).toMatch(
      /^Error from server \(Forbidden\): error when creating "STDIN": pods "big" is forbidden: exceeded quota: lab-budget, requested: limits\.ephemeral-storage=100Gi, used: limits\.ephemeral-storage=1Gi, limited: limits\.ephemeral-storage=5368709120\n$/,
    );
    const quota = await learner.kubectl(['get', 'resourcequota', 'lab-budget', '-o', 'jsonpath={.status.used.limits\\.ephemeral-storage}']);
    expect(quota.stdout).toBe('1Gi');
  });
});

describe("the host's disk", () => {
  let full: KubeletCluster;
  beforeAll(async () => {
    // A host whose reserve is more than is free: no pod's file system fits. (Node-pressure eviction
    // would taint the node and keep the pods Pending; its threshold is set apart here: disk-pressure.test.ts.)
    const disk = statfsSync(tmpdir());
    full = await startKubeletCluster({ nodes: 1, kubelet: { hostDiskReserveBytes: disk.bavail * disk.bsize + 10 * 1024 * MiB, hostDiskEvictionBytes: 0 } });
    await full.apply(`apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
`);
    await full.until('the default ServiceAccount', () => full.cluster.registry.list(full.cluster.registry.lookup('', 'v1', 'serviceaccounts')!, { namespace: ns }).items.length > 0);
  }, 60_000);
  afterAll(async () => {
    await full?.stop();
  });

  it('is never promised to pods beyond what it can hold: the container waits with CreateContainerError', async () => {
    await full.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: waits}
spec:
  containers:
  - name: waits
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
    resources: {limits: {ephemeral-storage: 20Mi}}
`,
      ns,
    );
    const event = await full.until('the Failed event', () => full.events(ns, 'waits').find((e) => e.reason === 'Failed'), 30_000);
    expect(event.type).toBe('Warning');
    expect(event.message).toMatch(/^Error: the node's disk cannot hold another 56Mi file system: \d+Mi free, \d+Mi promised to pods and claims, \d+Mi kept for the host$/);
    expect(status(full.pod(ns, 'waits')).phase).toBe('Pending');
    const table = await full.kubectl(['get', 'pod', 'waits', '-n', ns, '--no-headers']);
    expect(table.stdout).toMatch(/^waits\s+0\/1\s+CreateContainerError\s+0\s+/);
  });

  it('leaves a workbench waiting with the reason, not Ready with a shell that cannot open', async () => {
    await full.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: bench}
spec:
  containers:
  - name: shell
    image: formicary/workbench:1.0
    resources: {limits: {ephemeral-storage: 1Gi}}
`,
      ns,
    );
    const event = await full.until('the Failed event', () => full.events(ns, 'bench').find((e) => e.reason === 'Failed'), 30_000);
    expect(event.message).toMatch(/^Error: the node's disk cannot hold another 2064Mi file system: \d+Mi free, \d+Mi promised to pods and claims, \d+Mi kept for the host$/);
    const table = await full.kubectl(['get', 'pod', 'bench', '-n', ns, '--no-headers']);
    expect(table.stdout).toMatch(/^bench\s+0\/1\s+CreateContainerError\s+0\s+/);
  });
});
