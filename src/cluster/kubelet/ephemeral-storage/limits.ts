// The eviction manager's local storage checks (pkg/kubelet/eviction, localStorageEviction), in
// upstream's order and words: an emptyDir past its sizeLimit, then the pod past the sum of its
// containers' ephemeral-storage limits, then one container past its own limit.
import { Quantity, tryParseQuantity } from '../../registry/index.ts';
import type { KubeObject } from '../../types.ts';
import { type Json, obj, objects, specOf, str } from '../../json.ts';

/** What the stats provider measured for one pod, in bytes. */
export interface PodStorageStats {
  /** Everything the pod keeps on the node's disk: writable layers, volumes, the kubelet's files for it. */
  totalBytes: number;
  /** Each container's writable layer (its /tmp, HOME and the like). */
  containers: Map<string, number>;
  /** Each emptyDir volume. */
  volumes: Map<string, number>;
}

function ephemeralLimit(container: Json): Quantity | undefined {
  const limit = tryParseQuantity(obj(obj(container['resources'])['limits'])['ephemeral-storage']);
  return limit && !limit.isZero() ? limit : undefined;
}

/**
 * The pod's ephemeral-storage limit as resourcehelper.PodLimits computes it: its containers' and
 * sidecars' limits added up, or an init container's (with the sidecars started before it) when
 * that is larger; undefined when no container sets one.
 */
export function podEphemeralStorageLimit(pod: KubeObject): Quantity | undefined {
  const spec = specOf(pod);
  let found = false;
  let total = new Quantity(0n, 'BinarySI');
  for (const container of objects(spec['containers'])) {
    const limit = ephemeralLimit(container);
    if (limit) {
      found = true;
      total = total.add(limit);
    }
  }
  let sidecars = new Quantity(0n, 'BinarySI');
  let largestInit: Quantity | undefined;
  for (const container of objects(spec['initContainers'])) {
    const limit = ephemeralLimit(container);
    if (!limit) continue;
    found = true;
    if (container['restartPolicy'] === 'Always') {
      sidecars = sidecars.add(limit);
      total = total.add(limit);
      continue;
    }
    const during = sidecars.add(limit);
    if (!largestInit || during.cmp(largestInit) > 0) largestInit = during;
  }
  if (!found) return undefined;
  return largestInit && largestInit.cmp(total) > 0 ? largestInit : total;
}

/** The sizeLimit of each emptyDir volume that has one. */
export function emptyDirSizeLimits(pod: KubeObject): Map<string, Quantity> {
  const limits = new Map<string, Quantity>();
  for (const volume of objects(specOf(pod)['volumes'])) {
    if (volume['emptyDir'] === undefined) continue;
    const size = tryParseQuantity(obj(volume['emptyDir'])['sizeLimit']);
    if (size && size.sign() === 1) limits.set(str(volume['name']) ?? '', size);
  }
  return limits;
}

const bytes = (value: number) => Quantity.fromInteger(value, 'BinarySI');

/** Why the eviction manager evicts this pod now (its message, word for word), or undefined. */
export function localStorageEvictionMessage(pod: KubeObject, stats: PodStorageStats): string | undefined {
  for (const [name, size] of emptyDirSizeLimits(pod)) {
    const used = stats.volumes.get(name);
    if (used !== undefined && bytes(used).cmp(size) > 0) return `Usage of EmptyDir volume "${name}" exceeds the limit "${size.toString()}". `;
  }
  const podLimit = podEphemeralStorageLimit(pod);
  if (podLimit && bytes(stats.totalBytes).cmp(podLimit) > 0) return `Pod ephemeral local storage usage exceeds the total limit of containers ${podLimit.toString()}. `;
  for (const container of objects(specOf(pod)['containers'])) {
    const name = str(container['name']) ?? '';
    const limit = ephemeralLimit(container);
    const used = stats.containers.get(name);
    if (limit && used !== undefined && limit.cmp(bytes(used)) < 0) return `Container ${name} exceeded its local ephemeral storage limit "${limit.toString()}". `;
  }
  return undefined;
}

/** The least any check above could trip at: below it, no pod-level measurement can evict. */
export function smallestThreshold(pod: KubeObject): number | undefined {
  const candidates = [...emptyDirSizeLimits(pod).values(), podEphemeralStorageLimit(pod), ...objects(specOf(pod)['containers']).map(ephemeralLimit)]
    .filter((quantity): quantity is Quantity => quantity !== undefined)
    .map((quantity) => quantity.value());
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}
