// RFC 7386 JSON merge patch: objects merge key by key, null deletes, anything else (lists
// included) replaces. Mirrors the library the API server uses, including where it answers
// "Invalid JSON Patch" and that nulls inside newly added objects are dropped.
import { badPatch, boundedDepth, PatchError } from './errors.ts';
import { clone, goQuote, isObject, type JsonObject, type JsonValue } from './json.ts';

/** Removes null members from objects, also inside lists, as the library's pruneNulls does. */
function pruneNulls(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(pruneNulls);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== null) out[key] = pruneNulls(item);
  }
  return out;
}

function mergeValue(current: JsonValue, patch: JsonValue): JsonValue {
  if (!isObject(current)) return pruneNulls(patch);
  if (!isObject(patch)) return patch;
  return mergeObjects(current, patch);
}

function mergeObjects(doc: JsonObject, patch: JsonObject): JsonObject {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete doc[key];
    } else {
      const current = doc[key];
      doc[key] = current === undefined || current === null ? pruneNulls(value) : mergeValue(current, value);
    }
  }
  return doc;
}

/**
 * Applies a merge patch to a copy of doc. A patch that is null or a scalar is a 400 "Invalid
 * JSON Patch"; a list replaces the whole document, which the caller then rejects as not an object.
 */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (patch === null || patch === undefined || (!isObject(patch) && !Array.isArray(patch))) throw badPatch('Invalid JSON Patch');
  if (Array.isArray(patch)) {
    // The list becomes the whole document, which then fails to decode as an object.
    const invalid = `Invalid value: ${goQuote(JSON.stringify(pruneNulls(clone(patch as JsonValue[]))))}: json: cannot unmarshal array into Go value of type map[string]interface {}`;
    throw new PatchError(422, ` "" is invalid: patch: ${invalid}`, { causes: [{ reason: 'FieldValueInvalid', field: 'patch', message: invalid }] });
  }
  return boundedDepth(() => (isObject(doc) ? mergeObjects(clone(doc), clone(patch)) : pruneNulls(clone(patch))));
}
