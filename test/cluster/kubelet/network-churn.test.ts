// The pod network while other pods come and go (a StatefulSet's pods deleted and recreated, a
// rollout): a pod that already talks to the cluster DNS keeps reaching it through its gateway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, phase, startKubeletCluster } from './harness.ts';

let lab: KubeletCluster;
const ns = 'churn';

async function runPod(name: string): Promise<void> {
  await lab.kubectl(['run', name, '-n', ns, '--image=busybox:1.28', '--restart=Never', '--command', '--', 'sleep', '3600']);
  await lab.until(`${name} Running`, () => phase(lab.pod(ns, name)) === 'Running');
}

const lookup = (pod: string) => lab.kubectl(['exec', '-n', ns, pod, '--', 'nslookup', 'kubernetes.default'], { timeoutMs: 60_000 });

/** The MAC address the pod's neighbour cache holds for its gateway (10.244.<n>.1), as /proc/net/arp lists it. */
async function gatewayAddress(pod: string): Promise<string | undefined> {
  const ip = (lab.pod(ns, pod)?.status as { podIP?: string } | undefined)?.podIP ?? '';
  const gateway = ip.replace(/\.\d+$/, '.1');
  const table = (await lab.kubectl(['exec', '-n', ns, pod, '--', 'cat', '/proc/net/arp'])).stdout;
  return table.split('\n').map((line) => line.trim().split(/\s+/)).find((columns) => columns[0] === gateway)?.[3];
}

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.serviceAccountReady(ns);
  await runPod('client');
});
afterAll(async () => {
  await lab?.stop();
});

describe('the pod network while pods come and go', () => {
  it('keeps the gateway a pod learned: DNS answers at once after other pods were added and removed', { timeout: 180_000 }, async () => {
    expect((await lookup('client')).code).toBe(0);
    const learned = await gatewayAddress('client');
    expect(learned).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);

    // Other pods' veths join the node's bridge, then leave it.
    await lab.kubectl(['create', 'deployment', 'churn', '-n', ns, '--image=nginx', '--replicas=6']);
    const churn = () => lab.cluster.registry.list(lab.cluster.registry.lookup('', 'v1', 'pods')!, { namespace: ns, labelSelector: 'app=churn' }).items;
    await lab.until('6 churn pods Running', () => churn().filter((pod) => phase(pod) === 'Running').length === 6, 60_000);
    // A pod started now learns the gateway's address afresh: the one the client holds.
    await runPod('observer');
    expect((await lookup('observer')).code).toBe(0);
    expect(await gatewayAddress('observer')).toBe(learned);
    expect((await lookup('client')).stdout).toContain('Name:      kubernetes.default\nAddress 1: 10.96.0.1 kubernetes.default.svc.cluster.local\n');

    expect((await lab.kubectl(['delete', 'deployment', 'churn', '-n', ns])).code).toBe(0);
    await lab.until('the churn pods gone', () => churn().length === 0, 60_000);
    expect((await lookup('client')).stdout).toContain('Name:      kubernetes.default\nAddress 1: 10.96.0.1 kubernetes.default.svc.cluster.local\n');
    expect(await gatewayAddress('client')).toBe(learned);
  });
});
