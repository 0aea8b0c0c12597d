// What keeps a cluster tidy: Nodes with heartbeats, the defaults every namespace gets, deleting
// a namespace, garbage collection by owner references in all three modes, Endpoints and
// EndpointSlices, claims bound through the default StorageClass, and drain with a
// PodDisruptionBudget.
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

async function apply(ns: string, objects: Record<string, unknown>[]): Promise<void> {
  const result = await t.kubectl(['-n', ns, 'apply', '-f', '-'], { stdin: objects.map((o) => JSON.stringify(o)).join('\n---\n') });
  expect(result.code, result.stderr).toBe(0);
}

function deployment(name: string, replicas: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }], ...extra } } },
  };
}

describe('nodes', () => {
  it('registers three Ready nodes with capacity, addresses, a kubelet version and a lease', async () => {
    const get = await t.kubectl(['get', 'nodes', '-o', 'wide']);
    expect(get.stdout).toMatch(/node-1\s+Ready\s+<none>\s+\S+\s+v1\.33\.0\S*\s+172\.18\.0\.2/);
    expect(get.stdout).toMatch(/node-3\s+Ready/);
    const node = t.get('', 'v1', 'nodes', undefined, 'node-2') as KubeObject;
    expect((node.status as Record<string, Record<string, string>>)['capacity']).toMatchObject({ cpu: '4', memory: '8Gi', pods: '110' });
    const ready = ((node.status as { conditions: Array<Record<string, string>> }).conditions ?? []).find((c) => c['type'] === 'Ready');
    expect(ready).toMatchObject({ status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' });
    expect(ready?.['lastHeartbeatTime']).toBeTruthy();
    const lease = t.get('coordination.k8s.io', 'v1', 'leases', 'kube-node-lease', 'node-2') as KubeObject;
    expect(lease.spec).toMatchObject({ holderIdentity: 'node-2', leaseDurationSeconds: 40 });
    const describe = await t.kubectl(['describe', 'node', 'node-1']);
    expect(describe.stdout).toMatch(/Kubelet Version:\s+v1\.33\.0/);
    expect(describe.stdout).toMatch(/PodCIDR:\s+10\.244\.1\.0\/24/);
  });
});

describe('namespaces', () => {
  it('every namespace gets the default ServiceAccount and the kube-root-ca.crt ConfigMap', async () => {
    const ns = await namespace('defaults');
    await t.until('defaults', () => t.get('', 'v1', 'serviceaccounts', ns, 'default') && t.get('', 'v1', 'configmaps', ns, 'kube-root-ca.crt'));
    const configMap = t.get('', 'v1', 'configmaps', ns, 'kube-root-ca.crt') as KubeObject;
    expect((configMap['data'] as Record<string, string>)['ca.crt']).toBe(t.cluster.caPem);
    // Deleted, it comes back.
    await t.kubectl(['-n', ns, 'delete', 'serviceaccount', 'default']);
    await t.until('default ServiceAccount recreated', () => t.get('', 'v1', 'serviceaccounts', ns, 'default'));
  });

  it('deleting a namespace removes everything in it, reports progress, then the namespace', async () => {
    const ns = await namespace('doomed');
    await apply(ns, [deployment('web', 2), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: '1' } }]);
    await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s']);
    const seen: Array<Record<string, unknown>> = [];
    const namespaces = t.def('', 'v1', 'namespaces');
    const watch = t.registry.watch(namespaces, { fieldSelector: `metadata.name=${ns}` }, (event) => seen.push({ type: event.type, status: event.object.status }));
    const deleted = await t.kubectl(['delete', 'namespace', ns, '--timeout=20s']);
    watch.stop();
    expect(deleted.stdout).toContain(`namespace "${ns}" deleted`);
    expect(t.get('', 'v1', 'namespaces', undefined, ns)).toBeUndefined();
    for (const resource of ['pods', 'configmaps', 'serviceaccounts']) expect(t.list('', 'v1', resource, ns)).toEqual([]);
    expect(t.list('apps', 'v1', 'deployments', ns)).toEqual([]);
    const terminating = seen.find((s) => (s['status'] as { phase?: string })?.phase === 'Terminating' && JSON.stringify(s['status']).includes('NamespaceContentRemaining'));
    expect(terminating).toBeTruthy();
    const conditionTypes = ((terminating?.['status'] as { conditions: Array<{ type: string }> }).conditions ?? []).map((c) => c.type);
    expect(conditionTypes).toEqual([
      'NamespaceDeletionDiscoveryFailure',
      'NamespaceDeletionGroupVersionParsingFailure',
      'NamespaceDeletionContentFailure',
      'NamespaceContentRemaining',
      'NamespaceFinalizersRemaining',
    ]);
    expect(seen.at(-1)?.['type']).toBe('DELETED');
  });
});

