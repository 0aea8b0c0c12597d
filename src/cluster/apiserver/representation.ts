// Objects as the client asked to see them: themselves (lists wrapped in their List kind), a
// server-side Table, or PartialObjectMetadata — chosen by the Accept header's as/g/v parameters.
import type { KubeObject } from '../types.ts';
import type { ListResult, ResourceDefinition } from '../registry/index.ts';
import { statusErrors } from '../types.ts';
import { apiVersionOf } from './decode.ts';
import type { ObjectRepresentation } from './media.ts';
import { toTable, type IncludeObject } from './tables/index.ts';

export function includeObjectFrom(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  if (value === null || value === '') return 'Metadata';
  if (value === 'None' || value === 'Object' || value === 'Metadata') return value;
  throw statusErrors.badRequest(`includeObject: Unsupported value: "${value}": supported values: "Metadata", "None", "Object"`);
}

/** Stored objects carry their kind; this makes sure what leaves the server does too. */
export function withTypeMeta(def: ResourceDefinition, object: KubeObject): KubeObject {
  if (object.kind && object.apiVersion) return object;
  return { ...object, apiVersion: apiVersionOf(def.group, def.version), kind: def.kind };
}

function partial(representation: { version: string }, object: KubeObject): unknown {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${representation.version}`, metadata: object.metadata };
}

export function presentObject(def: ResourceDefinition, object: KubeObject, representation: ObjectRepresentation, query: URLSearchParams, now: Date): unknown {
  switch (representation.as) {
    case 'Object':
      return withTypeMeta(def, object);
    case 'PartialObjectMetadata':
      return partial(representation, object);
    case 'Table': {
      const table = toTable(def, [withTypeMeta(def, object)], { includeObject: includeObjectFrom(query), now, resourceVersion: object.metadata.resourceVersion });
      return { ...table, apiVersion: `meta.k8s.io/${representation.version}` };
    }
  }
}

export function presentList(def: ResourceDefinition, list: ListResult, representation: ObjectRepresentation, query: URLSearchParams, now: Date): unknown {
  const listMeta: Record<string, unknown> = { resourceVersion: list.resourceVersion };
  if (list.continue) listMeta['continue'] = list.continue;
  if (list.remainingItemCount !== undefined) listMeta['remainingItemCount'] = list.remainingItemCount;
  switch (representation.as) {
    case 'Object':
      return { kind: def.listKind, apiVersion: apiVersionOf(def.group, def.version), metadata: listMeta, items: list.items.map((item) => withTypeMeta(def, item)) };
    case 'PartialObjectMetadata':
      return {
        kind: 'PartialObjectMetadataList',
        apiVersion: `meta.k8s.io/${representation.version}`,
        metadata: listMeta,
        items: list.items.map((item) => partial(representation, item)),
      };
    case 'Table': {
      const table = toTable(def, list.items.map((item) => withTypeMeta(def, item)), {
        includeObject: includeObjectFrom(query),
        now,
        resourceVersion: list.resourceVersion,
        ...(list.continue ? { continue: list.continue } : {}),
        ...(list.remainingItemCount !== undefined ? { remainingItemCount: list.remainingItemCount } : {}),
      });
      return { ...table, apiVersion: `meta.k8s.io/${representation.version}` };
    }
  }
}
