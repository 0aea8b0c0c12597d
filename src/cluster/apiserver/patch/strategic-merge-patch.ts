// Kubernetes' strategic merge patch, applied as the API server applies it: lists marked
// patchStrategy=merge merge by their merge key (or as sets of scalars), and the directives
// $patch (replace/delete), $retainKeys, $setElementOrder/<list> and
// $deleteFromPrimitiveList/<list> are honoured. Ordering follows upstream exactly: items new to
// a list come first unless $setElementOrder says otherwise.
//
// Deliberate differences, all in cases upstream mishandles: a value the original lacks is merged
// into nothing (so directives never leak into the stored object), a deletion list for a list the
// object does not have is ignored (upstream would add its items), and failures upstream reports
// as 500 Internal Error are 400 Bad Request here, with upstream's message.
import { badPatch, boundedDepth, PatchError } from './errors.ts';
import { clone, goTypeName, goValue, isObject, jsonKindName, type JsonObject, type JsonValue } from './json.ts';
import { builtinShape, fieldOf, itemsOf, type Field, type GroupVersionKind, type Shape } from './schema/index.ts';

const directiveMarker = '$patch';
const retainKeysDirective = '$retainKeys';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList';
const setElementOrderPrefix = '$setElementOrder';

const errors = {
  noListOfLists: () => new PatchError(422, 'lists of lists are not supported'),
  badPrimitiveList: () => badPatch('invalid patch format of primitive list'),
  badRetainKeys: () => badPatch('invalid patch format of retainKeys'),
  badSetElementOrder: () => badPatch('invalid patch format of setElementOrder list'),
  noMergeKey: (item: JsonObject, key: string) => badPatch(`map: ${goValue(item)} does not contain declared merge key: ${key}`),
  badArgType: (expected: 'map[string]interface {}' | '[]interface {}', actual: unknown) => badPatch(`expected a ${expected}, but received a ${goTypeName(actual)}`),
  badPatchType: (directive: unknown, item: JsonObject) => badPatch(`unknown patch type: ${goValue(directive)} in map: ${goValue(item)}`),
};

type ElementKind = 'map' | 'int64' | 'float64' | 'string' | 'bool';

/** The Go kind a value decodes to; only maps and lists merge, everything else replaces. */
function goKind(value: JsonValue): ElementKind | 'slice' | 'nil' {
  if (value === null) return 'nil';
  if (Array.isArray(value)) return 'slice';
  if (isObject(value)) return 'map';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int64' : 'float64';
  return typeof value === 'boolean' ? 'bool' : 'string';
}

/** All items of the lists must share one kind, and lists of lists are not allowed. */
function elementKind(...lists: JsonValue[][]): ElementKind {
  let kind: ReturnType<typeof goKind> | undefined;
  for (const item of lists.flat()) {
    const current = goKind(item);
    if (kind === undefined) {
      if (current === 'slice') throw errors.noListOfLists();
      kind = current;
    } else if (kind !== current) {
      throw badPatch(`list element types are not identical: ${goValue(lists)}`);
    }
  }
  if (kind === undefined) throw badPatch('no elements in any of the given slices');
  if (kind === 'nil') throw badPatch('list elements may not be null');
  return kind as ElementKind;
}

function asMap(value: JsonValue): JsonObject {
  if (!isObject(value)) throw errors.badArgType('map[string]interface {}', value);
  return value;
}

function asList(value: JsonValue): JsonValue[] {
  if (!Array.isArray(value)) throw errors.badArgType('[]interface {}', value);
  return value;
}

function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw prefix === deleteFromPrimitiveListPrefix ? errors.badPrimitiveList() : errors.badSetElementOrder();
  }
  return key.slice(slash + 1);
}

/** Position of an item in a list: by merge key value for maps, by value for scalars. */
function indexIn(list: JsonValue[], item: JsonValue, mergeKey: string, kind: ElementKind): number {
  if (kind !== 'map') return list.indexOf(item);
  const wanted = isObject(item) ? item[mergeKey] : undefined;
  return list.findIndex((candidate) => isObject(candidate) && candidate[mergeKey] === wanted);
}

