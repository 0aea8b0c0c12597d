// The scheduler as `kubectl describe pod` shows it: where pods go, and why a pod stays Pending —
// the FailedScheduling event and PodScheduled condition worded as kube-scheduler 1.33 words them.
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
  expect((await t.kubectl(['create', 'namespace', name])).code).toBe(0);
  return name;
}

async function applyPod(ns: string, pod: Record<string, unknown>): Promise<void> {
  const result = await t.kubectl(['-n', ns, 'apply', '-f', '-'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...pod }) });
  expect(result.code, result.stderr).toBe(0);
}

function podScheduled(ns: string, name: string): Record<string, string> | undefined {
  const pod = t.get('', 'v1', 'pods', ns, name);
  return ((pod?.status as { conditions?: Array<Record<string, string>> })?.conditions ?? []).find((c) => c['type'] === 'PodScheduled');
}

function nodeOf(ns: string, name: string): string | undefined {
  return (t.get('', 'v1', 'pods', ns, name)?.spec as { nodeName?: string } | undefined)?.nodeName;
}

describe('scheduler', () => {
  it('binds a pod to a node and says so in a Scheduled event', async () => {
    const ns = await namespace('bind');
    await applyPod(ns, { metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } });
    const node = await t.until('pod bound', () => nodeOf(ns, 'web'));
    expect(['node-1', 'node-2', 'node-3']).toContain(node);
    expect(podScheduled(ns, 'web')).toMatchObject({ status: 'True' });
    const describe = await t.kubectl(['-n', ns, 'describe', 'pod', 'web']);
    expect(describe.stdout).toMatch(new RegExp(`Scheduled\\s+\\S+\\s+default-scheduler\\s+Successfully assigned ${ns}/web to ${node}`));
  });

  it('spreads a ReplicaSet over the nodes', async () => {
    const ns = await namespace('spread');
    await t.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx', '--replicas=6']);
    await t.until('six pods bound', () => t.list('', 'v1', 'pods', ns).filter((p) => (p.spec as { nodeName?: string }).nodeName).length === 6);
    const perNode = new Map<string, number>();
    for (const pod of t.list('', 'v1', 'pods', ns)) {
      const node = (pod.spec as { nodeName: string }).nodeName;
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
    }
    expect([...perNode.values()].sort()).toEqual([2, 2, 2]);
  });

  it('leaves a pod that requests too much CPU Pending with the upstream FailedScheduling message', async () => {
    const ns = await namespace('insufficient');
    await applyPod(ns, { metadata: { name: 'big' }, spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '6' } } }] } });
    const message = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    const condition = await t.until('PodScheduled=False', () => (podScheduled(ns, 'big')?.['status'] === 'False' ? podScheduled(ns, 'big') : undefined));
    expect(condition).toMatchObject({ reason: 'Unschedulable', message });
    const describe = await t.kubectl(['-n', ns, 'describe', 'pod', 'big']);
    expect(describe.stdout).toMatch(/Status:\s+Pending/);
    expect(describe.stdout).toMatch(new RegExp(`Warning\\s+FailedScheduling\\s+\\d+s\\s+default-scheduler\\s+${message.replace(/[.()]/g, '\\$&')}`));
    const get = await t.kubectl(['-n', ns, 'get', 'pod', 'big']);
    expect(get.stdout).toMatch(/big\s+0\/1\s+Pending\s+0/);
  });

  it('counts requests already placed: memory and pods fill nodes up', async () => {
    const ns = await namespace('memory');
    for (const name of ['a', 'b', 'c']) {
      await applyPod(ns, { metadata: { name }, spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { memory: '5Gi' } } }] } });
    }
    await t.until('three bound', () => ['a', 'b', 'c'].every((name) => nodeOf(ns, name)));
    expect(new Set(['a', 'b', 'c'].map((name) => nodeOf(ns, name))).size).toBe(3);
    await applyPod(ns, { metadata: { name: 'd' }, spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { memory: '5Gi', cpu: '100m' } } }] } });
    const condition = await t.until('d unschedulable', () => (podScheduled(ns, 'd')?.['status'] === 'False' ? podScheduled(ns, 'd') : undefined));
    expect(condition['message']).toBe('0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.');
    // Room appears: the pending pod is tried again and lands where a pod left.
    await t.kubectl(['-n', ns, 'delete', 'pod', 'b', '--wait=false']);
    await t.until('d bound after b left', () => nodeOf(ns, 'd'));
  });

  it('honours taints and tolerations, nodeSelector and required node affinity', async () => {
    const ns = await namespace('placement');
    await t.kubectl(['taint', 'nodes', 'node-1', 'node-2', 'node-3', 'dedicated=db:NoSchedule']);
    try {
      await applyPod(ns, { metadata: { name: 'plain' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
      const tainted = await t.until('plain unschedulable', () => (podScheduled(ns, 'plain')?.['status'] === 'False' ? podScheduled(ns, 'plain') : undefined));
      expect(tainted['message']).toBe('0/3 nodes are available: 3 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');

      await applyPod(ns, {
        metadata: { name: 'tolerant' },
        spec: { containers: [{ name: 'app', image: 'nginx' }], tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] },
      });
      await t.until('tolerant bound', () => nodeOf(ns, 'tolerant'));

      await t.kubectl(['label', 'nodes', 'node-2', 'disk=ssd']);
      await applyPod(ns, {
        metadata: { name: 'selective' },
        spec: { containers: [{ name: 'app', image: 'nginx' }], nodeSelector: { disk: 'ssd' }, tolerations: [{ operator: 'Exists' }] },
      });
      expect(await t.until('selective bound', () => nodeOf(ns, 'selective'))).toBe('node-2');

      await applyPod(ns, {
        metadata: { name: 'affine' },
        spec: {
          containers: [{ name: 'app', image: 'nginx' }],
          tolerations: [{ operator: 'Exists' }],
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['node-1', 'node-2'] }] }] } } },
        },
      });
      expect(await t.until('affine bound', () => nodeOf(ns, 'affine'))).toBe('node-3');

      await applyPod(ns, {
        metadata: { name: 'nowhere' },
        spec: { containers: [{ name: 'app', image: 'nginx' }], nodeSelector: { disk: 'nvme' }, tolerations: [{ operator: 'Exists' }] },
      });
      const mismatch = await t.until('nowhere unschedulable', () => (podScheduled(ns, 'nowhere')?.['status'] === 'False' ? podScheduled(ns, 'nowhere') : undefined));
      expect(mismatch['message']).toBe("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
    } finally {
      await t.kubectl(['taint', 'nodes', 'node-1', 'node-2', 'node-3', 'dedicated=db:NoSchedule-']);
      await t.kubectl(['label', 'nodes', 'node-2', 'disk-']);
    }
    // Untainted: the plain pod is tried again and placed.
    await t.until('plain bound once the taint is gone', () => nodeOf(ns, 'plain'));
  });

  it('a cordoned node takes no new pods, and the message says so alongside other reasons', async () => {
    const ns = await namespace('cordon');
    expect((await t.kubectl(['cordon', 'node-1'])).stdout).toContain('node/node-1 cordoned');
    try {
      const node = await t.until('cordon taint', () => {
        const n = t.get('', 'v1', 'nodes', undefined, 'node-1') as KubeObject;
        return JSON.stringify(n.spec).includes('node.kubernetes.io/unschedulable') ? n : undefined;
      });
      expect((node.spec as { taints: Array<Record<string, string>> }).taints).toContainEqual(expect.objectContaining({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }));
      await applyPod(ns, { metadata: { name: 'huge' }, spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '8' } } }] } });
      const condition = await t.until('huge unschedulable', () => (podScheduled(ns, 'huge')?.['status'] === 'False' ? podScheduled(ns, 'huge') : undefined));
      expect(condition['message']).toBe(
        '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
      );
      for (let i = 0; i < 4; i++) await applyPod(ns, { metadata: { name: `small-${i}` }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
      await t.until('small pods bound', () => [0, 1, 2, 3].every((i) => nodeOf(ns, `small-${i}`)));
      expect([0, 1, 2, 3].map((i) => nodeOf(ns, `small-${i}`))).not.toContain('node-1');
      const nodes = await t.kubectl(['get', 'nodes']);
      expect(nodes.stdout).toMatch(/node-1\s+Ready,SchedulingDisabled/);
    } finally {
      expect((await t.kubectl(['uncordon', 'node-1'])).stdout).toContain('node/node-1 uncordoned');
    }
    await t.until('cordon taint removed', () => !JSON.stringify(t.get('', 'v1', 'nodes', undefined, 'node-1')?.spec).includes('unschedulable'));
  });
});
