// SetVolumeOwnership (pkg/volume/volume_linux.go) for a volume whose files a learner controls (a
// PersistentVolumeClaim): every file and directory gets the pod's fsGroup as its group, group read
// and write (read only on a read-only volume) added, and directories search and setgid, so what
// the pod makes there later takes the group too. `fsGroupChangePolicy: OnRootMismatch` skips the
// walk when the volume's root already has that group and those bits; `Always` (the default) walks
// every time a pod mounts the volume.
//
// The kubelet walks as root through files a container may be changing under it: each name is
// opened with O_PATH|O_NOFOLLOW in its directory held open, and changed through /proc/self/fd/N,
// which names the very object opened, so a name swapped for a link can never send a chown or
// chmod out of the volume. Links themselves are left as they are (their mode means nothing, and
// their group cannot be changed without following them). The walk is asynchronous, a claim of many
// files does not stall the kubelet.
import { constants } from 'node:fs';
import { chmod, chown, type FileHandle, open, readdir } from 'node:fs/promises';

/** open(2)'s O_PATH (Linux): a handle on the object itself. */
const O_PATH = 0o10000000;
const READ_WRITE = 0o660;
const READ_ONLY = 0o440;
const SEARCH = 0o110;
const SETGID = 0o2000;
/** Deeper trees than this are left as they are below it (each level holds a descriptor open). */
const MAX_DEPTH = 256;

export type FsGroupChangePolicy = 'Always' | 'OnRootMismatch';

const at = (fd: number, name?: string) => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

function openPath(path: string): Promise<FileHandle> {
  return open(path, O_PATH | constants.O_NOFOLLOW);
}

/** Whether the root's group and mode already are what the fsGroup asks (requiresPermissionChange, negated). */
async function rootMatches(root: FileHandle, fsGroup: number, readOnly: boolean): Promise<boolean> {
  const stat = await root.stat();
  if (stat.gid !== fsGroup || !stat.isDirectory()) return false;
  const wanted = (readOnly ? READ_ONLY : READ_WRITE) | SEARCH;
  return (stat.mode & wanted) === wanted && (stat.mode & SETGID) !== 0;
}

async function changeOwnership(handle: FileHandle, fsGroup: number, readOnly: boolean, owner: number): Promise<'directory' | 'other'> {
  const stat = await handle.stat();
  if (stat.isSymbolicLink()) return 'other';
  // A file linked in from elsewhere that is not the volume owner's is not the volume's to change
  // (the kernel's protected_hardlinks already keeps a pod from linking files it does not own).
  if (!stat.isDirectory() && stat.nlink > 1 && stat.uid !== owner) return 'other';
  const path = at(handle.fd);
  await chown(path, stat.uid, fsGroup);
  const mask = (readOnly ? READ_ONLY : READ_WRITE) | (stat.isDirectory() ? SEARCH | SETGID : 0);
  await chmod(path, (stat.mode & 0o7777) | mask);
  return stat.isDirectory() ? 'directory' : 'other';
}

async function walk(directory: FileHandle, fsGroup: number, readOnly: boolean, owner: number, depth: number): Promise<void> {
  if (depth > MAX_DEPTH) return;
  let names: string[];
  try {
    names = await readdir(at(directory.fd));
  } catch {
    return;
  }
  for (const name of names) {
    let child: FileHandle;
    try {
      child = await openPath(at(directory.fd, name));
    } catch {
      // Gone meanwhile (the container removed it): nothing to change.
      continue;
    }
    try {
      if ((await changeOwnership(child, fsGroup, readOnly, owner)) === 'directory') await walk(child, fsGroup, readOnly, owner, depth + 1);
    } finally {
      await child.close();
    }
  }
}

/** The volume at `root` (a directory the kubelet made) handed to the host gid `fsGroup`. */
export async function setVolumeOwnership(root: string, fsGroup: number, policy: FsGroupChangePolicy, readOnly: boolean): Promise<void> {
  const handle = await open(root, O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    if (policy === 'OnRootMismatch' && (await rootMatches(handle, fsGroup, readOnly))) return;
    const owner = (await handle.stat()).uid;
    await changeOwnership(handle, fsGroup, readOnly, owner);
    await walk(handle, fsGroup, readOnly, owner, 1);
  } finally {
    await handle.close();
  }
}
