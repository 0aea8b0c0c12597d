// Subresources other than status: scale (autoscaling/v1 Scale, kept by the registry), pods/binding, pods/eviction,
// and the streaming ones (log, exec, attach, portforward, proxy) that are handed to the
// connect hook the kubelet provides.
import { type KubeObject, statusBody, statusErrors } from '../types.ts';
import type { ResourceDefinition, WriteOptions } from '../registry/index.ts';
import type { Json } from '../json.ts';
import { isPlainObject, readBody } from './body.ts';
import type { ApiContext, ConnectRequest, ProxyTarget, RequestScope } from './context.ts';
import { decodeObject } from './decode.ts';
import { dryRunFrom, fieldManagerFrom } from './options.ts';
import { httpErrors } from './respond.ts';
import { namespaceArg, reply, representationFor, reviewOptions, webhookRequest } from './resources.ts';

export const streamingSubresources = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

export function getScale(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): void {
  const representation = representationFor(scope);
  reply(scope, 200, ctx.registry.getScale(def, namespaceArg(def, scope), scope.info.name), representation);
}

export async function updateScale(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const representation = representationFor(scope);
  const dryRun = dryRunFrom('UpdateOptions', scope.query.getAll('dryRun'));
  const manager = fieldManagerFrom('UpdateOptions', scope, false);
  const scale = await decodeObject(await readBody(scope.req), scope.req.headers['content-type'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  if ((scale.metadata.name ?? '') !== scope.info.name) {
    throw statusErrors.badRequest(`the name of the object (${scale.metadata.name ?? ''}) does not match the name on the URL (${scope.info.name})`);
  }
  const options = { dryRun, fieldManager: manager, user: scope.user, warnings: scope.warnings };
  reply(scope, 200, await admitScale(ctx, scope, def, scale, options), representation);
}

const scaleKind = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

/** A write of the scale subresource, with the webhooks whose rules name it (deployments/scale) seeing the Scale. */
export function admitScale(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition, scale: KubeObject, options: WriteOptions): Promise<KubeObject> {
  const namespace = namespaceArg(def, scope);
  const old = ctx.registry.getScale(def, namespace, scope.info.name);
  return ctx.webhooks.write({
    ...webhookRequest(def, scope, 'UPDATE', reviewOptions('UpdateOptions', options), scale, old),
    kind: scaleKind,
    run: (candidate, preview) => ctx.registry.updateScale(def, namespace, scope.info.name, candidate ?? scale, preview ? { ...options, dryRun: true, warnings: [] } : options),
  });
}

function successStatus(code: number): unknown {
  return statusBody({ status: 'Success', code });
}

/** pods/binding: the scheduler's write of spec.nodeName, allowed once (the pod strategy checks). */
export async function bindPod(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const dryRun = dryRunFrom('CreateOptions', scope.query.getAll('dryRun'));
  const binding = await decodeObject(await readBody(scope.req), scope.req.headers['content-type'], { group: '', version: 'v1', kind: 'Binding' });
  const target = isPlainObject(binding['target']) ? binding['target'] : {};
  const nodeName = typeof target['name'] === 'string' ? target['name'] : '';
  if (nodeName === '') {
    throw statusErrors.invalid('Binding', '', scope.info.name, [{ field: 'target.name', message: 'Required value', reason: 'FieldValueRequired' }]);
  }
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: scope.info.name, ...(binding.metadata.annotations ? { annotations: binding.metadata.annotations } : {}) }, spec: { nodeName } };
  ctx.registry.update(def, scope.info.namespace, scope.info.name, pod, { dryRun, user: scope.user, subresource: 'binding' });
  reply(scope, 201, successStatus(201));
}

