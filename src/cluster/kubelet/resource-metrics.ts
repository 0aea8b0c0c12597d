// metrics-server's part of the resource metrics pipeline: every resolution it scrapes what each
// pod's running containers use and keeps the last two points a container; usage is the CPU rate
// between them and the memory working set of the last one. A pod is reported only once every one
// of its containers has two points, so a pod that has just started has no metrics yet, as on a
// cluster (kubectl top says "metrics not available yet"). Nodes are the sum of their pods' usage
// and the node's own, over the same windows.
import { Quantity } from '../registry/index.ts';
import type { ContainerSample } from './usage.ts';

/** metrics-server's --metric-resolution default. */
export const METRIC_RESOLUTION_MS = 15_000;
/** metrics-server's freshContainerMinMetricsResolution: a younger container's first point is not a window yet. */
export const FRESH_CONTAINER_MIN_MS = 10_000;

interface Point {
  at: number;
  startedAt: number;
  containerID: string;
  /** cumulative CPU time in nanoseconds */
  cpuNanos: number;
  memoryBytes: number;
}

export interface ContainerUsage {
  name: string;
  /** CPU in nanocores, as metrics-server reports it */
  cpuNanocores: number;
  memoryBytes: number;
}

/** Usage over one window: from timestamp − windowMs to timestamp. */
export interface UsageWindow {
  timestamp: number;
  windowMs: number;
  containers: ContainerUsage[];
}

export interface NodeUsageWindow {
  timestamp: number;
  windowMs: number;
  cpuNanocores: number;
  memoryBytes: number;
}

interface NodePoint {
  at: number;
  cpuNanos: number;
  memoryBytes: number;
}

export class ResourceMetricsStore {
  readonly #resolutionMs: number;
  readonly #freshMinMs: number;
  #last = new Map<string, Map<string, Point>>();
  #prev = new Map<string, Map<string, Point>>();
  readonly #nodes = new Map<string, { prev?: NodePoint; last: NodePoint }>();

  constructor(options: { resolutionMs: number; freshContainerMinMs: number }) {
    this.#resolutionMs = options.resolutionMs;
    this.#freshMinMs = options.freshContainerMinMs;
  }

  /** One scrape of every pod (keyed by uid): pods not in it are forgotten, as metrics-server forgets them. */
  storePods(at: number, pods: Map<string, ContainerSample[]>): void {
    const last = new Map<string, Map<string, Point>>();
    const prev = new Map<string, Map<string, Point>>();
    for (const [uid, samples] of pods) {
      const lastContainers = new Map<string, Point>();
      const prevContainers = new Map<string, Point>();
      const stored = this.#last.get(uid);
      for (const sample of samples) {
        const before = stored?.get(sample.name);
        const measuredAt = sample.readAt ?? at;
        const sameInstance = before !== undefined && before.containerID === sample.containerID && before.at < measuredAt;
        const point: Point = { at: measuredAt, startedAt: sample.startedAt, containerID: sample.containerID, memoryBytes: sample.memoryBytes, cpuNanos: cumulativeCpu(sample, measuredAt, sameInstance ? before : undefined) };
        lastContainers.set(sample.name, point);
        const age = measuredAt - sample.startedAt;
        if (age > 0 && age < this.#resolutionMs && age >= this.#freshMinMs) prevContainers.set(sample.name, { ...point, at: sample.startedAt, cpuNanos: 0 });
        else if (sameInstance) prevContainers.set(sample.name, before);
      }
      if (prevContainers.size > 0) prev.set(uid, prevContainers);
      last.set(uid, lastContainers);
    }
    this.#last = last;
    this.#prev = prev;
  }

  /** The pod's usage over its last window; undefined until every running container has two points. */
  pod(uid: string): UsageWindow | undefined {
    const last = this.#last.get(uid);
    const prev = this.#prev.get(uid);
    if (!last || !prev || last.size === 0) return undefined;
    const containers: ContainerUsage[] = [];
    let earliest: { timestamp: number; windowMs: number } | undefined;
    for (const [name, point] of last) {
      const before = prev.get(name);
      if (!before) return undefined;
      const windowMs = point.at - before.at;
      // A counter that went backwards is skipped, as metrics-server skips it.
      if (windowMs <= 0 || point.cpuNanos < before.cpuNanos) continue;
      containers.push({ name, cpuNanocores: Math.round(((point.cpuNanos - before.cpuNanos) * 1000) / windowMs), memoryBytes: point.memoryBytes });
      // metrics-server's pod window is its earliest container's.
      if (!earliest || point.at < earliest.timestamp) earliest = { timestamp: point.at, windowMs };
    }
    return earliest ? { ...earliest, containers } : undefined;
  }

  /** One scrape of a node: what it uses now, besides its pods, and the sum of its pods' windows. */
  storeNode(name: string, at: number, usage: { cpuNanocores: number; memoryBytes: number }): void {
    const stored = this.#nodes.get(name);
    const cpuNanos = stored ? stored.last.cpuNanos + (usage.cpuNanocores * (at - stored.last.at)) / 1000 : 0;
    const point = { at, cpuNanos, memoryBytes: usage.memoryBytes };
    this.#nodes.set(name, stored && stored.last.at < at ? { prev: stored.last, last: point } : { last: point });
  }

  node(name: string): NodeUsageWindow | undefined {
    const stored = this.#nodes.get(name);
    if (!stored?.prev) return undefined;
    const windowMs = stored.last.at - stored.prev.at;
    return { timestamp: stored.last.at, windowMs, cpuNanocores: Math.round(((stored.last.cpuNanos - stored.prev.cpuNanos) * 1000) / windowMs), memoryBytes: stored.last.memoryBytes };
  }

  forgetNode(name: string): void {
    this.#nodes.delete(name);
  }
}

/** A real process's counter as read; a simulated rate integrated since the last point (or since the start). */
function cumulativeCpu(sample: ContainerSample, at: number, before: Point | undefined): number {
  if (sample.cpuNanos !== undefined) return sample.cpuNanos;
  const millis = sample.cpuMillis ?? 0;
  const since = before ? before.at : sample.startedAt;
  return (before?.cpuNanos ?? 0) + millis * 1_000_000 * (Math.max(0, at - since) / 1000);
}

/** CPU as metrics-server writes it: nanocores as a quantity in canonical form ("12m" when exact, "12345n" otherwise). */
export function cpuQuantity(nanocores: number): string {
  return new Quantity(BigInt(Math.max(0, Math.round(nanocores))), 'DecimalSI').toString();
}

/** The working set as a BinarySI quantity ("1536Ki", or plain bytes when no binary suffix divides it). */
export function memoryQuantity(bytes: number): string {
  return new Quantity(BigInt(Math.max(0, Math.round(bytes))) * 1_000_000_000n, 'BinarySI').toString();
}

/** A window as Go's time.Duration prints it (metav1.Duration): "15s", "14.998s", "1m0.5s". */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = ((total % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '');
  return `${hours > 0 ? `${hours}h` : ''}${hours > 0 || minutes > 0 ? `${minutes}m` : ''}${seconds}s`;
}
