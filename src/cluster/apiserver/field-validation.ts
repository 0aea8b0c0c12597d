// fieldValidation=Strict|Warn|Ignore: unknown fields are a 400 (Strict), a Warning header (Warn)
// or silently dropped (Ignore); in every case they are not stored, as typed decoding drops them.
import { statusErrors, type KubeObject } from '../types.ts';
import type { ResourceDefinition } from '../registry/index.ts';
import { findUnknownFields } from './pending/openapi.ts';
import type { FieldValidation } from './options.ts';

export function validateFields(
  def: ResourceDefinition,
  object: KubeObject,
  directive: FieldValidation,
  warnings: string[],
  /** create/update wrap the error as a decode error of the kind; patch reports it bare */
  context: 'decode' | 'patch',
): KubeObject {
  const unknown = findUnknownFields(object, { group: def.group, version: def.version, kind: def.kind });
  if (unknown.length === 0) return object;
  const messages = unknown.map((path) => `unknown field "${path}"`);
  if (directive === 'Strict') {
    const strict = `strict decoding error: ${messages.join(', ')}`;
    throw statusErrors.badRequest(context === 'patch' ? strict : `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${strict}`);
  }
  if (directive === 'Warn') warnings.push(...messages);
  return pruneFields(object, unknown);
}

/** Removes "spec.foo", "spec.containers[0].bar", "metadata.labels.x" style paths from a copy. */
export function pruneFields(object: KubeObject, paths: string[]): KubeObject {
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
