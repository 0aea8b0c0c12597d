// Sets of field paths, the currency of server-side apply, in the FieldsV1 form managedFields uses:
// `f:<name>` for a field, `k:{"name":"web"}` for an item of a keyed list, `v:<json>` for an item
// of a set, `i:<n>` for a list index, and "." when a node is itself a member and has children.
import { goQuote, isObject, type JsonObject, type JsonValue } from './json.ts';

export type PathElement =
  | { type: 'field'; name: string }
  | { type: 'key'; fields: ReadonlyArray<readonly [string, JsonValue]> }
  | { type: 'value'; value: JsonValue }
  | { type: 'index'; index: number };

export type FieldPath = readonly PathElement[];

const rank = { field: 0, key: 1, value: 2, index: 3 } as const;

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** structured-merge-diff's total order: numbers, strings, booleans, lists, maps, null. */
export function compareValues(a: JsonValue, b: JsonValue): number {
  const order = (v: JsonValue) => (typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : typeof v === 'boolean' ? 2 : Array.isArray(v) ? 3 : v === null ? 5 : 4);
  const difference = order(a) - order(b);
  if (difference !== 0) return Math.sign(difference);
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i]!, b[i]!);
      if (c !== 0) return c;
    }
    return Math.sign(a.length - b.length);
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      const c = compareStrings(ka[i]!, kb[i]!) || compareValues(a[ka[i]!]!, b[kb[i]!]!);
      if (c !== 0) return c;
    }
    return Math.sign(ka.length - kb.length);
  }
  return 0;
}

export function compareElements(a: PathElement, b: PathElement): number {
  if (a.type !== b.type) return rank[a.type] - rank[b.type];
  switch (a.type) {
    case 'field':
      return compareStrings(a.name, (b as typeof a).name);
    case 'key': {
      const other = (b as typeof a).fields;
      for (let i = 0; i < Math.min(a.fields.length, other.length); i++) {
        const c = compareStrings(a.fields[i]![0], other[i]![0]) || compareValues(a.fields[i]![1], other[i]![1]);
        if (c !== 0) return c;
      }
      return Math.sign(a.fields.length - other.length);
    }
    case 'value':
      return compareValues(a.value, (b as typeof a).value);
    case 'index':
      return a.index - (b as typeof a).index;
  }
}