function requireMergeKeys(mergeKey: string, ...lists: JsonValue[][]): void {
  for (const item of lists.flat()) {
    if (!Object.hasOwn(asMap(item), mergeKey)) throw errors.noMergeKey(item as JsonObject, mergeKey);
  }
}

/** A list item carrying $patch: delete; items of a merge list must be maps. */
function isDeleteDirective(item: JsonValue): boolean {
  return asMap(item)[directiveMarker] === 'delete';
}

/** Sorts by position in `order`; items marked for deletion go last. */
function sortByOrder(items: JsonValue[], order: JsonValue[], mergeKey: string, kind: ElementKind): JsonValue[] {
  let kept = items;
  let deleted: JsonValue[] = [];
  if (kind === 'map') {
    requireMergeKeys(mergeKey, items, order);
    kept = items.filter((item) => !isDeleteDirective(item));
    deleted = items.filter(isDeleteDirective);
  }
  const position = (item: JsonValue) => {
    const index = indexIn(order, item, mergeKey, kind);
    return index < 0 ? Number.POSITIVE_INFINITY : index;
  };
  return [...kept.map((item, i) => ({ item, i })).sort((a, b) => position(a.item) - position(b.item) || a.i - b.i).map(({ item }) => item), ...deleted];
}

/**
 * Interleaves server-only items with patch items. A server-only item goes first only when both it
 * and the next patch item were in the live list and it came earlier there; otherwise the patch
 * item goes first, which is why a new item lands at the front of the list.
 */
function interleave(serverOnly: JsonValue[], patchItems: JsonValue[], serverOrder: JsonValue[], mergeKey: string, kind: ElementKind): JsonValue[] {
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < patchItems.length) {
    if (i >= serverOnly.length) out.push(patchItems[j++]!);
    else if (j >= patchItems.length) out.push(serverOnly[i++]!);
    else {
      const left = indexIn(serverOrder, serverOnly[i]!, mergeKey, kind);
      const right = indexIn(serverOrder, patchItems[j]!, mergeKey, kind);
      out.push(left >= 0 && right >= 0 && left < right ? serverOnly[i++]! : patchItems[j++]!);
    }
  }
  return out;
}

function normalizeOrder(patchItems: JsonValue[], serverOnly: JsonValue[], patchOrder: JsonValue[], serverOrder: JsonValue[], mergeKey: string, kind: ElementKind): JsonValue[] {
  return interleave(sortByOrder(serverOnly, serverOrder, mergeKey, kind), sortByOrder(patchItems, patchOrder, mergeKey, kind), serverOrder, mergeKey, kind);
}

/** Splits merged items into those the partitioning list names and the rest. */
function partition(merged: JsonValue[], by: JsonValue[], mergeKey: string): [JsonValue[], JsonValue[]] {
  const named: JsonValue[] = [];
  const rest: JsonValue[] = [];
  for (const item of merged) {
    let found: boolean;
    if (mergeKey === '') {
      found = by.includes(item);
    } else {
      const map = asMap(item);
      if (!Object.hasOwn(map, mergeKey)) throw errors.noMergeKey(map, mergeKey);
      found = by.some((candidate) => {
        if (!isObject(candidate)) throw badPatch(`value for key ${by.indexOf(candidate)} is not a map.`);
        return Object.hasOwn(candidate, mergeKey) && candidate[mergeKey] === map[mergeKey];
      });
    }
    (found ? named : rest).push(item);
  }
  return [named, rest];
}

/** Go's in-place deduplication, whose swapping decides the order of merged scalars. */
function deduplicateScalars(values: JsonValue[]): JsonValue[] {
  let s = [...values];
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (s[i] === s[j]) {
        s[j] = s[length]!;
        s = s.slice(0, length);
        length--;
        j--;
      }
    }
  }
  return s;
}