describe('garbage collection', () => {
  it('background: the Deployment goes at once, its ReplicaSet and pods after', async () => {
    const ns = await namespace('gc-background');
    await apply(ns, [deployment('web', 2)]);
    await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s']);
    expect((await t.kubectl(['-n', ns, 'delete', 'deployment', 'web', '--cascade=background'])).code).toBe(0);
    await t.until('ReplicaSets gone', () => t.list('apps', 'v1', 'replicasets', ns).length === 0);
    await t.until('pods gone', () => t.list('', 'v1', 'pods', ns).length === 0);
  });

  it('foreground: the owner waits with foregroundDeletion until its dependents are gone', async () => {
    const ns = await namespace('gc-foreground');
    await apply(ns, [deployment('web', 2)]);
    await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s']);
    const observed: string[][] = [];
    const deployments = t.def('apps', 'v1', 'deployments');
    const watch = t.registry.watch(deployments, { namespace: ns }, (event) => observed.push(event.object.metadata.finalizers ?? []));
    const deleted = await t.kubectl(['-n', ns, 'delete', 'deployment', 'web', '--cascade=foreground', '--timeout=20s']);
    watch.stop();
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(observed.some((finalizers) => finalizers.includes('foregroundDeletion'))).toBe(true);
    expect(t.get('apps', 'v1', 'deployments', ns, 'web')).toBeUndefined();
    expect(t.list('apps', 'v1', 'replicasets', ns)).toEqual([]);
    expect(t.list('', 'v1', 'pods', ns)).toEqual([]);
  });

  it('orphan: the dependents stay, without the owner reference', async () => {
    const ns = await namespace('gc-orphan');
    await apply(ns, [deployment('web', 2)]);
    await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s']);
    expect((await t.kubectl(['-n', ns, 'delete', 'deployment', 'web', '--cascade=orphan', '--timeout=20s'])).code).toBe(0);
    await t.until('deployment gone', () => !t.get('apps', 'v1', 'deployments', ns, 'web'));
    await t.settle();
    const [rs] = t.list('apps', 'v1', 'replicasets', ns);
    expect(rs).toBeTruthy();
    expect(rs?.metadata.ownerReferences).toBeUndefined();
    expect(t.list('', 'v1', 'pods', ns)).toHaveLength(2);
  });
});

