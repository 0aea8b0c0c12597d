// Unknown fields, as strict decoding reports them: the paths of fields the kind's schema does
// not have, e.g. "spec.template.spec.containers[0].imagee". Built-in kinds are checked against
// client-node's models; custom resources against their CRD's openAPIV3Schema.
import { isJson, type Json } from '../../json.ts';
import { loadModel } from './models.ts';
import { modelNameFor, type GroupVersionKind } from './schemas.ts';

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Paths of fields that the kind does not define, in document order. Kinds without a known
 * model and without a CRD schema have no unknown fields (nothing to judge them by).
 */
export function findUnknownFields(obj: unknown, gvk: GroupVersionKind, crdSchema?: Record<string, unknown>): string[] {
  const unknown: string[] = [];
  if (crdSchema !== undefined) {
    walkCustomResource(obj, crdSchema, unknown);
    return unknown;
  }
  const model = modelNameFor(gvk);
  if (model !== undefined) walkModel(obj, model, '', unknown);
  return unknown;
}

function walkModel(value: unknown, model: string, path: string, unknown: string[]): void {
  if (!isJson(value)) return;
  const loaded = loadModel(model);
  if (loaded === undefined) return;
  for (const [key, fieldValue] of Object.entries(value)) {
    const attribute = loaded.attributes.find((a) => a.name === key);
    if (attribute === undefined) unknown.push(child(path, key));
    else walkType(fieldValue, attribute.type, child(path, key), unknown);
  }
}

function walkType(value: unknown, type: string, path: string, unknown: string[]): void {
  const item = /^Array<(.+)>$/.exec(type)?.[1];
  if (item !== undefined) {
    if (Array.isArray(value)) value.forEach((element, i) => walkType(element, item, `${path}[${i}]`, unknown));
    return;
  }
  const mapValue = /^\{ \[key: string\]: (.+); \}$/.exec(type)?.[1];
  if (mapValue !== undefined) {
    if (isJson(value)) for (const [key, element] of Object.entries(value)) walkType(element, mapValue, child(path, key), unknown);
    return;
  }
  if (/^[A-Z]\w*$/.test(type) && type !== 'Date' && type !== 'IntOrString') walkModel(value, type, path, unknown);
}

function walkCustomResource(obj: unknown, schema: Json, unknown: string[]): void {
  if (!isJson(obj)) return;
  const properties = isJson(schema.properties) ? schema.properties : {};
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (key === 'metadata') walkModel(value, 'V1ObjectMeta', 'metadata', unknown);
    else walkSchema(value, properties[key], schema, key, unknown);
  }
}

/** `schema` is the property's schema, `parent` the object schema that holds it. */
function walkSchema(value: unknown, schema: unknown, parent: Json, path: string, unknown: string[]): void {
  if (schema === undefined) {
    if (parent['x-kubernetes-preserve-unknown-fields'] === true) return;
    if (parent.additionalProperties === true) return;
    if (isJson(parent.additionalProperties)) {
      walkValue(value, parent.additionalProperties, path, unknown);
      return;
    }
    unknown.push(path);
    return;
  }
  if (isJson(schema)) walkValue(value, schema, path, unknown);
}

function walkValue(value: unknown, schema: Json, path: string, unknown: string[]): void {
  if (Array.isArray(value)) {
    if (isJson(schema.items)) value.forEach((element, i) => walkValue(element, schema.items as Json, `${path}[${i}]`, unknown));
    return;
  }
  if (!isJson(value)) return;
  if (schema['x-kubernetes-embedded-resource'] === true) {
    for (const [key, element] of Object.entries(value)) {
      if (key === 'apiVersion' || key === 'kind') continue;
      if (key === 'metadata') walkModel(element, 'V1ObjectMeta', child(path, 'metadata'), unknown);
      else walkSchema(element, isJson(schema.properties) ? schema.properties[key] : undefined, schema, child(path, key), unknown);
    }
    return;
  }
  const hasStructure = isJson(schema.properties) || schema.additionalProperties !== undefined;
  if (!hasStructure && schema['x-kubernetes-preserve-unknown-fields'] === true) return;
  for (const [key, element] of Object.entries(value)) {
    walkSchema(element, isJson(schema.properties) ? schema.properties[key] : undefined, schema, child(path, key), unknown);
  }
}
