// Objects walked with their shape, as structured-merge-diff walks typed values: the set of fields
// an object sets, the difference between two objects, the merge of an applied configuration
// into a live object, and the removal of fields an applier gave up.
import { FieldSet, keyElement, pathString, serializeElement, type FieldPath, type PathElement } from './fieldpath.ts';
import { deepEqual, goQuote, isObject, type JsonObject, type JsonValue } from './json.ts';
import { fieldOf, itemsOf, type Field, type ListShape, type Shape } from './schema/index.ts';

export class TypedValueError extends Error {}

type Resolved = { kind: 'leaf' } | { kind: 'struct' | 'map'; shape: Shape } | { kind: 'list'; shape: ListShape };

/** What a value is for merging: a leaf (scalars, atomic values) or something to walk into. */
function resolve(shape: Shape, value: JsonValue | undefined): Resolved {
  switch (shape.kind) {
    case 'deduced':
      return isObject(value) ? { kind: 'struct', shape } : { kind: 'leaf' };
    case 'struct':
    case 'map':
      if (shape.atomic || (value !== undefined && value !== null && !isObject(value))) return { kind: 'leaf' };
      return { kind: shape.kind, shape };
    case 'list':
      if (shape.semantics.type === 'atomic' || (value !== undefined && value !== null && !Array.isArray(value))) return { kind: 'leaf' };
      return { kind: 'list', shape };
  }
}

function fieldElement(name: string): PathElement {
  return { type: 'field', name };
}

/** The path element of a list item: its key fields for a keyed list, its value for a set. */
export function itemElement(item: JsonValue, list: ListShape, path: FieldPath, index: number): PathElement {
  const failure = (message: string) => new TypedValueError(`${pathString(path)}: element ${index}: ${message}`);
  if (list.semantics.type === 'set') {
    if (isObject(item) || Array.isArray(item)) throw failure('set items must be scalars');
    return { type: 'value', value: item };
  }
  if (list.semantics.type !== 'map') return { type: 'index', index };
  if (item === null) throw failure('associative list with keys may not have a null element');
  if (!isObject(item)) throw failure('associative list with keys may not have non-map elements');
  const fields: Array<[string, JsonValue]> = [];
  for (const key of list.semantics.keys) {
    if (Object.hasOwn(item, key.name)) fields.push([key.name, item[key.name]!]);
    else if (key.default !== undefined) fields.push([key.name, key.default]);
    else throw failure(`associative list with keys has an element that omits key field ${goQuote(key.name)} (and doesn't have default value)`);
  }
  return keyElement(fields);
}

interface IndexedItem {
  element: PathElement;
  id: string;
  item: JsonValue;
}

function indexItems(items: JsonValue[], list: ListShape, path: FieldPath): IndexedItem[] {
  return items.map((item, index) => {
    const element = itemElement(item, list, path, index);
    return { element, id: serializeElement(element), item };
  });
}

/** Every field the value sets: leaves, atomic values, list items, and null or empty objects. */
export function toFieldSet(value: JsonValue, shape: Shape): FieldSet {
  const set = new FieldSet();
  collect(value, shape, [], set);
  return set;
}

