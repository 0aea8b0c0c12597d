// OpenAPI 3 component schemas for built-in Kubernetes types, built from client-node's models
// (types, descriptions, required fields) and our upstream facts (schema names, list and patch
// markers, Quantity fields). Schema names follow upstream (io.k8s.api.apps.v1.DeploymentSpec),
// because `kubectl explain` prints the last segment of a $ref as the field's type.
import { atomicTypes, fields as fieldFacts, packages, type FieldFacts } from './facts.ts';
import { loadModel, modelExists, type ModelAttribute } from './models.ts';

export type Schema = Record<string, unknown>;

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

const meta = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const timeSchema = `${meta}.Time`;
export const microTimeSchema = `${meta}.MicroTime`;
export const quantitySchema = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const intOrStringSchema = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const objectMetaSchema = `${meta}.ObjectMeta`;
export const listMetaSchema = `${meta}.ListMeta`;
export const patchSchema = `${meta}.Patch`;

/** Schemas that are not generated from a model: their JSON is not an object of fields. */
export const primitiveSchemas: Readonly<Record<string, Schema>> = {
  [timeSchema]: {
    type: 'string',
    format: 'date-time',
    description: 'Time is a timestamp in RFC 3339 form with second precision, for example 2024-05-01T12:00:00Z.',
  },
  [microTimeSchema]: {
    type: 'string',
    format: 'date-time',
    description: 'MicroTime is a timestamp in RFC 3339 form with microsecond precision, for example 2024-05-01T12:00:00.000000Z.',
  },
  [quantitySchema]: {
    oneOf: [{ type: 'string' }, { type: 'number' }],
    description:
      'Quantity is a fixed-point representation of a number, written as a number with an optional suffix: ' +
      'binary SI (Ki, Mi, Gi, Ti, Pi, Ei), decimal SI (m, k, M, G, T, P, E) or a decimal exponent (e.g. 1e3). ' +
      'Examples: 500m (half a CPU), 128Mi, 1Gi, 2.',
  },
  [intOrStringSchema]: {
    format: 'int-or-string',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
    description: 'IntOrString holds either an integer or a string, for example a port number (8080) or a port name ("http"), or a count (1) or a percentage ("25%").',
  },
  [patchSchema]: {
    type: 'object',
    description: 'Patch is the body of a PATCH request: a JSON patch, a JSON merge patch, a strategic merge patch or an apply configuration, as the Content-Type says.',
  },
};

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "rbac.authorization.k8s.io" → "Rbac", "" → "Core": how client-node prefixes clashing model names. */
function groupPrefix(group: string): string {
  return capitalize(group === '' ? 'core' : (group.split('.')[0] ?? ''));
}

/** The client-node model of a kind: CoreV1Event for core/v1 Event, V1Deployment for apps/v1 Deployment. */
export function modelNameFor(gvk: GroupVersionKind): string | undefined {
  const prefixed = `${groupPrefix(gvk.group)}${capitalize(gvk.version)}${gvk.kind}`;
  if (modelExists(prefixed)) return prefixed;
  const plain = `${capitalize(gvk.version)}${gvk.kind}`;
  return modelExists(plain) ? plain : undefined;
}

let schemaNames: Map<string, string> | undefined;

/** Model name → upstream schema name, from the package table. */
function schemaNameTable(): Map<string, string> {
  if (schemaNames) return schemaNames;
  schemaNames = new Map();
  for (const [pkg, types] of Object.entries(packages)) {
    const [group = '', version = ''] = pkg.split('.').slice(-2);
    for (const type of types) {
      const prefixed = `${capitalize(group)}${capitalize(version)}${type}`;
      schemaNames.set(modelExists(prefixed) ? prefixed : `${capitalize(version)}${type}`, `${pkg}.${type}`);
    }
  }
  return schemaNames;
}

/** io.k8s.api.apps.v1.Deployment for V1Deployment; a made-up but stable name for models the table lacks. */
export function schemaNameOf(model: string): string {
  return schemaNameTable().get(model) ?? `io.k8s.api.${model.replace(/^(V\d+(?:alpha|beta)?\d*)(\w+)$/, (_, version: string, type: string) => `${version.toLowerCase()}.${type}`)}`;
}

export function ref(schemaName: string): Schema {
  return { $ref: `#/components/schemas/${schemaName}` };
}

