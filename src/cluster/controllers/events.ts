// Events as client-go's record package writes them (tools/record/event.go, events_cache.go): a
// recorder per component stamps the source; a correlator folds repeats of the same event into one
// object (count, lastTimestamp), folds many similar events into "(combined from similar events)",
// and rate-limits each object's events (burst 25, then one every 5 minutes). Writes are batched
// outside the caller's turn, so a reconcile never waits on its events.
import type { Registry } from '../registry/index.ts';
import type { KubeObject } from '../types.ts';
import { type Clock, realClock } from './clock.ts';
import { ControllerClient, controllerUser, type ResourceClient } from './client.ts';
import { copy, timestamp } from './objects.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  /** "deployment-controller", "default-scheduler", "kubelet" */
  component: string;
  /** the node, for the kubelet */
  host?: string;
}

export interface EventOptions {
  /** "spec.containers{nginx}": the part of the object the event is about (kubelet events) */
  fieldPath?: string;
}

export interface EventRecorder {
  event(object: KubeObject, type: EventType, reason: string, message: string, options?: EventOptions): void;
}

interface InvolvedObject {
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  apiVersion: string;
  resourceVersion?: string;
  fieldPath?: string;
}

interface PendingEvent {
  source: EventSource;
  involved: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
  at: Date;
}

interface Seen {
  namespace: string;
  name: string;
  count: number;
  firstTimestamp: string;
}

const CACHE_SIZE = 4096;
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 5 * 60 * 1000;
const SIMILAR_MAX = 10;
const SIMILAR_WINDOW_MS = 10 * 60 * 1000;
const MESSAGE_LIMIT = 1024;

/** A bounded map that forgets the least recently used entry first. */
class LruMap<V> {
  readonly #map = new Map<string, V>();
  readonly #size: number;
  constructor(size: number) {
    this.#size = size;
  }
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#size) this.#map.delete(this.#map.keys().next().value as string);
  }
}

function involvedOf(object: KubeObject, options: EventOptions | undefined): InvolvedObject {
  const involved: InvolvedObject = {
    kind: object.kind,
    name: object.metadata.name ?? '',
    apiVersion: object.apiVersion,
  };
  if (object.metadata.namespace) involved.namespace = object.metadata.namespace;
  if (object.metadata.uid) involved.uid = object.metadata.uid;
  if (object.metadata.resourceVersion) involved.resourceVersion = object.metadata.resourceVersion;
  if (options?.fieldPath) involved.fieldPath = options.fieldPath;
  return involved;
}

function objectPart(event: PendingEvent): string {
  const o = event.involved;
  return [event.source.component, event.source.host ?? '', o.kind, o.namespace ?? '', o.name, o.uid ?? '', o.apiVersion].join('\u0000');
}

/** One per process: every component's recorder writes through it. */
export class EventBroadcaster {
  readonly #events: ResourceClient;
  readonly #clock: Clock;
  readonly #pending: PendingEvent[] = [];
  readonly #seen = new LruMap<Seen>(CACHE_SIZE);
  readonly #similar = new LruMap<{ messages: Set<string>; since: number }>(CACHE_SIZE);
  readonly #buckets = new LruMap<{ tokens: number; at: number }>(CACHE_SIZE);
  #scheduled = false;
  #stopped = false;
  #lastNanos = 0n;
  #idleWaiters: Array<() => void> = [];

  constructor(registry: Registry, clock: Clock = realClock) {
    this.#events = new ControllerClient(registry, controllerUser('event-recorder')).events;
    this.#clock = clock;
  }

  recorder(source: EventSource): EventRecorder {
    return {
      event: (object, type, reason, message, options) => {
        if (this.#stopped) return;
        this.#pending.push({ source, involved: involvedOf(object, options), type, reason, message, at: this.#clock.now() });
        this.#schedule();
      },
    };
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Writes what is pending now (normally done on the next turn). */
  flush(): void {
    const batch = this.#pending.splice(0);
    for (const event of batch) {
      if (this.#stopped) break;
      this.#write(event);
    }
    if (this.#pending.length === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves once every event recorded so far is written (or dropped). */
  idle(): Promise<void> {
    if (this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stop(): void {
    this.#stopped = true;
    this.#pending.length = 0;
    this.flush();
  }

  /** Token bucket per object (EventSourceObjectSpamFilter). */
  #allowed(event: PendingEvent): boolean {
    const key = `${objectPart(event)}\u0000${event.type}`;
    const now = event.at.getTime();
    const bucket = this.#buckets.get(key) ?? { tokens: SPAM_BURST, at: now };
    const refilled = Math.min(SPAM_BURST, bucket.tokens + Math.floor((now - bucket.at) / SPAM_REFILL_MS));
    const at = refilled > bucket.tokens ? now : bucket.at;
    if (refilled < 1) {
      this.#buckets.set(key, { tokens: refilled, at });
      return false;
    }
    this.#buckets.set(key, { tokens: refilled - 1, at });
    return true;
  }

  /** EventAggregator: past 10 different messages for one reason in 10 minutes, they fold into one. */
  #aggregate(event: PendingEvent): { key: string; message: string } {
    const aggregateKey = `${objectPart(event)}\u0000${event.type}\u0000${event.reason}`;
    const now = event.at.getTime();
    let record = this.#similar.get(aggregateKey);
    if (!record || now - record.since > SIMILAR_WINDOW_MS) record = { messages: new Set(), since: now };
    record.messages.add(event.message);
    this.#similar.set(aggregateKey, record);
    if (record.messages.size < SIMILAR_MAX) return { key: `${aggregateKey}\u0000${event.message}`, message: event.message };
    return { key: aggregateKey, message: `(combined from similar events): ${event.message}` };
  }

  #name(involvedName: string, at: Date): string {
    let nanos = BigInt(at.getTime()) * 1_000_000n;
    if (nanos <= this.#lastNanos) nanos = this.#lastNanos + 1n;
    this.#lastNanos = nanos;
    return `${involvedName}.${nanos.toString(16)}`;
  }

  #write(event: PendingEvent): void {
    if (!this.#allowed(event)) return;
    const { key, message } = this.#aggregate(event);
    const text = message.length > MESSAGE_LIMIT ? message.slice(0, MESSAGE_LIMIT) : message;
    const namespace = event.involved.namespace ?? 'default';
    const now = timestamp(event.at);
    const seen = this.#seen.get(key);
    try {
      if (seen) {
        const updated = this.#events.mutate(seen.namespace, seen.name, (draft) => {
          draft['count'] = seen.count + 1;
          draft['lastTimestamp'] = now;
          draft['message'] = text;
        });
        if (updated) {
          this.#seen.set(key, { ...seen, count: seen.count + 1 });
          return;
        }
      }
      const name = this.#name(event.involved.name, event.at);
      const involvedObject = copy(event.involved);
      this.#events.create(namespace, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject,
        reason: event.reason,
        message: text,
        source: { component: event.source.component, ...(event.source.host ? { host: event.source.host } : {}) },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        type: event.type,
        eventTime: null,
        reportingComponent: event.source.component,
        reportingInstance: event.source.host ?? '',
      });
      this.#seen.set(key, { namespace, name, count: 1, firstTimestamp: now });
    } catch {
      // Events are best effort: a namespace being deleted refuses them, and client-go drops an
      // event after its retries too. A failed write never reaches the component that recorded it.
    }
  }
}
