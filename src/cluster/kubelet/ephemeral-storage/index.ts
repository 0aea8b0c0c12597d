// A pod's local ephemeral storage, as the kubelet keeps it: the pod's directory (its containers'
// writable layers, /tmp and HOME, its emptyDir volumes) on a file system capped a little above the
// pod's limit, measured on every eviction-manager pass, and the pod evicted with upstream's reason
// and message when it passes its containers' ephemeral-storage limits or an emptyDir's sizeLimit.
//
// Layout inside the pod directory (the pod worker and volumes.ts write it): containers/<name>/…
// (each container's writable directories), volumes/<name> (emptyDir and the kubelet's volumes),
// home (a workbench's HOME when no volume holds it), etc and workbench (files the kubelet writes).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../../types.ts';
import { objects, specOf, str } from '../../json.ts';
import { ensurePassage } from '../volumes.ts';
import { type HostDisk, isMountPoint, mountImage, removeOrphanedImages, removeOrphanedMounts, unmountImage } from './filesystem.ts';
import { emptyDirSizeLimits, localStorageEvictionMessage, podEphemeralStorageLimit, type PodStorageStats, smallestThreshold } from './limits.ts';
import type { PodDiskUsage } from './pressure.ts';
import { diskUsage, filesystemUsage } from './usage.ts';

export { HostDisk, isMountPoint, mountImage, removeOrphanedImages, removeOrphanedMounts, unmountImage } from './filesystem.ts';
export { localStorageEvictionMessage, podEphemeralStorageLimit, type PodStorageStats } from './limits.ts';
export { nodeFsEvictionMessage, type PodDiskUsage, rankForDiskPressure, startNodeFsEviction } from './pressure.ts';

const MiB = 1024 * 1024;
/** A pod that sets no ephemeral-storage limit still cannot take more of the host's disk than this. */
export const UNLIMITED_POD_CEILING_BYTES = 1024 * MiB;

/**
 * The size of the pod's file system: twice its limit and 16 MiB more, so usage can pass the limit
 * (and the eviction manager evict the pod, as upstream) while a runaway writer still hits a wall.
 */
export function podStorageCeilingBytes(pod: KubeObject, unlimitedBytes = UNLIMITED_POD_CEILING_BYTES): number {
  const limit = podEphemeralStorageLimit(pod);
  const sizeLimits = [...emptyDirSizeLimits(pod).values()].reduce((sum, size) => sum + size.value(), 0);
  if (!limit) return Math.max(unlimitedBytes, 2 * sizeLimits + 16 * MiB);
  return 2 * Math.max(limit.value(), sizeLimits) + 16 * MiB;
}

export class PodStorage {
  readonly #podDir: string;
  readonly #image: string;
  readonly #unlimitedBytes: number;
  readonly #disk: HostDisk;
  /** Writes stop at a ceiling (a file system of the pod's own) rather than only being measured. */
  #capped = false;
  #released = false;

  constructor(options: { podDir: string; storageDir: string; uid: string; unlimitedBytes: number; disk: HostDisk }) {
    this.#podDir = options.podDir;
    this.#unlimitedBytes = options.unlimitedBytes;
    this.#disk = options.disk;
    this.#image = join(options.storageDir, `${options.uid}.img`);
  }

