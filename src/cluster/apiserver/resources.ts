// The verbs on a resource or its status subresource: get, list, create, update, delete and
// deletecollection, each a thin path from the parsed request to the registry and back.
import type { KubeObject } from '../types.ts';
import { statusBody, statusErrors } from '../types.ts';
import type { ResourceDefinition, UpdateOptions } from '../registry/index.ts';
import type { Json } from '../json.ts';
import type { WebhookOperation } from './admission/webhooks/index.ts';
import { readBody } from './body.ts';
import type { ApiContext, RequestScope } from './context.ts';
import { apiVersionOf, decodeObject } from './decode.ts';
import { recordManagedFields, validateFields } from './field-validation.ts';
import { findObject } from './find.ts';
import { negotiateObjectRepresentation, type ObjectRepresentation } from './media.ts';
import { deleteOptionsFrom, fieldValidationFrom, listQueryFrom, writeOptionsFrom } from './options.ts';
import { presentList, presentObject, withTypeMeta } from './representation.ts';
import { httpErrors, sendObject, streamList } from './respond.ts';

const acceptedResponseTypes = 'application/json, application/yaml';

export function representationFor(scope: RequestScope): ObjectRepresentation {
  const representation = negotiateObjectRepresentation(scope.req.headers.accept);
  if (!representation) throw httpErrors.notAcceptable(acceptedResponseTypes);
  return representation;
}

/** The namespace argument the registry takes: the path's namespace for namespaced resources. */
export function namespaceArg(def: ResourceDefinition, scope: RequestScope): string | undefined {
  return def.namespaced ? scope.info.namespace : undefined;
}

export function reply(scope: RequestScope, code: number, body: unknown, representation?: ObjectRepresentation): void {
  sendObject(scope.res, code, body, { pretty: scope.pretty, warnings: scope.warnings, encoding: representation?.encoding });
}

export async function getObject(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const representation = representationFor(scope);
  const object = ctx.registry.get(def, namespaceArg(def, scope), scope.info.name);
  reply(scope, 200, await presentObject(def, object, representation, scope.query, ctx.clock()), representation);
}

export async function listObjects(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const representation = representationFor(scope);
  const query = listQueryFrom(scope.query, 'list');
  const namespace = namespaceArg(def, scope);
  const list = ctx.registry.list(def, { ...query, ...(namespace ? { namespace } : {}) });
  const body = await presentList(def, list, representation, scope.query, ctx.clock());
  if (representation.as !== 'Table' && representation.encoding !== 'yaml' && !scope.pretty) {
    await streamList(scope.res, 200, body as { items: readonly unknown[] }, { warnings: scope.warnings });
    return;
  }
  reply(scope, 200, body, representation);
}

/** CreateOptions or UpdateOptions as an AdmissionReview carries them. */
export function reviewOptions(kind: 'CreateOptions' | 'UpdateOptions', options: { dryRun?: boolean; fieldManager?: string }): Json {
  return { kind, apiVersion: 'meta.k8s.io/v1', ...(options.dryRun ? { dryRun: ['All'] } : {}), ...(options.fieldManager ? { fieldManager: options.fieldManager } : {}) };
}

/** What the webhooks of a write learn about it besides the registry call itself. */
export function webhookRequest(def: ResourceDefinition, scope: RequestScope, operation: WebhookOperation, options: Json, object: KubeObject | undefined, old: KubeObject | undefined) {
  return {
    operation,
    definition: def,
    namespace: def.namespaced ? (scope.info.namespace ?? '') : '',
    name: scope.info.name,
    subresource: scope.info.subresource ?? '',
    object,
    old,
    user: scope.user,
    dryRun: options['dryRun'] !== undefined,
    options,
    warnings: scope.warnings,
  };
}

