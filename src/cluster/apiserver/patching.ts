// PATCH in its four flavours, chosen by Content-Type: JSON patch, merge patch, strategic merge
// patch (built-in kinds only, as upstream) and server-side apply (which creates a missing
// object). The patch is applied to the live object and written with its resourceVersion, so a
// concurrent write makes it retry rather than lose either change.
import { StatusError, statusErrors, type KubeObject } from '../types.ts';
import type { ResourceDefinition, UpdateOptions } from '../registry/index.ts';
import { isPlainObject, readBody } from './body.ts';
import type { ApiContext, RequestScope } from './context.ts';
import { checkObject, decodeDocument } from './decode.ts';
import { customResourceShape, recordManagedFields, resetFieldsFor, validateFields } from './field-validation.ts';
import { findObject } from './find.ts';
import { libraries } from './libraries.ts';
import { contentTypeEssence, patchTypeFor, patchTypes, type PatchType } from './media.ts';
import { dryRunFrom, fieldManagerFrom, fieldValidationFrom } from './options.ts';
import { presentObject } from './representation.ts';
import { namespaceArg, placeInNamespace, reply, representationFor, reviewOptions, webhookRequest } from './resources.ts';
import { admitScale } from './subresources.ts';

const maxAttempts = 5;
const scaleKind = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

function unsupportedPatchType(def: ResourceDefinition): StatusError {
  const accepted = [patchTypes.json, patchTypes.merge, patchTypes.apply, ...(def.crd ? [] : [patchTypes.strategic])];
  return statusErrors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

function parsePatch(type: PatchType, body: Buffer, contentType: string | undefined): unknown {
  const describe = (message: string) => statusErrors.badRequest(type === 'apply' ? `error decoding YAML: ${message}` : `error decoding patch: ${message}`);
  const patch = decodeDocument(body, type === 'apply' ? contentType : 'application/json', describe);
  if (type !== 'json' && !isPlainObject(patch)) {
    const found = Array.isArray(patch) ? 'array' : patch === null ? 'null' : typeof patch;
    throw statusErrors.badRequest(
      type === 'apply'
        ? `error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${found} into Go value of type map[string]interface {}`
        : `json: cannot unmarshal ${found} into Go value of type map[string]interface {}`,
    );
  }
  return patch;
}

function isConflict(error: unknown): boolean {
  return error instanceof StatusError && error.code === 409 && error.status.reason === 'Conflict';
}

export async function patchObject(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const contentType = scope.req.headers['content-type'];
  const type = patchTypeFor(contentTypeEssence(contentType));
  if (!type || (type === 'strategic' && def.crd)) throw unsupportedPatchType(def);
  const representation = representationFor(scope);
  const dryRun = dryRunFrom('PatchOptions', scope.query.getAll('dryRun'));
  const manager = fieldManagerFrom('PatchOptions', scope, type === 'apply');
  const fieldValidation = fieldValidationFrom('PatchOptions', scope.query);
  const forceParam = scope.query.get('force');
  const force = forceParam === 'true';
  if (forceParam !== null && type !== 'apply') {
    throw statusErrors.invalid('PatchOptions', 'meta.k8s.io', '', [{ field: 'force', message: 'Forbidden: may not be specified for non-apply patch', reason: 'FieldValueForbidden' }]);
  }
  const patch = parsePatch(type, await readBody(scope.req), contentType);
  const lib = await libraries.patch();
  const subresource = scope.info.subresource;
  const namespace = namespaceArg(def, scope);
  const name = scope.info.name;
  const now = ctx.clock();
  const gvk = { group: def.group, version: def.version, kind: def.kind };
  const schema = await customResourceShape(def);
  const resetFields = resetFieldsFor(def, subresource);
  const writeOptions = { dryRun, fieldManager: manager, user: scope.user, warnings: scope.warnings };

  /** The patch applied to one object; apply patches also settle field ownership. */
  const applyTo = (live: KubeObject | undefined, kind: typeof gvk): unknown => {
    switch (type) {
      case 'json':
        return lib.applyJsonPatch(live, patch, { fieldValidation });
      case 'merge':
        return lib.applyMergePatch(live, patch);
      case 'strategic':
        return lib.applyStrategicMergePatch(live, patch, kind);
      case 'apply': {
        const applied = checkObject(patch, kind, (message) => statusErrors.badRequest(`error decoding YAML: ${message}`));
        const result = lib.serverSideApply(live, placeInNamespace(def, scope, { ...applied, metadata: { ...applied.metadata, name: applied.metadata.name ?? name } }), {
          manager,
          force,
          ...kind,
          now,
          resetFields,
          ...(subresource ? { subresource } : {}),
          ...(schema && kind === gvk ? { schema } : {}),
        });
        if (result.conflicts.length > 0) throw lib.applyConflictError(result.conflicts);
        return result.object;
      }
    }
  };

  for (let attempt = 1; ; attempt++) {
    if (subresource === 'scale') {
      const scale = ctx.registry.getScale(def, namespace, name);
      const patched = checkObject(applyTo(scale, scaleKind), scaleKind, (message) => statusErrors.badRequest(message));
      const pinned = patched.metadata.resourceVersion !== scale.metadata.resourceVersion;
      try {
        reply(scope, 200, await admitScale(ctx, scope, def, patched, writeOptions), representation);
        return;
      } catch (error) {
        if (isConflict(error) && !pinned && attempt < maxAttempts) continue;
        throw error;
      }
    }

    // Only server-side apply creates what is missing.
    const live = type === 'apply' && subresource === '' ? findObject(ctx.registry, def, namespace, name) : ctx.registry.get(def, namespace, name);
    let next = checkObject(applyTo(live, gvk), gvk, (message) => statusErrors.badRequest(message));
    if (type !== 'apply') next = await recordManagedFields(def, live, next, manager, now, subresource);
    if ((next.metadata.name ?? '') !== name) {
      throw statusErrors.badRequest(`the name of the object (${next.metadata.name ?? ''}) does not match the name on the URL (${name})`);
    }
    next = placeInNamespace(def, scope, next);
    next = await validateFields(def, next, fieldValidation, scope.warnings, 'patch');
    // A patch that names a resourceVersion asks for that exact version; otherwise it applies to whatever is live.
    const pinned = live !== undefined && next.metadata.resourceVersion !== undefined && next.metadata.resourceVersion !== live.metadata.resourceVersion;
    if (live && !pinned) next = { ...next, metadata: { ...next.metadata, resourceVersion: live.metadata.resourceVersion } };
    try {
      const updateOptions: UpdateOptions = { ...writeOptions, ...(subresource === 'status' || subresource === 'ephemeralcontainers' || subresource === 'approval' ? { subresource } : {}) };
      const requested = next;
      const stored = await ctx.webhooks.write({
        ...webhookRequest(def, scope, live ? 'UPDATE' : 'CREATE', reviewOptions(live ? 'UpdateOptions' : 'CreateOptions', writeOptions), next, live),
        run: (candidate, preview) => {
          const options = preview ? { ...updateOptions, dryRun: true, warnings: [] } : updateOptions;
          return live ? ctx.registry.update(def, namespace, name, candidate ?? requested, options) : ctx.registry.create(def, namespace, candidate ?? requested, options);
        },
      });
      reply(scope, live ? 200 : 201, await presentObject(def, stored, representation, scope.query, ctx.clock()), representation);
      return;
    } catch (error) {
      if (isConflict(error) && !pinned && attempt < maxAttempts) continue;
      throw error;
    }
  }
}
