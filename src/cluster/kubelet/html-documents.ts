// What a simulated web server (nginx, httpd) serves from its document root: the files of the
// volumes mounted there (an emptyDir an init container filled, a ConfigMap, a claim an exec wrote
// into), else the image's own pages. Every path is resolved inside its volume as the kubelet
// resolves a subPath, so a link a container planted never leads the kubelet to a host file.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { SandboxMount } from './sandbox/index.ts';
import { PathEscape, walkInRoot } from './volume-root.ts';

/** Larger files are not served (the simulated server answers from memory). */
const MAX_DOCUMENT_BYTES = 1024 * 1024;

export interface DocumentAnswer {
  status: number;
  body: string;
}

/**
 * Reads a regular file: a walk's handle (/proc/self/fd/N, the very object the walk found, reopened)
 * or a path the kubelet resolved itself (never followed if it became a link); a FIFO never blocks.
 */
function readRegularFile(path: string, handle: boolean): string | 'directory' | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (handle ? 0 : constants.O_NOFOLLOW));
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return 'directory';
    if (!stat.isFile() || stat.size > MAX_DOCUMENT_BYTES) return undefined;
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** One path inside a mount: its content, 'directory', or undefined when it is not there (or leaves the volume). */
function lookup(mount: SandboxMount, relative: string): string | 'directory' | undefined {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(mount.source).isDirectory();
  } catch {
    return undefined;
  }
  // A file mounted on its own (a subPath, a ConfigMap key) is only itself.
  if (!isDirectory) return relative === '' ? readRegularFile(mount.source, false) : undefined;
  if (relative === '') return 'directory';
  try {
    return walkInRoot(mount.source, relative, { links: 'refuse-escape' }, (_resolved, handle) => readRegularFile(handle, true));
  } catch (error) {
    if (error instanceof PathEscape) return undefined;
    throw error;
  }
}

/**
 * The server's answer for a request path when a volume is mounted in its document root; undefined
 * when none is (the image's own pages answer). `ownPage` is the image's index page, which a volume
 * over the whole root hides.
 */
export function htmlDocuments(documentRoot: string, mounts: SandboxMount[], ownPage: string, notFound: string): ((path: string) => DocumentAnswer) | undefined {
  const root = posix.normalize(documentRoot);
  const inRoot = mounts.filter((mount) => mount.target === root || mount.target.startsWith(`${root}/`) || root.startsWith(`${mount.target}/`));
  if (inRoot.length === 0) return undefined;
  const cover = (path: string) =>
    inRoot.filter((mount) => path === mount.target || path.startsWith(`${mount.target}/`)).sort((a, b) => b.target.length - a.target.length)[0];
  const find = (path: string): string | 'directory' | undefined => {
    const mount = cover(path);
    if (mount) return lookup(mount, path.slice(mount.target.length).replace(/^\//, ''));
    // Not under a volume: the image's own files (its index page), and the directories above the volumes.
    if (path === `${root}/index.html`) return ownPage;
    return inRoot.some((other) => other.target.startsWith(`${path}/`)) || path === root ? 'directory' : undefined;
  };
  return (requestPath) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(requestPath.split('?')[0] ?? '/');
    } catch {
      return { status: 400, body: notFound.replaceAll('404 Not Found', '400 Bad Request') };
    }
    const path = posix.normalize(posix.join(root, decoded));
    if (path !== root && !path.startsWith(`${root}/`)) return { status: 404, body: notFound };
    const found = find(path);
    if (found === 'directory') {
      const index = find(posix.join(path, 'index.html'));
      return typeof index === 'string' && index !== 'directory' ? { status: 200, body: index } : { status: 403, body: notFound.replaceAll('404 Not Found', '403 Forbidden') };
    }
    return found === undefined ? { status: 404, body: notFound } : { status: 200, body: found };
  };
}

/** The mount a container path is under (the deepest), and the path's rest inside it. */
function mountOf(mounts: SandboxMount[], path: string): [SandboxMount, string] | undefined {
  const target = posix.normalize(path);
  const mount = mounts.filter((m) => target === m.target || target.startsWith(`${m.target}/`)).sort((a, b) => b.target.length - a.target.length)[0];
  return mount ? [mount, target.slice(mount.target.length).replace(/^\//, '')] : undefined;
}

/** A regular file at a container path, read from the volume mounted there; undefined when there is none (or it leaves its volume). */
export function readMountedFile(mounts: SandboxMount[], path: string): string | undefined {
  const found = mountOf(mounts, path);
  const content = found ? lookup(found[0], found[1]) : undefined;
  return content === 'directory' ? undefined : content;
}

/** The names in a container directory that a volume is mounted on or holds (a ConfigMap's keys, without its `..data`). */
export function listMountedDirectory(mounts: SandboxMount[], path: string): string[] {
  const found = mountOf(mounts, path);
  if (!found) return [];
  const [mount, relative] = found;
  try {
    return walkInRoot(mount.source, relative, { links: 'refuse-escape' }, (_resolved, handle) => readdirSync(handle)).filter((name) => !name.startsWith('..'));
  } catch {
    return [];
  }
}
