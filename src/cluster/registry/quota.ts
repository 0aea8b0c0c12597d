// Quota usage (pkg/quota/v1/evaluator/core): what a pod, a service or any object counts against
// a ResourceQuota, and the usage of a whole namespace. Used by quota admission and to keep
// ResourceQuota status.used current.
import type { KubeObject } from '../types.ts';
import type { Registry, ResourceDefinition } from './interface.ts';
import { asArray, asObject, objects, str } from '../json.ts';
import { Quantity, type ResourceList, resourceListToJSON, tryParseQuantity } from './quantity.ts';
import { labelSelectorFromObject } from './selectors.ts';
import { podQOSClass } from './resources/core/pods.ts';

const ONE = Quantity.fromInteger(1);

/** Simple object-count names ("pods", "secrets") and the generic count/<resource>[.<group>] names. */
const legacyCounts: Record<string, { group: string; resource: string }> = {
  pods: { group: '', resource: 'pods' },
  services: { group: '', resource: 'services' },
  configmaps: { group: '', resource: 'configmaps' },
  secrets: { group: '', resource: 'secrets' },
  persistentvolumeclaims: { group: '', resource: 'persistentvolumeclaims' },
  replicationcontrollers: { group: '', resource: 'replicationcontrollers' },
  resourcequotas: { group: '', resource: 'resourcequotas' },
};

