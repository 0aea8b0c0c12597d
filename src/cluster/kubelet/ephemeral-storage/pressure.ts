// Node-pressure eviction for the node file system (pkg/kubelet/eviction): every node of this
// kubelet keeps its pods on the same host disk, so one manager watches it for all of them. When
// what is free falls under the reserve (nodefs.available<10%, upstream's default hard threshold)
// the nodes report DiskPressure and pods are evicted one a pass, ranked as rankDiskPressureFunc
// ranks them, until the disk is above the threshold again; the condition stays for the
// evictionPressureTransitionPeriod after the last observation, as upstream's does.
import { Quantity, tryParseQuantity } from '../../registry/index.ts';
import type { KubeObject } from '../../types.ts';
import { obj, objects, specOf, str } from '../../json.ts';
import type { EvictionCandidate } from './index.ts';

/** What the eviction manager measured of one pod for node pressure, in bytes. */
export interface PodDiskUsage {
  /** Everything the pod holds on the node's disk. */
  totalBytes: number;
  /** Each container's writable layer. */
  containers: Map<string, number>;
}

/** The nodefs.available signal: what is free on the kubelet's root and the threshold under it. */
export interface NodeFsSignal {
  availableBytes: number;
  thresholdBytes: number;
}

const bytes = (value: number) => Quantity.fromInteger(value, 'BinarySI');

function ephemeralRequest(container: Record<string, unknown>): Quantity {
  return tryParseQuantity(obj(obj(container['resources'])['requests'])['ephemeral-storage']) ?? new Quantity(0n, 'BinarySI');
}

function podEphemeralRequest(pod: KubeObject): number {
  return objects(specOf(pod)['containers']).reduce((sum, container) => sum + ephemeralRequest(container).value(), 0);
}

function priorityOf(pod: KubeObject): number {
  const priority = specOf(pod)['priority'];
  return typeof priority === 'number' ? priority : 0;
}

interface Ranked {
  candidate: EvictionCandidate;
  usage: PodDiskUsage;
}

/**
 * rankDiskPressureFunc: pods using more than they requested first, then lower priority, then
 * those using more than their request by the most (usage past the request, largest first).
 */
export function rankForDiskPressure(pods: Ranked[]): Ranked[] {
  const exceeds = (ranked: Ranked) => ranked.usage.totalBytes > podEphemeralRequest(ranked.candidate.pod);
  return [...pods].sort((a, b) => {
    if (exceeds(a) !== exceeds(b)) return exceeds(a) ? -1 : 1;
    const priority = priorityOf(a.candidate.pod) - priorityOf(b.candidate.pod);
    if (priority !== 0) return priority;
    return b.usage.totalBytes - podEphemeralRequest(b.candidate.pod) - (a.usage.totalBytes - podEphemeralRequest(a.candidate.pod));
  });
}

/** Upstream's evictionMessage for ephemeral-storage, word for word (helpers.go). */
export function nodeFsEvictionMessage(pod: KubeObject, usage: PodDiskUsage, signal: NodeFsSignal): string {
  let message = `The node was low on resource: ephemeral-storage. Threshold quantity: ${bytes(signal.thresholdBytes).toString()}, available: ${bytes(Math.max(0, signal.availableBytes)).toString()}. `;
  for (const container of objects(specOf(pod)['containers'])) {
    const name = str(container['name']) ?? '';
    const used = usage.containers.get(name);
    const request = ephemeralRequest(container);
    if (used !== undefined && bytes(used).cmp(request) > 0) message += `Container ${name} was using ${bytes(used).toString()}, request is ${request.toString()}, has larger consumption of ephemeral-storage. `;
  }
  return message;
}

export interface NodeFsEvictionOptions {
  signal(): Promise<NodeFsSignal>;
  candidates(): Iterable<EvictionCandidate & { diskUsage(): Promise<PodDiskUsage> }>;
  /** The nodes' DiskPressure condition changes (true: under pressure). */
  setPressure(pressure: boolean): void;
  intervalMs: number;
  /** evictionPressureTransitionPeriod (5 min upstream), in this cluster's time. */
  transitionMs: number;
  now(): number;
}

export function startNodeFsEviction(options: NodeFsEvictionOptions): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pressure = false;
  let lastObserved = -Infinity;
  const pass = async () => {
    const signal = await options.signal();
    const met = signal.availableBytes < signal.thresholdBytes;
    if (met) lastObserved = options.now();
    const wanted = met || options.now() - lastObserved < options.transitionMs;
    if (wanted !== pressure && !stopped) {
      pressure = wanted;
      options.setPressure(pressure);
    }
    if (!met || stopped) return;
    const measured: Ranked[] = [];
    for (const candidate of [...options.candidates()]) {
      if (!candidate.evictable) continue;
      try {
        measured.push({ candidate, usage: await candidate.diskUsage() });
      } catch {
        // The pod went away while it was measured.
      }
    }
    // One pod a pass: its image goes with it, and the next pass sees whether that was enough.
    for (const { candidate, usage } of rankForDiskPressure(measured)) {
      if (stopped) return;
      if (candidate.evictable && candidate.evict(nodeFsEvictionMessage(candidate.pod, usage, signal))) return;
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void pass().catch(() => undefined).finally(schedule), options.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