/** Applies $patch items of a list of maps: deletions remove by key, replace drops the live list. */
function applyListDirectives(original: JsonValue[], patch: JsonValue[], mergeKey: string): [JsonValue[], JsonValue[]] {
  const plain: JsonValue[] = [];
  let replace = false;
  let live = original;
  for (const value of patch) {
    const item = value as JsonObject;
    if (!Object.hasOwn(item, directiveMarker)) {
      plain.push(item);
      continue;
    }
    switch (item[directiveMarker]) {
      case 'delete': {
        if (!Object.hasOwn(item, mergeKey)) throw errors.noMergeKey(item, mergeKey);
        live = live.filter((candidate) => !(isObject(candidate) && Object.hasOwn(candidate, mergeKey) && candidate[mergeKey] === item[mergeKey]));
        break;
      }
      case 'replace':
        replace = true;
        break;
      case 'merge':
        throw badPatch('merging lists cannot yet be specified in the patch');
      default:
        throw errors.badPatchType(item[directiveMarker], item);
    }
  }
  return replace ? [plain, []] : [live, plain];
}

function mergeList(original: JsonValue[], patch: JsonValue[], items: Shape, mergeKey: string, isDeleteList: boolean): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  let live = original;
  let patchItems = patch;
  let merged: JsonValue[];
  if (kind !== 'map') {
    if (isDeleteList) return original.filter((item) => !patch.includes(item));
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (mergeKey === '') throw badPatch('cannot merge lists without merge key for type struct');
    [live, patchItems] = applyListDirectives(original, patch, mergeKey);
    merged = [...live];
    for (const value of patchItems) {
      const item = value as JsonObject;
      if (!Object.hasOwn(item, mergeKey)) throw errors.noMergeKey(item, mergeKey);
      const index = merged.findIndex((candidate) => isObject(candidate) && Object.hasOwn(candidate, mergeKey) && candidate[mergeKey] === item[mergeKey]);
      if (index >= 0) merged[index] = mergeMap(merged[index] as JsonObject, item, items);
      else merged.push(mergeMap({}, item, items));
    }
  }
  const [fromPatch, serverOnly] = partition(merged, patchItems, kind === 'map' ? mergeKey : '');
  return normalizeOrder(fromPatch, serverOnly, patchItems, live, kind === 'map' ? mergeKey : '', kind);
}

function mergeListField(original: JsonValue[], patch: JsonValue[], field: Field, isDeleteList: boolean): JsonValue[] {
  if (field.patch?.strategy === 'merge') return mergeList(original, patch, itemsOf(field.shape), field.patch.mergeKey ?? '', isDeleteList);
  if (isDeleteList) return original.filter((item) => !patch.includes(item));
  return patch;
}

/** The value a patch gives a field the original does not have: merged into nothing. */
function fresh(patch: JsonValue, field: Field): JsonValue {
  if (isObject(patch)) return field.patch?.strategy === 'replace' && !Object.hasOwn(patch, directiveMarker) ? patch : mergeMap({}, patch, field.shape);
  if (Array.isArray(patch)) return mergeListField([], patch, field, false);
  return patch;
}

function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, retainKeysDirective)) return;
  const retain = patch[retainKeysDirective];
  delete patch[retainKeysDirective];
  if (!Array.isArray(retain)) throw errors.badRetainKeys();
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(deleteFromPrimitiveListPrefix) || key.startsWith(setElementOrderPrefix)) continue;
    if (!retain.includes(key)) throw errors.badRetainKeys();
  }
  for (const key of Object.keys(original)) {
    if (!retain.includes(key)) delete original[key];
  }
}

