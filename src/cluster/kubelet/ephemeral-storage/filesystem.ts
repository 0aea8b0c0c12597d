// The hard ceiling on a pod's (or a claim's) disk: its directory is a small ext4 file system of
// its own, a sparse image file mounted through a loop device. However fast a learner writes (`dd`
// of several GB into /tmp, ~ or a PersistentVolumeClaim), the writes stop with ENOSPC at the
// image's size, so the host's disk never fills between two looks of the eviction manager. The
// image outlives the cluster process (a restart mounts it again) and goes with its pod or claim.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

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

/** Loop-mounted images need root, mkfs.ext4 and loop devices; without them pods keep plain directories (measured, not capped). */
export function imageFilesystemsAvailable(): boolean {
  if (available !== undefined) return available;
  available =
    process.platform === 'linux' &&
    process.getuid?.() === 0 &&
    existsSync('/dev/loop-control') &&
    ['mkfs.ext4', 'mount', 'umount'].every((command) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0);
  return available;
}

/**
 * Mounts the image at `mountPoint`, making the image first (sparse, `sizeBytes`) when there is none.
 * Already mounted (the cluster was killed, the mount stayed): nothing to do.
 */
export async function mountImage(image: string, mountPoint: string, sizeBytes: number): Promise<void> {
  if (isMountPoint(mountPoint)) return;
  if (!existsSync(image)) {
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