function isTerminalPod(pod: KubeObject): boolean {
  const phase = asObject(pod.status)?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Requests and limits of a pod: max(sum of containers, largest init container), plus overhead. */
export function computeResourcesOf(pod: KubeObject): { requests: ResourceList; limits: ResourceList } {
  const spec = asObject(pod.spec) ?? {};
  const sum = (kind: 'requests' | 'limits', containers: Record<string, unknown>[]) => {
    const out: ResourceList = new Map();
    for (const c of containers) {
      for (const [name, raw] of Object.entries(asObject(asObject(c.resources)?.[kind]) ?? {})) {
        const q = tryParseQuantity(raw);
        if (!q) continue;
        const existing = out.get(name);
        out.set(name, existing ? existing.add(q) : q);
      }
    }
    return out;
  };
  const result = { requests: sum('requests', objects(spec.containers)), limits: sum('limits', objects(spec.containers)) };
  for (const init of objects(spec.initContainers)) {
    for (const kind of ['requests', 'limits'] as const) {
      for (const [name, q] of sum(kind, [init])) {
        const current = result[kind].get(name);
        if (!current || q.cmp(current) > 0) result[kind].set(name, q);
      }
    }
  }
  for (const [name, raw] of Object.entries(asObject(spec.overhead) ?? {})) {
    const q = tryParseQuantity(raw);
    if (!q) continue;
    for (const kind of ['requests', 'limits'] as const) {
      const current = result[kind].get(name);
      if (current) result[kind].set(name, current.add(q));
      else if (kind === 'requests') result[kind].set(name, q);
    }
  }
  return result;
}

/** What one pod counts against a quota (empty for a pod that finished). */
export function podUsage(pod: KubeObject): ResourceList {
  const usage: ResourceList = new Map();
  if (isTerminalPod(pod)) return usage;
  usage.set('pods', ONE);
  usage.set('count/pods', ONE);
  const { requests, limits } = computeResourcesOf(pod);
  for (const [name, q] of requests) {
    usage.set(`requests.${name}`, q);
    if (name === 'cpu' || name === 'memory' || name === 'ephemeral-storage') usage.set(name, q);
  }
  for (const [name, q] of limits) usage.set(`limits.${name}`, q);
  return usage;
}

function serviceUsage(service: KubeObject): ResourceList {
  const usage: ResourceList = new Map([
    ['services', ONE],
    ['count/services', ONE],
  ]);
  const spec = asObject(service.spec) ?? {};
  const ports = asArray(spec.ports).length;
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') usage.set('services.nodeports', Quantity.fromInteger(ports));
  if (spec.type === 'LoadBalancer') usage.set('services.loadbalancers', ONE);
  return usage;
}

function claimUsage(claim: KubeObject): ResourceList {
  const usage: ResourceList = new Map([
    ['persistentvolumeclaims', ONE],
    ['count/persistentvolumeclaims', ONE],
  ]);
  const spec = asObject(claim.spec) ?? {};
  const storage = tryParseQuantity(asObject(asObject(spec.resources)?.requests)?.storage);
  if (storage) {
    usage.set('requests.storage', storage);
    const className = str(spec.storageClassName);
    if (className) {
      usage.set(`${className}.storageclass.storage.k8s.io/requests.storage`, storage);
      usage.set(`${className}.storageclass.storage.k8s.io/persistentvolumeclaims`, ONE);
    }
  }
  return usage;
}

/** The quota usage of any object of the given resource. */
export function objectUsage(def: Pick<ResourceDefinition, 'group' | 'resource'>, object: KubeObject): ResourceList {
  if (def.group === '' && def.resource === 'pods') return podUsage(object);
  if (def.group === '' && def.resource === 'services') return serviceUsage(object);
  if (def.group === '' && def.resource === 'persistentvolumeclaims') return claimUsage(object);
  const countName = def.group === '' ? `count/${def.resource}` : `count/${def.resource}.${def.group}`;
  const usage: ResourceList = new Map([[countName, ONE]]);
  for (const [legacy, gr] of Object.entries(legacyCounts)) if (gr.group === def.group && gr.resource === def.resource) usage.set(legacy, ONE);
  return usage;
}

/** Quota scopes (Terminating, BestEffort, PriorityClass…) decide whether a pod counts at all. */
export function quotaMatchesPod(quota: KubeObject, pod: KubeObject): boolean {
  const spec = asObject(quota.spec) ?? {};
  const podSpec = asObject(pod.spec) ?? {};
  const selectors: { scopeName: string; operator: string; values: string[] }[] = asArray(spec.scopes).map((s) => ({ scopeName: String(s), operator: 'Exists', values: [] }));
  for (const expr of objects(asObject(spec.scopeSelector)?.matchExpressions))
    selectors.push({ scopeName: String(expr.scopeName), operator: String(expr.operator), values: asArray(expr.values).map(String) });
  for (const selector of selectors) {
    switch (selector.scopeName) {
      case 'Terminating':
        if (typeof podSpec.activeDeadlineSeconds !== 'number') return false;
        break;
      case 'NotTerminating':
        if (typeof podSpec.activeDeadlineSeconds === 'number') return false;
        break;
      case 'BestEffort':
        if (podQOSClass(podSpec) !== 'BestEffort') return false;
        break;
      case 'NotBestEffort':
        if (podQOSClass(podSpec) === 'BestEffort') return false;
        break;
      case 'PriorityClass': {
        const name = str(podSpec.priorityClassName);
        const matcher = labelSelectorFromObject({ matchExpressions: [{ key: 'p', operator: selector.operator, values: selector.values }] });
        if (!matcher.matches(name === undefined ? {} : { p: name })) return false;
        break;
      }
      default:
        break;
    }
  }
  return true;
}

function countsAgainst(quota: KubeObject, def: Pick<ResourceDefinition, 'group' | 'resource'>, object: KubeObject): boolean {
  if (def.group === '' && def.resource === 'pods') return quotaMatchesPod(quota, object);
  const spec = asObject(quota.spec) ?? {};
  return asArray(spec.scopes).length === 0 && asObject(spec.scopeSelector) === undefined;
}

/** "<group>/<resource>" of every resource a quota's hard names are about. */
export function trackedResourceIds(quota: KubeObject): Set<string> {
  return trackedIds(Object.keys(asObject(asObject(quota.spec)?.hard) ?? {}));
}

function trackedIds(hard: string[]): Set<string> {
  const wanted = new Set<string>();
  for (const name of hard) {
    if (name.startsWith('count/')) {
      const rest = name.slice('count/'.length);
      const dot = rest.indexOf('.');
      wanted.add(dot < 0 ? `/${rest}` : `${rest.slice(dot + 1)}/${rest.slice(0, dot)}`);
    } else if (legacyCounts[name]) {
      wanted.add(`/${legacyCounts[name].resource}`);
    } else if (name.startsWith('services.')) {
      wanted.add('/services');
    } else if (name.includes('storage')) {
      wanted.add('/persistentvolumeclaims');
    } else {
      wanted.add('/pods');
    }
  }
  return wanted;
}

// resources() hands out the same array until the set of resources changes
const servedById = new WeakMap<ResourceDefinition[], Map<string, ResourceDefinition>>();

function trackedResources(registry: Registry, hard: string[]): ResourceDefinition[] {
  const resources = registry.resources();
  let byId = servedById.get(resources);
  if (!byId) {
    byId = new Map();
    for (const def of resources) {
      const id = `${def.group}/${def.resource}`;
      if (def.namespaced && !byId.has(id)) byId.set(id, def);
    }
    servedById.set(resources, byId);
  }
  const out: ResourceDefinition[] = [];
  for (const id of trackedIds(hard)) {
    const def = byId.get(id);
    if (def) out.push(def);
  }
  return out;
}

/** status.used of a quota: every hard name, counted over the namespace as it is now. */
export function quotaUsage(registry: Registry, namespace: string, quota: KubeObject): Record<string, string> {
  const hard = Object.keys(asObject(asObject(quota.spec)?.hard) ?? {});
  const used: ResourceList = new Map();
  for (const name of hard) used.set(name, new Quantity(0n, 'DecimalSI'));
  for (const def of trackedResources(registry, hard)) {
    for (const object of registry.list(def, { namespace }).items) {
      if (object.metadata.deletionTimestamp && def.resource === 'pods' && def.group === '' && isPastGrace(object)) continue;
      if (!countsAgainst(quota, def, object)) continue;
      for (const [name, q] of objectUsage(def, object)) {
        const current = used.get(name);
        if (current !== undefined) used.set(name, current.add(q));
      }
    }
  }
  return resourceListToJSON(used);
}

function isPastGrace(pod: KubeObject): boolean {
  const at = pod.metadata.deletionTimestamp;
  return typeof at === 'string' && Date.parse(at) <= Date.now();
}