/** Checks that the patch list's items appear in $setElementOrder in the same relative order. */
function checkAgainstOrder(patchList: JsonValue[], order: JsonValue[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const candidates = mergeKey === '' ? patchList : patchList.filter((item) => !isDeleteDirective(item));
  let p = 0;
  let o = 0;
  while (p < candidates.length && o < order.length) {
    const item = candidates[p]!;
    if (isObject(item) && Object.hasOwn(item, directiveMarker)) {
      p++;
      continue;
    }
    let same: boolean;
    if (mergeKey === '') same = item === order[o];
    else {
      const left = asMap(item);
      const right = asMap(order[o]!);
      if (!Object.hasOwn(left, mergeKey)) throw errors.noMergeKey(left, mergeKey);
      if (!Object.hasOwn(right, mergeKey)) throw errors.noMergeKey(right, mergeKey);
      same = left[mergeKey] === right[mergeKey];
    }
    if (same) p++;
    o++;
  }
  if (p < candidates.length && o >= order.length) {
    throw badPatch(`The order in patch list:\n${goValue(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${goValue(order)}\n`);
  }
}

/** Handles every $setElementOrder/<list>: merges that list and orders it as the directive says. */
function applySetElementOrder(original: JsonObject, patch: JsonObject, shape: Shape): void {
  for (const directive of Object.keys(patch).filter((key) => key.startsWith(setElementOrderPrefix))) {
    const order = patch[directive]!;
    delete patch[directive];
    const orderList = asList(order);
    const key = extractKey(directive, setElementOrderPrefix);
    const field = fieldOf(shape, key);
    const mergeKey = field.patch?.mergeKey ?? '';
    const live = Object.hasOwn(original, key) ? asList(original[key]!) : undefined;
    const patchList = Object.hasOwn(patch, key) && patch[key] !== null ? asList(patch[key]!) : undefined;
    checkAgainstOrder(patchList ?? [], orderList, mergeKey);
    let merged: JsonValue[];
    if (live && patchList) merged = mergeListField(live, patchList, field, false);
    else if (live) merged = live;
    else if (patchList) merged = mergeListField([], patchList, field, false);
    else continue;
    delete patch[key];
    if (merged.length === 0) {
      original[key] = merged;
      continue;
    }
    const [named, rest] = partition(merged, orderList, mergeKey);
    const kind = elementKind(merged);
    original[key] = normalizeOrder(named, rest, orderList, live ?? [], mergeKey, kind);
  }
}

function mergeMap(original: JsonObject, patch: JsonObject, shape: Shape): JsonObject {
  if (Object.hasOwn(patch, directiveMarker)) {
    const directive = patch[directiveMarker];
    if (directive === 'delete') return {};
    if (directive !== 'replace') throw errors.badPatchType(directive, patch);
    const { [directiveMarker]: _, ...rest } = patch;
    return mergeMap({}, rest, shape);
  }
  applyRetainKeys(original, patch);
  applySetElementOrder(original, patch, shape);
  for (const [patchKey, value] of Object.entries(patch)) {
    let key = patchKey;
    const isDeleteList = patchKey.startsWith(deleteFromPrimitiveListPrefix);
    if (isDeleteList) {
      key = extractKey(patchKey, deleteFromPrimitiveListPrefix);
      if (value !== null && !Array.isArray(value)) throw errors.badPrimitiveList();
    }
    if (value === null) {
      delete original[key];
      continue;
    }
    const field = fieldOf(shape, key);
    const current = Object.hasOwn(original, key) ? original[key]! : undefined;
    if (current === undefined) {
      if (!isDeleteList) original[key] = fresh(value, field);
      continue;
    }
    if (isObject(current) && isObject(value)) {
      original[key] = field.patch?.strategy === 'replace' ? fresh(value, field) : mergeMap(current, value, field.shape);
    } else if (Array.isArray(current) && Array.isArray(value)) {
      original[key] = mergeListField(current, value, field, isDeleteList);
    } else if (!isDeleteList) {
      original[key] = fresh(value, field);
    }
  }
  return original;
}

/**
 * Applies a strategic merge patch to a copy of doc using the kind's merge keys and strategies.
 * Custom resources have no table; the API server answers them 415 before calling this.
 */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, gvk: GroupVersionKind): unknown {
  const shape = builtinShape(gvk);
  if (!shape) {
    throw new PatchError(400, `strategic merge patch is not supported for ${gvk.group ? `${gvk.kind}.${gvk.group}` : gvk.kind}: it has no merge keys; use a JSON merge patch`);
  }
  if (patch === null || patch === undefined) return clone(doc);
  if (!isObject(patch)) throw badPatch(`json: cannot unmarshal ${jsonKindName(patch)} into Go value of type map[string]interface {}`);
  if (!isObject(doc)) throw badPatch('invalid JSON document');
  return boundedDepth(() => mergeMap(clone(doc), clone(patch), shape));
}

/** Whether strategic merge patch is defined for a kind: built-in kinds only, as upstream. */
export { supportsStrategicMergePatch } from './schema/index.ts';
