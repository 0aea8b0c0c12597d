// PATCH in its four flavours, chosen by Content-Type: JSON patch, merge patch, strategic merge
// patch (built-in kinds only, as upstream) and server-side apply (which creates a missing
// object). The patch is applied to the live object and written with its resourceVersion, so a
// concurrent write makes it retry rather than lose either change.
import { StatusError, statusErrors, type KubeObject } from '../types.ts';
import type { ResourceDefinition } from '../registry/index.ts';
import { isPlainObject, readBody } from './body.ts';
import type { ApiContext, RequestScope } from './context.ts';
import { apiVersionOf, checkObject, decodeDocument } from './decode.ts';
import { validateFields } from './field-validation.ts';
import { contentTypeEssence, patchTypeFor, patchTypes, type PatchType } from './media.ts';
import { dryRunFrom, fieldManagerFrom, fieldValidationFrom, type FieldValidation } from './options.ts';
import { applyJsonPatch, applyMergePatch } from './patch/index.ts';
import { applyStrategicMergePatch, serverSideApply, updateManagedFields } from './pending/patch.ts';
import { presentObject } from './representation.ts';
import { namespaceArg, placeInNamespace, reply, representationFor } from './resources.ts';

const maxAttempts = 5;

function unsupportedPatchType(def: ResourceDefinition): StatusError {
  const accepted = [patchTypes.json, patchTypes.merge, patchTypes.apply, ...(def.crd ? [] : [patchTypes.strategic])];
  return statusErrors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

function parsePatch(type: PatchType, body: Buffer, contentType: string | undefined): unknown {
  const describe = (message: string) => statusErrors.badRequest(type === 'apply' ? `error decoding YAML: ${message}` : `error decoding patch: ${message}`);
  const patch = decodeDocument(body, type === 'apply' ? contentType : 'application/json', describe);
  if (type !== 'json' && !isPlainObject(patch)) {
    throw statusErrors.badRequest(
      type === 'apply'
        ? `error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${Array.isArray(patch) ? 'array' : String(typeof patch)} into Go value of type map[string]interface {}`
        : `json: cannot unmarshal ${Array.isArray(patch) ? 'array' : patch === null ? 'null' : typeof patch} into Go value of type map[string]interface {}`,
    );
  }
  return patch;
}

export async function patchObject(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const contentType = scope.req.headers['content-type'];
  const type = patchTypeFor(contentTypeEssence(contentType));
  if (!type || (type === 'strategic' && def.crd)) throw unsupportedPatchType(def);
  const representation = representationFor(scope);
  const dryRun = dryRunFrom('PatchOptions', scope.query.getAll('dryRun'));
  const manager = fieldManagerFrom('PatchOptions', scope, type === 'apply');
  const directive = fieldValidationFrom('PatchOptions', scope.query);
  const forceParam = scope.query.get('force');
  const force = forceParam === 'true';
  if (forceParam !== null && type !== 'apply') {
    throw statusErrors.invalid('PatchOptions', 'meta.k8s.io', '', [{ field: 'force', message: 'Forbidden: may not be specified for non-apply patch', reason: 'FieldValueForbidden' }]);
  }
  const patch = parsePatch(type, await readBody(scope.req), contentType);
  const subresource = scope.info.subresource;
  const namespace = namespaceArg(def, scope);
  const name = scope.info.name;
  const now = ctx.clock();
  const gvk = { group: def.group, version: def.version, kind: def.kind };
  const how: PatchSettings = { gvk, manager, force, now, fieldValidation: directive };

  for (let attempt = 1; ; attempt++) {
    let live: KubeObject | undefined;
    try {
      live = ctx.registry.get(def, namespace, name);
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404 && type === 'apply' && subresource === '')) throw error;
    }

    if (subresource === 'scale') {
      const scale = ctx.registry.getScale(def, namespace, name);
      const patched = checkObject(applyTo(type, scale, patch, { ...how, gvk: { group: 'autoscaling', version: 'v1', kind: 'Scale' } }), { group: 'autoscaling', version: 'v1', kind: 'Scale' }, (message) =>
        statusErrors.badRequest(message),
      );
      const pinned = patched.metadata.resourceVersion !== scale.metadata.resourceVersion;
      try {
        reply(scope, 200, ctx.registry.updateScale(def, namespace, name, patched, { dryRun, fieldManager: manager, user: scope.user }), representation);
        return;
      } catch (error) {
        if (isConflict(error) && !pinned && attempt < maxAttempts) continue;
        throw error;
      }
    }

    let next: KubeObject;
    let created = false;
    if (type === 'apply') {
      const applied = checkObject(patch, gvk, (message) => statusErrors.badRequest(`error decoding YAML: ${message}`));
      const result = serverSideApply(live, placeInNamespace(def, scope, { ...applied, metadata: { ...applied.metadata, name: applied.metadata.name ?? name } }), {
        manager,
        force,
        ...gvk,
        now,
      });
      if (result.conflicts.length > 0) throw applyConflict(result.conflicts, name, def);
      next = result.object;
      created = live === undefined;
    } else {
      const patched = applyTo(type, live!, patch, how);
      next = checkObject(patched, gvk, (message) => statusErrors.badRequest(message));
      next = updateManagedFields(live, next, { manager, operation: 'Update', apiVersion: apiVersionOf(def.group, def.version), now, ...(subresource ? { subresource } : {}) });
    }
    if ((next.metadata.name ?? '') !== name) {
      throw statusErrors.badRequest(`the name of the object (${next.metadata.name ?? ''}) does not match the name on the URL (${name})`);
    }
    next = placeInNamespace(def, scope, next);
    next = validateFields(def, next, directive, scope.warnings, 'patch');
    // A patch that names a resourceVersion asks for that exact version; otherwise it applies to whatever is live.
    const pinned = live !== undefined && next.metadata.resourceVersion !== undefined && next.metadata.resourceVersion !== live.metadata.resourceVersion;
    if (live && !pinned) next = { ...next, metadata: { ...next.metadata, resourceVersion: live.metadata.resourceVersion } };
    try {
      const options = { dryRun, fieldManager: manager, user: scope.user };
      const stored = created
        ? ctx.registry.create(def, namespace, next, options)
        : ctx.registry.update(def, namespace, name, next, { ...options, ...(subresource === 'status' ? { subresource: 'status' as const } : {}) });
      reply(scope, created ? 201 : 200, presentObject(def, stored, representation, scope.query, ctx.clock()), representation);
      return;
    } catch (error) {
      if (isConflict(error) && !pinned && attempt < maxAttempts) continue;
      throw error;
    }
  }
}

