// JSONPath as client-go's jsonpath reads it: what `kubectl get -o jsonpath='{.status.readyReplicas}'`
// prints, what a lab check's `path` selects, and what a CRD's additionalPrinterColumns show. One
// expression, braces optional: fields (`.a.b`, `['a.b']`, `.labels.app\.kubernetes\.io/name`),
// `[n]`, `[-1]`, `[a:b]`, `[*]`, `.*`, recursive `..name`, and filters `[?(@.type=="Ready")]` with
// == != < <= > >= or presence. As upstream with missing keys allowed, a step that leads nowhere
// selects nothing.

export type Literal = string | number | boolean | null;

type Operand = { type: 'path'; segments: Segment[] } | { type: 'literal'; value: Literal };

export type Segment =
  | { type: 'field'; name: string }
  | { type: 'wildcard' }
  | { type: 'index'; index: number }
  | { type: 'slice'; start: number | undefined; end: number | undefined }
  | { type: 'recursive'; name: string | null }
  | { type: 'filter'; left: Operand; op: '==' | '!=' | '<' | '<=' | '>' | '>=' | null; right: Operand | null };

export interface JsonPath {
  source: string;
  segments: Segment[];
}

/** A path that is not JSONPath; the message says what and where, to follow a field's name. */
export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPathError';
  }
}

function fail(source: string, position: number, problem: string): never {
  throw new JsonPathError(`is not a JSONPath kubectl understands: ${problem} at character ${position + 1} of ${JSON.stringify(source)}`);
}

/** Parses `{.a.b}`, `.a.b` or `$.a.b`; throws a JsonPathError saying where it is wrong. */
export function parseJsonPath(source: string): JsonPath {
  let body = source.trim();
  if (body.startsWith('{') && body.endsWith('}')) body = body.slice(1, -1).trim();
  if (body.startsWith('$')) body = body.slice(1);
  if (body === '') fail(source, 0, 'the path is empty');
  if (!body.startsWith('.') && !body.startsWith('[')) fail(source, 0, 'a path starts with a dot');
  const segments = parseSegments(body, source, 0, body.length);
  return { source, segments };
}

function readName(body: string, start: number): { name: string; end: number } {
  let name = '';
  let index = start;
  while (index < body.length) {
    const char = body[index] as string;
    if (char === '\\' && index + 1 < body.length) {
      name += body[index + 1];
      index += 2;
      continue;
    }
    if (char === '.' || char === '[' || char === ' ' || char === '=' || char === '!' || char === '<' || char === '>' || char === ')') break;
    name += char;
    index += 1;
  }
  return { name, end: index };
}

