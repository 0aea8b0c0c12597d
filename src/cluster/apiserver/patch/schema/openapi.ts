// The shape of a custom resource, read from its CRD's structural openAPIV3Schema: the
// x-kubernetes-list-type / -list-map-keys / -map-type extensions play the part the struct tags
// play for built-in kinds. Arrays without a list type are atomic, as for upstream CRDs.
import { isObject, type JsonObject } from '../json.ts';
import { objectMeta } from './meta.ts';
import { deduced, kind, present, struct, type Field, type ListKey, type ScalarValue, type Shape, type StructShape } from './shape.ts';

function keyDefault(items: JsonObject | undefined, name: string): ScalarValue | undefined {
  const properties = items?.['properties'];
  const value = isObject(properties) && isObject(properties[name]) ? properties[name]['default'] : undefined;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined;
}

function convert(schema: unknown): Shape {
  if (!isObject(schema)) return deduced;
  const properties = schema['properties'];
  if (schema['type'] === 'array') {
    const items = isObject(schema['items']) ? schema['items'] : undefined;
    const itemShape = convert(items);
    switch (schema['x-kubernetes-list-type']) {
      case 'set':
        return { kind: 'list', items: itemShape, semantics: { type: 'set' } };
      case 'map': {
        const names = Array.isArray(schema['x-kubernetes-list-map-keys']) ? schema['x-kubernetes-list-map-keys'].filter((k): k is string => typeof k === 'string') : [];
        const keys: ListKey[] = names.map((name) => {
          const fallback = keyDefault(items, name);
          return fallback === undefined ? { name } : { name, default: fallback };
        });
        return { kind: 'list', items: itemShape, semantics: { type: 'map', keys } };
      }
      default:
        return { kind: 'list', items: itemShape, semantics: { type: 'atomic' } };
    }
  }
  const atomic = schema['x-kubernetes-map-type'] === 'atomic';
  if (isObject(properties)) {
    const fields: Record<string, Field> = {};
    for (const [name, property] of Object.entries(properties)) fields[name] = { shape: convert(property) };
    if (schema['x-kubernetes-embedded-resource'] === true) fields['metadata'] = present(objectMeta);
    return struct(fields, { atomic });
  }
  if (isObject(schema['additionalProperties'])) return { kind: 'map', values: convert(schema['additionalProperties']), ...(atomic ? { atomic: true } : {}) };
  if (atomic) return struct({}, { atomic: true });
  return deduced;
}

/** The shape of a custom resource from its version's openAPIV3Schema. */
export function shapeFromOpenAPISchema(schema: unknown): StructShape {
  const root = convert(schema);
  const fields: Record<string, Field> = root.kind === 'struct' ? { ...root.fields } : {};
  delete fields['metadata'];
  return kind(fields, objectMeta);
}
