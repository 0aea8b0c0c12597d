// The hard ceiling on a pod's (or a claim's) disk: its directory is a small ext4 file system of
// its own, a sparse image file mounted through a loop device. However fast a learner writes (`dd`
// of several GB into /tmp, ~ or a PersistentVolumeClaim), the writes stop with ENOSPC at the
// image's size, so the host's disk never fills between two looks of the eviction manager. The
// image outlives the cluster process (a restart mounts it again) and goes with its pod or claim.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { lstat, open, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { findExecutable } from '../host-tools.ts';
import { inUserNamespace } from '../sandbox/index.ts';

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/** Mount points of this mount namespace (octal escapes as /proc writes them). */
function mountPoints(): Set<string> {
  const points = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4];
    if (point) points.add(point.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  }
  return points;
}

export function isMountPoint(path: string): boolean {
  return mountPoints().has(path);
}

let available: boolean | undefined;

/**
 * Loop-mounted images need root, mkfs.ext4 and loop devices; without them pods keep plain
 * directories (measured, not capped). Root of a user namespace (rootless mode) is not enough: the
 * kernel mounts ext4 only for the machine's own root.
 */
function imageFilesystemsAvailable(): boolean {
  if (available !== undefined) return available;
  available =
    process.platform === 'linux' &&
    process.getuid?.() === 0 &&
    !inUserNamespace() &&
    existsSync('/dev/loop-control') &&
    ['mkfs.ext4', 'mount', 'umount'].every((command) => findExecutable(command) !== null);
  return available;
}

async function createImage(image: string, sizeBytes: number): Promise<void> {
  const handle = await open(image, 'wx', 0o600);
  try {
    await handle.truncate(sizeBytes);
  } finally {
    await handle.close();
  }
  try {
    // No reserved blocks: the whole image is the pod's. No journal: a 4 GiB one would cost 64 MiB of
    // host disk before the pod writes a byte (2 MiB without), and ephemeral data need not survive a host crash.
    await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-O', '^has_journal', '-E', 'nodiscard,root_owner=0:0', '-L', 'pod', image]);
  } catch (error) {
    rmSync(image, { force: true });
    throw error;
  }
}

/**
 * The host's disk, as the images on it may fill it. Images are thin-provisioned, as an LVM thin
 * pool is: a new image is made only while the host keeps its reserve (10% of the disk, as the
 * kubelet's default nodefs.available eviction threshold) even if the new pod filled its image at
 * once, and while all the room the images may still take (each one's size less what it holds)
 * stays within OVERCOMMIT times what is free above the reserve. Every pod is still stopped at its
 * own ceiling, and the eviction manager (pressure.ts) evicts the largest users when the disk falls
 * under the reserve, as upstream's kubelet does (it promises nothing). Most pods write a small part
 * of their ceiling: at 8 a host with 65 GB free held about 155 workbenches; 32 holds 500 or more.
 */
const OVERCOMMIT = 32;

export class HostDisk {
  readonly #root: string;
  readonly #imageDirs: string[];
  readonly #reserveBytes: number | undefined;
  /** Admissions one at a time: each sees the images made before it. */
  #queue: Promise<unknown> = Promise.resolve();
  #usable: Promise<boolean> | undefined;

  constructor(options: { root: string; imageDirs: string[]; reserveBytes?: number }) {
    this.#root = options.root;
    this.#imageDirs = options.imageDirs;
    this.#reserveBytes = options.reserveBytes;
  }

