// The machinery every controller shares, in the manner of client-go and sample-controller:
// informers list then watch a resource and turn every change into a key; a work queue holds each
// key once, never hands the same key to two workers at a time, and retries failures with back-off;
// `reconcile(key)` reads the current state and makes it so. Controllers keep no memory of past
// events: anything they need is read again from the registry.
import type { Registry, ResourceDefinition, Watch, WatchEvent } from '../registry/index.ts';
import type { KubeObject } from '../types.ts';
import { type Clock, realClock } from './clock.ts';

export interface ReconcileResult {
  /** Look again after this long even if nothing changes (timers: back-off, deadlines, schedules). */
  requeueAfterMs?: number;
}

export type ReconcileFunction = (key: string) => Promise<ReconcileResult | void> | ReconcileResult | void;

export interface WatchSource {
  /** group/version/resource to watch */
  group: string;
  version: string;
  resource: string;
  /** The keys of the controller's own objects this change concerns. Default: the object's own key. */
  keys?: (object: KubeObject, type: WatchEvent['type']) => string[];
}

export interface ControllerSpec {
  name: string;
  sources: WatchSource[];
  reconcile: ReconcileFunction;
  /** Report a failure; the key is retried with back-off. */
  onError?: (key: string, error: unknown) => void;
  clock?: Clock;
}

export function objectKey(object: KubeObject): string {
  return object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : (object.metadata.name ?? '');
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash === -1 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Keys of the owners of kind `kind` that control this object (ReplicaSet → its Deployment). */
export function controllerOwnerKeys(kind: string): (object: KubeObject) => string[] {
  return (object) => {
    const owner = object.metadata.ownerReferences?.find((reference) => reference.controller && reference.kind === kind);
    if (!owner) return [];
    return [object.metadata.namespace ? `${object.metadata.namespace}/${owner.name}` : owner.name];
  };
}

/**
 * Thrown by a reconcile that did what it could and wants the key back later with back-off
 * (a FailedCreate under quota); unlike other errors it is not reported.
 */
export class RetryLater extends Error {}

const BASE_DELAY_MS = 5;
const MAX_DELAY_MS = 60_000;

/**
 * A de-duplicating, rate-limited queue of keys. A key added while it is being processed is
 * processed once more afterwards, never concurrently.
 */
export class WorkQueue {
  readonly #queue: string[] = [];
  #head = 0;
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, { at: number; cancel: () => void }>();
  readonly #clock: Clock;
  #waiters: Array<() => void> = [];
  #shuttingDown = false;

  constructor(clock: Clock = realClock) {
    this.#clock = clock;
  }

  add(key: string): void {
    if (this.#shuttingDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Adds the key after a delay on the controller's clock; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    this.#schedule(key, delayMs, this.#clock);
  }

  /** Retries after a failure back off in real time (even when a test drives the controller's clock). */
  addRateLimited(key: string): void {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    this.#schedule(key, Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** failures), realClock);
  }

  #schedule(key: string, delayMs: number, clock: Clock): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = this.#clock.now().getTime() + delayMs;
    const existing = this.#timers.get(key);
    if (existing) {
      if (existing.at <= at) return;
      existing.cancel();
    }
    const cancel = clock.setTimer(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    this.#timers.set(key, { at, cancel });
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Resolves with the next key, or undefined once the queue shuts down. */
  async get(): Promise<string | undefined> {
    while (this.#head >= this.#queue.length) {
      if (this.#shuttingDown) return undefined;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    const key = this.#queue[this.#head++] as string;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    this.#queued.delete(key);
    this.#processing.add(key);
    return key;
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  get length(): number {
    return this.#queue.length - this.#head;
  }

  shutDown(): void {
    this.#shuttingDown = true;
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

export interface RunningController {
  readonly name: string;
  /** Queue a key by hand (e.g. from another controller's knowledge). */
  enqueue(key: string): void;
  /** Queue a key after a delay (timers that are not a reconcile's own requeue). */
  enqueueAfter(key: string, delayMs: number): void;
  stop(): void;
  /** Resolves when the queue is empty and no key is being processed (tests, benchmarks). */
  idle(): Promise<void>;
  /** true when nothing is queued or being processed right now */
  readonly isIdle: boolean;
}

export function resolveResource(registry: Registry, group: string, version: string, resource: string): ResourceDefinition {
  const definition = registry.lookup(group, version, resource);
  if (!definition) throw new Error(`controller source ${group}/${version}/${resource} is not served`);
  return definition;
}

/**
 * Lists a resource, then watches it from the list's resourceVersion; relists after a 410 as an
 * informer does. `onObject` sees every object once at start and every change after.
 */
export function inform(registry: Registry, definition: ResourceDefinition, onObject: (object: KubeObject, type: WatchEvent['type']) => void): Watch {
  let current: Watch | undefined;
  let stopped = false;
  const start = () => {
    const list = registry.list(definition, {});
    for (const object of list.items) onObject(object, 'ADDED');
    current = registry.watch(definition, { resourceVersion: list.resourceVersion }, (event) => {
      if (stopped) return;
      if (event.type === 'ERROR') {
        // History compacted under us: relist, as an informer does after 410.
        current?.stop();
        queueMicrotask(() => {
          if (!stopped) start();
        });
        return;
      }
      if (event.type === 'BOOKMARK') return;
      onObject(event.object, event.type);
    });
  };
  start();
  return {
    stop() {
      stopped = true;
      current?.stop();
    },
    bookmark() {},
  };
}

/** How long a worker may run keys back to back before it lets I/O in. */
const SLICE_MS = 8;

/** Starts informers for every source and one worker that reconciles keys. */
export function startController(registry: Registry, spec: ControllerSpec): RunningController {
  const clock = spec.clock ?? realClock;
  const queue = new WorkQueue(clock);
  const watches: Watch[] = [];
  let stopped = false;
  let busy = false;
  let idleWaiters: Array<() => void> = [];

  const settle = () => {
    if (!busy && queue.length === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wake of waiters) wake();
    }
  };

  for (const source of spec.sources) {
    const definition = resolveResource(registry, source.group, source.version, source.resource);
    const keysOf = source.keys ?? ((object: KubeObject) => [objectKey(object)]);
    watches.push(
      inform(registry, definition, (object, type) => {
        for (const key of keysOf(object, type)) queue.add(key);
      }),
    );
  }

  const work = async () => {
    let sliceStart = performance.now();
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      busy = true;
      try {
        const result = await spec.reconcile(key);
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        if (!stopped) {
          if (!(error instanceof RetryLater)) spec.onError?.(key, error);
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
        busy = false;
        settle();
      }
      if (performance.now() - sliceStart > SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
  };
  void work();

  return {
    name: spec.name,
    enqueue: (key) => queue.add(key),
    enqueueAfter: (key, delayMs) => queue.addAfter(key, delayMs),
    stop() {
      stopped = true;
      for (const watch of watches) watch.stop();
      queue.shutDown();
      settle();
    },
    idle() {
      if (!busy && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    get isIdle() {
      return !busy && queue.length === 0;
    },
  };
}
