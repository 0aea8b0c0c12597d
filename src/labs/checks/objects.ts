// Checks about objects as stored: exists, absent, field, count, condition.
import type { Check } from '../schema.ts';
import { evaluateJsonPath, parseJsonPath, renderJsonPathValues } from '../../jsonpath/index.ts';
import { parseQuantity } from './quantity.ts';
import { fail, isTerminating, list, named, pass, plural, quote, record, selectorPhrase, type CheckTarget, type Outcome } from './context.ts';

type CheckOf<K extends Check['kind']> = Extract<Check, { kind: K }>;

export async function exists(check: CheckOf<'exists'>, target: CheckTarget): Promise<Outcome> {
  const resource = await target.client.resolve(check.resource);
  const object = await target.client.get(resource, target.namespace, check.name);
  const what = named(resource, check.name);
  const expected = `${what} exists`;
  if (!object) return fail(expected, `no ${resource.kind} named ${check.name}`, `There is no ${what} in your namespace yet.`);
  if (isTerminating(object)) return fail(expected, `${what} is being deleted`, `${what} is being deleted; this step asks for it to exist.`);
  return pass(expected, `${what} exists`, `${what} exists.`);
}

export async function absent(check: CheckOf<'absent'>, target: CheckTarget): Promise<Outcome> {
  const resource = await target.client.resolve(check.resource);
  const object = await target.client.get(resource, target.namespace, check.name);
  const what = named(resource, check.name);
  const expected = `no ${resource.kind} named ${check.name}`;
  if (object) {
    const state = isTerminating(object) ? 'is still being deleted' : 'still exists';
    return fail(expected, `${what} ${state}`, `${what} ${state}; this step asks for it to be gone.`);
  }
  return pass(expected, expected, `${what} is gone.`);
}

/** Equal as a learner means it: 3 and "3", true and "true". */
function looselyEqual(found: unknown, wanted: unknown): boolean {
  if (found === wanted) return true;
  if (found === undefined || found === null) return false;
  if (typeof found === 'object') return JSON.stringify(found) === String(wanted);
  return String(found) === String(wanted);
}

function isEmpty(values: unknown[]): boolean {
  if (values.length === 0) return true;
  return values.every((value) => value === null || value === '' || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && value !== null && Object.keys(value).length === 0));
}

export async function field(check: CheckOf<'field'>, target: CheckTarget): Promise<Outcome> {
  const resource = await target.client.resolve(check.resource);
  const what = named(resource, check.name);
  const path = parseJsonPath(check.path);
  const shownPath = check.path.trim().replace(/^\{\s*/, '').replace(/\s*\}$/, '');
  const object = await target.client.get(resource, target.namespace, check.name);
  const values = object ? evaluateJsonPath(path, object) : [];
  const rendered = renderJsonPathValues(values);
  const found = object ? (values.length ? rendered : `nothing at ${shownPath}`) : `no ${resource.kind} named ${check.name}`;
  const single = values.length === 1 ? values[0] : rendered;
  const is = values.length ? `is ${quote(single)}` : 'is not set';
  const subject = `${shownPath} of ${what}`;

  const compareNumber = (limit: number | string, test: (a: number, b: number) => boolean, words: string): Outcome => {
    const expected = `${shownPath} ${words} ${limit}`;
    const actual = values.length === 1 ? parseQuantity(typeof single === 'number' ? single : String(single)) : undefined;
    const wanted = parseQuantity(limit);
    if (actual === undefined || wanted === undefined) return fail(expected, found, `${subject} ${is}, not a number; this step asks for ${words} ${limit}.`);
    return test(actual, wanted) ? pass(expected, found, `${subject} is ${rendered}.`) : fail(expected, found, `${subject} is ${rendered}; this step asks for ${words} ${limit}.`);
  };

  if (!object) {
    const expected = `${what} exists`;
    return fail(expected, found, `There is no ${what} in your namespace yet, so ${shownPath} cannot be checked.`);
  }
  if (check.equals !== undefined) {
    const expected = `${shownPath} = ${check.equals}`;
    const ok = values.length === 1 ? looselyEqual(single, check.equals) : rendered === String(check.equals);
    return ok ? pass(expected, found, `${subject} is ${quote(check.equals)}.`) : fail(expected, found, `${subject} ${is}; this step asks for ${quote(check.equals)}.`);
  }
  if (check.notEquals !== undefined) {
    const expected = `${shownPath} ≠ ${check.notEquals}`;
    const same = values.length === 1 ? looselyEqual(single, check.notEquals) : rendered === String(check.notEquals);
    return same ? fail(expected, found, `${subject} is still ${quote(check.notEquals)}; this step asks you to change it.`) : pass(expected, found, `${subject} ${is}.`);
  }
  if (check.matches !== undefined) {
    const expected = `${shownPath} matches /${check.matches}/`;
    return values.length && new RegExp(check.matches).test(rendered)
      ? pass(expected, found, `${subject} is ${quote(rendered)}.`)
      : fail(expected, found, `${subject} ${is}, which does not match the pattern /${check.matches}/.`);
  }
  if (check.contains !== undefined) {
    const expected = `${shownPath} contains ${check.contains}`;
    const wanted = String(check.contains);
    const ok = values.length === 1 && Array.isArray(single) ? single.some((item) => looselyEqual(item, wanted)) : rendered.includes(wanted);
    return ok ? pass(expected, found, `${subject} contains ${quote(wanted)}.`) : fail(expected, found, `${subject} ${is}, which does not contain ${quote(wanted)}.`);
  }
  if (check.oneOf !== undefined) {
    const options = check.oneOf.map(String).join(', ');
    const expected = `${shownPath} is one of ${options}`;
    const ok = check.oneOf.some((option) => (values.length === 1 ? looselyEqual(single, option) : rendered === String(option)));
    return ok ? pass(expected, found, `${subject} is ${quote(single)}.`) : fail(expected, found, `${subject} ${is}; this step asks for one of ${options}.`);
  }
  if (check.greaterThan !== undefined) return compareNumber(check.greaterThan, (a, b) => a > b, 'more than');
  if (check.lessThan !== undefined) return compareNumber(check.lessThan, (a, b) => a < b, 'less than');
  if (check.atLeast !== undefined) return compareNumber(check.atLeast, (a, b) => a >= b, 'at least');
  if (check.atMost !== undefined) return compareNumber(check.atMost, (a, b) => a <= b, 'at most');
  const wantEmpty = check.empty === true;
  const expected = wantEmpty ? `${shownPath} is empty` : `${shownPath} has a value`;
  const empty = isEmpty(values);
  if (empty === wantEmpty) return pass(expected, found, wantEmpty ? `${subject} is empty.` : `${subject} is ${quote(single)}.`);
  return fail(expected, found, wantEmpty ? `${subject} ${is}; this step asks for it to be empty.` : `${subject} is empty; this step asks for a value.`);
}