describe('services', () => {
  it('Endpoints and EndpointSlices list ready pods by IP with named target ports, the rest as not ready', async () => {
    const ns = await namespace('endpoints');
    t.kubelet.behaviour.ready = (pod) => !(pod.metadata.namespace === ns && pod.metadata.labels?.['tier'] === 'canary');
    try {
      await apply(ns, [
        deployment('web', 2),
        { ...deployment('canary', 1), spec: { ...(deployment('canary', 1)['spec'] as object), template: { metadata: { labels: { app: 'web', tier: 'canary' } }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 9090 }] }] } }, selector: { matchLabels: { app: 'web', tier: 'canary' } } } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
      ]);
      await t.until('three pods with IPs', () => t.list('', 'v1', 'pods', ns).filter((p) => (p.status as { podIP?: string }).podIP).length === 3);
      const endpoints = await t.until('endpoints filled', () => {
        const e = t.get('', 'v1', 'endpoints', ns, 'web');
        return JSON.stringify(e?.['subsets'] ?? []).split('"ip"').length === 4 ? e : undefined;
      });
      const subsets = endpoints['subsets'] as Array<{ addresses?: Array<Record<string, unknown>>; notReadyAddresses?: Array<Record<string, unknown>>; ports: unknown[] }>;
      const ready = subsets.flatMap((s) => (s.addresses ?? []).map((a) => [a['ip'], s.ports]));
      const notReady = subsets.flatMap((s) => (s.notReadyAddresses ?? []).map((a) => [a['ip'], s.ports]));
      expect(ready).toHaveLength(2);
      expect(notReady).toHaveLength(1);
      expect(ready[0]?.[1]).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
      expect(notReady[0]?.[1]).toEqual([{ name: 'http', port: 9090, protocol: 'TCP' }]);
      const address = subsets.flatMap((s) => s.addresses ?? [])[0];
      expect(address?.['targetRef']).toMatchObject({ kind: 'Pod', namespace: ns });
      expect(address?.['nodeName']).toMatch(/^node-\d$/);

      const slices = t.list('discovery.k8s.io', 'v1', 'endpointslices', ns);
      expect(slices.length).toBe(2);
      for (const slice of slices) {
        expect(slice.metadata.name).toMatch(/^web-\w{5}$/);
        expect(slice.metadata.labels).toMatchObject({ 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
        expect(slice.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', name: 'web', controller: true });
      }
      const conditions = slices.flatMap((s) => (s['endpoints'] as Array<{ conditions: Record<string, boolean> }>).map((e) => e.conditions.ready)).sort();
      expect(conditions).toEqual([false, true, true]);
      const describe = await t.kubectl(['-n', ns, 'describe', 'service', 'web']);
      expect(describe.stdout).toMatch(/Endpoints:\s+10\.244\.\d+\.\d+:8080,10\.244\.\d+\.\d+:8080/);

      // publishNotReadyAddresses: every selected pod is an address.
      await t.kubectl(['-n', ns, 'patch', 'service', 'web', '-p', '{"spec":{"publishNotReadyAddresses":true}}']);
      await t.until('all ready', () => {
        const e = t.get('', 'v1', 'endpoints', ns, 'web');
        return !JSON.stringify(e?.['subsets'] ?? []).includes('notReadyAddresses');
      });
    } finally {
      t.kubelet.behaviour.ready = undefined;
    }
  });
});

describe('storage', () => {
  it('a claim without a class gets the default class standard and is bound once a pod uses it', async () => {
    const ns = await namespace('storage');
    const classes = await t.kubectl(['get', 'storageclass']);
    expect(classes.stdout).toMatch(/standard \(default\)\s+formicary\.io\/hostpath\s+Delete\s+WaitForFirstConsumer/);
    await apply(ns, [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } }]);
    await t.until('class assigned', () => (t.get('', 'v1', 'persistentvolumeclaims', ns, 'data')?.spec as { storageClassName?: string })?.storageClassName === 'standard');
    await t.until('waiting for consumer event', () => t.list('', 'v1', 'events', ns).some((e) => e['reason'] === 'WaitForFirstConsumer'));
    expect((t.get('', 'v1', 'persistentvolumeclaims', ns, 'data')?.status as { phase: string }).phase).toBe('Pending');
    await apply(ns, [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user' }, spec: { containers: [{ name: 'app', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] } }]);
    const claim = await t.until('claim bound', () => {
      const c = t.get('', 'v1', 'persistentvolumeclaims', ns, 'data');
      return (c?.status as { phase?: string })?.phase === 'Bound' ? c : undefined;
    });
    const volumeName = (claim.spec as { volumeName: string }).volumeName;
    expect(volumeName).toBe(`pvc-${claim.metadata.uid}`);
    const node = await t.until('pod bound', () => (t.get('', 'v1', 'pods', ns, 'user')?.spec as { nodeName?: string })?.nodeName);
    const volume = t.get('', 'v1', 'persistentvolumes', undefined, volumeName) as KubeObject;
    expect(volume.spec).toMatchObject({ storageClassName: 'standard', persistentVolumeReclaimPolicy: 'Delete', capacity: { storage: '2Gi' }, claimRef: { name: 'data', namespace: ns } });
    expect(JSON.stringify(volume.spec)).toContain(node);
    const pvc = await t.kubectl(['-n', ns, 'get', 'pvc', 'data']);
    expect(pvc.stdout).toMatch(new RegExp(`data\\s+Bound\\s+${volumeName}\\s+2Gi\\s+RWO\\s+standard`));
    // The claim goes, and with the Delete policy its volume too.
    await t.kubectl(['-n', ns, 'delete', 'pod', 'user', '--wait=false']);
    await t.kubectl(['-n', ns, 'delete', 'pvc', 'data', '--wait=false']);
    await t.until('volume deleted', () => !t.get('', 'v1', 'persistentvolumes', undefined, volumeName));
  });
});