/** JSON as Go's encoder writes it: HTML-significant characters escaped. */
function goJson(value: JsonValue): string {
  const text = JSON.stringify(value);
  return !/[<>&\u2028\u2029]/.test(text) ? text : text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const serialized = new WeakMap<PathElement, string>();

/** The FieldsV1 key of an element (remembered: the same element is keyed at every level of a walk). */
export function serializeElement(element: PathElement): string {
  let text = serialized.get(element);
  if (text === undefined) {
    text = serializeUncached(element);
    serialized.set(element, text);
  }
  return text;
}

function serializeUncached(element: PathElement): string {
  switch (element.type) {
    case 'field':
      return `f:${element.name}`;
    case 'key':
      return `k:{${element.fields.map(([name, value]) => `${goJson(name)}:${goJson(value)}`).join(',')}}`;
    case 'value':
      return `v:${goJson(element.value)}`;
    case 'index':
      return `i:${element.index}`;
  }
}

export function parseElement(text: string): PathElement | undefined {
  const body = text.slice(2);
  switch (text.slice(0, 2)) {
    case 'f:':
      return { type: 'field', name: body };
    case 'k:': {
      const parsed: unknown = JSON.parse(body);
      if (!isObject(parsed)) throw new Error(`key ${text} is not an object`);
      return keyElement(Object.entries(parsed));
    }
    case 'v:':
      return { type: 'value', value: JSON.parse(body) as JsonValue };
    case 'i:': {
      const index = Number(body);
      if (!Number.isInteger(index)) throw new Error(`index ${text} is not an integer`);
      return { type: 'index', index };
    }
    default:
      return undefined;
  }
}

export function keyElement(fields: ReadonlyArray<readonly [string, JsonValue]>): PathElement {
  return { type: 'key', fields: [...fields].sort((a, b) => compareStrings(a[0], b[0])) };
}

/** fieldpath's String(): .spec.containers[name="web"].image */
function scalarString(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return goQuote(value);
  if (Array.isArray(value)) return `[${value.map(scalarString).join(',')}]`;
  if (isObject(value)) return Object.keys(value).map((k) => `${k}=${scalarString(value[k]!)}`).join('');
  return String(value);
}

export function pathString(path: FieldPath): string {
  return path
    .map((element) => {
      switch (element.type) {
        case 'field':
          return `.${element.name}`;
        case 'key':
          return `[${element.fields.map(([name, value]) => `${name}=${scalarString(value)}`).join(',')}]`;
        case 'value':
          return `[=${scalarString(element.value)}]`;
        case 'index':
          return `[${element.index}]`;
      }
    })
    .join('');
}

/** A set of paths as a tree: members are paths in the set, children lead to longer ones. */
export class FieldSet {
  readonly members = new Map<string, PathElement>();
  readonly children = new Map<string, { element: PathElement; set: FieldSet }>();

  static fromPaths(paths: Iterable<FieldPath>): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  get empty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  insert(path: FieldPath): void {
    if (path.length === 0) return;
    const [first, ...rest] = path as [PathElement, ...PathElement[]];
    const key = serializeElement(first);
    if (rest.length === 0) this.members.set(key, first);
    else this.descend(first).insert(rest);
  }

  descend(element: PathElement): FieldSet {
    const key = serializeElement(element);
    let child = this.children.get(key);
    if (!child) {
      child = { element, set: new FieldSet() };
      this.children.set(key, child);
    }
    return child.set;
  }

  child(element: PathElement): FieldSet | undefined {
    return this.children.get(serializeElement(element))?.set;
  }

  hasMember(element: PathElement): boolean {
    return this.members.has(serializeElement(element));
  }

  has(path: FieldPath): boolean {
    if (path.length === 0) return false;
    const [first, ...rest] = path as [PathElement, ...PathElement[]];
    return rest.length === 0 ? this.hasMember(first) : (this.child(first)?.has(rest) ?? false);
  }

  union(other: FieldSet): FieldSet {
    const out = this.copy();
    for (const [key, element] of other.members) out.members.set(key, element);
    for (const [key, { element, set }] of other.children) {
      const mine = out.children.get(key);
      out.children.set(key, { element, set: mine ? mine.set.union(set) : set.copy() });
    }
    return out;
  }

  /** Paths in this set and not in other. */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [key, element] of this.members) if (!other.members.has(key)) out.members.set(key, element);
    for (const [key, { element, set }] of this.children) {
      const theirs = other.children.get(key);
      const rest = theirs ? set.difference(theirs.set) : set.copy();
      if (!rest.empty) out.children.set(key, { element, set: rest });
    }
    return out;
  }

  /** Like difference, but a member of other also removes everything below it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [key, element] of this.members) if (!other.members.has(key)) out.members.set(key, element);
    for (const [key, { element, set }] of this.children) {
      if (other.members.has(key)) continue;
      const theirs = other.children.get(key);
      const rest = theirs ? set.recursiveDifference(theirs.set) : set.copy();
      if (!rest.empty) out.children.set(key, { element, set: rest });
    }
    return out;
  }

  /** Whether any member of this set is a member of other. */
  intersects(other: FieldSet): boolean {
    for (const key of this.members.keys()) if (other.members.has(key)) return true;
    for (const [key, { set }] of this.children) {
      const theirs = other.children.get(key);
      if (theirs && set.intersects(theirs.set)) return true;
    }
    return false;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [key, element] of this.members) if (other.members.has(key)) out.members.set(key, element);
    for (const [key, { element, set }] of this.children) {
      const theirs = other.children.get(key);
      if (!theirs) continue;
      const both = set.intersection(theirs.set);
      if (!both.empty) out.children.set(key, { element, set: both });
    }
    return out;
  }

  copy(): FieldSet {
    const out = new FieldSet();
    for (const [key, element] of this.members) out.members.set(key, element);
    for (const [key, { element, set }] of this.children) out.children.set(key, { element, set: set.copy() });
    return out;
  }

  /** Every member path: at each node its members in order, then its children's. */
  paths(prefix: FieldPath = []): FieldPath[] {
    const out: FieldPath[] = [];
    for (const element of [...this.members.values()].sort(compareElements)) out.push([...prefix, element]);
    for (const { element, set } of [...this.children.values()].sort((a, b) => compareElements(a.element, b.element))) {
      out.push(...set.paths([...prefix, element]));
    }
    return out;
  }

  /** The FieldsV1 JSON object, keys in upstream's order. */
  toFieldsV1(): JsonObject {
    const entries = new Map<string, { element: PathElement; member: boolean; set?: FieldSet }>();
    for (const [key, element] of this.members) entries.set(key, { element, member: true });
    for (const [key, { element, set }] of this.children) entries.set(key, { element, member: entries.has(key), set });
    const out: JsonObject = {};
    for (const [key, entry] of [...entries].sort((a, b) => compareElements(a[1].element, b[1].element))) {
      const inner: JsonObject = entry.set ? entry.set.toFieldsV1() : {};
      out[key] = entry.member && entry.set ? { '.': {}, ...inner } : inner;
    }
    return out;
  }

  static fromFieldsV1(fields: unknown): FieldSet {
    const set = new FieldSet();
    if (!isObject(fields)) throw new Error('fieldsV1 is not an object');
    for (const [key, value] of Object.entries(fields)) {
      if (key === '.') continue;
      const element = parseElement(key);
      if (!element) continue;
      const inner = isObject(value) ? value : {};
      const children = Object.keys(inner).filter((k) => k !== '.');
      if (children.length === 0 || Object.hasOwn(inner, '.')) set.members.set(key, element);
      if (children.length > 0) set.children.set(key, { element, set: FieldSet.fromFieldsV1(inner) });
    }
    return set;
  }
}
