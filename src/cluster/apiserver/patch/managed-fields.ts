// Field ownership: metadata.managedFields as kube-apiserver keeps it. Every write records which
// manager set which fields (one entry per manager, operation and subresource); server-side apply
// merges an applied configuration by the kind's list semantics, removes fields its applier gave
// up, and reports conflicts with fields other managers own unless forced.
import type { KubeObject, ManagedFieldsEntry } from '../../types.ts';
import { boundedDepth, PatchError } from './errors.ts';
import { FieldSet, pathString, type FieldPath } from './fieldpath.ts';
import { clone, deepEqual, goQuote, isObject, sortedJson, type JsonObject, type JsonValue } from './json.ts';
import { builtinShape, customResourceShape, type GroupVersionKind, type StructShape } from './schema/index.ts';
import { compare, dropNulls, merge, removeUnowned, toFieldSet, TypedValueError } from './typed.ts';

const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
const maxUpdateManagers = 10;

/** Fields nobody owns: identity and bookkeeping the server sets. */
const unowned = FieldSet.fromPaths(
  [['apiVersion'], ['kind'], ['metadata'], ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((name) => ['metadata', name])].map(
    (names) => names.map((name) => ({ type: 'field' as const, name })),
  ),
);

interface ManagerInfo {
  manager: string;
  operation: 'Apply' | 'Update';
  /** Part of an Update manager's identity; an applier keeps one entry across versions. */
  apiVersion?: string;
  subresource?: string;
}

interface Ownership {
  info: ManagerInfo;
  set: FieldSet;
  apiVersion: string;
  time?: string;
  /** The stored FieldsV1 while the set is unchanged, so untouched entries are not re-encoded. */
  fieldsV1?: JsonObject;
}

type Managed = Map<string, Ownership>;

/** The manager identity upstream keys ownership by: the entry without time and fields. */
function identify(info: ManagerInfo): string {
  return JSON.stringify({
    manager: info.manager,
    operation: info.operation,
    ...(info.operation === 'Update' && info.apiVersion ? { apiVersion: info.apiVersion } : {}),
    ...(info.subresource ? { subresource: info.subresource } : {}),
  });
}

