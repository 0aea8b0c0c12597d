// Shared set-up for registry tests: a registry with a controllable clock and captured warnings.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistry, type Registry, type RegistryOptions, type ResourceDefinition } from '../../../src/cluster/registry/index.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { StatusError } from '../../../src/cluster/types.ts';

export interface TestRegistry {
  registry: Registry;
  warnings: string[];
  clock: { now: Date; advance(seconds: number): void };
  def(group: string, version: string, resource: string): ResourceDefinition;
}

export async function openTestRegistry(options: Partial<RegistryOptions> = {}): Promise<TestRegistry> {
  const warnings: string[] = [];
  const clock = {
    now: new Date('2025-05-01T10:00:00Z'),
    advance(seconds: number) {
      clock.now = new Date(clock.now.getTime() + seconds * 1000);
    },
  };
  const registry = await openRegistry({
    clock: () => clock.now,
    logger: { warn: (_details, message) => warnings.push(message) },
    ...options,
  });
  return {
    registry,
    warnings,
    clock,
    def(group, version, resource) {
      const def = registry.lookup(group, version, resource);
      if (!def) throw new Error(`no resource ${group}/${version}/${resource}`);
      return def;
    },
  };
}

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'formicary-registry-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The StatusError a call throws (fails the test if it does not throw one). */
export function statusOf(call: () => unknown): StatusError['status'] {
  try {
    call();
  } catch (error) {
    if (error instanceof StatusError) return error.status;
    throw error;
  }
  throw new Error('expected a StatusError, but the call succeeded');
}

export function pod(name: string, extra: Partial<KubeObject> & { labels?: Record<string, string>; image?: string } = {}): KubeObject {
  const { labels, image, ...rest } = extra;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { containers: [{ name: 'app', image: image ?? 'nginx:1.27' }] },
    ...rest,
  };
}

export function configMap(name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(labels ? { labels } : {}) }, data };
}

export function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

/** A sandbox's seven objects as the portal makes them: namespace, service account, role and binding, quota, limits, network policy. */
export function createPortalSandbox(registry: Registry, def: (g: string, v: string, r: string) => ResourceDefinition, name: string): void {
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
