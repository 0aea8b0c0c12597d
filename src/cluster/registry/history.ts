// A bounded queue of one resource's recent changes: what lets a watch resume from an older
// resourceVersion, a paged LIST stay consistent, and what ages out into 410 Expired. Bounded
// twice: by a count of changes per resource, and by the bytes every resource's history holds
// together (a HistoryBudget), so a learner rewriting one 1 MiB ConfigMap in a loop makes old
// versions expire (as etcd compaction does) instead of keeping each of them in memory.
import type { KubeObject } from '../types.ts';

export interface HistoryEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** storage key: "<namespace>/<name>" ("/<name>" when cluster-scoped) */
  key: string;
  object: KubeObject;
  /** the object before this change (MODIFIED and DELETED) */
  prev?: KubeObject;
  /** serialized size of `object`, what this change costs the history budget */
  bytes: number;
}

/** The bytes all histories of one registry may hold; the history holding most gives back first. */
export class HistoryBudget {
  readonly limit: number;
  readonly #histories = new Set<History>();
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  register(history: History): void {
    this.#histories.add(history);
  }

  unregister(history: History): void {
    if (this.#histories.delete(history)) this.#used -= history.bytes;
  }

  charged(bytes: number): void {
    this.#used += bytes;
    while (this.#used > this.limit) {
      let largest: History | undefined;
      for (const history of this.#histories) if (history.length > 0 && (!largest || history.bytes > largest.bytes)) largest = history;
      if (!largest) return;
      largest.dropOldest();
    }
  }

  released(bytes: number): void {
    this.#used -= bytes;
  }
}

export class History {
  private readonly capacity: number;
  private readonly budget: HistoryBudget | undefined;
  private events: (HistoryEvent | undefined)[] = [];
  private start = 0;
  /** Bytes of the changes held. */
  bytes = 0;
  /** Every change with rv > compactedRV is still held. */
  compactedRV: number;

  constructor(capacity: number, startRV: number, budget?: HistoryBudget) {
    this.capacity = capacity;
    this.compactedRV = startRV;
    this.budget = budget;
    budget?.register(this);
  }

  get length(): number {
    return this.events.length - this.start;
  }

  push(event: HistoryEvent): void {
    this.events.push(event);
    this.bytes += event.bytes;
    if (this.length > this.capacity) this.dropOldest();
    this.budget?.charged(event.bytes);
  }

  /** Forgets the oldest change (compaction): a watch from before it gets 410 Expired. */
  dropOldest(): void {
    const evicted = this.events[this.start];
    if (!evicted) return;
    this.events[this.start] = undefined;
    this.start++;
    this.compactedRV = evicted.rv;
    this.bytes -= evicted.bytes;
    this.budget?.released(evicted.bytes);
    if (this.start > 1024 && this.start * 2 > this.events.length) {
      this.events = this.events.slice(this.start);
      this.start = 0;
    }
  }

  /** The resource is no longer served: its history stops counting against the budget. */
  detach(): void {
    this.budget?.unregister(this);
  }

  private at(index: number): HistoryEvent {
    return this.events[this.start + index] as HistoryEvent;
  }

  get latestRV(): number {
    return this.length ? this.at(this.length - 1).rv : this.compactedRV;
  }

  /** Changes with rv > afterRV, oldest first. */
  since(afterRV: number): HistoryEvent[] {
    const n = this.length;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).rv <= afterRV) lo = mid + 1;
      else hi = mid;
    }
    const out: HistoryEvent[] = [];
    for (let i = lo; i < n; i++) out.push(this.at(i));
    return out;
  }
}
