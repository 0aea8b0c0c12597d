// Interim: strategic merge and server-side apply fall back to a merge patch; managedFields untouched.
import type { KubeObject, ManagedFieldsEntry } from '../../types.ts';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(doc) ? { ...doc } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

export function applyStrategicMergePatch(doc: unknown, patch: unknown, _gvk: { group: string; version: string; kind: string }): unknown {
  return applyMergePatch(doc, patch);
}

export function serverSideApply(
  live: KubeObject | undefined,
  applied: KubeObject,
  _options: { manager: string; force: boolean; group: string; version: string; kind: string; now: Date },
): { object: KubeObject; conflicts: Array<{ manager: string; field: string; apiVersion?: string }> } {
  return { object: applyMergePatch(live ?? {}, applied) as KubeObject, conflicts: [] };
}

export function updateManagedFields(
  _old: KubeObject | undefined,
  next: KubeObject,
  _options: { manager: string; operation: ManagedFieldsEntry['operation']; apiVersion: string; now: Date; subresource?: string },
): KubeObject {
  return next;
}
