// Objects as the client asked to see them: themselves (lists wrapped in their List kind), a
// server-side Table, or PartialObjectMetadata — chosen by the Accept header's as/g/v parameters.
import type { KubeObject } from '../types.ts';
import type { ListResult, ResourceDefinition } from '../registry/index.ts';
import { statusErrors } from '../types.ts';
import { apiVersionOf } from './decode.ts';
import { libraries } from './libraries.ts';
import type { ObjectRepresentation } from './media.ts';
import type { IncludeObject, TableOptions } from './tables/index.ts';

function includeObjectFrom(query: URLSearchParams): IncludeObject {
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

export function partialObject(version: string, object: KubeObject): unknown {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: object.metadata };
}

/** Builds Tables of one resource; the table library is loaded by the first request that asks for one. */
export type TablePrinter = (objects: KubeObject[], options: Omit<TableOptions, 'includeObject'>) => unknown;

export async function tablePrinter(def: ResourceDefinition, version: string, query: URLSearchParams): Promise<TablePrinter> {
  const includeObject = includeObjectFrom(query);
  const { toTable } = await libraries.tables();
  return (objects, options) => ({ ...toTable(def, objects.map((item) => withTypeMeta(def, item)), { ...options, includeObject }), apiVersion: `meta.k8s.io/${version}` });
}

export async function presentObject(def: ResourceDefinition, object: KubeObject, representation: ObjectRepresentation, query: URLSearchParams, now: Date): Promise<unknown> {
  switch (representation.as) {
    case 'Object':
      return withTypeMeta(def, object);
    case 'PartialObjectMetadata':
      return partialObject(representation.version, object);
    case 'Table':
      return (await tablePrinter(def, representation.version, query))([object], { now, resourceVersion: object.metadata.resourceVersion });
  }
}

export async function presentList(def: ResourceDefinition, list: ListResult, representation: ObjectRepresentation, query: URLSearchParams, now: Date): Promise<unknown> {
  const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: list.resourceVersion };
  if (list.continue) listMeta.continue = list.continue;
  if (list.remainingItemCount !== undefined) listMeta.remainingItemCount = list.remainingItemCount;
  switch (representation.as) {
    case 'Object':
      return { kind: def.listKind, apiVersion: apiVersionOf(def.group, def.version), metadata: listMeta, items: list.items.map((item) => withTypeMeta(def, item)) };
    case 'PartialObjectMetadata':
      return {
        kind: 'PartialObjectMetadataList',
        apiVersion: `meta.k8s.io/${representation.version}`,
        metadata: listMeta,
        items: list.items.map((item) => partialObject(representation.version, item)),
      };
    case 'Table':
      return (await tablePrinter(def, representation.version, query))(list.items, { now, ...listMeta });
  }
}
