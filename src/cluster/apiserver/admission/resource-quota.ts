// ResourceQuota admission: a create (or an update that grows usage) is refused when it would
// take any quota in the namespace past its hard limit, and a pod must name the cpu/memory
// requests and limits a quota tracks. Usage is measured live, so dryRun and concurrent writers
// see the same numbers the stored status.used shows.
import { isJson } from '../../json.ts';
import type { KubeObject } from '../../types.ts';
import { type AdmissionPlugin, type AdmissionRequest, objectUsage, Quantity, quotaMatchesPod, quotaUsage, type ResourceList, toResourceList } from '../../registry/index.ts';
import { forbidden } from './forbidden.ts';

const podComputeNames = new Set(['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);

function pretty(list: ResourceList): string {
  return [...list.keys()]
    .sort()
    .map((name) => `${name}=${(list.get(name) as Quantity).toString()}`)
    .join(',');
}

function mask(list: ResourceList, names: Iterable<string>): ResourceList {
  const out: ResourceList = new Map();
  for (const name of names) {
    const q = list.get(name);
    if (q) out.set(name, q);
  }
  return out;
}

function isPods(request: AdmissionRequest): boolean {
  return request.definition.group === '' && request.definition.resource === 'pods';
}

/** "must specify limits.cpu for: web; requests.memory for: web,sidecar" */
function podConstraints(pod: KubeObject, tracked: string[]): string | undefined {
  const required = tracked.filter((name) => podComputeNames.has(name));
  if (required.length === 0) return undefined;
  const spec = isJson(pod.spec) ? pod.spec : {};
  const missing = new Map<string, Set<string>>();
  const containers = [...(Array.isArray(spec.containers) ? spec.containers : []), ...(Array.isArray(spec.initContainers) ? spec.initContainers : [])].filter(isJson);
  for (const container of containers) {
    const resources = isJson(container.resources) ? container.resources : {};
    const provided = new Set<string>();
    for (const name of toResourceList(resources.requests).keys()) {
      provided.add(`requests.${name}`);
      provided.add(name);
    }
    for (const name of toResourceList(resources.limits).keys()) provided.add(`limits.${name}`);
    for (const name of required) {
      if (provided.has(name)) continue;
      const names = missing.get(name) ?? new Set<string>();
      names.add(String(container.name));
      missing.set(name, names);
    }
  }
  if (missing.size === 0) return undefined;
  const parts = [...missing.keys()].sort().map((name) => `${name} for: ${[...(missing.get(name) as Set<string>)].sort().join(',')}`);
  return `must specify ${parts.join('; ')}`;
}

function usageDelta(request: AdmissionRequest, object: KubeObject): ResourceList {
  const def = request.definition;
  const now = objectUsage(def, object);
  if (request.operation !== 'UPDATE' || !request.oldObject) return now;
  const before = objectUsage(def, request.oldObject);
  const delta: ResourceList = new Map();
  for (const [name, q] of now) {
    const previous = before.get(name);
    const diff = previous ? q.sub(previous) : q;
    if (diff.sign() > 0) delta.set(name, diff);
  }
  return delta;
}

export const resourceQuota: AdmissionPlugin = {
  name: 'ResourceQuota',
  validate(request) {
    const object = request.object;
    if (!object || !request.namespace || !request.definition.namespaced || request.subresource) return;
    if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return;
    const quotaDef = request.registry.lookup('', 'v1', 'resourcequotas');
    if (!quotaDef) return;
    const quotas = request.registry.list(quotaDef, { namespace: request.namespace }).items;
    if (quotas.length === 0) return;
    for (const quota of quotas) {
      if (quota.metadata.deletionTimestamp) continue;
      if (isPods(request) && !quotaMatchesPod(quota, object)) continue;
      const hard = toResourceList(isJson(quota.spec) ? quota.spec.hard : undefined);
      const delta = usageDelta(request, object);
      const tracked = [...hard.keys()].filter((name) => delta.has(name) || (isPods(request) && podComputeNames.has(name)));
      if (tracked.length === 0) continue;
      if (isPods(request) && request.operation === 'CREATE') {
        const problem = podConstraints(object, tracked);
        if (problem) throw forbidden(request, `failed quota: ${String(quota.metadata.name)}: ${problem}`);
      }
      const requested = mask(delta, hard.keys());
      for (const [name, q] of requested) if (q.isZero()) requested.delete(name);
      if (requested.size === 0) continue;
      const used = toResourceList(quotaUsage(request.registry, request.namespace, quota));
      const exceeded: string[] = [];
      for (const [name, q] of requested) {
        const total = (used.get(name) ?? new Quantity(0n, q.format)).add(q);
        if (total.cmp(hard.get(name) as Quantity) > 0) exceeded.push(name);
      }
      if (exceeded.length === 0) continue;
      throw forbidden(
        request,
        `exceeded quota: ${String(quota.metadata.name)}, requested: ${pretty(mask(requested, exceeded))}, used: ${pretty(mask(used, exceeded))}, limited: ${pretty(mask(hard, exceeded))}`,
      );
    }
  },
};