describe('drain', () => {
  it('drain evicts through a PodDisruptionBudget: refused while it would break the budget, done once it allows', async () => {
    const ns = await namespace('drain');
    await apply(ns, [deployment('web', 3, { nodeSelector: { 'kubernetes.io/hostname': 'node-3' } })]);
    await t.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=20s']);
    await t.kubectl(['-n', ns, 'create', 'pdb', 'web', '--selector=app=web', '--min-available=3']);
    await t.until('budget status', () => (t.get('policy', 'v1', 'poddisruptionbudgets', ns, 'web')?.status as { expectedPods?: number })?.expectedPods === 3);
    const pdb = t.get('policy', 'v1', 'poddisruptionbudgets', ns, 'web') as KubeObject;
    expect(pdb.status).toMatchObject({ currentHealthy: 3, desiredHealthy: 3, disruptionsAllowed: 0, expectedPods: 3 });
    const refused = await t.kubectl(['drain', 'node-3', '--ignore-daemonsets', '--timeout=6s']);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(t.list('', 'v1', 'pods', ns).filter((p) => !p.metadata.deletionTimestamp)).toHaveLength(3);

    // With one disruption allowed, drain evicts one pod at a time; the replacements can only go
    // to node-3 (cordoned), so they stay Pending and the budget holds the rest.
    await t.kubectl(['-n', ns, 'patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":2}}']);
    await t.until('one disruption allowed', () => (t.get('policy', 'v1', 'poddisruptionbudgets', ns, 'web')?.status as { disruptionsAllowed?: number })?.disruptionsAllowed === 1);
    const partial = await t.kubectl(['drain', 'node-3', '--ignore-daemonsets', '--timeout=6s']);
    expect(partial.stdout).toMatch(/pod\/web-\w+-\w+ evicted/);
    const evicted = t.list('', 'v1', 'pods', ns).filter((p) => (p.spec as { nodeName?: string }).nodeName === 'node-3');
    expect(evicted).toHaveLength(2);

    await t.kubectl(['-n', ns, 'delete', 'pdb', 'web']);
    const done = await t.kubectl(['drain', 'node-3', '--ignore-daemonsets', '--timeout=20s']);
    expect(done.stdout).toContain('node/node-3 drained');
    expect(t.list('', 'v1', 'pods', ns).filter((p) => (p.spec as { nodeName?: string }).nodeName === 'node-3')).toEqual([]);
    await t.kubectl(['uncordon', 'node-3']);
    await t.until('pods scheduled again', () => t.list('', 'v1', 'pods', ns).filter((p) => (p.spec as { nodeName?: string }).nodeName === 'node-3').length === 3);
    // Three drains, two of which wait out kubectl's own timeout.
  }, 90_000);
});
