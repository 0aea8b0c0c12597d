// Two clusters on one host (the portal's shared cluster and a learner's dedicated one, two portals,
// test clusters side by side): each gives its sandboxes host uids, and none may be another
// cluster's. A learner who is cluster-admin of a dedicated cluster, whose first sandbox is
// `sandbox-alice` there, must not run as the same host user as `sandbox-alice` of the shared
// cluster, or a leaked mount would hand them the other's 0700 files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, phase, startKubeletCluster } from '../cluster/kubelet/harness.ts';

const NAMESPACE = 'sandbox-alice';
let shared: KubeletCluster;
let dedicated: KubeletCluster;

beforeAll(async () => {
  [shared, dedicated] = await Promise.all([startKubeletCluster({ nodes: 1 }), startKubeletCluster({ nodes: 1 })]);
  for (const lab of [shared, dedicated]) expect((await lab.kubectl(['create', 'namespace', NAMESPACE])).code).toBe(0);
}, 60_000);
afterAll(async () => {
  await Promise.all([shared?.stop(), dedicated?.stop()]);
});

/** The same pod in each cluster, told apart by how long it sleeps (a command line the host can find). */
async function sleeper(lab: KubeletCluster, seconds: number): Promise<void> {
  await lab.serviceAccountReady(NAMESPACE);
  await lab.apply(
    `apiVersion: v1
kind: Pod
metadata: {name: sleeper}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: debian:12
    command: ["sh", "-c", "mkdir -p /scratch/mine && echo secret > /scratch/mine/note && chmod 700 /scratch/mine && exec sleep ${seconds}"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes: [{name: scratch, emptyDir: {}}]
`,
    NAMESPACE,
  );
  await lab.until(`${NAMESPACE}/sleeper running`, () => phase(lab.pod(NAMESPACE, 'sleeper')) === 'Running', 60_000);
}

/** The real uid, as the host sees it, of the process whose command line is exactly `sleep <seconds>`. */
function hostUidOf(seconds: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') !== `sleep\0${seconds}\0`) continue;
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (uid !== undefined) return Number(uid);
    } catch {
      // Ended while we looked.
    }
  }
  return undefined;
}

describe('sandbox identities of two clusters on one host', () => {
  it("runs the same-named first sandbox of each cluster as a different host user, and keeps each one's files from the other", async () => {
    const seconds = { shared: 3600 + (process.pid % 1000), dedicated: 5600 + (process.pid % 1000) };
    await Promise.all([sleeper(shared, seconds.shared), sleeper(dedicated, seconds.dedicated)]);
    // Running comes as the container starts: its shell reaches `exec sleep` a moment later.
    const uids = {
      shared: await shared.until(`sleep ${seconds.shared} on the host`, () => hostUidOf(seconds.shared)),
      dedicated: await dedicated.until(`sleep ${seconds.dedicated} on the host`, () => hostUidOf(seconds.dedicated)),
    };
    expect(uids.shared).not.toBe(uids.dedicated);
    // Neither is a user of the host: both come from the sandbox range, above the system's ids.
    expect(uids.shared).toBeGreaterThanOrEqual(1000);
    expect(uids.dedicated).toBeGreaterThanOrEqual(1000);
    // The files each pod made are its own host user's: the other's process could not open them.
    const note = (lab: KubeletCluster) => join(lab.kubeletDir, 'pods', lab.pod(NAMESPACE, 'sleeper')?.metadata.uid ?? '', 'volumes', 'scratch', 'mine');
    expect(statSync(note(shared)).uid).toBe(uids.shared);
    expect(statSync(note(dedicated)).uid).toBe(uids.dedicated);
    expect(statSync(note(shared)).mode & 0o777).toBe(0o700);
  }, 120_000);
});
