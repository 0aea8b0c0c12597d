// Type errors, as Go's encoding/json reports them when the API server decodes a body into the
// kind's struct: `json: cannot unmarshal string into Go struct field ConfigMap.data of type
// map[string]string`. The first one in document order wins, as it does in Go. Fields with their
// own decoders (Quantity, IntOrString, Time, RawExtension) accept more than one JSON type and are
// not judged here.
import { isJson, type Json } from '../../json.ts';
import { fields } from './facts.ts';
import { loadModel } from './models.ts';
import { modelNameFor, schemaNameOf, type GroupVersionKind } from './schemas.ts';

/** What Go calls the JSON value it could not store. */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'number';
  return typeof value;
}

/** io.k8s.api.apps.v1.DeploymentSpec → [v1.DeploymentSpec, DeploymentSpec] */
function goNames(model: string): [string, string] {
  const parts = schemaNameOf(model).split('.');
  const type = parts.at(-1) ?? model;
  return [`${parts.at(-2) ?? ''}.${type}`, type];
}

// V1MicroTime is metav1.MicroTime (its own decoder, a string on the wire), as Date is metav1.Time.
const skipped = new Set(['Date', 'V1MicroTime', 'IntOrString', 'any', 'object']);

function goType(type: string, format: string): string | undefined {
  const item = /^Array<(.+)>$/.exec(type)?.[1];
  if (item !== undefined) {
    const inner = goType(item, format);
    return inner === undefined ? undefined : `[]${inner}`;
  }
  const value = /^\{ \[key: string\]: (.+); \}$/.exec(type)?.[1];
  if (value !== undefined) {
    const inner = goType(value, format);
    return inner === undefined ? undefined : `map[string]${inner}`;
  }
  if (type === 'string') return 'string';
  if (type === 'boolean') return 'bool';
  if (type === 'number') return format === 'int32' || format === 'int64' ? format : 'float64';
  if (skipped.has(type)) return undefined;
  return goNames(type)[0];
}

interface Context {
  /** the innermost Go struct */
  struct: string;
  /** JSON field names from the root, without array indices or map keys (Go's FieldStack) */
  path: string[];
}

function mismatch(value: unknown, type: string, format: string, ctx: Context): string | undefined {
  const target = goType(type, format);
  if (target === undefined) return undefined;
  const where = `Go struct field ${ctx.struct}.${ctx.path.join('.')} of type ${target}`;
  const item = /^Array<(.+)>$/.exec(type)?.[1];
  if (item !== undefined) {
    if (!Array.isArray(value)) return `json: cannot unmarshal ${jsonKind(value)} into ${where}`;
    for (const element of value) {
      const error = element === null ? undefined : mismatch(element, item, format, ctx);
      if (error) return error;
    }
    return undefined;
  }
  const mapValue = /^\{ \[key: string\]: (.+); \}$/.exec(type)?.[1];
  if (mapValue !== undefined) {
    if (!isJson(value)) return `json: cannot unmarshal ${jsonKind(value)} into ${where}`;
    for (const element of Object.values(value)) {
      const error = element === null ? undefined : mismatch(element, mapValue, format, ctx);
      if (error) return error;
    }
    return undefined;
  }
  switch (type) {
    case 'string':
      return typeof value === 'string' ? undefined : `json: cannot unmarshal ${jsonKind(value)} into ${where}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `json: cannot unmarshal ${jsonKind(value)} into ${where}`;
    case 'number': {
      if (typeof value !== 'number') return `json: cannot unmarshal ${jsonKind(value)} into ${where}`;
      const integer = format === 'int32' || format === 'int64';
      const fits = !integer || (Number.isInteger(value) && (format === 'int64' || (value >= -2147483648 && value <= 2147483647)));
      return fits ? undefined : `json: cannot unmarshal number ${value} into ${where}`;
    }
    default:
      if (!isJson(value)) return `json: cannot unmarshal ${jsonKind(value)} into ${where}`;
      return walkModel(value, type, ctx.path);
  }
}

function walkModel(value: Json, model: string, path: string[]): string | undefined {
  const loaded = loadModel(model);
  if (loaded === undefined) return undefined;
  const facts = fields[schemaNameOf(model)];
  const struct = goNames(model)[1];
  for (const [key, fieldValue] of Object.entries(value)) {
    if (fieldValue === null || fieldValue === undefined) continue;
    const attribute = loaded.attributes.find((a) => a.name === key);
    if (attribute === undefined || facts?.[key]?.quantity) continue;
    const error = mismatch(fieldValue, attribute.type, attribute.format, { struct, path: [...path, key] });
    if (error) return error;
  }
  return undefined;
}

/** The first value whose JSON type the kind's Go struct cannot hold, worded as Go words it. */
export function findTypeError(obj: unknown, gvk: GroupVersionKind): string | undefined {
  const model = modelNameFor(gvk);
  if (model === undefined || !isJson(obj)) return undefined;
  return walkModel(obj, model, []);
}
