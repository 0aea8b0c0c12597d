// Namespaces: what every namespace has (the `default` ServiceAccount, the `kube-root-ca.crt`
// ConfigMap — the serviceaccount and root-ca-cert-publisher controllers), and what deleting one
// does (the namespace controller: delete everything in it, report progress in status
// conditions, then remove the `kubernetes` finalizer so the namespace goes away).
import type { ResourceDefinition } from '../registry/index.ts';
import type { KubeObject } from '../types.ts';
import type { ControllerContext } from './context.ts';
import { isJson, specOf, statusOf } from '../json.ts';
import { type Condition, copy, timestamp } from './objects.ts';
import { type RunningController, startController } from './runtime.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** How often a terminating namespace is looked at while content remains. */
const TERMINATING_RECHECK_MS = 250;

function isTerminating(namespace: KubeObject): boolean {
  return namespace.metadata.deletionTimestamp !== undefined || statusOf(namespace).phase === 'Terminating';
}

/** The `default` ServiceAccount and the root CA ConfigMap, in every namespace that is not being deleted. */
export function startNamespaceDefaults(ctx: ControllerContext, caPem: string): RunningController {
  const accounts = ctx.clientFor('service-account-controller');
  const publisher = ctx.clientFor('root-ca-cert-publisher');
  const reconcile = (name: string) => {
    const namespace = accounts.namespaces.get(undefined, name);
    if (!namespace || isTerminating(namespace)) return;
    if (!accounts.serviceAccounts.get(name, 'default')) {
      accounts.serviceAccounts.create(name, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } });
    }
    const configMap = publisher.configMaps.get(name, ROOT_CA_CONFIGMAP);
    const data = { 'ca.crt': caPem };
    if (!configMap) {
      publisher.configMaps.create(name, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: ROOT_CA_CONFIGMAP, namespace: name, annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } },
        data,
      });
    } else if (JSON.stringify(configMap['data']) !== JSON.stringify(data)) {
      publisher.configMaps.mutate(name, ROOT_CA_CONFIGMAP, (draft) => {
        draft['data'] = data;
      });
    }
  };
  return startController(ctx.registry, {
    name: 'namespace-defaults',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('namespace-defaults', key, error),
    sources: [
      { group: '', version: 'v1', resource: 'namespaces', keys: (ns, type) => (type === 'DELETED' ? [] : [ns.metadata.name ?? '']) },
      { group: '', version: 'v1', resource: 'serviceaccounts', keys: (sa, type) => (type === 'DELETED' && sa.metadata.name === 'default' ? [sa.metadata.namespace ?? ''] : []) },
      {
        group: '',
        version: 'v1',
        resource: 'configmaps',
        keys: (cm, type) => (cm.metadata.name === ROOT_CA_CONFIGMAP && type !== 'ADDED' ? [cm.metadata.namespace ?? ''] : []),
      },
    ],
    reconcile,
  });
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string, now: string): Condition {
  return { type, status, lastTransitionTime: now, reason, message };
}

/** Each namespaced resource once, whatever versions it is served in. */
function namespacedResources(ctx: ControllerContext): ResourceDefinition[] {
  const seen = new Set<string>();
  const out: ResourceDefinition[] = [];
  for (const def of ctx.registry.resources()) {
    const id = `${def.group}/${def.resource}`;
    if (!def.namespaced || seen.has(id) || !def.verbs.includes('delete') || !def.verbs.includes('list')) continue;
    seen.add(id);
    out.push(def);
  }
  return out;
}

function groupResource(def: ResourceDefinition): string {
  return def.group ? `${def.resource}.${def.group}` : def.resource;
}

/** The namespace controller: empties a terminating namespace, then finalizes it. */
export function startNamespaceController(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('namespace-controller');

  const reconcile = (name: string) => {
    const namespace = client.namespaces.get(undefined, name);
    if (!namespace?.metadata.deletionTimestamp) return;
    const finalizers = Array.isArray(specOf(namespace).finalizers) ? (specOf(namespace).finalizers as unknown[]) : [];
    if (!finalizers.includes('kubernetes')) return;
    const remaining: string[] = [];
    const finalizerCounts = new Map<string, number>();
    for (const def of namespacedResources(ctx)) {
      const resource = client.forDefinition(def);
      const items = resource.list(name);
      if (items.length === 0) continue;
      for (const item of items) {
        if (!item.metadata.deletionTimestamp) resource.delete(name, item.metadata.name ?? '', { propagationPolicy: 'Background' });
      }
      const left = resource.list(name);
      if (left.length === 0) continue;
      remaining.push(`${groupResource(def)} has ${left.length} resource instances`);
      for (const item of left) for (const finalizer of item.metadata.finalizers ?? []) finalizerCounts.set(finalizer, (finalizerCounts.get(finalizer) ?? 0) + 1);
    }
    const now = timestamp(ctx.clock.now());
    const conditions: Condition[] = [
      condition('NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered', 'All resources successfully discovered', now),
      condition('NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions', 'All legacy kube types successfully parsed', now),
      condition('NamespaceDeletionContentFailure', 'False', 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization', now),
      remaining.length
        ? condition('NamespaceContentRemaining', 'True', 'SomeResourcesRemain', `Some resources are remaining: ${remaining.sort().join(', ')}`, now)
        : condition('NamespaceContentRemaining', 'False', 'ContentRemoved', 'All content successfully removed', now),
      finalizerCounts.size
        ? condition(
            'NamespaceFinalizersRemaining',
            'True',
            'SomeFinalizersRemain',
            `Some content in the namespace has finalizers remaining: ${[...finalizerCounts].map(([f, n]) => `${f} in ${n} resource instances`).sort().join(', ')}`,
            now,
          )
        : condition('NamespaceFinalizersRemaining', 'False', 'ContentHasNoFinalizers', 'All content-preserving finalizers finished', now),
    ];
    client.namespaces.mutate(undefined, name, (draft) => {
      const status = copy(statusOf(draft));
      const previous = Array.isArray(status.conditions) ? (status.conditions as Condition[]) : [];
      const next = conditions.map((c) => {
        const old = previous.find((p) => p.type === c.type);
        return old && old.status === c.status && old.reason === c.reason && old.message === c.message ? old : c;
      });
      if (JSON.stringify(previous) === JSON.stringify(next)) return false;
      draft.status = { ...status, phase: 'Terminating', conditions: next };
    }, 'status');
    if (remaining.length) return { requeueAfterMs: TERMINATING_RECHECK_MS };
    client.namespaces.mutate(undefined, name, (draft) => {
      const spec = isJson(draft.spec) ? { ...draft.spec } : {};
      const current = Array.isArray(spec.finalizers) ? (spec.finalizers as unknown[]) : [];
      if (!current.includes('kubernetes')) return false;
      spec.finalizers = current.filter((f) => f !== 'kubernetes');
      draft.spec = spec;
    }, 'finalize');
  };

  return startController(ctx.registry, {
    name: 'namespace-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('namespace-controller', key, error),
    sources: [{ group: '', version: 'v1', resource: 'namespaces', keys: (ns, type) => (type !== 'DELETED' && ns.metadata.deletionTimestamp ? [ns.metadata.name ?? ''] : []) }],
    reconcile,
  });
}
