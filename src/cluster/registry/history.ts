// A bounded ring of one resource's recent changes: what lets a watch resume from an older
// resourceVersion, a paged LIST stay consistent, and what ages out into 410 Expired.
import type { KubeObject } from '../types.ts';

export interface HistoryEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** storage key: "<namespace>/<name>" ("/<name>" when cluster-scoped) */
  key: string;
  object: KubeObject;
  /** the object before this change (MODIFIED and DELETED) */
  prev?: KubeObject;
}

export class History {
  private readonly capacity: number;
  private readonly events: HistoryEvent[] = [];
  private head = 0;
  /** Every change with rv > compactedRV is still held. */
  compactedRV: number;

  constructor(capacity: number, startRV: number) {
    this.capacity = capacity;
    this.compactedRV = startRV;
  }

  get length(): number {
    return this.events.length;
  }

  push(event: HistoryEvent): void {
    if (this.events.length < this.capacity) {
      this.events.push(event);
      return;
    }
    const evicted = this.events[this.head];
    if (evicted) this.compactedRV = evicted.rv;
    this.events[this.head] = event;
    this.head = (this.head + 1) % this.capacity;
  }

  private at(index: number): HistoryEvent {
    return this.events[(this.head + index) % this.events.length] as HistoryEvent;
  }

  get latestRV(): number {
    return this.events.length ? this.at(this.events.length - 1).rv : this.compactedRV;
  }

  /** Changes with rv > afterRV, oldest first. */
  since(afterRV: number): HistoryEvent[] {
    const n = this.events.length;
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
