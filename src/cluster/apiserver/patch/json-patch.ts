// RFC 6902 JSON patch with the behaviour of the library the API server uses
// (gopkg.in/evanphx/json-patch.v4): its error texts, negative array indices, "replace" of a
// missing object key acting as "add", and "test" treating a missing value as null.
import { badPatch, boundedDepth, PatchError, unprocessablePatch } from './errors.ts';
import { clone, deepEqual, isObject, jsonKindName, type JsonObject, type JsonValue } from './json.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface JsonPatchOptions {
  /** The request's fieldValidation; upstream decodes strictly unless it is Ignore (absent means Warn). */
  fieldValidation?: FieldValidation;
}

const maxOperations = 10_000;
const missingValue = 'missing value';
const invalidIndex = 'invalid index referenced';

type Container = JsonObject | JsonValue[];

class OperationFailure extends Error {}

function fail(message: string): never {
  throw new OperationFailure(message);
}

function isContainer(value: unknown): value is Container {
  return Array.isArray(value) || isObject(value);
}

/** strconv.Atoi: an optional sign and decimal digits. */
function atoi(key: string): number {
  if (!/^[+-]?\d+$/.test(key)) fail(`strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  return Number.parseInt(key, 10);
}

function badIndex(index: number): never {
  fail(`Unable to access invalid index: ${index}: ${invalidIndex}`);
}

/** Negative indices count from the end, as the library allows by default. */
function fromEnd(index: number, length: number): number {
  if (index >= 0) return index;
  if (index < -length) badIndex(index);
  return index + length;
}

function get(container: Container, key: string): JsonValue | undefined {
  if (!Array.isArray(container)) return Object.hasOwn(container, key) ? container[key] : undefined;
  const index = fromEnd(atoi(key), container.length);
  if (index >= container.length) badIndex(index);
  return container[index];
}

function add(container: Container, key: string, value: JsonValue): void {
  if (!Array.isArray(container)) {
    container[key] = value;
    return;
  }
  if (key === '-') {
    container.push(value);
    return;
  }
  let index: number;
  try {
    index = atoi(key);
  } catch (error) {
    fail(`value was not a proper array index: '${key}': ${(error as Error).message}`);
  }
  const size = container.length + 1;
  if (index >= size) badIndex(index);
  container.splice(fromEnd(index, size), 0, value);
}

function set(container: Container, key: string, value: JsonValue): void {
  if (!Array.isArray(container)) {
    container[key] = value;
    return;
  }
  container[fromEnd(atoi(key), container.length)] = value;
}

function remove(container: Container, key: string): void {
  if (!Array.isArray(container)) {
    if (!Object.hasOwn(container, key)) fail(`Unable to remove nonexistent key: ${key}: ${missingValue}`);
    delete container[key];
    return;
  }
  const index = atoi(key);
  if (index >= container.length) badIndex(index);
  container.splice(fromEnd(index, container.length), 1);
}

function unescapePointerToken(token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** The container holding the pointer's last token; like the library, the first token is not checked. */
function findParent(root: Container, path: string): { container: Container; key: string } | undefined {
  const tokens = path.split('/');
  if (tokens.length < 2) return undefined;
  let doc: Container = root;
  for (const token of tokens.slice(1, -1)) {
    let next: JsonValue | undefined;
    try {
      next = get(doc, unescapePointerToken(token));
    } catch {
      return undefined;
    }
    if (!isContainer(next)) return undefined;
    doc = next;
  }
  return { container: doc, key: unescapePointerToken(tokens[tokens.length - 1]!) };
}

interface Operation {
  raw: JsonObject;
  kind: string;
}

/** Reads a string member ("path" or "from"); the error text is what the library says. */
function member(op: Operation, name: 'path' | 'from'): { value: string } | { error: string } {
  const value = op.raw[name];
  if (value === undefined || value === null) {
    return { error: name === 'path' ? `operation missing path field: ${missingValue}` : `operation, missing from field: ${missingValue}` };
  }
  if (typeof value !== 'string') return { error: `json: cannot unmarshal ${jsonKindName(value)} into Go value of type string` };
  return { value };
}

/** The operation's value; an absent one is stored as null, as the library does. */
function valueOf(op: Operation): JsonValue {
  return clone(op.raw['value'] ?? null);
}

function applyAdd(root: Container, op: Operation): void {
  const path = member(op, 'path');
  if ('error' in path) fail(`add operation failed to decode path: ${missingValue}`);
  const parent = findParent(root, path.value) ?? fail(`add operation does not apply: doc is missing path: "${path.value}": ${missingValue}`);
  try {
    add(parent.container, parent.key, valueOf(op));
  } catch (error) {
    fail(`error in add for path: '${path.value}': ${(error as Error).message}`);
  }
}

function applyRemove(root: Container, op: Operation): void {
  const path = member(op, 'path');
  if ('error' in path) fail(`remove operation failed to decode path: ${missingValue}`);
  const parent = findParent(root, path.value) ?? fail(`remove operation does not apply: doc is missing path: "${path.value}": ${missingValue}`);
  try {
    remove(parent.container, parent.key);
  } catch (error) {
    fail(`error in remove for path: '${path.value}': ${(error as Error).message}`);
  }
}

function applyReplace(root: Container, op: Operation): Container {
  const path = member(op, 'path');
  if ('error' in path) fail(`replace operation failed to decode path: ${path.error}`);
  if (path.value === '') {
    // The library silently ignores a whole-document replace whose value is not a container.
    const value = valueOf(op);
    return isContainer(value) ? value : root;
  }
  const parent = findParent(root, path.value) ?? fail(`replace operation does not apply: doc is missing path: ${path.value}: ${missingValue}`);
  try {
    get(parent.container, parent.key);
  } catch {
    fail(`replace operation does not apply: doc is missing key: ${path.value}: ${missingValue}`);
  }
  try {
    set(parent.container, parent.key, valueOf(op));
  } catch (error) {
    fail(`error in remove for path: '${path.value}': ${(error as Error).message}`);
  }
  return root;
}

function applyMove(root: Container, op: Operation): void {
  const from = member(op, 'from');
  if ('error' in from) fail(`move operation failed to decode from: ${from.error}`);
  const source = findParent(root, from.value) ?? fail(`move operation does not apply: doc is missing from path: ${from.value}: ${missingValue}`);
  let value: JsonValue | undefined;
  try {
    value = get(source.container, source.key);
    remove(source.container, source.key);
  } catch (error) {
    fail(`error in move for path: '${source.key}': ${(error as Error).message}`);
  }
  const path = member(op, 'path');
  if ('error' in path) fail(`move operation failed to decode path: ${path.error}`);
  const target = findParent(root, path.value) ?? fail(`move operation does not apply: doc is missing destination path: ${path.value}: ${missingValue}`);
  try {
    add(target.container, target.key, value ?? null);
  } catch (error) {
    fail(`error in move for path: '${path.value}': ${(error as Error).message}`);
  }
}

function applyTest(root: Container, op: Operation): void {
  const path = member(op, 'path');
  if ('error' in path) fail(`test operation failed to decode path: ${path.error}`);
  const expected = op.raw['value'];
  const failed = (): never => fail(`testing value ${path.value} failed: test failed`);
  if (path.value === '') {
    if (!deepEqual(root, expected)) failed();
    return;
  }
  const parent = findParent(root, path.value) ?? fail(`test operation does not apply: is missing path: ${path.value}: ${missingValue}`);
  let actual: JsonValue | undefined;
  try {
    actual = get(parent.container, parent.key);
  } catch (error) {
    fail(`error in test for path: '${path.value}': ${(error as Error).message}`);
  }
  if (actual === undefined || actual === null) {
    if (expected !== undefined && expected !== null) failed();
    return;
  }
  if (expected === undefined || !deepEqual(actual, expected)) failed();
}

function applyCopy(root: Container, op: Operation): void {
  const from = member(op, 'from');
  if ('error' in from) fail(`copy operation failed to decode from: ${from.error}`);
  const source = findParent(root, from.value) ?? fail(`copy operation does not apply: doc is missing from path: ${from.value}: ${missingValue}`);
  let value: JsonValue | undefined;
  try {
    value = get(source.container, source.key);
  } catch (error) {
    fail(`error in copy for from: '${from.value}': ${(error as Error).message}`);
  }
  const path = member(op, 'path');
  if ('error' in path) fail(`copy operation failed to decode path: ${missingValue}`);
  const target = findParent(root, path.value) ?? fail(`copy operation does not apply: doc is missing destination path: ${path.value}: ${missingValue}`);
  try {
    add(target.container, target.key, clone(value ?? null));
  } catch (error) {
    fail(`error while adding value during copy: ${(error as Error).message}`);
  }
}

/** Decodes the body the way the patch handler does before applying anything. */
function decodeOperations(patch: unknown, fieldValidation: FieldValidation): Operation[] {
  const strict = fieldValidation !== 'Ignore';
  if (patch === null || patch === undefined) return [];
  if (!Array.isArray(patch)) {
    throw badPatch(
      strict
        ? `error decoding patch: json: cannot unmarshal ${jsonKindName(patch)} into Go value of type []handlers.jsonPatchOp`
        : `json: cannot unmarshal ${jsonKindName(patch)} into Go value of type jsonpatch.Patch`,
    );
  }
  const operations: Operation[] = [];
  for (const item of patch as unknown[]) {
    if (item === null) {
      operations.push({ raw: {}, kind: 'unknown' });
      continue;
    }
    if (!isObject(item)) {
      throw badPatch(
        strict
          ? `error decoding patch: json: cannot unmarshal ${jsonKindName(item)} into Go value of type handlers.jsonPatchOp`
          : `json: cannot unmarshal ${jsonKindName(item)} into Go value of type jsonpatch.Operation`,
      );
    }
    if (strict) {
      for (const name of ['op', 'path', 'from'] as const) {
        const value = item[name];
        if (value !== undefined && value !== null && typeof value !== 'string') {
          throw badPatch(`error decoding patch: json: cannot unmarshal ${jsonKindName(value)} into Go struct field jsonPatchOp.${name} of type string`);
        }
      }
    }
    operations.push({ raw: item, kind: typeof item['op'] === 'string' ? item['op'] : 'unknown' });
  }
  if (operations.length > maxOperations) {
    throw new PatchError(413, `Request entity too large: The allowed maximum operations in a JSON patch is ${maxOperations}, got ${operations.length}`);
  }
  return operations;
}

/**
 * Applies an RFC 6902 patch to a copy of doc. A body that is not a list of operations is a 400;
 * an operation that does not apply is a 422 whose detail carries the library's message.
 */
export function applyJsonPatch(doc: unknown, patch: unknown, options: JsonPatchOptions = {}): unknown {
  return boundedDepth(() => applyOperations(doc, patch, options));
}

function applyOperations(doc: unknown, patch: unknown, options: JsonPatchOptions): unknown {
  const operations = decodeOperations(patch, options.fieldValidation ?? 'Warn');
  if (!isContainer(doc)) throw unprocessablePatch(`json: cannot unmarshal ${jsonKindName(doc)} into Go value of type jsonpatch.partialDoc`);
  let root: Container = clone(doc);
  try {
    for (const op of operations) {
      switch (op.kind) {
        case 'add':
          applyAdd(root, op);
          break;
        case 'remove':
          applyRemove(root, op);
          break;
        case 'replace':
          root = applyReplace(root, op);
          break;
        case 'move':
          applyMove(root, op);
          break;
        case 'test':
          applyTest(root, op);
          break;
        case 'copy':
          applyCopy(root, op);
          break;
        default:
          fail(`Unexpected kind: ${op.kind}`);
      }
    }
  } catch (error) {
    if (error instanceof OperationFailure) throw unprocessablePatch(error.message);
    throw error;
  }
  return root;
}
