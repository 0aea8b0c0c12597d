// LimitRanger: a LimitRange's defaults go into containers that set no requests/limits (noted in
// the kubernetes.io/limit-ranger annotation), then min, max and maxLimitRequestRatio are
// enforced for containers, pods and claims, with upstream's messages.
import { isJson, type Json, objects } from '../../json.ts';
import type { KubeObject } from '../../types.ts';
import { type AdmissionPlugin, type AdmissionRequest, computeResourcesOf, type Quantity, type ResourceList, toResourceList } from '../../registry/index.ts';
import { aggregate, forbidden } from './forbidden.ts';

const ANNOTATION = 'kubernetes.io/limit-ranger';

function limitItems(request: AdmissionRequest): Json[] {
  const def = request.registry.lookup('', 'v1', 'limitranges');
  if (!def || !request.namespace) return [];
  return request.registry.list(def, { namespace: request.namespace }).items.flatMap((lr) => objects((lr.spec as Json | undefined)?.limits));
}

function isPods(request: AdmissionRequest): boolean {
  return request.definition.group === '' && request.definition.resource === 'pods';
}

function isClaims(request: AdmissionRequest): boolean {
  return request.definition.group === '' && request.definition.resource === 'persistentvolumeclaims';
}

function mergeDefaults(container: Json, defaults: { limits: Json; requests: Json }, prefix: string): string[] {
  const resources = isJson(container.resources) ? container.resources : (container.resources = {});
  const limits = isJson(resources.limits) ? resources.limits : {};
  const requests = isJson(resources.requests) ? resources.requests : {};
  const setLimits = Object.keys(defaults.limits).filter((name) => limits[name] === undefined);
  const setRequests = Object.keys(defaults.requests).filter((name) => requests[name] === undefined);
  for (const name of setLimits) limits[name] = defaults.limits[name];
  for (const name of setRequests) requests[name] = defaults.requests[name];
  if (Object.keys(limits).length) resources.limits = limits;
  if (Object.keys(requests).length) resources.requests = requests;
  const notes: string[] = [];
  if (setRequests.length) notes.push(`${setRequests.sort().join(', ')} request for ${prefix} ${String(container.name)}`);
  if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for ${prefix} ${String(container.name)}`);
  return notes;
}

function applyDefaults(pod: KubeObject, items: Json[]): void {
  const defaults = { limits: {} as Json, requests: {} as Json };
  for (const item of items) {
    if (item.type !== 'Container') continue;
    Object.assign(defaults.limits, isJson(item.default) ? item.default : {});
    Object.assign(defaults.requests, isJson(item.defaultRequest) ? item.defaultRequest : {});
  }
  if (Object.keys(defaults.limits).length === 0 && Object.keys(defaults.requests).length === 0) return;
  const spec = isJson(pod.spec) ? pod.spec : {};
  const notes: string[] = [];
  for (const container of objects(spec.containers)) notes.push(...mergeDefaults(container, defaults, 'container'));
  for (const container of objects(spec.initContainers)) notes.push(...mergeDefaults(container, defaults, 'init container'));
  if (notes.length) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` };
}

function minConstraint(kind: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const request = requests.get(name);
  const limit = limits.get(name);
  if (!request) return `minimum ${name} usage per ${kind} is ${enforced.toString()}.  No request is specified`;
  if (request.cmp(enforced) < 0) return `minimum ${name} usage per ${kind} is ${enforced.toString()}, but request is ${request.toString()}`;
  if (limit && limit.cmp(enforced) < 0) return `minimum ${name} usage per ${kind} is ${enforced.toString()}, but limit is ${limit.toString()}`;
  return undefined;
}

function maxConstraint(kind: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const request = requests.get(name);
  const limit = limits.get(name);
  if (!limit) return `maximum ${name} usage per ${kind} is ${enforced.toString()}.  No limit is specified`;
  if (limit.cmp(enforced) > 0) return `maximum ${name} usage per ${kind} is ${enforced.toString()}, but limit is ${limit.toString()}`;
  if (request && request.cmp(enforced) > 0) return `maximum ${name} usage per ${kind} is ${enforced.toString()}, but request is ${request.toString()}`;
  return undefined;
}

