// Label and field selectors as the API server parses them from `?labelSelector=` / `?fieldSelector=`
// (k8s.io/apimachinery/pkg/labels and pkg/fields), plus metav1.LabelSelector objects.
import { statusErrors } from '../types.ts';
import { isQualifiedName, isValidLabelValue } from './validation.ts';

export type LabelOperator = 'exists' | '!' | '=' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export interface LabelSelector {
  requirements: LabelRequirement[];
  /** true for the selector that matches nothing (a null metav1.LabelSelector) */
  matchesNothing?: boolean;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  toString(): string;
}

type Token =
  | { kind: 'identifier'; text: string }
  | { kind: 'in' | 'notin' | '!' | '=' | '==' | '!=' | '(' | ')' | ',' | '>' | '<' | 'end'; text: string };

const specialSymbols = ['!=', '==', '=', '!', '(', ')', ',', '>', '<'] as const;

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const symbol = specialSymbols.find((s) => input.startsWith(s, i));
    if (symbol) {
      tokens.push({ kind: symbol, text: symbol });
      i += symbol.length;
      continue;
    }
    let j = i;
    while (j < input.length && !/[\s!=(),<>]/.test(input[j] ?? '')) j++;
    const text = input.slice(i, j);
    if (text === 'in' || text === 'notin') tokens.push({ kind: text, text });
    else tokens.push({ kind: 'identifier', text });
    i = j;
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

function describe(token: Token): string {
  return token.kind === 'end' ? "'end of string'" : `'${token.text}'`;
}

class SelectorSyntaxError extends Error {}

function parseRequirements(input: string): LabelRequirement[] {
  const tokens = tokenize(input);
  let pos = 0;
  const peek = () => tokens[pos] ?? { kind: 'end' as const, text: '' };
  const next = () => tokens[pos++] ?? { kind: 'end' as const, text: '' };
  const requirements: LabelRequirement[] = [];

  const parseValues = (): string[] => {
    const open = next();
    if (open.kind !== '(') throw new SelectorSyntaxError(`found ${describe(open)}, expected: '('`);
    const values: string[] = [];
    if (peek().kind === ')') {
      next();
      return [''];
    }
    for (;;) {
      const value = next();
      if (value.kind === 'identifier') values.push(value.text);
      else if (value.kind === ',' || value.kind === ')') {
        values.push('');
        if (value.kind === ')') return values;
        continue;
      } else throw new SelectorSyntaxError(`found ${describe(value)}, expected: ',', ')' or identifier`);
      const separator = next();
      if (separator.kind === ')') return values;
      if (separator.kind !== ',') throw new SelectorSyntaxError(`found ${describe(separator)}, expected: ',' or ')'`);
    }
  };

  for (;;) {
    const first = peek();
    if (first.kind === 'end') {
      if (requirements.length > 0) throw new SelectorSyntaxError("found 'end of string', expected: identifier");
      return requirements;
    }
    let requirement: LabelRequirement;
    if (first.kind === '!') {
      next();
      const key = next();
      if (key.kind !== 'identifier') throw new SelectorSyntaxError(`found ${describe(key)}, expected: identifier after '!'`);
      requirement = { key: key.text, operator: '!', values: [] };
    } else if (first.kind === 'identifier') {
      next();
      const op = peek();
      switch (op.kind) {
        case ',':
        case 'end':
          requirement = { key: first.text, operator: 'exists', values: [] };
          break;
        case '=':
        case '==':
        case '!=': {
          next();
          const value = peek();
          let text = '';
          if (value.kind === 'identifier') {
            next();
            text = value.text;
          } else if (value.kind !== ',' && value.kind !== 'end') {
            throw new SelectorSyntaxError(`found ${describe(value)}, expected: identifier`);
          }
          requirement = { key: first.text, operator: op.kind === '!=' ? '!=' : '=', values: [text] };
          break;
        }
        case 'in':
        case 'notin':
          next();
          requirement = { key: first.text, operator: op.kind, values: parseValues() };
          break;
        case '>':
        case '<': {
          next();
          const value = next();
          if (value.kind !== 'identifier' || !/^-?[0-9]+$/.test(value.text))
            throw new SelectorSyntaxError(`for 'Gt', 'Lt' operators, the value must be an integer`);
          requirement = { key: first.text, operator: op.kind === '>' ? 'gt' : 'lt', values: [value.text] };
          break;
        }
        default:
          throw new SelectorSyntaxError(`found ${describe(op)}, expected: in, notin, =, ==, !=, gt, lt`);
      }
    } else {
      throw new SelectorSyntaxError(`found ${describe(first)}, expected: !, identifier, or 'end of string'`);
    }
    validateRequirement(requirement);
    requirements.push(requirement);
    const separator = next();
    if (separator.kind === 'end') return requirements;
    if (separator.kind !== ',') throw new SelectorSyntaxError(`found ${describe(separator)}, expected: ',' or 'end of string'`);
  }
}

function validateRequirement(requirement: LabelRequirement): void {
  const keyErrors = isQualifiedName(requirement.key);
  if (keyErrors.length) throw new SelectorSyntaxError(`key: Invalid value: ${JSON.stringify(requirement.key)}: ${keyErrors.join('; ')}`);
  if (requirement.operator === 'gt' || requirement.operator === 'lt') return;
  requirement.values.forEach((value, index) => {
    const valueErrors = isValidLabelValue(value);
    if (valueErrors.length)
      throw new SelectorSyntaxError(`values[${index}][${requirement.key}]: Invalid value: ${JSON.stringify(value)}: ${valueErrors.join('; ')}`);
  });
}

