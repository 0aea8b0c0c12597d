// Lists as the API server's storage answers them (k8s.io/apiserver's etcd3 store): one page at
// one resourceVersion, the current one or an older one rebuilt from the kept history, continue
// tokens that pin it, remainingItemCount, and label and field selectors.
import { type KubeObject, StatusError, statusErrors } from '../types.ts';
import type { HistoryEvent } from './history.ts';
import type { ListOptions, ListResult, ResourceDefinition } from './interface.ts';
import { everythingSelector, type FieldSelector, fieldSelectorMatches, type LabelSelector, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { type Storage, storageKey } from './storage.ts';

/** A resourceVersion a client sent: none, or a number (anything else is a 400). */
export function parseResourceVersion(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[0-9]+$/.test(value)) throw statusErrors.badRequest(`invalid resource version: ${JSON.stringify(value)}`);
  return Number(value);
}

/** What the API server answers for a resourceVersion it has not reached yet. */
export function tooLargeResourceVersion(rv: number, current: number): StatusError {
  return new StatusError({
    code: 504,
    reason: 'Timeout',
    message: `Too large resource version: ${rv}, current: ${current}`,
    details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
  });
}

/** The label and field selectors of a request, the fields those the resource supports. */
export function selectorsOf(def: ResourceDefinition, options: { labelSelector?: string; fieldSelector?: string }): { labels: LabelSelector; fields: FieldSelector } {
  const labels = parseLabelSelector(options.labelSelector);
  const fields = parseFieldSelector(options.fieldSelector, (field) => field === 'metadata.name' || field === 'metadata.namespace' || Object.hasOwn(def.fieldSelectors, field));
  return { labels, fields };
}

/** Whether an object is in the namespace asked for and matches the selectors. */
export function matcherOf(def: ResourceDefinition, namespace: string | undefined, labels: LabelSelector, fields: FieldSelector): (object: KubeObject) => boolean {
  const scoped = def.namespaced && namespace !== undefined && namespace !== '';
  return (object) => {
    if (scoped && object.metadata.namespace !== namespace) return false;
    if (labels !== everythingSelector && !labels.matches(object.metadata.labels)) return false;
    if (fields.requirements.length === 0) return true;
    return fieldSelectorMatches(fields, (field) => {
      if (field === 'metadata.name') return object.metadata.name;
      if (field === 'metadata.namespace') return object.metadata.namespace;
      return def.fieldSelectors[field]?.(object);
    });
  };
}

/** One page of a list at one resourceVersion: the current one, or an older one rebuilt from history. */
export function listStorage(storage: Storage, def: ResourceDefinition, options: ListOptions, currentRV: number, present: (object: KubeObject) => KubeObject): ListResult {
  const namespace = def.namespaced && options.namespace ? options.namespace : undefined;
  const { labels, fields } = selectorsOf(def, options);
  const matches = matcherOf(def, namespace, labels, fields);
  const limit = options.limit && options.limit > 0 ? Math.floor(options.limit) : undefined;

  let atRV = currentRV;
  let startAfter: string | undefined;
  if (options.continue) {
    if (options.resourceVersion && options.resourceVersion !== '0') throw statusErrors.badRequest('specifying resource version is not allowed when using continue');
    const token = decodeContinue(options.continue);
    atRV = token.rv;
    startAfter = token.start;
    if (atRV < storage.history.compactedRV && storage.history.latestRV > atRV) {
      const error = statusErrors.gone(
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
      );
      error.status.metadata = { continue: encodeContinue(currentRV, startAfter) };
      throw error;
    }
  } else {
    const requested = parseResourceVersion(options.resourceVersion);
    if (requested !== undefined && requested > currentRV) throw tooLargeResourceVersion(requested, currentRV);
    if (requested !== undefined && options.resourceVersionMatch === 'Exact') {
      if (requested < storage.history.compactedRV && storage.history.latestRV > requested) throw statusErrors.gone('The resourceVersion for the provided list is too old.');
      atRV = requested;
    }
  }

  const view = viewAt(storage, atRV, namespace);
  const items: KubeObject[] = [];
  let continueKey: string | undefined;
  let remaining = 0;
  const countRemaining = labels === everythingSelector && fields.requirements.length === 0;
  const single = fields.exactName !== undefined && !startAfter ? singleKey(def, namespace, fields) : undefined;
  const keys = single ?? view.keys;
  let index = startAfter ? upperBound(keys, startAfter) : 0;
  for (; index < keys.length; index++) {
    const key = keys[index] as string;
    const object = view.get(key);
    if (!object || !matches(object)) continue;
    if (limit !== undefined && items.length >= limit) {
      continueKey = (items.length ? keyOf(items[items.length - 1] as KubeObject) : key);
      break;
    }
    items.push(present(object));
  }
  if (continueKey !== undefined && countRemaining) {
    for (; index < keys.length; index++) if (view.get(keys[index] as string)) remaining++;
  }
  const result: ListResult = { items, resourceVersion: String(atRV) };
  if (continueKey !== undefined) {
    result.continue = encodeContinue(atRV, continueKey);
    if (countRemaining) result.remainingItemCount = remaining;
  }
  return result;
}

function singleKey(def: ResourceDefinition, namespace: string | undefined, fields: FieldSelector): string[] | undefined {
  const name = fields.exactName as string;
  if (!def.namespaced) return [`/${name}`];
  const ns = namespace ?? fields.exactNamespace;
  return ns === undefined ? undefined : [`${ns}/${name}`];
}

/** The storage as it was at rv, rebuilt from history when anything changed since. */
function viewAt(storage: Storage, rv: number, namespace: string | undefined): { keys: readonly string[]; get(key: string): KubeObject | undefined } {
  const current = { keys: storage.keys(namespace), get: (key: string) => storage.getByKey(key) };
  if (rv >= storage.history.latestRV) return current;
  const changes = new Map<string, KubeObject | undefined>();
  const events = storage.history.since(rv);
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i] as HistoryEvent;
    changes.set(event.key, event.type === 'ADDED' ? undefined : event.prev);
  }
  const prefix = namespace === undefined ? undefined : `${namespace}/`;
  const keys = new Set(current.keys);
  for (const key of changes.keys()) if (prefix === undefined || key.startsWith(prefix)) keys.add(key);
  return {
    keys: [...keys].sort(),
    get: (key) => (changes.has(key) ? changes.get(key) : storage.getByKey(key)),
  };
}

function keyOf(object: KubeObject): string {
  return storageKey(object.metadata.namespace, object.metadata.name ?? '');
}

function upperBound(keys: readonly string[], after: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { v?: unknown; rv?: unknown; start?: unknown };
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') throw new Error('bad token');
    return { rv: parsed.rv, start: parsed.start };
  } catch {
    throw statusErrors.badRequest('invalid continue token: continue key is not valid');
  }
}
