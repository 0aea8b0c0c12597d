// Paths a learner names (a subPath, a hostPath, an expanded subPathExpr), resolved inside a root
// the kubelet owns without ever following a link out of it: the idea of openat2's RESOLVE_IN_ROOT,
// walked one component at a time. Each step looks up a single name in a directory already held
// open (through /proc/self/fd/N, which names the open directory itself, not a path that could be
// swapped), lstat()s it and never lets the kernel follow a symbolic link: a link is read and its
// target walked by the same rules. So a link planted by a container, or a directory renamed under
// our feet, can redirect the walk only to somewhere else inside the root.
//
// Directories the walk has to create are made the same way (mkdir by name in an open directory),
// then handed to their owner through the new directory's own descriptor, never through a path.
import { chmodSync, chownSync, closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync, writeSync } from 'node:fs';
import { posix } from 'node:path';

/** open(2)'s O_PATH (Linux): a handle on the object itself, to resolve names in, not to read. */
const O_PATH = 0o10000000;
/** Linux's MAXSYMLINKS: more links than this in one walk is a loop (ELOOP). */
const MAX_LINKS = 40;
/** A name that keeps changing under the walk (a container swapping it in a loop) ends it after this many looks. */
const MAX_RETRIES = 100;

/** How a link pointing above the root, or an absolute link, is taken. */
export type RootedLinks =
  /** As RESOLVE_IN_ROOT: `/` and `..` at the top mean the root itself (a node's own filesystem). */
  | 'within-root'
  /** As the kubelet's subPath checks: a link that leaves the volume is refused. */
  | 'refuse-escape';

export interface ResolveOptions {
  links: RootedLinks;
  /** Create missing directories on the way (and at the end), owned by this user. */
  create?: { uid: number; gid: number; mode: number } | undefined;
}

/** The walk stopped; the message is for the kubelet's log, never for the learner (it may name host paths). */
export class PathEscape extends Error {}

/** A component does not exist (and the walk was not asked to make it). */
export class PathMissing extends PathEscape {}

const handle = (fd: number, name?: string) => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

function openDirectory(path: string): number {
  return openSync(path, O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW);
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error ? String(error.code) : undefined;
}