/** What a client-node attribute type becomes in OpenAPI; models it references are added to `needed`. */
function typeSchema(type: string, format: string, facts: FieldFacts | undefined, needed: Set<string>): Schema {
  const array = /^Array<(.+)>$/.exec(type);
  if (array?.[1] !== undefined) return { type: 'array', items: typeSchema(array[1], format, facts, needed) };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map?.[1] !== undefined) return { type: 'object', additionalProperties: typeSchema(map[1], format, facts, needed) };
  switch (type) {
    case 'string':
      if (facts?.quantity) return ref(quantitySchema);
      return format ? { type: 'string', format } : { type: 'string' };
    case 'number':
      if (format === 'int32' || format === 'int64') return { type: 'integer', format };
      return format ? { type: 'number', format } : { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'Date':
      return ref(format === 'date-time-micro' ? microTimeSchema : timeSchema);
    case 'IntOrString':
      return ref(intOrStringSchema);
    case 'any':
      return { 'x-kubernetes-preserve-unknown-fields': true };
    default:
      needed.add(type);
      return ref(schemaNameOf(type));
  }
}

/** The model an attribute type refers to, through arrays and maps. */
export function referencedModel(type: string): string | undefined {
  const inner = /^Array<(.+)>$/.exec(type)?.[1] ?? /^\{ \[key: string\]: (.+); \}$/.exec(type)?.[1];
  if (inner !== undefined) return referencedModel(inner);
  return /^[A-Z]\w*$/.test(type) && type !== 'Date' && type !== 'IntOrString' ? type : undefined;
}

function propertySchema(attribute: ModelAttribute, facts: FieldFacts | undefined, needed: Set<string>): Schema {
  const base = typeSchema(attribute.type, attribute.format, facts, needed);
  // client-node drops the description of fields that reference another type; the referenced
  // type's own description is the next best thing for `kubectl explain`.
  const referenced = referencedModel(attribute.type);
  const description = attribute.description ?? (referenced ? loadModel(referenced)?.description : undefined);
  // A reference keeps its description beside $ref (not in allOf): kubectl explain then prints
  // the field's description in field lists and the type's description once for the field.
  const schema: Schema = { ...base };
  if (description !== undefined) schema.description = description;
  if (facts?.patchStrategy) schema['x-kubernetes-patch-strategy'] = facts.patchStrategy;
  if (facts?.patchMergeKey) schema['x-kubernetes-patch-merge-key'] = facts.patchMergeKey;
  if (facts?.listType) schema['x-kubernetes-list-type'] = facts.listType;
  if (facts?.listMapKeys) schema['x-kubernetes-list-map-keys'] = [...facts.listMapKeys];
  if (facts?.mapType) schema['x-kubernetes-map-type'] = facts.mapType;
  return schema;
}

/**
 * The component schema of one client-node model. `needed` collects the models it references,
 * so callers can add the transitive closure.
 */
export function modelSchema(model: string, needed: Set<string>): Schema | undefined {
  const loaded = loadModel(model);
  if (loaded === undefined) return undefined;
  const name = schemaNameOf(model);
  const facts = fieldFacts[name];
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const attribute of loaded.attributes) {
    properties[attribute.name] = propertySchema(attribute, facts?.[attribute.name], needed);
    if (attribute.required) required.push(attribute.name);
  }
  const schema: Schema = {};
  if (loaded.description !== undefined) schema.description = loaded.description;
  schema.type = 'object';
  schema.properties = properties;
  if (required.length > 0) schema.required = required;
  if (atomicTypes.has(name)) schema['x-kubernetes-map-type'] = 'atomic';
  return schema;
}

/**
 * Schemas for the given models and everything they reference, keyed by upstream name.
 * `kinds` adds x-kubernetes-group-version-kind to the schemas that are kinds.
 */
export function schemasFor(models: Iterable<string>, kinds: ReadonlyMap<string, GroupVersionKind[]>): Record<string, Schema> {
  const schemas: Record<string, Schema> = {};
  const queue = [...models];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const model = queue.shift() as string;
    const needed = new Set<string>();
    const schema = modelSchema(model, needed);
    if (schema === undefined) continue;
    const gvks = kinds.get(model);
    if (gvks) schema['x-kubernetes-group-version-kind'] = gvks.map((gvk) => ({ group: gvk.group, kind: gvk.kind, version: gvk.version }));
    schemas[schemaNameOf(model)] = schema;
    for (const next of needed) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return { ...schemas, ...primitiveSchemas };
}