function requirementMatches(req: LabelRequirement, labels: Readonly<Record<string, string>> | undefined): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  switch (req.operator) {
    case 'exists':
      return has;
    case '!':
      return !has;
    case '=':
    case 'in':
      return has && req.values.includes(value ?? '');
    case '!=':
    case 'notin':
      return !has || !req.values.includes(value ?? '');
    case 'gt':
    case 'lt': {
      if (!has || !/^-?[0-9]+$/.test(value ?? '')) return false;
      const left = Number(value);
      const right = Number(req.values[0]);
      return req.operator === 'gt' ? left > right : left < right;
    }
  }
}

function requirementText(req: LabelRequirement): string {
  switch (req.operator) {
    case 'exists':
      return req.key;
    case '!':
      return `!${req.key}`;
    case '=':
    case '!=':
      return `${req.key}${req.operator}${req.values[0] ?? ''}`;
    case 'in':
    case 'notin':
      return `${req.key} ${req.operator} (${[...req.values].sort().join(',')})`;
    case 'gt':
      return `${req.key}>${req.values[0] ?? ''}`;
    case 'lt':
      return `${req.key}<${req.values[0] ?? ''}`;
  }
}

function makeSelector(requirements: LabelRequirement[], matchesNothing = false): LabelSelector {
  return {
    requirements,
    matchesNothing,
    matches(labels) {
      if (matchesNothing) return false;
      for (const req of requirements) if (!requirementMatches(req, labels)) return false;
      return true;
    },
    toString() {
      return requirements.map(requirementText).join(',');
    },
  };
}

export const everythingSelector: LabelSelector = makeSelector([]);
export const nothingSelector: LabelSelector = makeSelector([], true);

/** Parses `?labelSelector=`; a syntax error is a 400 BadRequest, as upstream. */
export function parseLabelSelector(input: string | undefined): LabelSelector {
  if (input === undefined || input.trim() === '') return everythingSelector;
  try {
    return makeSelector(parseRequirements(input));
  } catch (error) {
    if (error instanceof SelectorSyntaxError) throw statusErrors.badRequest(`unable to parse requirement: ${error.message}`);
    throw error;
  }
}

/** metav1.LabelSelector → selector; null/undefined matches nothing, {} matches everything. */
export function labelSelectorFromObject(selector: unknown): LabelSelector {
  if (selector === null || selector === undefined || typeof selector !== 'object') return nothingSelector;
  const { matchLabels, matchExpressions } = selector as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  const requirements: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(matchLabels ?? {})) requirements.push({ key, operator: '=', values: [String(value)] });
  for (const expr of matchExpressions ?? []) {
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
        requirements.push({ key: expr.key, operator: 'in', values });
        break;
      case 'NotIn':
        requirements.push({ key: expr.key, operator: 'notin', values });
        break;
      case 'Exists':
        requirements.push({ key: expr.key, operator: 'exists', values: [] });
        break;
      case 'DoesNotExist':
        requirements.push({ key: expr.key, operator: '!', values: [] });
        break;
      default:
        return nothingSelector;
    }
  }
  return makeSelector(requirements);
}

// ---- field selectors ----

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
  /** the value of metadata.name if the selector pins one (lets the store skip a scan) */
  exactName?: string;
  exactNamespace?: string;
}

function splitUnescaped(input: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i] ?? '';
    if (ch === '\\' && i + 1 < input.length) {
      current += ch + (input[i + 1] ?? '');
      i++;
    } else if (ch === separator) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

function unescapeFieldValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? '';
    if (ch === '\\') {
      const next = value[i + 1];
      if (next === '\\' || next === ',' || next === '=') {
        out += next;
        i++;
        continue;
      }
      throw statusErrors.badRequest(`invalid field selector: invalid escape sequence: \\${next ?? ''}`);
    }
    out += ch;
  }
  return out;
}

/**
 * Parses `?fieldSelector=`. `supported` decides which field labels exist for the resource; any
 * other label is a 400 `field label not supported: X`, exactly what kubectl users see.
 */
export function parseFieldSelector(input: string | undefined, supported: (field: string) => boolean): FieldSelector {
  const selector: FieldSelector = { requirements: [] };
  if (input === undefined || input.trim() === '') return selector;
  for (const term of splitUnescaped(input, ',')) {
    if (term === '') continue;
    const split = splitTerm(term);
    if (!split) throw statusErrors.badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    const field = split.field.trim();
    const operator = split.operator === '!=' ? '!=' : '=';
    const value = unescapeFieldValue(split.value);
    if (!supported(field)) throw statusErrors.badRequest(`field label not supported: ${field}`);
    selector.requirements.push({ field, operator, value });
    if (operator === '=' && field === 'metadata.name') selector.exactName = value;
    if (operator === '=' && field === 'metadata.namespace') selector.exactNamespace = value;
  }
  return selector;
}

function splitTerm(term: string): { field: string; operator: string; value: string } | undefined {
  for (const operator of ['!=', '==', '=']) {
    const index = findUnescaped(term, operator);
    if (index >= 0) return { field: term.slice(0, index), operator, value: term.slice(index + operator.length) };
  }
  return undefined;
}

function findUnescaped(term: string, op: string): number {
  for (let i = 0; i < term.length; i++) {
    if (term[i] === '\\') {
      i++;
      continue;
    }
    if (term.startsWith(op, i)) return i;
  }
  return -1;
}

export function fieldSelectorMatches(selector: FieldSelector, valueOf: (field: string) => string | undefined): boolean {
  for (const req of selector.requirements) {
    const actual = valueOf(req.field) ?? '';
    if (req.operator === '=' ? actual !== req.value : actual === req.value) return false;
  }
  return true;
}