function ratioConstraint(kind: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const request = requests.get(name);
  const limit = limits.get(name);
  if (!request || request.isZero()) return `${name} max limit to request ratio per ${kind} is ${enforced.toString()}, but no request is specified or request is 0`;
  if (!limit || limit.isZero()) return `${name} max limit to request ratio per ${kind} is ${enforced.toString()}, but no limit is specified or limit is 0`;
  const ratio = Number(limit.nanos) / Number(request.nanos);
  if (ratio * 1000 > enforced.milliValue()) return `${name} max limit to request ratio per ${kind} is ${enforced.toString()}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

function enforce(kind: string, item: Json, requests: ResourceList, limits: ResourceList): string[] {
  const errors: string[] = [];
  for (const [name, q] of toResourceList(item.min)) {
    const error = minConstraint(kind, name, q, requests, limits);
    if (error) errors.push(error);
  }
  for (const [name, q] of toResourceList(item.max)) {
    const error = maxConstraint(kind, name, q, requests, limits);
    if (error) errors.push(error);
  }
  for (const [name, q] of toResourceList(item.maxLimitRequestRatio)) {
    const error = ratioConstraint(kind, name, q, requests, limits);
    if (error) errors.push(error);
  }
  return errors;
}

function validatePod(pod: KubeObject, items: Json[]): string[] {
  const errors: string[] = [];
  const spec = isJson(pod.spec) ? pod.spec : {};
  for (const item of items) {
    if (item.type === 'Container') {
      for (const container of [...objects(spec.initContainers), ...objects(spec.containers)]) {
        const resources = isJson(container.resources) ? container.resources : {};
        errors.push(...enforce('Container', item, toResourceList(resources.requests), toResourceList(resources.limits)));
      }
    } else if (item.type === 'Pod') {
      const { requests, limits } = computeResourcesOf(pod);
      errors.push(...enforce('Pod', item, requests, limits));
    }
  }
  return errors;
}

function validateClaim(claim: KubeObject, items: Json[]): string[] {
  const errors: string[] = [];
  const resources = isJson((claim.spec as Json | undefined)?.resources) ? ((claim.spec as Json).resources as Json) : {};
  const requests = toResourceList(resources.requests);
  const limits = toResourceList(resources.limits);
  for (const item of items) {
    if (item.type !== 'PersistentVolumeClaim') continue;
    for (const [name, q] of toResourceList(item.min)) {
      const request = requests.get(name);
      if (!request) errors.push(`minimum ${name} usage per PersistentVolumeClaim is ${q.toString()}.  No request is specified`);
      else if (request.cmp(q) < 0) errors.push(`minimum ${name} usage per PersistentVolumeClaim is ${q.toString()}, but request is ${request.toString()}`);
    }
    for (const [name, q] of toResourceList(item.max)) {
      const request = requests.get(name);
      const limit = limits.get(name);
      if (!request && !limit) errors.push(`maximum ${name} usage per PersistentVolumeClaim is ${q.toString()}.  No request is specified`);
      else if (request && request.cmp(q) > 0) errors.push(`maximum ${name} usage per PersistentVolumeClaim is ${q.toString()}, but request is ${request.toString()}`);
    }
  }
  return errors;
}

export const limitRanger: AdmissionPlugin = {
  name: 'LimitRanger',
  mutate(request) {
    if (request.operation !== 'CREATE' || !isPods(request) || !request.object) return;
    const items = limitItems(request);
    if (items.length) applyDefaults(request.object, items);
  },
  validate(request) {
    if (!request.object || (request.operation !== 'CREATE' && request.operation !== 'UPDATE') || request.subresource) return;
    if (!isPods(request) && !isClaims(request)) return;
    if (isPods(request) && request.operation === 'UPDATE') return;
    const items = limitItems(request);
    if (items.length === 0) return;
    const errors = isPods(request) ? validatePod(request.object, items) : validateClaim(request.object, items);
    if (errors.length) throw forbidden(request, aggregate(errors));
  },
};
