// What a pod's containers use, as metrics-server would report it: a real process's memory from
// its cgroup, a simulated server's from its image data (plus CPU per request served), and the
// figures a lab sets with annotations to drive an autoscaler or the OOM killer.
import { tryParseQuantity } from '../registry/index.ts';
import type { KubeObject } from '../types.ts';
import type { ContainerSlot } from './container-slot.ts';
import { type ContainerInstance, SimulatedContainer } from './containers.ts';
import { obj, str, strings } from '../json.ts';
import { behaviourOf, type ImageBehaviour } from './images/index.ts';

export interface ContainerSample {
  name: string;
  /** The container instance: a restart starts a new CPU counter. */
  containerID: string;
  /**
   * metrics-server's StartTime, when the CPU counter was zero: the kubelet reports the container's
   * creation (CRI's CreatedAt), not when its process got going, so a young container's first window
   * holds all the CPU it used, its setup included.
   */
  startedAt: number;
  /** Cumulative CPU time of a real process, in nanoseconds. */
  cpuNanos?: number;
  /** When cpuNanos was read (the kubelet's CPU.Time): a window ends where its counter was read, not where the scrape began. */
  readAt?: number;
  /** CPU in millicores where there is no counter: a simulated server, or the simulate-cpu annotation. */
  cpuMillis?: number;
  memoryBytes: number;
}

const SIMULATE_CPU = 'formicary.dev/simulate-cpu';
const SIMULATE_MEMORY = 'formicary.dev/simulate-memory';
/** How long a simulated container over its memory limit lives before the OOM killer ends it. */
export const OOM_AFTER_MS = 1_500;

function quantityMillis(value: string | undefined): number | undefined {
  const quantity = tryParseQuantity(value);
  return quantity ? quantity.milliValue() : undefined;
}

export function quantityBytes(value: string | undefined): number | undefined {
  const quantity = tryParseQuantity(value);
  return quantity ? quantity.value() : undefined;
}

export function memoryLimitBytes(slot: ContainerSlot): number | undefined {
  return quantityBytes(str(obj(obj(slot.spec['resources'])['limits'])['memory']));
}

/** The simulated figures of a container; the pod's first container follows the simulate-* annotations. */
export function simulatedUsage(pod: KubeObject, first: ContainerSlot | undefined, slot: ContainerSlot, behaviour: ImageBehaviour | undefined): { cpuMillis: number; memoryBytes: number } {
  const idle = behaviour?.usage ?? { cpuMillis: 1, memoryBytes: 4 * 1024 * 1024 };
  const served = (slot.instance?.requestRate() ?? 0) * (behaviour?.cpuPerRequestMillis ?? 0.05);
  const base = { cpuMillis: Math.round(idle.cpuMillis + served), memoryBytes: idle.memoryBytes };
  if (slot !== first) return base;
  const annotations = pod.metadata.annotations ?? {};
  return {
    cpuMillis: quantityMillis(annotations[SIMULATE_CPU]) ?? base.cpuMillis,
    memoryBytes: quantityBytes(annotations[SIMULATE_MEMORY]) ?? base.memoryBytes,
  };
}

/** A lab raised the simulated memory past the limit: the kernel's OOM killer ends the container. */
export function checkSimulatedMemory(pod: KubeObject, containers: ContainerSlot[], oomAfterMs: number): void {
  const slot = containers[0];
  const instance = slot?.instance;
  if (!slot || !instance?.running || instance.process || !slot.image) return;
  const limit = memoryLimitBytes(slot);
  const usage = simulatedUsage(pod, slot, slot, behaviourOf(slot.image, strings(slot.spec['args']))).memoryBytes;
  if (limit !== undefined && usage > limit && instance instanceof SimulatedContainer) instance.oomKill(oomAfterMs);
}

/**
 * One running container's figures now, as the kubelet's resource metrics endpoint hands them to
 * metrics-server: a real process's cumulative CPU counter and working set from its cgroup, a
 * simulated server's (or an annotated container's) CPU as a rate.
 */
export function podSamples(pod: KubeObject, containers: ContainerSlot[], now: () => number): ContainerSample[] {
  const first = containers[0];
  return containers
    .filter((slot) => slot.instance?.running && slot.image)
    .map((slot) => {
      const instance = slot.instance as ContainerInstance;
      const identity = { name: slot.name, containerID: instance.containerID, startedAt: instance.createdAt.getTime() };
      const simulated = simulatedUsage(pod, first, slot, slot.image ? behaviourOf(slot.image, strings(slot.spec['args'])) : undefined);
      if (!instance.process) return { ...identity, cpuMillis: simulated.cpuMillis, memoryBytes: simulated.memoryBytes };
      const memoryBytes = instance.memoryBytes() ?? simulated.memoryBytes;
      const cpuNanos = instance.cpuUsageNanos();
      const readAt = now();
      // A lab's annotation drives the first container's CPU (an autoscaler lab needs load it can name).
      if ((slot === first && pod.metadata.annotations?.[SIMULATE_CPU]) || cpuNanos === undefined) return { ...identity, cpuMillis: simulated.cpuMillis, memoryBytes };
      return { ...identity, cpuNanos, readAt, memoryBytes };
    });
}
