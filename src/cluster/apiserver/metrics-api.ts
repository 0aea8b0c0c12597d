// The resource metrics API (metrics.k8s.io/v1beta1) as metrics-server serves it behind the
// aggregator: PodMetrics and NodeMetrics, get and list only, for pods that are Running and nodes
// that exist, each only once the kubelet has a usage window for it. `kubectl top` reads it; so
// does anyone with `get --raw /apis/metrics.k8s.io/v1beta1/...`.
import { parseQuantity, type Quantity, type Registry, type ResourceDefinition } from '../registry/index.ts';
import { statusErrors, type KubeObject } from '../types.ts';
import type { ApiContext, RequestScope, ResourceMetricsSource } from './context.ts';
import { findObject } from './find.ts';
import { partialObject } from './representation.ts';
import { reply, representationFor } from './resources.ts';
import { httpErrors } from './respond.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${VERSION}`;
/** The APIService that routes the group to metrics-server: without it Available, the group is not served. */
export const METRICS_API_SERVICE = `${VERSION}.${METRICS_GROUP}`;

/** Whether the aggregator would route metrics.k8s.io now: its APIService exists and is Available. */
export function metricsRegistered(registry: Registry): boolean {
  const def = registry.lookup('apiregistration.k8s.io', 'v1', 'apiservices');
  const apiService = def ? findObject(registry, def, undefined, METRICS_API_SERVICE) : undefined;
  const conditions = (apiService?.['status'] as { conditions?: Array<{ type?: string; status?: string }> } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Available' && c.status === 'True');
}

function definition(resource: 'pods' | 'nodes'): ResourceDefinition {
  const kind = resource === 'pods' ? 'PodMetrics' : 'NodeMetrics';
  return {
    group: METRICS_GROUP,
    version: VERSION,
    resource,
    kind,
    listKind: `${kind}List`,
    // metrics-server's APIResourceList leaves singularName empty.
    singular: '',
    namespaced: resource === 'pods',
    shortNames: [],
    categories: [],
    verbs: ['get', 'list'],
    subresources: [],
    fieldSelectors: {},
  };
}

/** What discovery lists for the group while metrics are served. */
export const metricsDefinitions: readonly ResourceDefinition[] = [definition('nodes'), definition('pods')];

/**
 * metrics-server filters listed pods by field selector itself, on the object meta fields only
 * (generic.AddObjectMetaFieldsSet): any other field is empty there, so it never equals a value.
 */
function metaFieldMatcher(selector: string | null): (object: KubeObject) => boolean {
  if (!selector) return () => true;
  const terms = selector.split(',').filter(Boolean).map((term) => {
    const match = /^([^!=]+)(==|=|!=)(.*)$/.exec(term.trim());
    if (!match) throw statusErrors.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    return { field: match[1] ?? '', negated: match[2] === '!=', value: match[3] ?? '' };
  });
  return (object) =>
    terms.every(({ field, negated, value }) => {
      const actual = field === 'metadata.name' ? object.metadata.name : field === 'metadata.namespace' ? object.metadata.namespace : '';
      return (actual === value) !== negated;
    });
}

function byNamespaceAndName(a: KubeObject, b: KubeObject): number {
  return (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

function sum(values: unknown[]): string {
  let total: Quantity | undefined;
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const quantity = parseQuantity(value);
    total = total ? total.add(quantity) : quantity;
  }
  return total?.toString() ?? '0';
}

function usageOf(metrics: KubeObject): Record<string, unknown[]> {
  const usage: Record<string, unknown[]> = { cpu: [], memory: [] };
  const containers = Array.isArray(metrics['containers']) ? (metrics['containers'] as Array<{ usage?: Record<string, unknown> }>) : [{ usage: metrics['usage'] as Record<string, unknown> }];
  for (const container of containers) for (const name of ['cpu', 'memory']) usage[name]?.push(container.usage?.[name]);
  return usage;
}

/** metrics-server's table: Name, one column a resource (summed over containers), Window. */
function table(items: KubeObject[], version: string): unknown {
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: {},
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource', priority: 0 },
      { name: 'cpu', type: 'string', format: 'quantity', description: '', priority: 0 },
      { name: 'memory', type: 'string', format: 'quantity', description: '', priority: 0 },
      { name: 'Window', type: 'string', format: 'duration', description: '', priority: 0 },
    ],
    rows: items.map((item) => {
      const usage = usageOf(item);
      return { cells: [item.metadata.name ?? '', sum(usage['cpu'] ?? []), sum(usage['memory'] ?? []), item['window']], object: partialObject(version, item) };
    }),
  };
}

function answer(scope: RequestScope, body: KubeObject | KubeObject[], def: ResourceDefinition): void {
  const representation = representationFor(scope);
  const items = Array.isArray(body) ? body : [body];
  if (representation.as === 'Table') {
    reply(scope, 200, table(items, representation.version), representation);
    return;
  }
  if (representation.as === 'PartialObjectMetadata') {
    const partial = items.map((item) => partialObject(representation.version, item));
    reply(scope, 200, Array.isArray(body) ? { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${representation.version}`, metadata: {}, items: partial } : partial[0], representation);
    return;
  }
  reply(scope, 200, Array.isArray(body) ? { kind: def.listKind, apiVersion: API_VERSION, metadata: {}, items: body } : body, representation);
}

/** Answers a request for metrics.k8s.io/v1beta1 pods or nodes. */
export function serveMetrics(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition, source: ResourceMetricsSource): void {
  const { info, query } = scope;
  if (info.subresource !== '') throw httpErrors.notFoundPath();
  if (info.verb !== 'get' && info.verb !== 'list') throw statusErrors.methodNotSupported({ group: METRICS_GROUP, resource: def.resource }, info.verb);
  const coreDef = ctx.registry.lookup('', 'v1', def.resource);
  if (!coreDef) throw httpErrors.notFoundPath();
  const pods = def.resource === 'pods';
  const metricsOf = (object: KubeObject) => (pods ? source.podMetrics(object.metadata.namespace ?? '', object.metadata.name ?? '') : source.nodeMetrics(object.metadata.name ?? ''));
  const usable = (object: KubeObject) => !pods || (object['status'] as { phase?: string } | undefined)?.phase === 'Running';

  if (info.verb === 'get') {
    // A pod or node that does not exist is the core API's NotFound; one without a window yet is metrics-server's.
    const object = ctx.registry.get(coreDef, pods ? info.namespace : undefined, info.name);
    const metrics = usable(object) ? metricsOf(object) : undefined;
    if (!metrics) throw statusErrors.notFound({ group: METRICS_GROUP, resource: pods ? 'podmetrics' : 'nodemetrics' }, pods ? `${info.namespace}/${info.name}` : info.name);
    answer(scope, metrics, def);
    return;
  }
  const labelSelector = query.get('labelSelector') ?? '';
  const matches = metaFieldMatcher(query.get('fieldSelector'));
  const objects = ctx.registry.list(coreDef, { ...(pods && info.namespace ? { namespace: info.namespace } : {}), labelSelector }).items.filter(matches);
  const items: KubeObject[] = [];
  for (const object of [...objects].sort(byNamespaceAndName)) {
    const metrics = usable(object) ? metricsOf(object) : undefined;
    if (metrics) items.push(metrics);
  }
  answer(scope, items, def);
}