function isConflict(error: unknown): boolean {
  return error instanceof StatusError && error.code === 409 && error.status.reason === 'Conflict';
}

interface PatchSettings {
  gvk: { group: string; version: string; kind: string };
  manager: string;
  force: boolean;
  now: Date;
  fieldValidation: FieldValidation;
}

function applyTo(type: PatchType, live: KubeObject, patch: unknown, { gvk, manager, force, now, fieldValidation }: PatchSettings): unknown {
  switch (type) {
    case 'json':
      return applyJsonPatch(live, patch, { fieldValidation });
    case 'merge':
      return applyMergePatch(live, patch);
    case 'strategic':
      return applyStrategicMergePatch(live, patch, gvk);
    case 'apply':
      return serverSideApply(live, patch as KubeObject, { manager, force, ...gvk, now }).object;
  }
}

function applyConflict(conflicts: Array<{ manager: string; field: string; apiVersion?: string }>, name: string, def: ResourceDefinition): StatusError {
  const describe = (c: { manager: string; apiVersion?: string }) => `conflict with "${c.manager}"${c.apiVersion ? ` using ${c.apiVersion}` : ''}`;
  const lines = conflicts.map((c) => `${describe(c)}: ${c.field}`);
  const message = conflicts.length === 1 ? `Apply failed with 1 conflict: ${lines[0]}` : `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  return new StatusError({
    code: 409,
    reason: 'Conflict',
    message,
    details: { name, group: def.group, kind: def.resource, causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: describe(c), field: c.field })) },
  });
}