  /**
   * Whether images can really be made and mounted here: the tools may exist where mounting is
   * refused (a container without CAP_SYS_ADMIN). Tried once with a small image; where it fails,
   * pods keep plain directories, measured and evicted but not capped.
   */
  usable(): Promise<boolean> {
    this.#usable ??= (async () => {
      if (!imageFilesystemsAvailable()) return false;
      const probe = join(this.#root, `.probe-${process.pid}`);
      try {
        mkdirSync(probe, { recursive: true });
        await createImage(`${probe}.img`, 8 * 1024 * 1024);
        await run('mount', ['-o', 'loop,nosuid,nodev', `${probe}.img`, probe]);
        await unmountImage(probe);
        return true;
      } catch {
        return false;
      } finally {
        rmSync(probe, { recursive: true, force: true });
        rmSync(`${probe}.img`, { force: true });
      }
    })();
    return this.#usable;
  }

  /** The host's share of the disk, as upstream reserves it by default: 10% of the file system. */
  #reserve(disk: { blocks: number; bsize: number }): number {
    return this.#reserveBytes ?? Math.floor(disk.blocks * disk.bsize * 0.1);
  }

  /** nodefs.available and its eviction threshold (the reserve), for the eviction manager. */
  async signal(): Promise<{ availableBytes: number; thresholdBytes: number }> {
    const disk = await statfs(this.#root);
    return { availableBytes: disk.bavail * disk.bsize, thresholdBytes: this.#reserve(disk) };
  }

  /** Makes the image when the disk can hold it; otherwise fails with what is free and what is promised. */
  create(image: string, sizeBytes: number): Promise<void> {
    const turn = this.#queue.then(async () => {
      const disk = await statfs(this.#root);
      const free = disk.bavail * disk.bsize;
      const reserve = this.#reserve(disk);
      let promised = 0;
      for (const dir of this.#imageDirs) {
        for (const file of await readdir(dir).catch(() => [])) {
          const stat = await lstat(join(dir, file)).catch(() => undefined);
          if (stat?.isFile()) promised += Math.max(0, stat.size - stat.blocks * 512);
        }
      }
      if (sizeBytes + reserve > free || promised + sizeBytes > OVERCOMMIT * (free - reserve)) {
        throw new Error(`the node's disk cannot hold another ${mebibytes(sizeBytes)} file system: ${mebibytes(free)} free, ${mebibytes(promised)} promised to pods and claims, ${mebibytes(reserve)} kept for the host`);
      }
      await createImage(image, sizeBytes);
    });
    this.#queue = turn.catch(() => undefined);
    return turn;
  }
}

function mebibytes(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))}Mi`;
}

/**
 * Mounts the image at `mountPoint`, making the image first (sparse, `sizeBytes`, if the host's
 * disk can hold it) when there is none. Already mounted (the cluster was killed, the mount
 * stayed): nothing to do.
 */
export async function mountImage(image: string, mountPoint: string, sizeBytes: number, disk: HostDisk): Promise<void> {
  if (isMountPoint(mountPoint)) return;
  if (!existsSync(image)) await disk.create(image, sizeBytes);
  await run('mount', ['-o', 'loop,nosuid,nodev', image, mountPoint]);
  rmSync(join(mountPoint, 'lost+found'), { recursive: true, force: true });
}

/**
 * Detaches the file system (lazily: a process that is still dying may hold it); the loop device
 * goes with the last user. Asynchronous: the API server shares the kubelet's event loop.
 */
export async function unmountImage(mountPoint: string): Promise<void> {
  if (isMountPoint(mountPoint)) await run('umount', ['-l', mountPoint]);
}

/** The same at start-up, before the cluster serves anyone. */
function unmountImageNow(mountPoint: string): void {
  if (isMountPoint(mountPoint)) execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore', timeout: 30_000 });
}

/** Directories in `mountsDir` (named <uid>) whose owner is gone: unmounted when they are mounted, then removed. */
export function removeOrphanedMounts(mountsDir: string, live: Set<string>): void {
  if (!existsSync(mountsDir)) return;
  for (const uid of readdirSync(mountsDir)) {
    if (live.has(uid)) continue;
    unmountImageNow(join(mountsDir, uid));
    rmSync(join(mountsDir, uid), { recursive: true, force: true });
  }
}

/**
 * Images (named <uid>.img) whose owner is gone, with the directories they were mounted on (<uid>
 * in `mountsDir`): the cluster stopped before it could remove them.
 */
export function removeOrphanedImages(imagesDir: string, mountsDir: string, live: Set<string>): void {
  if (!existsSync(imagesDir)) return;
  for (const file of readdirSync(imagesDir)) {
    const uid = file.replace(/\.img$/, '');
    if (live.has(uid)) continue;
    unmountImageNow(join(mountsDir, uid));
    rmSync(join(mountsDir, uid), { recursive: true, force: true });
    rmSync(join(imagesDir, file), { force: true });
  }
}