export async function count(check: CheckOf<'count'>, target: CheckTarget): Promise<Outcome> {
  const resource = await target.client.resolve(check.resource);
  const objects = (await target.client.list(resource, target.namespace, { labelSelector: check.selector, fieldSelector: check.fieldSelector })).filter((object) => !isTerminating(object));
  const n = objects.length;
  const filters = [check.selector, check.fieldSelector].filter(Boolean).join(', ');
  const things = `${plural(resource.kind)}${selectorPhrase(filters)}`;
  const wants: string[] = [];
  if (check.equals !== undefined) wants.push(`exactly ${check.equals}`);
  if (check.atLeast !== undefined) wants.push(`at least ${check.atLeast}`);
  if (check.atMost !== undefined) wants.push(`at most ${check.atMost}`);
  const expected = `${wants.join(' and ')} ${things}`;
  const names = objects.slice(0, 5).map((object) => object.metadata.name).join(', ');
  const found = `${n} ${plural(resource.kind, n)}${n ? ` (${names}${n > 5 ? ', …' : ''})` : ''}`;
  const ok = (check.equals === undefined || n === check.equals) && (check.atLeast === undefined || n >= check.atLeast) && (check.atMost === undefined || n <= check.atMost);
  const there = `There ${n === 1 ? 'is' : 'are'} ${n} ${plural(resource.kind, n)}${selectorPhrase(filters)}`;
  return ok ? pass(expected, found, `${there}.`) : fail(expected, found, `${there}; this step asks for ${wants.join(' and ')}.`);
}

export async function condition(check: CheckOf<'condition'>, target: CheckTarget): Promise<Outcome> {
  const resource = await target.client.resolve(check.resource);
  const what = named(resource, check.name);
  const expected = `${what} has ${check.type}=${check.status}${check.reason ? ` (${check.reason})` : ''}`;
  const object = await target.client.get(resource, target.namespace, check.name);
  if (!object) return fail(expected, `no ${resource.kind} named ${check.name}`, `There is no ${what} in your namespace yet.`);
  const conditions = list(record(object.status)['conditions']).map(record);
  const found = conditions.find((c) => c['type'] === check.type);
  if (!found) {
    const present = conditions.map((c) => `${String(c['type'])}=${String(c['status'])}`).join(', ') || 'no conditions';
    return fail(expected, present, `${what} has no ${check.type} condition yet.`);
  }
  const status = String(found['status']);
  const reason = typeof found['reason'] === 'string' ? found['reason'] : '';
  const detail = typeof found['message'] === 'string' && found['message'] ? `: ${found['message']}` : '';
  const foundText = `${check.type}=${status}${reason ? ` (${reason})` : ''}`;
  const reasonOk = !check.reason || reason === check.reason;
  if (status === check.status && reasonOk) {
    return pass(expected, foundText, check.status === 'True' ? `${what} is ${check.type}.` : `${what} has ${check.type}=${check.status}.`);
  }
  if (status === check.status) return fail(expected, foundText, `${what} has ${check.type}=${status} because of ${reason || 'no reason'}; this step asks for the reason ${check.reason}.`);
  return fail(expected, foundText, `${what} has ${check.type}=${status}${reason ? ` (${reason}${detail})` : detail}; this step asks for ${check.type}=${check.status}.`);
}
