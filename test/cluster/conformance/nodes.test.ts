// Nodes: cordon, drain (every pod on the node evicted and replaced elsewhere) and uncordon. A
// file of its own: draining moves every pod of the cluster, so no other case may run beside it.
import { expect, it, describe } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { EDGE_VERSIONS, useConformanceCluster, type Sandbox } from './harness.ts';
import { expectResult, table } from './output.ts';

const c = useConformanceCluster();

async function available(s: Sandbox, name: string, replicas: number): Promise<void> {
  await c.until(`deployment ${name} available with ${replicas}`, () => {
    const d = c.get('apps', 'v1', 'deployments', s.namespace, name) as (KubeObject & { status?: Record<string, number> }) | undefined;
    const st = d?.status;
    return st && st['observedGeneration'] === d.metadata.generation && st['updatedReplicas'] === replicas && st['availableReplicas'] === replicas && (st['replicas'] ?? 0) === replicas;
  });
}

describe('kubectl cordon, drain, uncordon', () => {
  it.each(EDGE_VERSIONS)('%s drain evicts the node\'s pods, which come back elsewhere', async (version) => {
    const s = await c.sandbox('drain');
    await s.must(['create', 'deployment', 'web', '--image=nginx', '--replicas=3']);
    await available(s, 'web', 3);
    const node = String((c.list('', 'v1', 'pods', s.namespace)[0]?.spec as { nodeName?: string } | undefined)?.nodeName);
    // Finished pods are evicted too; the cluster is this file's, so every pod on the node is known.
    // Mirror pods (the control plane's static pods) and DaemonSet pods (kube-proxy) stay, as drain leaves them.
    const onNode = c
      .list('', 'v1', 'pods')
      .filter((p) => (p.spec as { nodeName?: string }).nodeName === node && !p.metadata.deletionTimestamp)
      .filter((p) => !p.metadata.annotations?.['kubernetes.io/config.mirror'] && p.metadata.ownerReferences?.[0]?.kind !== 'DaemonSet');
    try {
      const result = await s.kubectl(version, ['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=60s']);
      // Warnings about unmanaged pods and kubectl's own client-side throttling notes aside.
      expect([result.code, result.stderr.replace(/^(Warning: |I\d{4} ).*\n/gm, '')]).toEqual([0, '']);
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(`node/${node} cordoned`);
      expect(lines.at(-1)).toBe(`node/${node} drained`);
      const evicting = lines.filter((line) => line.startsWith('evicting pod ')).map((line) => line.slice('evicting pod '.length)).sort();
      expect(evicting).toEqual(onNode.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort());
      expect(lines.filter((line) => / evicted$/.test(line))).toHaveLength(evicting.length);
      expect((c.get('', 'v1', 'nodes', undefined, node)?.spec as { unschedulable?: boolean }).unschedulable).toBe(true);
      await available(s, 'web', 3);
      expect(c.list('', 'v1', 'pods', s.namespace).every((p) => (p.spec as { nodeName?: string }).nodeName !== node)).toBe(true);
    } finally {
      expectResult(await s.kubectl(version, ['uncordon', node]), { code: 0, stdout: `node/${node} uncordoned\n` });
    }
  });

  it.each(EDGE_VERSIONS)('%s cordon marks the node, get nodes shows it', async (version) => {
    try {
      expectResult(await c.kubectl(version, ['cordon', 'node-3']), { code: 0, stdout: 'node/node-3 cordoned\n' });
      expectResult(
        await c.kubectl(version, ['get', 'node', 'node-3']),
        { code: 0, stdout: 'NAME     STATUS                     ROLES    AGE     VERSION\nnode-3   Ready,SchedulingDisabled   <none>   <age>   v1.33.0+formicary\n' },
        table,
      );
    } finally {
      await c.kubectl(version, ['uncordon', 'node-3']);
    }
  });
});