/** The namespace in a body must agree with the URL; an empty one takes the URL's. */
export function placeInNamespace(def: ResourceDefinition, scope: RequestScope, object: KubeObject): KubeObject {
  const metadata = { ...object.metadata };
  if (def.namespaced) {
    if (metadata.namespace && metadata.namespace !== scope.info.namespace) {
      throw statusErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    metadata.namespace = scope.info.namespace;
  } else {
    delete metadata.namespace;
  }
  return { ...object, metadata };
}

export async function createObject(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  if (def.namespaced && !scope.info.namespace) throw httpErrors.methodNotAllowed('POST');
  const representation = representationFor(scope);
  const options = writeOptionsFrom('CreateOptions', scope, scope.user);
  const directive = fieldValidationFrom('CreateOptions', scope.query);
  const body = await readBody(scope.req);
  let object = placeInNamespace(def, scope, await decodeObject(body, scope.req.headers['content-type'], def));
  object = await validateFields(def, object, directive, scope.warnings, 'decode');
  object = await recordManagedFields(def, undefined, object, options.fieldManager, ctx.clock());
  const namespace = namespaceArg(def, scope);
  const created = await ctx.webhooks.write({
    ...webhookRequest(def, scope, 'CREATE', reviewOptions('CreateOptions', options), object, undefined),
    name: object.metadata.name ?? '',
    run: (candidate, preview) => ctx.registry.create(def, namespace, candidate ?? object, preview ? { ...options, dryRun: true, warnings: [] } : options),
  });
  reply(scope, 201, await presentObject(def, created, representation, scope.query, ctx.clock()), representation);
}

export async function updateObject(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const representation = representationFor(scope);
  const options = writeOptionsFrom('UpdateOptions', scope, scope.user);
  const directive = fieldValidationFrom('UpdateOptions', scope.query);
  const body = await readBody(scope.req);
  let object = await decodeObject(body, scope.req.headers['content-type'], def);
  if (def.namespaced && object.metadata.namespace && object.metadata.namespace !== scope.info.namespace) {
    throw statusErrors.badRequest(`the namespace of the object (${object.metadata.namespace}) does not match the namespace on the URL (${scope.info.namespace})`);
  }
  if ((object.metadata.name ?? '') !== scope.info.name) {
    throw statusErrors.badRequest(`the name of the object (${object.metadata.name ?? ''}) does not match the name on the URL (${scope.info.name})`);
  }
  object = placeInNamespace(def, scope, object);
  object = await validateFields(def, object, directive, scope.warnings, 'decode');
  const namespace = namespaceArg(def, scope);
  const sub = scope.info.subresource;
  const subresource = sub === 'status' || sub === 'finalize' || sub === 'ephemeralcontainers' || sub === 'approval' ? sub : undefined;
  const old = findObject(ctx.registry, def, namespace, scope.info.name);
  object = await recordManagedFields(def, old, object, options.fieldManager, ctx.clock(), subresource);
  // A missing object is created where the resource's strategy allows it (upstream's AllowCreateOnUpdate), else 404.
  const updateOptions: UpdateOptions = { ...options, ...(subresource ? { subresource } : { createIfMissing: true }) };
  const written = object;
  const stored = await ctx.webhooks.write({
    ...webhookRequest(def, scope, old ? 'UPDATE' : 'CREATE', reviewOptions(old ? 'UpdateOptions' : 'CreateOptions', options), object, old),
    run: (candidate, preview) => ctx.registry.update(def, namespace, scope.info.name, candidate ?? written, preview ? { ...updateOptions, dryRun: true, warnings: [] } : updateOptions),
  });
  reply(scope, old ? 200 : 201, await presentObject(def, stored, representation, scope.query, ctx.clock()), representation);
}

/** Resources whose DELETE answers with the object, as upstream's ReturnDeletedObject stores do. */
function returnsDeletedObject(def: ResourceDefinition): boolean {
  return def.crd !== undefined || (def.group === '' && (def.resource === 'pods' || def.resource === 'namespaces')) || def.resource === 'customresourcedefinitions';
}

export async function deleteObject(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const representation = representationFor(scope);
  const body = await readBody(scope.req);
  const options = deleteOptionsFrom(scope, body, scope.user);
  const namespace = namespaceArg(def, scope);
  const old = findObject(ctx.registry, def, namespace, scope.info.name);
  const deleteOptions = { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', ...(options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}), ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}), ...(options.dryRun ? { dryRun: ['All'] } : {}) };
  const result = old
    ? await ctx.webhooks.write({ ...webhookRequest(def, scope, 'DELETE', deleteOptions, undefined, old), run: () => ctx.registry.delete(def, namespace, scope.info.name, options) })
    : ctx.registry.delete(def, namespace, scope.info.name, options);
  const pending = result.metadata.deletionTimestamp !== undefined && stillExists(ctx, def, scope, result);
  if (pending || returnsDeletedObject(def)) {
    reply(scope, 200, await presentObject(def, result, representation, scope.query, ctx.clock()), representation);
    return;
  }
  reply(scope, 200, statusBody({ status: 'Success', details: { name: scope.info.name, group: def.group, kind: def.resource, uid: result.metadata.uid } }));
}

function stillExists(ctx: ApiContext, def: ResourceDefinition, scope: RequestScope, result: KubeObject): boolean {
  try {
    return ctx.registry.get(def, namespaceArg(def, scope), scope.info.name).metadata.uid === result.metadata.uid;
  } catch {
    return false;
  }
}

export async function deleteCollection(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const representation = representationFor(scope);
  const body = await readBody(scope.req);
  const options = deleteOptionsFrom(scope, body, scope.user);
  const query = listQueryFrom(scope.query, 'list');
  const namespace = namespaceArg(def, scope);
  const deleted = ctx.registry.deleteCollection(def, { ...query, ...options, ...(namespace ? { namespace } : {}) });
  reply(
    scope,
    200,
    { kind: def.listKind, apiVersion: apiVersionOf(def.group, def.version), metadata: {}, items: deleted.map((item) => withTypeMeta(def, item)) },
    representation,
  );
}