function parts(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/**
 * The host path `relative` names inside `root`, after every link on the way was resolved within
 * the root. Missing components are created when `options.create` is given, else the walk fails.
 * The root itself must be a directory the kubelet made (it is opened without following links).
 */
export function resolveInRoot(root: string, relative: string, options: ResolveOptions): string {
  return walkInRoot(root, relative, options, (resolved) => resolved);
}

/**
 * Walks as resolveInRoot does, then calls `use` while the final object is still held open, with
 * its host path and a handle (/proc/self/fd/N) that names that very object: a name looked up
 * under the handle lands in it even if the path was swapped meanwhile.
 */
export function walkInRoot<T>(root: string, relative: string, options: ResolveOptions, use: (resolved: string, handle: string) => T): T {
  // A handle from an outer walk is the directory itself: through `/.` its magic link is followed.
  const rootFd = openDirectory(root.startsWith('/proc/self/fd/') ? `${root}/.` : root);
  const stack: number[] = [rootFd];
  const closeAbove = (depth: number) => {
    while (stack.length > depth) {
      const fd = stack.pop();
      if (fd !== undefined && fd !== rootFd) closeSync(fd);
    }
  };
  let finalFd: number | undefined;
  try {
    const queue = parts(relative);
    let links = 0;
    let retries = 0;
    const again = (name: string) => {
      if (++retries > MAX_RETRIES) throw new PathEscape(`"${relative}": ${name} keeps changing`);
      queue.unshift(name);
    };
    let madeHere: string | undefined;
    while (queue.length > 0) {
      if (finalFd !== undefined) throw new PathEscape(`"${relative}": a component before the last one is not a directory`);
      const name = queue.shift() as string;
      const made = madeHere === name;
      madeHere = undefined;
      if (name === '..') {
        if (stack.length > 1) closeAbove(stack.length - 1);
        else if (options.links === 'refuse-escape') throw new PathEscape(`"${relative}" steps above its root`);
        continue;
      }
      const parent = stack[stack.length - 1] as number;
      let stat;
      try {
        stat = lstatSync(handle(parent, name));
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
        if (!options.create) throw new PathMissing(`"${relative}": ${name} does not exist`);
        try {
          mkdirSync(handle(parent, name), { mode: 0o700 });
          madeHere = name;
        } catch (mkdirError) {
          if (errorCode(mkdirError) !== 'EEXIST') throw mkdirError;
        }
        // Whatever now has that name (ours, or something that raced us) is looked at afresh.
        again(name);
        continue;
      }
      if (stat.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw new PathEscape(`"${relative}": too many levels of symbolic links`);
        let target;
        try {
          target = readlinkSync(handle(parent, name));
        } catch (error) {
          // Swapped for a directory or a file since the lstat: look again.
          if (errorCode(error) === 'EINVAL' || errorCode(error) === 'ENOENT') {
            again(name);
            continue;
          }
          throw error;
        }
        if (target.startsWith('/')) {
          if (options.links === 'refuse-escape') throw new PathEscape(`"${relative}": ${name} is an absolute link`);
          closeAbove(1);
        }
        queue.unshift(...parts(target));
        continue;
      }
      if (stat.isDirectory()) {
        let fd;
        try {
          fd = openDirectory(handle(parent, name));
        } catch (error) {
          // Swapped for a link or a file since the lstat: look again.
          if (errorCode(error) === 'ENOTDIR' || errorCode(error) === 'ELOOP') {
            again(name);
            continue;
          }
          throw error;
        }
        if (made && options.create) {
          // Made just now by the mkdir above: handed to the sandbox user through its own descriptor.
          if (process.getuid?.() === 0) chownSync(handle(fd), options.create.uid, options.create.gid);
          chmodSync(handle(fd), options.create.mode);
        }
        stack.push(fd);
        continue;
      }
      // A file, socket or device: only the last component may be one.
      const fd = openSync(handle(parent, name), O_PATH | constants.O_NOFOLLOW);
      if (fstatSync(fd).isSymbolicLink()) {
        // Swapped for a link since the lstat (O_PATH|O_NOFOLLOW opened the link itself): look again.
        closeSync(fd);
        again(name);
        continue;
      }
      finalFd = fd;
    }
    const final = finalFd ?? (stack[stack.length - 1] as number);
    const resolved = readlinkSync(handle(final));
    const rootPath = readlinkSync(handle(rootFd));
    if (resolved !== rootPath && !resolved.startsWith(`${rootPath}/`)) throw new PathEscape(`"${relative}" resolved outside its root`);
    return use(resolved, handle(final));
  } finally {
    if (finalFd !== undefined) closeSync(finalFd);
    closeAbove(1);
    closeSync(rootFd);
  }
}

/** A descriptor of the kubelet's own on the object `handle` (from walkInRoot) names, to outlive the walk. */
export function pin(handle: string): number {
  return openSync(handle, O_PATH);
}

/**
 * Creates the file `name` in the directory `handle` names (from walkInRoot) unless something
 * already has that name: O_CREAT|O_EXCL follows no link, and owner and mode are set through the
 * new file's own descriptor. False when the name was taken (the learner's file or link stays).
 */
export function createFileAt(handle: string, name: string, content: string, mode: number, owner: { uid: number; gid: number }): boolean {
  let fd;
  try {
    fd = openSync(`${handle}/${name}`, 'wx', 0o600);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, content);
    if (process.getuid?.() === 0) fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** A subPath as the kubelet checks it after expansion: relative, without `..`; upstream's messages. */
export function subPathProblem(subPath: string): string | undefined {
  if (posix.isAbsolute(subPath)) return `error SubPath \`${subPath}\` must not be an absolute path`;
  if (subPath.split('/').includes('..')) return `unable to provision SubPath \`${subPath}\`: must not contain '..'`;
  return undefined;
}