/** pods/eviction: a delete that names itself an eviction (PodDisruptionBudgets are the disruption controller's part). */
export async function evictPod(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const body = await readBody(scope.req);
  const eviction = await decodeObject(body, scope.req.headers['content-type'], { group: 'policy', version: 'v1', kind: 'Eviction' });
  const deleteOptions = isPlainObject(eviction['deleteOptions']) ? eviction['deleteOptions'] : {};
  const grace = deleteOptions['gracePeriodSeconds'];
  const dryRun = dryRunFrom('CreateOptions', [...scope.query.getAll('dryRun'), ...(Array.isArray(deleteOptions['dryRun']) ? deleteOptions['dryRun'].map(String) : [])]);
  if (ctx.evict) ctx.evict(scope.info.namespace ?? '', scope.info.name, { dryRun, user: scope.user, ...(typeof grace === 'number' ? { gracePeriodSeconds: grace } : {}) });
  else ctx.registry.delete(def, scope.info.namespace, scope.info.name, { dryRun, user: scope.user, ...(typeof grace === 'number' ? { gracePeriodSeconds: grace } : {}) });
  reply(scope, 201, successStatus(201));
}

/**
 * A proxy URL names its target `name`, `name:port` or `scheme:name:port` (SplitSchemeNamePort);
 * the path after `/proxy` goes to the target with the query.
 */
function proxyTarget(id: string, url: URL, def: ResourceDefinition): { name: string; target: ProxyTarget } {
  const parts = id.split(':');
  const [scheme, name, port] = parts.length === 1 ? ['', parts[0], ''] : parts.length === 2 ? ['', parts[0], parts[1]] : parts.length === 3 ? parts : [];
  if (!name || (scheme !== '' && scheme !== 'http' && scheme !== 'https')) throw statusErrors.badRequest(`invalid ${def.singular} request ${JSON.stringify(id)}`);
  const marker = `/${id}/proxy`;
  const at = url.pathname.indexOf(marker);
  const path = at < 0 ? '/' : url.pathname.slice(at + marker.length) || '/';
  return { name, target: { scheme: scheme as ProxyTarget['scheme'], port: port ?? '', path: `${path}${url.search}` } };
}

const truthy = (query: URLSearchParams, name: string) => ['true', '1'].includes(query.get(name) ?? '');

/**
 * The options object a CONNECT carries, as admission webhooks see it (PodExecOptions,
 * PodAttachOptions, PodPortForwardOptions, PodProxyOptions with Go's omitempty); pods/log is a
 * get, not a CONNECT.
 */
function connectOptions(subresource: string, query: URLSearchParams, proxyPath: string | undefined): Json | undefined {
  const kinds: Record<string, string> = { exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions', proxy: 'PodProxyOptions' };
  const kind = kinds[subresource];
  if (!kind) return undefined;
  const fields: Json = { kind, apiVersion: 'v1' };
  if (subresource === 'exec' || subresource === 'attach') {
    for (const stream of ['stdin', 'stdout', 'stderr', 'tty']) if (truthy(query, stream)) fields[stream] = true;
    const container = query.get('container');
    if (container) fields['container'] = container;
    if (subresource === 'exec') fields['command'] = query.getAll('command');
  }
  if (subresource === 'portforward') {
    const ports = query.getAll('ports').flatMap((value) => value.split(',')).map(Number).filter((port) => Number.isInteger(port));
    if (ports.length > 0) fields['ports'] = ports;
  }
  if (subresource === 'proxy' && proxyPath && proxyPath !== '/') fields['path'] = proxyPath.replace(/\?.*$/, '');
  return fields;
}

/** Hands a streaming subresource to the kubelet's hook; without one the cluster says so plainly. */
export async function connect(ctx: ApiContext, request: Omit<ConnectRequest, 'object'>, namespace: string | undefined, name: string, url: URL): Promise<void> {
  const def = request.def;
  const proxy = request.subresource === 'proxy' ? proxyTarget(name, url, def) : undefined;
  const object = ctx.registry.get(def, namespace, proxy?.name ?? name);
  const options = connectOptions(request.subresource, request.query, proxy?.target.path);
  if (options) await ctx.webhooks.connect({ definition: def, namespace: namespace ?? '', name: proxy?.name ?? name, subresource: request.subresource, options, user: request.user });
  if (!ctx.connect) {
    throw httpErrors.serviceUnavailable(`${def.resource}/${request.subresource} is not available: no kubelet serves this cluster's pods yet`);
  }
  await ctx.connect({ ...request, object, ...(proxy ? { proxy: proxy.target } : {}) });
}
