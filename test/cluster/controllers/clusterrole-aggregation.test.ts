// ClusterRole aggregation and the default RBAC policy across restarts, as on kube-apiserver and
// kube-controller-manager: a ClusterRole labelled aggregate-to-view lends its rules to view, edit
// and admin (the kubernetes.io "Aggregated ClusterRoles" example), and a restart brings back what
// a default role or binding lost while keeping what the cluster added to it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type RunningCluster } from '../../../src/cluster/index.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { startTestCluster, type TestCluster } from './harness.ts';

const rbac = ['rbac.authorization.k8s.io', 'v1'] as const;

const monitoring = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-endpoints
  labels:
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
- apiGroups: [""]
  resources: ["services", "endpointslices", "pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["monitoring.coreos.com"]
  resources: ["servicemonitors"]
  verbs: ["get", "list", "watch"]
`;

const serviceMonitorRule = { apiGroups: ['monitoring.coreos.com'], resources: ['servicemonitors'], verbs: ['get', 'list', 'watch'] };

describe('the clusterrole-aggregation controller', () => {
  let t: TestCluster;
  const errors: string[] = [];

  beforeAll(async () => {
    t = await startTestCluster({ log: { error: (fields, message) => errors.push(`${message}: ${String(fields['error']).split('\n')[0]}`), warn: () => undefined } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('gives view, edit and admin the rules of a ClusterRole labelled aggregate-to-view', async () => {
    const applied = await t.kubectl(['apply', '-f', '-'], { stdin: monitoring });
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toBe('clusterrole.rbac.authorization.k8s.io/monitoring-endpoints created\n');
    for (const role of ['view', 'edit', 'admin']) {
      await t.until(`${role} to hold the servicemonitors rule`, () => (t.get(...rbac, 'clusterroles', undefined, role)?.['rules'] as unknown[]).some((rule) => JSON.stringify(rule) === JSON.stringify(serviceMonitorRule)));
    }
    const described = await t.kubectl(['describe', 'clusterrole', 'view']);
    expect(described.stdout).toMatch(/servicemonitors\.monitoring\.coreos\.com\s+\[\]\s+\[\]\s+\[get list watch\]/);
    await t.settle();
    expect(errors).toEqual([]);
  });

  it('takes the rules away again when the ClusterRole is deleted', async () => {
    expect((await t.kubectl(['delete', 'clusterrole', 'monitoring-endpoints'])).stdout).toBe('clusterrole.rbac.authorization.k8s.io "monitoring-endpoints" deleted\n');
    await t.until('view to lose the servicemonitors rule', () => !(t.get(...rbac, 'clusterroles', undefined, 'view')?.['rules'] as unknown[]).some((rule) => JSON.stringify(rule) === JSON.stringify(serviceMonitorRule)));
    expect(errors).toEqual([]);
  });
});

describe('the default RBAC policy on a restart', () => {
  let dir: string;
  let cluster: RunningCluster | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'formicary-rbac-restart-'));
  });
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const start = async () => (cluster = await startCluster({ dataDir: dir, port: 0, log: { error: (fields, message) => expect.fail(`${message}: ${String(fields['error']).split('\n')[0]}`), warn: () => undefined } }));
  const def = (c: RunningCluster, resource: string) => c.registry.lookup(...rbac, resource)!;
  const get = (c: RunningCluster, resource: string, name: string): KubeObject => c.registry.get(def(c, resource), undefined, name);
  const update = (c: RunningCluster, resource: string, name: string, change: (object: KubeObject) => void) => {
    const object = structuredClone(get(c, resource, name));
    change(object);
    c.registry.update(def(c, resource), undefined, name, object);
  };

  it('brings back what a default role or binding lost, keeps what was added, and leaves autoupdate "false" alone', async () => {
    const first = await start();
    const defaults = { view: get(first, 'clusterroles', 'system:aggregate-to-view')['rules'] as unknown[], discovery: get(first, 'clusterrolebindings', 'system:discovery')['subjects'] as unknown[] };
    const extraRule = { apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get'] };
    const extraSubject = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'auditors' };
    update(first, 'clusterroles', 'system:aggregate-to-view', (role) => (role['rules'] = [...defaults.view.slice(1), extraRule]));
    update(first, 'clusterroles', 'system:basic-user', (role) => {
      role['rules'] = [];
      role.metadata.annotations = { 'rbac.authorization.kubernetes.io/autoupdate': 'false' };
    });
    update(first, 'clusterrolebindings', 'system:discovery', (binding) => (binding['subjects'] = [extraSubject]));
    await first.stop();

    const second = await start();
    const viewRules = get(second, 'clusterroles', 'system:aggregate-to-view')['rules'] as unknown[];
    expect(viewRules.slice(0, defaults.view.length - 1)).toEqual(defaults.view.slice(1));
    expect(viewRules).toContainEqual(extraRule);
    // The lost rule comes back broken down, one verb a rule, as upstream's reconciliation adds it.
    for (const verb of ['get', 'list', 'watch']) expect(viewRules).toContainEqual({ apiGroups: [''], resources: ['configmaps'], verbs: [verb] });
    expect(get(second, 'clusterroles', 'system:basic-user')['rules']).toEqual([]);
    expect(get(second, 'clusterrolebindings', 'system:discovery')['subjects']).toEqual([extraSubject, ...defaults.discovery]);
  });

  it('writes nothing when nothing is missing', async () => {
    const first = await start();
    const versions = (c: RunningCluster) => ['clusterroles', 'clusterrolebindings'].flatMap((resource) => c.registry.list(def(c, resource), {}).items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`));
    await first.controllers?.idle();
    const before = versions(first);
    await first.stop();
    const second = await start();
    await second.controllers?.idle();
    expect(versions(second)).toEqual(before);
  });
});
