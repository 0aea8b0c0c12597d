// The structural facts both patch flavours need about a kind, in one table: how each list merges
// (strategic merge patch's patchStrategy/patchMergeKey; server-side apply's listType and map
// keys), which structs and maps are atomic, and which fields exist in a Go zero value. Fields not
// listed are deduced from the value: objects merge field by field, lists are atomic.

export type ScalarValue = string | number | boolean;

export interface ListKey {
  name: string;
  /** Used for the key when an item omits the field (OpenAPI default), e.g. protocol TCP. */
  default?: ScalarValue;
}

export type ListSemantics = { type: 'atomic' } | { type: 'set' } | { type: 'map'; keys: readonly ListKey[] };

export interface StructShape {
  kind: 'struct';
  fields: Readonly<Record<string, Field>>;
  atomic?: boolean;
}

/** map[string]X: every key is an entry, not a named field. */
export interface MapShape {
  kind: 'map';
  values: Shape;
  atomic?: boolean;
}

export interface ListShape {
  kind: 'list';
  items: Shape;
  semantics: ListSemantics;
}

/** A field whose shape is not in the table: taken from the value itself. */
export interface DeducedShape {
  kind: 'deduced';
}

export type Shape = StructShape | MapShape | ListShape | DeducedShape;

export interface PatchStrategy {
  strategy: 'merge' | 'replace';
  /** For lists of objects merged by strategic merge patch. */
  mergeKey?: string;
}

export interface Field {
  shape: Shape;
  patch?: PatchStrategy;
  /** A non-pointer Go struct: present (empty) even in a zero object, so never "added". */
  present?: boolean;
}

export const deduced: DeducedShape = { kind: 'deduced' };

const noField: Field = { shape: deduced };

type FieldSpec = Field | Shape;

function asField(spec: FieldSpec): Field {
  return 'shape' in spec ? spec : { shape: spec };
}

export function struct(fields: Readonly<Record<string, FieldSpec>> = {}, options: { atomic?: boolean } = {}): StructShape {
  const out: Record<string, Field> = {};
  for (const [name, spec] of Object.entries(fields)) out[name] = asField(spec);
  return { kind: 'struct', fields: out, ...(options.atomic ? { atomic: true } : {}) };
}

export function atomicStruct(): StructShape {
  return struct({}, { atomic: true });
}

export function mapOf(values: Shape = deduced): MapShape {
  return { kind: 'map', values };
}

export function atomicMap(): MapShape {
  return { kind: 'map', values: deduced, atomic: true };
}

/** A Go value struct: exists in the zero object. */
export function present(spec: FieldSpec): Field {
  return { ...asField(spec), present: true };
}

/** patchStrategy:"replace": strategic merge patch swaps the whole value. */
export function replaced(spec: FieldSpec): Field {
  return { ...asField(spec), patch: { strategy: 'replace' } };
}

type KeySpec = string | ListKey;

function keysOf(specs: readonly KeySpec[]): ListKey[] {
  return specs.map((spec) => (typeof spec === 'string' ? { name: spec } : spec));
}

/**
 * patchStrategy:"merge" with patchMergeKey, and (unless told otherwise) listType=map keyed by the
 * merge key. `keys` gives apply's keys when they differ (ports: containerPort and protocol).
 */
export function mergeList(items: Shape, mergeKey: string, options: { keys?: readonly KeySpec[]; applyAtomic?: boolean } = {}): Field {
  const semantics: ListSemantics = options.applyAtomic ? { type: 'atomic' } : { type: 'map', keys: keysOf(options.keys ?? [mergeKey]) };
  return { shape: { kind: 'list', items, semantics }, patch: { strategy: 'merge', mergeKey } };
}

/** patchStrategy:"merge" on a list of scalars with listType=set (finalizers). */
export function mergeSet(): Field {
  return { shape: { kind: 'list', items: deduced, semantics: { type: 'set' } }, patch: { strategy: 'merge' } };
}

/** listType=map without a patch strategy: apply merges by key, strategic merge patch replaces. */
export function keyedList(items: Shape, keys: readonly KeySpec[]): ListShape {
  return { kind: 'list', items, semantics: { type: 'map', keys: keysOf(keys) } };
}

/** listType=set without a patch strategy. */
export function setList(): ListShape {
  return { kind: 'list', items: deduced, semantics: { type: 'set' } };
}

/** An atomic list whose items still have a shape worth knowing (e.g. for nested atomics). */
export function atomicList(items: Shape = deduced): ListShape {
  return { kind: 'list', items, semantics: { type: 'atomic' } };
}

/** The field named `name` of a shape; unknown fields and deduced shapes give a deduced field. */
export function fieldOf(shape: Shape, name: string): Field {
  switch (shape.kind) {
    case 'struct':
      return shape.fields[name] ?? noField;
    case 'map':
      return { shape: shape.values };
    default:
      return noField;
  }
}

export function itemsOf(shape: Shape): Shape {
  return shape.kind === 'list' ? shape.items : deduced;
}

/** A top-level kind: metadata, and spec/status (Go value structs) if the kind has them. */
export function kind(fields: Readonly<Record<string, FieldSpec>>, metadata: StructShape): StructShape {
  return struct({ metadata: present(metadata), ...fields });
}