/** Index of the `]` closing the bracket opened at `open`, skipping quotes and parentheses. */
function closingBracket(body: string, open: number, source: string): number {
  let depth = 0;
  let quote: string | null = null;
  for (let index = open + 1; index < body.length; index++) {
    const char = body[index];
    if (quote) {
      if (char === '\\') index += 1;
      else if (char === quote) quote = null;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (char === ']' && depth === 0) return index;
  }
  return fail(source, open, 'a [ is never closed');
}

function parseSegments(body: string, source: string, from: number, to: number): Segment[] {
  const segments: Segment[] = [];
  let index = from;
  while (index < to) {
    const char = body[index];
    if (char === '.') {
      if (body[index + 1] === '.') {
        index += 2;
        if (body[index] === '[') {
          segments.push({ type: 'recursive', name: null });
          continue;
        }
        const { name, end } = readName(body, index);
        if (name === '') fail(source, index, 'a name must follow ..');
        segments.push({ type: 'recursive', name: name === '*' ? null : name });
        index = end;
        continue;
      }
      const { name, end } = readName(body, index + 1);
      if (name === '') fail(source, index, 'a name must follow the dot');
      segments.push(name === '*' ? { type: 'wildcard' } : { type: 'field', name });
      index = end;
    } else if (char === '[') {
      const close = closingBracket(body, index, source);
      segments.push(parseBracket(body.slice(index + 1, close).trim(), source, index));
      index = close + 1;
    } else {
      fail(source, index, `unexpected ${JSON.stringify(char)}`);
    }
  }
  return segments;
}

function parseBracket(inner: string, source: string, position: number): Segment {
  if (inner === '*') return { type: 'wildcard' };
  if (/^-?\d+$/.test(inner)) return { type: 'index', index: Number(inner) };
  const slice = /^(-?\d*):(-?\d*)$/.exec(inner);
  if (slice) return { type: 'slice', start: slice[1] ? Number(slice[1]) : undefined, end: slice[2] ? Number(slice[2]) : undefined };
  const quoted = /^(['"])(.*)\1$/.exec(inner);
  if (quoted) return { type: 'field', name: quoted[2] ?? '' };
  const filter = /^\?\((.*)\)$/s.exec(inner);
  if (filter) return parseFilter((filter[1] ?? '').trim(), source, position);
  return fail(source, position, `[${inner}] is neither an index, a slice, a quoted name, * nor a filter ?(…)`);
}

function parseOperand(text: string, source: string, position: number): Operand {
  const value = text.trim();
  if (value.startsWith('@')) {
    const rest = value.slice(1);
    return { type: 'path', segments: rest === '' ? [] : parseSegments(rest, source, 0, rest.length) };
  }
  const quoted = /^(['"])(.*)\1$/s.exec(value);
  if (quoted) return { type: 'literal', value: quoted[2] ?? '' };
  if (/^-?\d+(\.\d+)?$/.test(value)) return { type: 'literal', value: Number(value) };
  if (value === 'true' || value === 'false') return { type: 'literal', value: value === 'true' };
  if (value === 'nil' || value === 'null') return { type: 'literal', value: null };
  return fail(source, position, `${JSON.stringify(value)} in a filter is neither @.field, a quoted text nor a number`);
}

function parseFilter(expression: string, source: string, position: number): Segment {
  const operator = /(==|!=|<=|>=|<|>)/.exec(expression);
  if (!operator) return { type: 'filter', left: parseOperand(expression, source, position), op: null, right: null };
  const left = expression.slice(0, operator.index);
  const right = expression.slice(operator.index + (operator[1] ?? '').length);
  return { type: 'filter', left: parseOperand(left, source, position), op: operator[1] as '==', right: parseOperand(right, source, position) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isObject(value)) return Object.values(value);
  return [];
}

function recursive(value: unknown, name: string | null, into: unknown[]): void {
  if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (name === null || key === name) into.push(child);
      recursive(child, name, into);
    }
  } else if (Array.isArray(value)) {
    for (const child of value) {
      if (name === null) into.push(child);
      recursive(child, name, into);
    }
  }
}

function operandValue(operand: Operand, item: unknown): unknown[] {
  return operand.type === 'literal' ? [operand.value] : evaluateSegments(operand.segments, [item]);
}

type Operator = NonNullable<Extract<Segment, { type: 'filter' }>['op']>;

/** As upstream compares one value with another: numbers by value, text by text, booleans by equality; other pairs never match (upstream refuses them). */
function compare(left: unknown, op: Operator, right: unknown): boolean {
  if (typeof left === 'number' && typeof right === 'number') {
    return op === '==' ? left === right : op === '!=' ? left !== right : op === '<' ? left < right : op === '<=' ? left <= right : op === '>' ? left > right : left >= right;
  }
  if (typeof left === 'string' && typeof right === 'string') {
    return op === '==' ? left === right : op === '!=' ? left !== right : op === '<' ? left < right : op === '<=' ? left <= right : op === '>' ? left > right : left >= right;
  }
  if ((typeof left === 'boolean' && typeof right === 'boolean') || (left === null && right === null)) {
    return op === '==' ? left === right : op === '!=' ? left !== right : false;
  }
  return false;
}

/** Upstream's filter: presence is "the path selects something"; a comparison takes exactly one value each side (none skips the item). */
function matchesFilter(segment: Extract<Segment, { type: 'filter' }>, item: unknown): boolean {
  const left = operandValue(segment.left, item);
  if (segment.op === null || segment.right === null) return left.length > 0;
  const right = operandValue(segment.right, item);
  if (left.length !== 1 || right.length !== 1) return false;
  return compare(left[0], segment.op, right[0]);
}

function evaluateSegments(segments: Segment[], start: unknown[]): unknown[] {
  let current = start;
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const value of current) {
      switch (segment.type) {
        case 'field':
          if (isObject(value) && Object.hasOwn(value, segment.name)) next.push(value[segment.name]);
          break;
        case 'wildcard':
          next.push(...children(value));
          break;
        case 'index':
          if (Array.isArray(value)) {
            const at = segment.index < 0 ? value.length + segment.index : segment.index;
            if (at >= 0 && at < value.length) next.push(value[at]);
          }
          break;
        case 'slice':
          if (Array.isArray(value)) next.push(...value.slice(segment.start, segment.end));
          break;
        case 'recursive':
          recursive(value, segment.name, next);
          break;
        case 'filter':
          // Upstream filters lists only.
          if (Array.isArray(value)) next.push(...value.filter((item) => matchesFilter(segment, item)));
          break;
      }
    }
    current = next;
  }
  return current;
}

/** Every value the path selects, in document order (none when it leads nowhere). */
export function evaluateJsonPath(path: JsonPath, object: unknown): unknown[] {
  return evaluateSegments(path.segments, [object]);
}

/** The values as `kubectl -o jsonpath` prints them: text as is, the rest as JSON, space-separated. */
export function renderJsonPathValues(values: unknown[]): string {
  return values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value))).join(' ');
}