function decodeManaged(entries: unknown): Managed {
  const managed: Managed = new Map();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((entry: unknown, index) => {
    if (!isObject(entry)) throw new Error(`managed fields entry ${index} is not an object`);
    const { manager, operation, apiVersion, time, fieldsType, fieldsV1, subresource } = entry;
    if (operation !== 'Apply' && operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (typeof apiVersion !== 'string' || apiVersion === '') throw new Error('apiVersion must not be empty');
    if (fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${goQuote(String(fieldsType ?? ''))} in managed fields entry ${index}`);
    const info: ManagerInfo = {
      manager: typeof manager === 'string' ? manager : '',
      operation,
      apiVersion,
      ...(typeof subresource === 'string' && subresource !== '' ? { subresource } : {}),
    };
    managed.set(identify(info), {
      info,
      set: FieldSet.fromFieldsV1(fieldsV1 ?? {}),
      apiVersion,
      ...(typeof time === 'string' ? { time } : {}),
      ...(isObject(fieldsV1) ? { fieldsV1 } : {}),
    });
  });
  return managed;
}

/** Stored managed fields that do not decode are dropped, as upstream does, rather than failing the write. */
function decodeOrEmpty(entries: unknown): Managed {
  try {
    return decodeManaged(entries);
  } catch {
    return new Map();
  }
}

function seconds(time: string | undefined): number {
  return time ? Math.floor(Date.parse(time) / 1000) : 0;
}

function encodeManaged(managed: Managed): ManagedFieldsEntry[] | undefined {
  if (managed.size === 0) return undefined;
  type Entry = Omit<ManagedFieldsEntry, 'time'> & { time?: string };
  const entries: Entry[] = [...managed.values()].map(({ info, set, apiVersion, time, fieldsV1 }) => ({
    manager: info.manager,
    operation: info.operation,
    apiVersion,
    ...(time ? { time } : {}),
    fieldsType: 'FieldsV1' as const,
    fieldsV1: fieldsV1 ?? set.toFieldsV1(),
    ...(info.subresource ? { subresource: info.subresource } : {}),
  }));
  const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  // Upstream omits time for an entry that never had one; the shared type always names it.
  return entries.sort(
    (p, q) =>
      text(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      text(p.manager, q.manager) ||
      text(p.apiVersion, q.apiVersion) ||
      text(p.subresource ?? '', q.subresource ?? ''),
  ) as ManagedFieldsEntry[];
}

/** Folds the oldest Update managers into "ancient-changes" once there are more than ten. */
function capUpdateManagers(managed: Managed): void {
  const updaters = [...managed.entries()].filter(([, o]) => o.info.operation === 'Update').map(([id]) => id);
  if (updaters.length <= maxUpdateManagers) return;
  updaters.sort((a, b) => seconds(managed.get(a)!.time) - seconds(managed.get(b)!.time) || (a < b ? -1 : a > b ? 1 : 0));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > maxUpdateManagers; i++) {
    const id = updaters[i]!;
    const ownership = managed.get(id)!;
    const bucketInfo: ManagerInfo = { manager: 'ancient-changes', operation: 'Update', apiVersion: ownership.apiVersion };
    const bucket = identify(bucketInfo);
    const first = firstOfVersion.get(ownership.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(ownership.apiVersion, id);
      continue;
    }
    if (!managed.has(bucket)) {
      const seed = managed.get(first)!;
      managed.delete(first);
      managed.set(bucket, { ...seed, info: bucketInfo });
    }
    const current = managed.get(bucket)!;
    managed.set(bucket, { info: bucketInfo, set: ownership.set.union(current.set), apiVersion: ownership.apiVersion, ...(ownership.time ? { time: ownership.time } : {}) });
    managed.delete(id);
    length--;
  }
}

function rfc3339(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

function groupVersionKind(apiVersion: string, kind: string): GroupVersionKind {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion, kind } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1), kind };
}

function shapeFor(gvk: GroupVersionKind, schema: StructShape | undefined): StructShape {
  return builtinShape(gvk) ?? schema ?? customResourceShape;
}

function resetSet(paths: ReadonlyArray<readonly string[]> | undefined): FieldSet {
  return FieldSet.fromPaths((paths ?? []).map((names) => names.map((name) => ({ type: 'field' as const, name }))));
}

/** The object as compared: without its managed fields (a shallow copy; nothing here mutates it). */
function withoutManagedFields(object: KubeObject | JsonObject): JsonObject {
  const metadata = object['metadata'];
  if (!isObject(metadata) || !Object.hasOwn(metadata, 'managedFields')) return object as JsonObject;
  const { managedFields: _, ...rest } = metadata;
  return { ...(object as JsonObject), metadata: rest };
}

/** Removes what a write changed or removed from every other owner; unaffected entries stay as stored. */
function disown(managed: Managed, changed: FieldSet, removed: FieldSet, except?: string): void {
  for (const [id, ownership] of managed) {
    if (id === except || !(ownership.set.intersects(changed) || ownership.set.intersects(removed))) continue;
    const set = ownership.set.difference(changed).difference(removed);
    if (set.empty) managed.delete(id);
    else managed.set(id, { info: ownership.info, set, apiVersion: ownership.apiVersion, ...(ownership.time ? { time: ownership.time } : {}) });
  }
}

function withManaged(object: JsonObject, managed: Managed): KubeObject {
  const metadata = isObject(object['metadata']) ? { ...object['metadata'] } : {};
  const encoded = encodeManaged(managed);
  if (encoded) metadata['managedFields'] = encoded as unknown as JsonValue;
  else delete metadata['managedFields'];
  return { ...object, metadata } as KubeObject;
}

function zeroObject(apiVersion: string, kind: string): JsonObject {
  return { apiVersion, kind, metadata: {} };
}

/**
 * Records an Update: fields added or changed become the manager's (and stop being anyone
 * else's), removed fields stop being anyone's. Nothing changes for a write that changes nothing.
 */
function recordUpdate(managed: Managed, before: KubeObject | JsonObject, after: JsonObject, shape: StructShape, info: ManagerInfo, apiVersion: string, now: Date, reset: FieldSet): void {
  const diff = compare(withoutManagedFields(before), withoutManagedFields(after), shape);
  const changed = diff.added.union(diff.modified).recursiveDifference(reset);
  const removed = diff.removed.recursiveDifference(reset);
  disown(managed, changed, removed);
  const own = changed.difference(unowned);
  if (own.empty) return;
  const id = identify(info);
  const previous = managed.get(id);
  managed.set(id, { info, set: previous ? previous.set.union(own) : own, apiVersion, time: rfc3339(now) });
}

export interface UpdateManagedFieldsOptions {
  manager: string;
  operation: 'Update';
  /** apiVersion of the request, e.g. apps/v1. */
  apiVersion: string;
  now: Date;
  subresource?: string;
  /** Paths the resource's strategy resets on this endpoint (e.g. [['status']]); nobody owns them. */
  resetFields?: ReadonlyArray<readonly string[]>;
  /** Shape of a custom resource from its CRD schema; built-in kinds use the table. */
  schema?: StructShape;
}

/**
 * The object to store after a create, update or non-apply patch, with managedFields recording
 * what the manager set. A request may send managedFields (kept if valid) or [] to reset them.
 */
export function updateManagedFields(old: KubeObject | undefined, next: KubeObject, options: UpdateManagedFieldsOptions): KubeObject {
  return boundedDepth(() => recordManagedFields(old, next, options));
}

function recordManagedFields(old: KubeObject | undefined, next: KubeObject, options: UpdateManagedFieldsOptions): KubeObject {
  const shape = shapeFor(groupVersionKind(options.apiVersion, next.kind), options.schema);
  let managed: Managed;
  const requested: unknown = next.metadata.managedFields;
  if (options.subresource) managed = decodeOrEmpty(old?.metadata.managedFields);
  else if (Array.isArray(requested) && (requested.length === 0 || (requested.length === 1 && deepEqual(requested[0], {})))) managed = new Map();
  else {
    const fromRequest = decodeOrEmpty(requested);
    managed = fromRequest.size > 0 ? fromRequest : decodeOrEmpty(old?.metadata.managedFields);
  }
  const body = withoutManagedFields(next);
  // An object that exists without managed fields was never tracked; upstream leaves it so.
  if (managed.size === 0 && old?.metadata.uid) return withManaged(body, managed);
  const info: ManagerInfo = { manager: options.manager || 'unknown', operation: 'Update', apiVersion: options.apiVersion, ...(options.subresource ? { subresource: options.subresource } : {}) };
  recordUpdate(managed, old ?? zeroObject(next.apiVersion, next.kind), body, shape, info, options.apiVersion, options.now, resetSet(options.resetFields));
  capUpdateManagers(managed);
  return withManaged(body, managed);
}

export interface ApplyConflict {
  /** The field as upstream prints it: .spec.template.spec.containers[name="web"].image */
  field: string;
  manager: string;
  operation: 'Apply' | 'Update';
  /** Only for Update managers, whose identity includes it. */
  apiVersion?: string;
  subresource?: string;
}

export interface ServerSideApplyOptions {
  manager: string;
  force: boolean;
  group: string;
  version: string;
  kind: string;
  now: Date;
  subresource?: string;
  resetFields?: ReadonlyArray<readonly string[]>;
  schema?: StructShape;
}

export interface ServerSideApplyResult {
  /** The merged object with managedFields; the live object unchanged when there are conflicts. */
  object: KubeObject;
  conflicts: ApplyConflict[];
}

interface ApplyAttempt {
  object: JsonObject;
  managed: Managed;
  conflicts: Array<{ path: FieldPath; owner: Ownership }>;
}

function copyManaged(managed: Managed): Managed {
  return new Map([...managed].map(([id, o]) => [id, { ...o, set: o.set.copy() }]));
}

function attemptApply(live: JsonObject, applied: JsonObject, managedIn: Managed, shape: StructShape, info: ManagerInfo, apiVersion: string, force: boolean, reset: FieldSet, now: Date): ApplyAttempt {
  const managed = copyManaged(managedIn);
  const id = identify(info);
  const previous = managed.get(id);
  const appliedSet = toFieldSet(applied, shape).difference(unowned).recursiveDifference(reset);
  let merged = merge(live, applied, shape) as JsonObject;
  managed.set(id, { info, set: appliedSet, apiVersion, ...(previous?.time ? { time: previous.time } : {}) });
  if (previous && !previous.set.empty) {
    let owned = new FieldSet();
    for (const ownership of managed.values()) owned = owned.union(ownership.set);
    merged = removeUnowned(merged, shape, previous.set, owned) as JsonObject;
  }
  const diff = compare(live, merged, shape);
  const changed = diff.added.union(diff.modified).recursiveDifference(reset);
  const removed = diff.removed.recursiveDifference(reset);
  const conflicts: ApplyAttempt['conflicts'] = [];
  for (const [otherId, ownership] of managed) {
    if (otherId === id) continue;
    for (const path of ownership.set.intersection(changed).paths()) conflicts.push({ path, owner: ownership });
  }
  if (conflicts.length > 0 && !force) return { object: live, managed: managedIn, conflicts };
  disown(managed, changed, removed, id);
  if (appliedSet.empty) managed.delete(id);
  else if (!previous || !deepEqual(live, merged)) managed.set(id, { ...managed.get(id)!, time: rfc3339(now) });
  return { object: merged, managed, conflicts: [] };
}

/**
 * Fields kubectl may take over from its client-side apply without --force-conflicts: those
 * its last-applied configuration set to the value they still have.
 */
function takeoverFromLastApplied(live: JsonObject, shape: StructShape, apiVersion: string): FieldSet | undefined {
  const metadata = live['metadata'];
  const annotations = isObject(metadata) && isObject(metadata['annotations']) ? metadata['annotations'] : {};
  const text = annotations[lastAppliedAnnotation];
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    const lastApplied: unknown = JSON.parse(text);
    if (!isObject(lastApplied) || lastApplied['apiVersion'] !== apiVersion) return undefined;
    const diff = compare(lastApplied, live, shape);
    return toFieldSet(lastApplied, shape).difference(diff.modified).difference(diff.added).difference(diff.removed);
  } catch {
    return undefined;
  }
}

function describeConflicts(conflicts: ApplyAttempt['conflicts']): ApplyConflict[] {
  return conflicts
    .map(({ path, owner }) => ({
      id: identify(owner.info),
      conflict: {
        field: pathString(path),
        manager: owner.info.manager,
        operation: owner.info.operation,
        ...(owner.info.operation === 'Update' ? { apiVersion: owner.apiVersion } : {}),
        ...(owner.info.subresource ? { subresource: owner.info.subresource } : {}),
      },
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map(({ conflict }) => conflict);
}

/**
 * Server-side apply of `applied` (the body of an application/apply-patch+yaml PATCH) to the live
 * object, or to nothing when it does not exist yet (apply creates).
 */
export function serverSideApply(live: KubeObject | undefined, applied: KubeObject, options: ServerSideApplyOptions): ServerSideApplyResult {
  return boundedDepth(() => applyConfiguration(live, applied, options));
}

function applyConfiguration(live: KubeObject | undefined, applied: KubeObject, options: ServerSideApplyOptions): ServerSideApplyResult {
  const apiVersion = apiVersionOf(options.group, options.version);
  if (applied.apiVersion !== apiVersion || applied.kind !== options.kind) {
    const gvk = groupVersionKind(String(applied.apiVersion ?? ''), String(applied.kind ?? ''));
    throw new PatchError(400, `invalid object type: ${gvk.group}/${gvk.version}, Kind=${gvk.kind}`);
  }
  if (applied.metadata?.managedFields !== undefined) throw new PatchError(400, 'metadata.managedFields must be nil');
  const shape = shapeFor(options, options.schema);
  const reset = resetSet(options.resetFields);
  const base = live ? withoutManagedFields(live) : zeroObject(apiVersion, options.kind);
  let managed = decodeOrEmpty(live?.metadata.managedFields);
  if (managed.size === 0 && live) {
    recordUpdate(managed, zeroObject(apiVersion, options.kind), base, shape, { manager: 'before-first-apply', operation: 'Update', apiVersion }, apiVersion, options.now, reset);
  }
  const info: ManagerInfo = { manager: options.manager || 'unknown', operation: 'Apply', ...(options.subresource ? { subresource: options.subresource } : {}) };
  const config = applied as unknown as JsonObject;
  let attempt: ApplyAttempt;
  try {
    attempt = attemptApply(base, config, managed, shape, info, apiVersion, options.force, reset, options.now);
    if (attempt.conflicts.length > 0 && options.manager === 'kubectl') {
      const takeover = takeoverFromLastApplied(base, shape, apiVersion);
      if (takeover) {
        const remaining = attempt.conflicts.filter(({ path }) => !takeover.has(path));
        attempt = remaining.length === 0 ? attemptApply(base, config, managed, shape, info, apiVersion, true, reset, options.now) : { ...attempt, conflicts: remaining };
      }
    }
  } catch (error) {
    if (error instanceof TypedValueError) {
      throw new PatchError(400, `failed to create typed patch object (${applied.metadata?.namespace ?? ''}/${applied.metadata?.name ?? ''}; ${apiVersion}, Kind=${options.kind}): ${error.message}`);
    }
    throw error;
  }
  if (attempt.conflicts.length > 0) return { object: live ?? withManaged(base, managed), conflicts: describeConflicts(attempt.conflicts) };
  managed = attempt.managed;
  capUpdateManagers(managed);
  const object = dropNulls(attempt.object) as JsonObject;
  const metadata = isObject(object['metadata']) ? object['metadata'] : {};
  const annotations = metadata['annotations'];
  if (options.manager === 'kubectl' && isObject(annotations) && typeof annotations[lastAppliedAnnotation] === 'string' && annotations[lastAppliedAnnotation] !== '') {
    annotations[lastAppliedAnnotation] = lastAppliedOf(config);
  }
  return { object: withManaged(object, managed), conflicts: [] };
}

/** The last-applied annotation kubectl's apply keeps: the configuration as JSON, sorted keys. */
function lastAppliedOf(config: JsonObject): string {
  const copy = clone(config);
  const metadata = copy['metadata'];
  if (isObject(metadata) && isObject(metadata['annotations'])) delete metadata['annotations'][lastAppliedAnnotation];
  return `${sortedJson(copy)}\n`;
}

function printManager(conflict: ApplyConflict): string {
  let text = goQuote(conflict.manager);
  if (conflict.subresource) text += ` with subresource ${goQuote(conflict.subresource)}`;
  if (conflict.operation === 'Update') text += ` using ${conflict.apiVersion ?? ''}`;
  return text;
}

/** The Status message of a failed apply, exactly as kube-apiserver words it. */
export function formatApplyConflicts(conflicts: readonly ApplyConflict[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!)}: ${conflicts[0]!.field}`;
  const byManager = new Map<string, ApplyConflict[]>();
  for (const conflict of conflicts) {
    const key = identify({ manager: conflict.manager, operation: conflict.operation, ...(conflict.apiVersion ? { apiVersion: conflict.apiVersion } : {}), ...(conflict.subresource ? { subresource: conflict.subresource } : {}) });
    byManager.set(key, [...(byManager.get(key) ?? []), conflict]);
  }
  const lines: string[] = [];
  for (const key of [...byManager.keys()].sort()) {
    const group = byManager.get(key)!;
    lines.push(`conflicts with ${printManager(group[0]!)}:`, ...group.map((c) => `- ${c.field}`));
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** The 409 Conflict the API server answers a conflicting apply with. */
export function applyConflictError(conflicts: readonly ApplyConflict[]): PatchError {
  return new PatchError(409, formatApplyConflicts(conflicts), {
    causes: conflicts.map((conflict) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(conflict)}`, field: conflict.field })),
  });
}
