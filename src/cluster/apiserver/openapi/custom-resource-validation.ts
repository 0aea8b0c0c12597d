// Validation of a custom resource against its CRD's openAPIV3Schema, in the manner of
// apiextensions-apiserver: defaults are applied and nulls in non-nullable fields dropped first,
// then every violation becomes a field error worded as kube-openapi words it, e.g.
//   spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"
// (field, then message; the caller joins them).
import { isJson, type Json } from '../../json.ts';

export interface SchemaFieldError {
  /** "spec.replicas", "spec.ports[0].name" */
  field: string;
  /** the message after "<field>: " */
  message: string;
  /** the StatusCause reason: FieldValueInvalid, FieldValueRequired, FieldValueTypeInvalid, … */
  reason: string;
}

const rootManagedFields = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Applies the schema's defaults to `obj` (in place, as the API server does on decode), drops
 * nulls the schema does not allow, and returns what is still wrong. apiVersion, kind and
 * metadata are the API machinery's business and are skipped.
 */
export function validateCustomResource(obj: Json, openAPIV3Schema: Json): SchemaFieldError[] {
  applyDefaults(obj, openAPIV3Schema, true);
  const errors: SchemaFieldError[] = [];
  validateObject(obj, openAPIV3Schema, '', errors, true);
  return errors;
}

function propertiesOf(schema: Json): Record<string, Json> {
  return isJson(schema.properties) ? (schema.properties as Record<string, Json>) : {};
}

function applyDefaults(value: unknown, schema: Json, root = false): void {
  if (Array.isArray(value)) {
    if (isJson(schema.items)) for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isJson(value)) return;
  for (const [key, property] of Object.entries(propertiesOf(schema))) {
    if (root && rootManagedFields.has(key)) continue;
    if (!isJson(property)) continue;
    if (value[key] === undefined && property.default !== undefined) value[key] = structuredClone(property.default);
    else if (value[key] === null && property.nullable !== true) {
      if (property.default !== undefined) value[key] = structuredClone(property.default);
      else delete value[key];
    }
    if (value[key] !== undefined) applyDefaults(value[key], property);
  }
  if (isJson(schema.additionalProperties)) {
    for (const [key, element] of Object.entries(value)) {
      if (key in propertiesOf(schema)) continue;
      if (element === null && schema.additionalProperties.nullable !== true) delete value[key];
      else applyDefaults(element, schema.additionalProperties);
    }
  }
}

/** The JSON type name kube-openapi reports for a value. */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Go's %q for strings, %v for numbers and booleans, JSON for the rest (field.Error's rendering). */
function render(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function invalid(errors: SchemaFieldError[], field: string, value: unknown, detail: string): void {
  errors.push({ field, reason: 'FieldValueInvalid', message: `Invalid value: ${render(value)}: ${detail}` });
}

function name(path: string): string {
  return path === '' ? '.' : path;
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isJson(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

function validateValue(value: unknown, schema: Json, path: string, errors: SchemaFieldError[]): void {
  if (value === null) {
    if (schema.nullable === true) return;
    const expected = schema['x-kubernetes-int-or-string'] === true ? 'integer,string' : typeof schema.type === 'string' ? schema.type : undefined;
    if (expected !== undefined) errors.push({ field: path, reason: 'FieldValueTypeInvalid', message: `Invalid value: "null": ${name(path)} in body must be of type ${expected}: "null"` });
    return;
  }
  if (schema['x-kubernetes-int-or-string'] === true) {
    if (!matchesType(value, 'integer') && typeof value !== 'string') {
      const actual = typeName(value);
      errors.push({ field: path, reason: 'FieldValueTypeInvalid', message: `Invalid value: "${actual}": ${name(path)} in body must be of type integer,string: "${actual}"` });
      return;
    }
  } else if (typeof schema.type === 'string' && !matchesType(value, schema.type)) {
    const actual = typeName(value);
    errors.push({ field: path, reason: 'FieldValueTypeInvalid', message: `Invalid value: "${actual}": ${name(path)} in body must be of type ${schema.type}: "${actual}"` });
    return;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((allowed) => JSON.stringify(allowed) === JSON.stringify(value))) {
    const supported = schema.enum.map((allowed) => JSON.stringify(typeof allowed === 'string' ? allowed : JSON.stringify(allowed))).join(', ');
    errors.push({ field: path, reason: 'FieldValueNotSupported', message: `Unsupported value: ${render(value)}: supported values: ${supported}` });
  }
  if (typeof value === 'string') validateString(value, schema, path, errors);
  else if (typeof value === 'number') validateNumber(value, schema, path, errors);
  else if (Array.isArray(value)) validateArray(value, schema, path, errors);
  else if (isJson(value)) validateObject(value, schema, path, errors, false);
  if (Array.isArray(schema.allOf)) for (const part of schema.allOf) if (isJson(part)) validateValue(value, part, path, errors);
}

function validateString(value: string, schema: Json, path: string, errors: SchemaFieldError[]): void {
  const length = [...value].length;
  if (typeof schema.maxLength === 'number' && length > schema.maxLength) {
    errors.push({ field: path, reason: 'FieldValueTooLong', message: `Too long: may not be more than ${schema.maxLength} ${schema.maxLength === 1 ? 'byte' : 'bytes'}` });
  }
  if (typeof schema.minLength === 'number' && length < schema.minLength) invalid(errors, path, value, `${name(path)} in body should be at least ${schema.minLength} chars long`);
  if (typeof schema.pattern === 'string') {
    const pattern = compile(schema.pattern);
    if (pattern && !pattern.test(value)) invalid(errors, path, value, `${name(path)} in body should match '${schema.pattern}'`);
  }
  if (typeof schema.format === 'string' && !matchesFormat(value, schema.format)) {
    errors.push({ field: path, reason: 'FieldValueTypeInvalid', message: `Invalid value: ${render(value)}: ${name(path)} in body must be of type ${schema.format}: ${render(value)}` });
  }
}

const patterns = new Map<string, RegExp | null>();

function compile(pattern: string): RegExp | null {
  if (!patterns.has(pattern)) {
    try {
      patterns.set(pattern, new RegExp(pattern, 'u'));
    } catch {
      // A pattern JavaScript cannot compile (RE2-only syntax) is not enforced rather than guessed.
      patterns.set(pattern, null);
    }
  }
  return patterns.get(pattern) ?? null;
}

const formats: Readonly<Record<string, (value: string) => boolean>> = {
  'date-time': (v) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v.replace(' ', 'T'))),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)),
  byte: (v) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v),
  uuid: (v) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v),
  ipv4: (v) => /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/.test(v),
  ipv6: (v) => /^[0-9a-f:.]+$/i.test(v) && v.includes(':'),
  cidr: (v) => /^[0-9a-f:.]+\/\d{1,3}$/i.test(v),
  hostname: (v) => v.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(v),
  email: (v) => /^[^@\s]+@[^@\s]+$/.test(v),
  duration: (v) => /^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v) || v === '0',
};