  /** Gives the pod its file system before anything of it is written (or mounts it again after a restart). */
  async prepare(pod: KubeObject): Promise<void> {
    if (this.#capped || this.#released || !(await this.#disk.usable())) return;
    // A directory from before pods had file systems of their own stays as it is: mounting over it would hide the pod's files.
    const legacy = !existsSync(this.#image) && existsSync(this.#podDir) && !isMountPoint(this.#podDir) && readdirSync(this.#podDir).length > 0;
    if (legacy) return;
    if (!existsSync(this.#podDir)) ensurePassage(this.#podDir);
    await mountImage(this.#image, this.#podDir, podStorageCeilingBytes(pod, this.#unlimitedBytes), this.#disk);
    if (this.#released) {
      await unmountImage(this.#podDir);
      rmSync(this.#image, { force: true });
      return;
    }
    this.#capped = true;
  }

  /** What the pod uses now; the per-container and per-volume walks only when the total could trip a check. */
  async stats(pod: KubeObject): Promise<PodStorageStats> {
    const containers = new Map<string, number>();
    const volumes = new Map<string, number>();
    const threshold = smallestThreshold(pod);
    // No limit to pass: nothing to measure (the file system's size is the only bound).
    if (threshold === undefined || !existsSync(this.#podDir)) return { totalBytes: 0, containers, volumes };
    if (this.#capped) {
      const totalBytes = await filesystemUsage(this.#podDir);
      if (totalBytes <= threshold) return { totalBytes, containers, volumes };
    }
    const seen = new Set<string>();
    const spec = specOf(pod);
    for (const container of [...objects(spec['containers']), ...objects(spec['initContainers'])]) {
      const name = str(container['name']) ?? '';
      containers.set(name, await diskUsage(join(this.#podDir, 'containers', name), seen));
    }
    for (const volume of objects(spec['volumes'])) {
      if (volume['emptyDir'] === undefined) continue;
      const name = str(volume['name']) ?? '';
      volumes.set(name, await diskUsage(join(this.#podDir, 'volumes', name), seen));
    }
    const rest = await diskUsage(this.#podDir, seen);
    const measured = [...containers.values(), ...volumes.values()].reduce((sum, used) => sum + used, rest);
    return { totalBytes: this.#capped ? Math.max(measured, await filesystemUsage(this.#podDir)) : measured, containers, volumes };
  }

  /** What the pod holds on the node's disk, limit or none (node-pressure ranking measures every pod). */
  async usage(pod: KubeObject): Promise<PodDiskUsage> {
    const containers = new Map<string, number>();
    if (!existsSync(this.#podDir)) return { totalBytes: 0, containers };
    const seen = new Set<string>();
    for (const container of objects(specOf(pod)['containers'])) {
      const name = str(container['name']) ?? '';
      containers.set(name, await diskUsage(join(this.#podDir, 'containers', name), seen));
    }
    const totalBytes = this.#capped ? await filesystemUsage(this.#podDir) : [...containers.values()].reduce((sum, used) => sum + used, await diskUsage(this.#podDir, seen));
    return { totalBytes, containers };
  }

  /** The cluster stops: the file system is unmounted, the image stays for the next start. */
  async detach(): Promise<void> {
    this.#capped = false;
    await unmountImage(this.#podDir);
  }

  /** The pod is gone (or evicted): its file system and image go; the caller removes the directory once this resolves. */
  async release(): Promise<void> {
    this.#released = true;
    this.#capped = false;
    await unmountImage(this.#podDir);
    rmSync(this.#image, { force: true });
  }
}

/** A pod worker as the eviction manager sees it. */
export interface EvictionCandidate {
  /** Running on this node and neither finished nor being deleted. */
  readonly evictable: boolean;
  readonly pod: KubeObject;
  storageStats(): Promise<PodStorageStats>;
  /** Fails the pod with reason Evicted and this message; false when it is already past that. */
  evict(message: string): boolean;
}

/** The eviction manager's local-storage pass every interval (upstream: every 10 s), one pass at a time. */
export function startLocalStorageEviction(options: { candidates: () => Iterable<EvictionCandidate>; intervalMs: number }): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const pass = async () => {
    for (const candidate of [...options.candidates()]) {
      if (stopped) return;
      if (!candidate.evictable) continue;
      try {
        const message = localStorageEvictionMessage(candidate.pod, await candidate.storageStats());
        if (message && candidate.evictable) candidate.evict(message);
      } catch {
        // The pod went away while it was measured.
      }
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void pass().finally(schedule), options.intervalMs);
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

/** At start-up: directories and images of pods that no longer exist go (unmounted first); the rest stay. */
export function removeOrphanedPodStorage(podsDir: string, storageDir: string, livePods: Set<string>): void {
  removeOrphanedMounts(podsDir, livePods);
  removeOrphanedImages(storageDir, podsDir, livePods);
}