function collect(value: JsonValue, shape: Shape, path: FieldPath, set: FieldSet): void {
  const resolved = resolve(shape, value);
  if (resolved.kind === 'leaf') {
    set.insert(path);
    return;
  }
  if (resolved.kind === 'list') {
    const items = indexItems(Array.isArray(value) ? value : [], resolved.shape, path);
    const seen = new Map<string, number>();
    for (const { id } of items) seen.set(id, (seen.get(id) ?? 0) + 1);
    for (const { element, id, item } of items) {
      const itemPath = [...path, element];
      if (seen.get(id)! > 1) {
        set.insert(itemPath);
        continue;
      }
      collect(item, itemsOf(resolved.shape), itemPath, set);
      set.insert(itemPath);
    }
    return;
  }
  if (!isObject(value)) return;
  for (const [name, child] of Object.entries(value)) {
    const childPath = [...path, fieldElement(name)];
    collect(child, fieldOf(resolved.shape, name).shape, childPath, set);
    if (child === null || (isObject(child) && Object.keys(child).length === 0) || resolved.kind === 'map') set.insert(childPath);
  }
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

function isEmptyContainer(value: JsonValue | undefined): boolean {
  return value === undefined || value === null || (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
}

/** What changed from lhs to rhs, field by field. undefined is absent; null is present and empty. */
export function compare(lhs: JsonValue, rhs: JsonValue, shape: Shape): Comparison {
  const result = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareAt(lhs, rhs, { shape, present: true }, [], result);
  return result;
}

function compareAt(lhsIn: JsonValue | undefined, rhsIn: JsonValue | undefined, field: Field, path: FieldPath, result: Comparison): void {
  let lhs = lhsIn;
  let rhs = rhsIn;
  if (field.present) {
    lhs ??= null;
    rhs ??= null;
  }
  const sample = rhs !== undefined && rhs !== null ? rhs : lhs;
  const resolved = resolve(field.shape, sample);
  const fits = (v: JsonValue | undefined) => v === undefined || v === null || (resolved.kind === 'list' ? Array.isArray(v) : isObject(v));
  if (resolved.kind === 'leaf' || !fits(lhs) || !fits(rhs) || (isEmptyContainer(lhs) && isEmptyContainer(rhs))) {
    if (lhs === undefined) result.added.insert(path);
    else if (rhs === undefined) result.removed.insert(path);
    else if (!deepEqual(lhs, rhs)) result.modified.insert(path);
    return;
  }
  if (resolved.kind === 'list') {
    const left = indexItems(Array.isArray(lhs) ? lhs : [], resolved.shape, path);
    const right = indexItems(Array.isArray(rhs) ? rhs : [], resolved.shape, path);
    const byId = (items: IndexedItem[]) => {
      const map = new Map<string, JsonValue[]>();
      for (const { id, item } of items) map.set(id, [...(map.get(id) ?? []), item]);
      return map;
    };
    const leftById = byId(left);
    const rightById = byId(right);
    const order = new Map<string, PathElement>();
    for (const { id, element } of [...left, ...right]) if (!order.has(id)) order.set(id, element);
    for (const [id, element] of order) {
      const l = leftById.get(id) ?? [];
      const r = rightById.get(id) ?? [];
      const itemPath = [...path, element];
      if (l.length <= 1 && r.length <= 1) compareAt(l[0], r[0], { shape: itemsOf(resolved.shape) }, itemPath, result);
      else if (l.length >= 2 && r.length >= 2) {
        if (!deepEqual(l, r)) result.modified.insert(itemPath);
      } else if (l.length >= 2) result.removed.insert(itemPath);
      else result.added.insert(itemPath);
    }
  } else {
    const l = isObject(lhs) ? lhs : {};
    const r = isObject(rhs) ? rhs : {};
    for (const name of new Set([...Object.keys(l), ...Object.keys(r)])) {
      compareAt(l[name], r[name], fieldOf(resolved.shape, name), [...path, fieldElement(name)], result);
    }
  }
  if (field.present) return;
  if (lhs === undefined) result.added.insert(path);
  else if (rhs === undefined) result.removed.insert(path);
}

/** Merges an applied configuration (rhs) into a live object (lhs), as apply does. */
export function merge(lhs: JsonValue | undefined, rhs: JsonValue | undefined, shape: Shape, path: FieldPath = []): JsonValue | undefined {
  if (rhs === undefined) return lhs;
  if (lhs === undefined || lhs === null || rhs === null) return rhs;
  const resolved = resolve(shape, rhs);
  if (resolved.kind === 'leaf' || (resolved.kind === 'list' ? !Array.isArray(lhs) : !isObject(lhs))) return rhs;
  if (resolved.kind === 'list') return mergeLists(lhs as JsonValue[], rhs as JsonValue[], resolved.shape, path);
  const out: JsonObject = {};
  const live = lhs as JsonObject;
  const applied = rhs as JsonObject;
  for (const name of new Set([...Object.keys(live), ...Object.keys(applied)])) {
    const value = merge(live[name], applied[name], fieldOf(resolved.shape, name).shape, [...path, fieldElement(name)]);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * Merges keyed lists or sets. Items keep the live order; applied items not yet live are placed
 * where the applied list puts them relative to the items both lists share.
 */
function mergeLists(lhs: JsonValue[], rhs: JsonValue[], list: ListShape, path: FieldPath): JsonValue[] {
  if (lhs.length === 0 && rhs.length === 0) return rhs;
  const right = indexItems(rhs, list, path);
  const left = indexItems(lhs, list, path);
  const observedRight = new Map<string, JsonValue>();
  for (const { id, element, item } of right) {
    if (observedRight.has(id)) throw new TypedValueError(`${pathString(path)}: duplicate entries for key ${pathString([element])}`);
    observedRight.set(id, item);
  }
  const observedLeft = new Map<string, JsonValue>();
  for (const { id, item } of left) observedLeft.set(id, observedLeft.has(id) ? null : item);
  const shared = right.filter(({ id }) => observedLeft.has(id)).map(({ id }) => id);
  let nextShared = shared.shift();
  const merged = new Set<string>();
  const out: JsonValue[] = [];
  const emit = (id: string, element: PathElement, live: JsonValue | undefined) => {
    const value = merge(live, observedRight.get(id), itemsOf(list), [...path, element]);
    if (value !== undefined) out.push(value);
  };
  let l = 0;
  let r = 0;
  while (l < left.length || r < right.length) {
    if (l < left.length && r < right.length) {
      const current = left[l]!;
      if (current.id === right[r]!.id) {
        merged.add(current.id);
        emit(current.id, current.element, observedLeft.get(current.id));
        l++;
        r++;
        nextShared = shared.shift();
        continue;
      }
      if (observedRight.has(current.id) && nextShared !== undefined && nextShared !== current.id) {
        l++;
        continue;
      }
    }
    if (l < left.length) {
      const current = left[l]!;
      if (!observedRight.has(current.id)) {
        out.push(current.item);
        l++;
        continue;
      }
      if (merged.has(current.id)) l++;
    }
    if (r < right.length) {
      const current = right[r]!;
      merged.add(current.id);
      emit(current.id, current.element, observedLeft.get(current.id));
      r++;
      if (nextShared !== undefined && nextShared === current.id) nextShared = shared.shift();
    }
  }
  return out;
}

/**
 * Drops what an applier applied last time (`last`) and nobody owns any more (`owned`). A named
 * field counts as applied or owned when anything below it is; a list item or map entry only when
 * it is itself a member.
 */
export function removeUnowned(value: JsonValue, shape: Shape, last: FieldSet, owned: FieldSet): JsonValue | undefined {
  const resolved = resolve(shape, value);
  if (resolved.kind === 'leaf') return value;
  const empty = new FieldSet();
  if (resolved.kind === 'list') {
    if (!Array.isArray(value)) return value;
    const kept: JsonValue[] = [];
    indexItems(value, resolved.shape, []).forEach(({ element, item }) => {
      if (!last.hasMember(element) && !last.child(element)) kept.push(item);
      else if (last.hasMember(element) && !owned.hasMember(element)) return;
      else {
        const next = last.child(element) ? removeUnowned(item, itemsOf(resolved.shape), last.child(element)!, owned.child(element) ?? empty) : item;
        if (next !== undefined) kept.push(next);
      }
    });
    return kept;
  }
  if (!isObject(value)) return value;
  const named = resolved.kind === 'struct';
  const out: JsonObject = {};
  for (const [name, child] of Object.entries(value)) {
    const element = fieldElement(name);
    const lastChild = last.child(element);
    const ownedChild = owned.child(element);
    const applied = last.hasMember(element) || (named && lastChild !== undefined);
    if (!applied) {
      out[name] = child;
      continue;
    }
    if (!(owned.hasMember(element) || (named && ownedChild !== undefined))) continue;
    const next = lastChild ? removeUnowned(child, fieldOf(resolved.shape, name).shape, lastChild, ownedChild ?? empty) : child;
    if (next !== undefined) out[name] = next;
  }
  if (!named && Object.keys(out).length === 0 && Object.keys(value).length > 0) return undefined;
  return out;
}

/** Removes members whose value is null: apply's way of unsetting a field. */
export function dropNulls(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [name, child] of Object.entries(value)) if (child !== null) out[name] = dropNulls(child);
  return out;
}
