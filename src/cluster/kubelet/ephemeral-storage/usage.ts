// How much disk a pod uses, as the kubelet's stats provider reports it: `du` of each container's
// writable directories and each emptyDir volume, and the pod's total. Blocks really allocated are
// counted (a sparse file costs what it holds), every inode once (hard links do not multiply).
import { lstat, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** A walk stops counting here: a pod with more entries than this is far past any limit already. */
const MAX_ENTRIES = 200_000;

/** Bytes allocated under `path` (0 when it does not exist). */
export async function diskUsage(path: string, seen = new Set<string>()): Promise<number> {
  let total = 0;
  const pending = [path];
  let entries = 0;
  while (pending.length > 0 && entries < MAX_ENTRIES) {
    const current = pending.pop() as string;
    let stat;
    try {
      stat = await lstat(current, { bigint: true });
    } catch {
      continue;
    }
    entries++;
    const inode = `${stat.dev}:${stat.ino}`;
    if (seen.has(inode)) continue;
    seen.add(inode);
    total += Number(stat.blocks) * 512;
    if (!stat.isDirectory()) continue;
    try {
      for (const entry of await readdir(current)) pending.push(join(current, entry));
    } catch {
      // Removed while we looked.
    }
  }
  return total;
}

/** Bytes in use on the file system at `path` (the pod's own, when it has one). */
export async function filesystemUsage(path: string): Promise<number> {
  const stats = await statfs(path);
  return (stats.blocks - stats.bfree) * stats.bsize;
}
