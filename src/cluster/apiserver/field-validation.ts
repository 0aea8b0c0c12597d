// What the API server checks on a decoded object before storing it: fieldValidation
// (Strict → 400, Warn → Warning header, Ignore → silence; unknown fields are dropped in every
// case, as typed decoding and CRD pruning drop them), a custom resource's openAPIV3Schema
// (defaults applied, violations → 422 Invalid), and the managedFields of the write.
import { StatusError, statusErrors, type KubeObject } from '../types.ts';
import type { ResourceDefinition } from '../registry/index.ts';
import { apiVersionOf } from './decode.ts';
import { libraries } from './libraries.ts';
import type { FieldValidation } from './options.ts';
import type { StructShape } from './patch/index.ts';

export async function validateFields(
  def: ResourceDefinition,
  object: KubeObject,
  directive: FieldValidation,
  warnings: string[],
  /** create/update wrap the error as a decode error of the kind; patch reports it bare */
  context: 'decode' | 'patch',
): Promise<KubeObject> {
  const { findUnknownFields, findTypeError, validateCustomResource } = await libraries.openapi();
  const schema = def.crd?.schema;
  // Decoding into the kind's struct fails before strict field checks could run.
  const typeError = schema ? undefined : findTypeError(object, { group: def.group, version: def.version, kind: def.kind });
  if (typeError) throw context === 'patch' ? patchDecodeError(object, typeError) : statusErrors.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${typeError}`);
  const unknown = def.crd?.preserveUnknownFields ? [] : findUnknownFields(object, { group: def.group, version: def.version, kind: def.kind }, schema);
  if (unknown.length > 0) {
    const messages = unknown.map((path) => `unknown field "${path}"`);
    if (directive === 'Strict') {
      const strict = `strict decoding error: ${messages.join(', ')}`;
      throw statusErrors.badRequest(context === 'patch' ? strict : `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${strict}`);
    }
    if (directive === 'Warn') warnings.push(...messages);
  }
  const checked = unknown.length > 0 || schema ? pruneFields(object, unknown) : object;
  if (schema) {
    const errors = validateCustomResource(checked as Parameters<typeof validateCustomResource>[0], schema as Parameters<typeof validateCustomResource>[1]);
    if (errors.length > 0) throw statusErrors.invalid(def.kind, def.group, checked.metadata.name ?? '', errors);
  }
  return checked;
}

/**
 * A patched object that does not decode: upstream's patcher reports it as an Invalid "patch"
 * field without kind or name, which kubectl prints as "The request is invalid: patch: …".
 */
function patchDecodeError(patched: KubeObject, message: string): StatusError {
  const detail = `Invalid value: ${JSON.stringify(JSON.stringify(patched))}: ${message}`;
  return new StatusError({
    code: 422,
    reason: 'Invalid',
    message: ` "" is invalid: patch: ${detail}`,
    details: { causes: [{ reason: 'FieldValueInvalid', message: detail, field: 'patch' }] },
  });
}

/** Removes "spec.foo", "spec.containers[0].bar", "metadata.labels.x" style paths from a copy. */
function pruneFields(object: KubeObject, paths: string[]): KubeObject {
  const copy = structuredClone(object);
  for (const path of paths) {
    const steps = parsePath(path);
    const last = steps.pop();
    if (last === undefined) continue;
    let node: unknown = copy;
    for (const step of steps) {
      node = typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[step] : undefined;
    }
    if (typeof node === 'object' && node !== null && !Array.isArray(node)) delete (node as Record<string, unknown>)[String(last)];
  }
  return copy;
}

function parsePath(path: string): Array<string | number> {
  const steps: Array<string | number> = [];
  for (const match of path.replace(/^\./, '').matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) steps.push(Number(match[2]));
    else if (match[1] !== undefined) steps.push(match[1]);
  }
  return steps;
}

const crdShapes = new WeakMap<object, StructShape>();

/** The merge structure of a custom resource, from its CRD schema; built-in kinds need none. */
export async function customResourceShape(def: ResourceDefinition): Promise<StructShape | undefined> {
  const schema = def.crd?.schema;
  if (!schema) return undefined;
  let shape = crdShapes.get(schema);
  if (!shape) {
    shape = (await libraries.patch()).shapeFromOpenAPISchema(schema);
    crdShapes.set(schema, shape);
  }
  return shape;
}

/** Fields no manager owns on an endpoint: status on the main resource, spec on status. */
export function resetFieldsFor(def: ResourceDefinition, subresource: string): string[][] {
  if (!def.subresources.some((sub) => sub.name === 'status')) return [];
  return subresource === 'status' ? [['spec']] : [['status']];
}

/** managedFields after a create, update or non-apply patch by `manager`. */
export async function recordManagedFields(def: ResourceDefinition, old: KubeObject | undefined, next: KubeObject, manager: string, now: Date, subresource = ''): Promise<KubeObject> {
  const { updateManagedFields } = await libraries.patch();
  const schema = await customResourceShape(def);
  return updateManagedFields(old, next, {
    manager,
    operation: 'Update',
    apiVersion: apiVersionOf(def.group, def.version),
    now,
    resetFields: resetFieldsFor(def, subresource),
    ...(subresource ? { subresource } : {}),
    ...(schema ? { schema } : {}),
  });
}
