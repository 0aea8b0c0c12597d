// Sandboxes as the portal makes them, at a scale a workshop reaches: creating a sandbox's seven
// objects stays fast, listing a namespace's pods is cheap, and memory per object stays small.
import { afterAll, describe, expect, it } from 'vitest';
import { admissionPlugins } from '../../../src/cluster/apiserver/admission/index.ts';
import type { Registry, ResourceDefinition } from '../../../src/cluster/registry/index.ts';
import { openTestRegistry, type TestRegistry } from './helpers.ts';

let t: TestRegistry | undefined;
afterAll(async () => {
  await t?.registry.close();
});

const SANDBOXES = 200;
const PODS = 10;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

function createSandbox(registry: Registry, def: (g: string, v: string, r: string) => ResourceDefinition, name: string): void {
  registry.create(def('', 'v1', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'formicary.dev/lab': 'intro' } } });
  registry.create(def('', 'v1', 'serviceaccounts'), name, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'learner' } });
  registry.create(def('rbac.authorization.k8s.io', 'v1', 'roles'), name, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'learner' },
    rules: [{ apiGroups: ['', 'apps'], resources: ['pods', 'deployments', 'services'], verbs: ['*'] }],
  });
  registry.create(def('rbac.authorization.k8s.io', 'v1', 'rolebindings'), name, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'learner' },
    roleRef: { kind: 'Role', name: 'learner' },
    subjects: [{ kind: 'ServiceAccount', name: 'learner', namespace: name }],
  });
  registry.create(def('', 'v1', 'resourcequotas'), name, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'quota' }, spec: { hard: { pods: '20', 'limits.cpu': '8', 'limits.memory': '8Gi' } } });
  registry.create(def('', 'v1', 'limitranges'), name, {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: 'limits' },
    spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '64Mi' } }] },
  });
  registry.create(def('networking.k8s.io', 'v1', 'networkpolicies'), name, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });
}

describe('scale', () => {
  it(`creates ${SANDBOXES} sandboxes with ${PODS} pods each quickly and lists a namespace in well under a millisecond`, async () => {
    t = await openTestRegistry({ admission: admissionPlugins() });
    const { registry } = t;
    const def = t.def.bind(t);
    const pods = def('', 'v1', 'pods');
    const heapBefore = process.memoryUsage().heapUsed;
    const sandboxMs: number[] = [];
    for (let i = 0; i < SANDBOXES; i++) {
      const name = `lab-${i}`;
      const started = performance.now();
      createSandbox(registry, def, name);
      sandboxMs.push(performance.now() - started);
      for (let p = 0; p < PODS; p++)
        registry.create(pods, name, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${p}`, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } });
    }
    const heapPerObject = (process.memoryUsage().heapUsed - heapBefore) / (SANDBOXES * (7 + PODS));
    expect(percentile(sandboxMs, 0.95)).toBeLessThan(20);
    expect(heapPerObject).toBeLessThan(16 * 1024);

    const listMs: number[] = [];
    for (let i = 0; i < SANDBOXES; i++) {
      const started = performance.now();
      const list = registry.list(pods, { namespace: `lab-${i}`, limit: 500 });
      listMs.push(performance.now() - started);
      expect(list.items).toHaveLength(PODS);
    }
    expect(percentile(listMs, 0.95)).toBeLessThan(1);
    const quota = registry.get(def('', 'v1', 'resourcequotas'), 'lab-7', 'quota');
    expect((quota.status as { used: unknown }).used).toEqual({ 'limits.cpu': '5', 'limits.memory': '2560Mi', pods: '10' });
  });
});