function matchesFormat(value: string, format: string): boolean {
  return formats[format]?.(value) ?? true;
}

function validateNumber(value: number, schema: Json, path: string, errors: SchemaFieldError[]): void {
  if (typeof schema.maximum === 'number') {
    const exclusive = schema.exclusiveMaximum === true;
    if (exclusive ? value >= schema.maximum : value > schema.maximum) {
      invalid(errors, path, value, `${name(path)} in body should be less than ${exclusive ? '' : 'or equal to '}${schema.maximum}`);
    }
  }
  if (typeof schema.minimum === 'number') {
    const exclusive = schema.exclusiveMinimum === true;
    if (exclusive ? value <= schema.minimum : value < schema.minimum) {
      invalid(errors, path, value, `${name(path)} in body should be greater than ${exclusive ? '' : 'or equal to '}${schema.minimum}`);
    }
  }
  if (typeof schema.multipleOf === 'number' && schema.multipleOf > 0 && !Number.isInteger(value / schema.multipleOf)) {
    invalid(errors, path, value, `${name(path)} in body should be a multiple of ${schema.multipleOf}`);
  }
}

function validateArray(value: unknown[], schema: Json, path: string, errors: SchemaFieldError[]): void {
  if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
    errors.push({ field: path, reason: 'FieldValueTooMany', message: `Too many: ${value.length}: must have at most ${schema.maxItems} ${schema.maxItems === 1 ? 'item' : 'items'}` });
  }
  if (typeof schema.minItems === 'number' && value.length < schema.minItems) invalid(errors, path, value.length, `${name(path)} in body should have at least ${schema.minItems} items`);
  if (schema.uniqueItems === true && new Set(value.map((item) => JSON.stringify(item))).size !== value.length) {
    invalid(errors, path, value, `${name(path)} in body shouldn't contain duplicates`);
  }
  if (isJson(schema.items)) value.forEach((item, i) => validateValue(item, schema.items as Json, `${path}[${i}]`, errors));
}

function validateObject(value: Json, schema: Json, path: string, errors: SchemaFieldError[], root: boolean): void {
  const child = (key: string) => (path === '' ? key : `${path}.${key}`);
  if (Array.isArray(schema.required)) {
    for (const key of schema.required) {
      if (typeof key === 'string' && !(root && rootManagedFields.has(key)) && value[key] === undefined) {
        errors.push({ field: child(key), reason: 'FieldValueRequired', message: 'Required value' });
      }
    }
  }
  const count = Object.keys(value).length;
  if (typeof schema.maxProperties === 'number' && count > schema.maxProperties) {
    errors.push({ field: path, reason: 'FieldValueTooMany', message: `Too many: ${count}: must have at most ${schema.maxProperties} items` });
  }
  if (typeof schema.minProperties === 'number' && count < schema.minProperties) invalid(errors, path, count, `${name(path)} in body should have at least ${schema.minProperties} properties`);
  const properties = propertiesOf(schema);
  for (const [key, element] of Object.entries(value)) {
    if (root && rootManagedFields.has(key)) continue;
    const property = properties[key];
    if (isJson(property)) validateValue(element, property, child(key), errors);
    else if (isJson(schema.additionalProperties)) validateValue(element, schema.additionalProperties, child(key), errors);
  }
}
