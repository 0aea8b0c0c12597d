// The JSONPath subset CRD additionalPrinterColumns use (".spec.replicas",
// ".status.conditions[?(@.type=="Ready")].status", ".spec.items[0]", ".metadata['name']"), evaluated
// the way client-go's jsonpath does with missing keys allowed: a missing step yields no result.

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'index'; index: number }
  | { kind: 'filter'; path: string[]; operator?: string; literal?: unknown };

export class JsonPathError extends Error {}

function parseLiteral(text: string): unknown {
  const t = text.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  if (t === 'true' || t === 'false') return t === 'true';
  const n = Number(t);
  if (t !== '' && !Number.isNaN(n)) return n;
  throw new JsonPathError(`unsupported filter value ${JSON.stringify(text)}`);
}

function parseFilter(body: string): Step {
  const match = /^@((?:\.[^.=!<>\s]+)*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+))?$/.exec(body.trim());
  if (!match) throw new JsonPathError(`unsupported filter "${body}"`);
  const path = (match[1] ?? '').split('.').filter(Boolean);
  if (match[2] === undefined) return { kind: 'filter', path };
  return { kind: 'filter', path, operator: match[2], literal: parseLiteral(match[3] ?? '') };
}

export function parseJsonPath(expression: string): Step[] {
  let text = expression.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1).trim();
  if (text.startsWith('$')) text = text.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '.') {
      if (text[i + 1] === '.') throw new JsonPathError(`recursive descent is not supported in "${expression}"`);
      let j = i + 1;
      while (j < text.length && text[j] !== '.' && text[j] !== '[') j++;
      const name = text.slice(i + 1, j);
      if (name === '*') steps.push({ kind: 'wildcard' });
      else if (name !== '') steps.push({ kind: 'field', name });
      i = j;
    } else if (ch === '[') {
      const close = findClose(text, i);
      const inner = text.slice(i + 1, close).trim();
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^(['"]).*\1$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) steps.push(parseFilter(inner.slice(2, -1)));
      else throw new JsonPathError(`unsupported subscript [${inner}] in "${expression}"`);
      i = close + 1;
    } else {
      throw new JsonPathError(`unexpected "${ch}" at position ${i} in "${expression}"`);
    }
  }
  return steps;
}

function findClose(text: string, open: number): number {
  let quote: string | undefined;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '[') {
      depth++;
    } else if (ch === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new JsonPathError(`unclosed "[" in "${text}"`);
}

function child(value: unknown, name: string): unknown[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.hasOwn(value, name) ? [(value as Record<string, unknown>)[name]] : [];
}

function compare(left: unknown, operator: string, right: unknown): boolean {
  switch (operator) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    default:
      if (typeof left !== typeof right || (typeof left !== 'number' && typeof left !== 'string')) return false;
      if (operator === '<') return (left as number) < (right as number);
      if (operator === '>') return (left as number) > (right as number);
      if (operator === '<=') return (left as number) <= (right as number);
      return (left as number) >= (right as number);
  }
}

function applyStep(values: unknown[], step: Step): unknown[] {
  const out: unknown[] = [];
  for (const value of values) {
    switch (step.kind) {
      case 'field':
        out.push(...child(value, step.name));
        break;
      case 'wildcard':
        if (Array.isArray(value)) out.push(...value);
        else if (typeof value === 'object' && value !== null) out.push(...Object.values(value));
        break;
      case 'index':
        if (Array.isArray(value)) {
          const index = step.index < 0 ? value.length + step.index : step.index;
          if (index >= 0 && index < value.length) out.push(value[index]);
        }
        break;
      case 'filter':
        for (const item of Array.isArray(value) ? value : []) {
          let found: unknown[] = [item];
          for (const name of step.path) found = found.flatMap((f) => child(f, name));
          if (found.length === 0) continue;
          if (step.operator === undefined || compare(found[0], step.operator, step.literal)) out.push(item);
        }
        break;
    }
  }
  return out;
}

/** Every value the path selects, in document order. */
export function evaluateJsonPath(steps: Step[], data: unknown): unknown[] {
  return steps.reduce<unknown[]>((values, step) => applyStep(values, step), [data]);
}

/** How jsonpath prints one value: strings raw, maps and lists as compact JSON. */
export function jsonPathText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
