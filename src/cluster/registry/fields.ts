// Writing, comparing and copying untyped JSON objects in the registry: defaulting a field,
// dotted paths, deep equality, freezing stored objects and copying them for a write. Reading
// them is ../json.ts.
import { isJson, type Json } from '../json.ts';

/** The object at parent[key], created (as {}) if absent; a non-object there is replaced. */
export function ensureObject(parent: Json, key: string): Json {
  const existing = parent[key];
  if (isJson(existing)) return existing;
  const created: Json = {};
  parent[key] = created;
  return created;
}

/** Sets parent[key] = value when the field is absent (undefined or null). */
export function setDefault(parent: Json, key: string, value: unknown): void {
  if (parent[key] === undefined || parent[key] === null) parent[key] = value;
}

/** Reads a dotted path ("spec.template.spec"); undefined when any step is missing. */
export function getPath(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const part of path.split('.')) {
    if (part === '') continue;
    if (!isJson(current)) return undefined;
    current = current[part];
  }
  return current;
}

export function setPath(root: Json, path: string, value: unknown): void {
  const parts = path.split('.').filter((p) => p !== '');
  let current = root;
  for (const part of parts.slice(0, -1)) current = ensureObject(current, part);
  const last = parts[parts.length - 1];
  if (last !== undefined) current[last] = value;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Json;
  const bo = b as Json;
  const aKeys = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bKeys = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (aKeys.length !== bKeys.length) return false;
  for (const key of aKeys) if (!deepEqual(ao[key], bo[key])) return false;
  return true;
}

/**
 * Stored objects are frozen all the way down: readers share them without copying, and any
 * attempt to write into one throws instead of silently corrupting the store.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value as object)) deepFreeze(child);
  return value;
}

/**
 * A mutable deep copy (of a frozen stored object, or of a caller's input). Objects here are JSON,
 * so a plain recursive copy does, and it is several times faster than structuredClone.
 */
export function clone<T>(value: T): T {
  return copyJson(value) as T;
}

function copyJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i]);
    return out;
  }
  if (value instanceof Date) return value.toISOString();
  const out: Json = {};
  for (const key in value) if (Object.hasOwn(value, key)) out[key] = copyJson((value as Json)[key]);
  return out;
}

/** Drops undefined members so stored JSON matches what a client would read back. */
export function pruneUndefined(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) pruneUndefined(item);
    return;
  }
  if (!isJson(value)) return;
  for (const key of Object.keys(value)) {
    if (value[key] === undefined) delete value[key];
    else pruneUndefined(value[key]);
  }
}

/** ObjectMeta's maps and lists are `omitempty`: an empty one is never stored or served. */
export function omitEmptyMetadata(meta: Record<string, unknown>): void {
  for (const key of ['labels', 'annotations', 'finalizers', 'ownerReferences', 'managedFields']) {
    const value = meta[key];
    if ((Array.isArray(value) && value.length === 0) || (isJson(value) && Object.keys(value).length === 0)) delete meta[key];
  }
}
