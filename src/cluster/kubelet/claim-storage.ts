// The data of a PersistentVolumeClaim on this node (the hostpath provisioner keeps it in the
// kubelet's claims folder, one directory a claim) is a file system of the claim's size, as a real
// volume is: a learner writing into a mounted claim stops with ENOSPC at the size it asked for,
// never at the end of the host's disk. One mount a claim, shared by every pod that uses it, kept
// while the kubelet runs; a stop unmounts them, the next start mounts them again on first use.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tryParseQuantity } from '../registry/index.ts';
import type { KubeObject } from '../types.ts';
import { type HostDisk, isMountPoint, mountImage, removeOrphanedImages, unmountImage } from './ephemeral-storage/index.ts';
import { obj, specOf, statusOf } from '../json.ts';
import { createSandboxDirectory, type SandboxIdentity } from './sandbox/index.ts';

const MiB = 1024 * 1024;
/** ext4 needs a little room for itself; a claim asking for less gets this much. */
const SMALLEST_CLAIM_BYTES = 16 * MiB;
const UNSIZED_CLAIM_BYTES = 1024 * MiB;

/** The claim's size: what the bound volume holds, else what the claim asks for. */
export function claimSizeBytes(claim: KubeObject): number {
  const capacity = tryParseQuantity(obj(statusOf(claim)['capacity'])['storage']) ?? tryParseQuantity(obj(obj(specOf(claim)['resources'])['requests'])['storage']);
  return Math.max(SMALLEST_CLAIM_BYTES, capacity?.value() ?? UNSIZED_CLAIM_BYTES);
}

export class ClaimStorage {
  readonly #claimsDir: string;
  readonly #imagesDir: string;
  readonly #disk: HostDisk;
  /** Mounts in progress, so two pods starting together with one claim mount it once. */
  readonly #mounting = new Map<string, Promise<void>>();
  /** The identity of the claim's sandbox: its root belongs to it. */
  readonly #ownerOf: (namespace: string) => SandboxIdentity;

  constructor(claimsDir: string, imagesDir: string, disk: HostDisk, ownerOf: (namespace: string) => SandboxIdentity) {
    this.#claimsDir = claimsDir;
    this.#imagesDir = imagesDir;
    this.#disk = disk;
    this.#ownerOf = ownerOf;
  }

  /** Makes sure each claim's directory is its file system before a pod mounts it. */
  async prepare(claims: KubeObject[]): Promise<void> {
    if (!(await this.#disk.usable())) return;
    await Promise.all(claims.map((claim) => this.#mount(claim)));
  }

  #mount(claim: KubeObject): Promise<void> {
    const uid = claim.metadata.uid ?? '';
    const mountPoint = join(this.#claimsDir, uid);
    if (!uid || isMountPoint(mountPoint)) return Promise.resolve();
    let mounting = this.#mounting.get(uid);
    if (!mounting) {
      const owner = this.#ownerOf(claim.metadata.namespace ?? 'default');
      mounting = (async () => {
        createSandboxDirectory(mountPoint, owner);
        await mountImage(join(this.#imagesDir, `${uid}.img`), mountPoint, claimSizeBytes(claim), this.#disk);
        // The file system's root is the claim's directory: its sandbox's user's to write.
        createSandboxDirectory(mountPoint, owner);
      })().finally(() => this.#mounting.delete(uid));
      this.#mounting.set(uid, mounting);
    }
    return mounting;
  }

  /**
   * The claim is deleted: its file system goes with its data (lazily: a pod still using it keeps it
   * until its processes end), so deleting and recreating claims cannot pile up disk past the quota.
   */
  async release(uid: string): Promise<void> {
    const image = join(this.#imagesDir, `${uid}.img`);
    if (!uid || !existsSync(image)) return;
    await this.#mounting.get(uid)?.catch(() => undefined);
    const mountPoint = join(this.#claimsDir, uid);
    await unmountImage(mountPoint);
    rmSync(mountPoint, { recursive: true, force: true });
    rmSync(image, { force: true });
  }

  /** The kubelet stops: every claim's file system is unmounted (its image stays). */
  async detachAll(): Promise<void> {
    await Promise.all(readdirSync(this.#claimsDir).map((uid) => unmountImage(join(this.#claimsDir, uid))));
  }

  /** At start-up: the file systems of claims that no longer exist go, with their data (directories without one are left as they are). */
  removeOrphans(liveClaims: Set<string>): void {
    removeOrphanedImages(this.#imagesDir, this.#claimsDir, liveClaims);
  }
}
