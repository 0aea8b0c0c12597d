// Runs a container's process for real, inside bubblewrap: the host's system directories read-only,
// a private /tmp, its own PID, IPC, UTS and network namespaces, as an unprivileged user, and in a
// cgroup with the pod's CPU, memory and PID limits where the machine allows. A sandbox sees only
// the directories the kubelet mounts into it (volumes, HOME), never the cluster's data dir,
// another sandbox's files, or the host's processes. Every process runs under the runtime-default
// seccomp filter (seccomp.ts).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import type { IPty } from '@lydell/node-pty';
import { findExecutable } from '../host-tools.ts';
import { SandboxCgroup, type SandboxLimits } from './cgroups.ts';
import type { PodNamespaces } from './pod-sandbox.ts';
import { runtimeDefaultFilter } from './seccomp.ts';

export { SandboxCgroup, type SandboxLimits } from './cgroups.ts';
export { capabilityRefusal, containerCapabilities, GRANTABLE_CAPABILITIES } from './capabilities.ts';
export { PodSandbox, type PodNamespaces, type PodSandboxOptions } from './pod-sandbox.ts';
export { inUserNamespace, rootlessLaunch, type RootlessLaunch } from './user-namespace.ts';

/** The host user a sandboxed process runs as when no sandbox identity is given. Inside, it appears as uid/gid 1000. */
export const SANDBOX_HOST_UID = 65534;
export const SANDBOX_HOST_GID = 65534;
export const INSIDE_UID = 1000;
export const INSIDE_GID = 1000;

/** The host user and group one sandbox's processes run as and its files belong to. */
export interface SandboxIdentity {
  uid: number;
  gid: number;
  /**
   * A pod's supplementary groups besides its primary one (image memberships, fsGroup,
   * supplementalGroups): each inside gid maps to a host gid reserved for this sandbox alone
   * (SandboxIdentities.groupsOf), never to a real group of the host. Absent outside a pod.
   */
  groups?: SupplementaryGroup[];
}

/** One supplementary group of a pod: its gid inside the pod's user namespace and the host gid it maps to. */
export interface SupplementaryGroup {
  inside: number;
  host: number;
}

export const SHARED_IDENTITY: SandboxIdentity = { uid: SANDBOX_HOST_UID, gid: SANDBOX_HOST_GID };

export interface SandboxMount {
  /** Directory or file on the host; it must be reachable by the sandbox user. */
  source: string;
  /** Absolute path inside the sandbox. */
  target: string;
  readOnly: boolean;
  /**
   * A descriptor the kubelet holds on the source (/proc/<kubelet>/fd/N, from the walk that
   * resolved a learner's path): the shell opens it and bubblewrap binds that very object
   * (--bind-fd), so a path a container swaps for a link after the walk cannot redirect the bind.
   */
  pinned?: string;
}

/** The shell's descriptors for pinned mounts: 4 to 9 (dash takes one digit; 3 is seccomp's). */
const PINNED_FDS = [4, 5, 6, 7, 8, 9];

function pinnedDescriptors(mounts: SandboxMount[]): Map<SandboxMount, number> {
  const pinned = mounts.filter((mount) => mount.pinned !== undefined).slice(0, PINNED_FDS.length);
  return new Map(pinned.map((mount, i) => [mount, PINNED_FDS[i] as number]));
}

/** The user and group a process is inside its user namespace (root, the image's user, runAsUser). */
export interface InsideUser {
  uid: number;
  gid: number;
}

/**
 * An image's own root file system (busybox, alpine): the container's writable copy becomes /,
 * the image's shared files are bound read-only into it, and none of the host's trees is seen.
 */
export interface SandboxRoot {
  writable: string;
  readOnly: Array<{ source: string; target: string }>;
}

/** Inside the sandbox, 127.0.0.1:port is carried to a Unix socket on the host. */
export interface SandboxForward {
  port: number;
  unixSocket: string;
}

export interface SandboxSpec {
  argv: string[];
  env: Record<string, string>;
  workingDir?: string;
  hostname: string;
  mounts: SandboxMount[];
  forwards?: SandboxForward[];
  /** Allocate a terminal of this size (kubectl exec -t, the workbench). */
  tty?: { cols: number; rows: number };
  /** Limits of a process's own cgroup, when it joins no container's (a standalone sandbox). */
  limits?: SandboxLimits;
  /** The container's cgroup, which the process joins: the container's and pod's limits hold for all its processes together. */
  cgroup?: SandboxCgroup;
  /**
   * Give the process a leaf of its own under the container's cgroup, so what it leaves running
   * ends with it (a container's process, an exec session); exec probes and hooks, short and many,
   * join the container's cgroup itself (on v2 its shared leaf: SandboxCgroup.sharedLeaf).
   */
  trackProcesses?: boolean;
  /**
   * With trackProcesses: what the process leaves running when it ends (a daemon that escaped the
   * terminal's hang-up, like the tmux server of a workbench terminal, or `nohup`) stays in the
   * container, as under a container runtime, instead of ending with it. Exec sessions.
   */
  survivorsStay?: boolean;
  /** Join these namespaces of a pod sandbox (network, IPC, UTS, PID, user) instead of making its own. */
  pod?: PodNamespaces;
  /** The host user it runs as (default SHARED_IDENTITY). */
  identity?: SandboxIdentity;
  /** Who it is inside when it makes its own user namespace (in a pod, the pod sandbox decides); default uid/gid 1000. */
  user?: InsideUser;
  /** The image's root file system; without it, the host's system trees read-only. */
  root?: SandboxRoot;
  /** securityContext.readOnlyRootFilesystem: the root (and what belongs to it, /tmp and HOME) cannot be written; volumes keep their own mode. */
  readOnlyRoot?: boolean;
  /**
   * In a pod: a PID namespace of its own under the pod's, with the process as its PID 1, as a
   * container's main process has (execs then join it through ownPidNamespace's answer).
   */
  ownPidNamespace?: boolean;
  /**
   * The capabilities its processes hold inside the pod's user namespace (names without CAP_, from
   * containerCapabilities): permitted and effective for root, only in the bounding set for another
   * user, as under a container runtime. None when absent.
   */
  capabilities?: string[];
}

/** A container's PID namespace, held open by the kubelet while the container runs. */
export interface PidNamespace {
  /** What a joining process opens (/proc/<kubelet>/fd/N); undefined once the namespace has no init. */
  readonly path: string | undefined;
  close(): void;
}

export interface SandboxExit {
  exitCode: number;
  signal: string | null;
  oomKilled: boolean;
}

export type OutputStream = 'stdout' | 'stderr';

export interface SandboxedProcess {
  readonly pid: number;
  write(data: string | Uint8Array): void;
  /** No more input: the process sees end of file on stdin (not meaningful with a terminal). */
  endInput(): void;
  resize(cols: number, rows: number): void;
  onOutput(listener: (stream: OutputStream, data: Buffer) => void): void;
  readonly exited: Promise<SandboxExit>;
  /** Signals every process of the sandbox; SIGKILL also tears the namespace down. */
  kill(signal?: NodeJS.Signals): void;
  /**
   * The connection went away. With a terminal, the terminal closes and the kernel hangs up its
   * session (the shell and its foreground job get SIGHUP, as when a terminal window closes);
   * without one, every process of the sandbox gets SIGHUP.
   */
  hangUp(): void;
  /** The working set of the process's cgroup. */
  memoryUsageBytes(): number | undefined;
  /** CPU time its cgroup used since the process joined it, in nanoseconds: a container instance's counter starts at zero. */
  cpuUsageNanos(): number | undefined;
}

export type SandboxSupport =
  | {
      mode: 'bubblewrap';
      bwrap: string;
      setpriv: string;
      socat: string | null;
      runtimeDir: string;
      /** The runtime-default seccomp program (a file bubblewrap reads through --seccomp); null where no syscall table is known. */
      seccompFilter: string | null;
      /** The same program allowing chroot, for processes that hold SYS_CHROOT. */
      seccompFilterWithChroot: string | null;
      /** util-linux nsenter: joins a pod sandbox's network, IPC and UTS namespaces; null: every process gets its own. */
      nsenter: string | null;
      /** Host paths no sandbox may see even where they lie inside a tree it sees (the cluster's and the portal's data). */
      hidden: string[];
    }
  | { mode: 'unsafe-local' }
  | { mode: 'unavailable'; reason: string };

const which = (command: string): string | null => findExecutable(command);

/**
 * Decides how shells may run on this machine. Without bubblewrap the cluster refuses shells,
 * unless the operator chose `--unsafe-local-shell` for a single-user laptop.
 */
export function detectSandboxSupport(options: { unsafeLocalShell: boolean; runtimeDir: string; hiddenPaths?: string[] }): SandboxSupport {
  const bwrap = which('bwrap');
  const setpriv = which('setpriv');
  if (bwrap && setpriv && process.getuid?.() === 0) {
    const probe = spawnSync(setpriv, [...dropPrivileges(), bwrap, '--unshare-all', '--ro-bind', '/usr', '/usr', ...systemLinks(), '/usr/bin/true'], {
      encoding: 'utf8',
      timeout: 5000,
    });
    if (probe.status === 0) {
      prepareRuntimeDir(options.runtimeDir);
      return {
        mode: 'bubblewrap',
        bwrap,
        setpriv,
        socat: which('socat'),
        runtimeDir: options.runtimeDir,
        seccompFilter: writeSeccompFilter(options.runtimeDir, 'seccomp.bpf', runtimeDefaultFilter()),
        seccompFilterWithChroot: writeSeccompFilter(options.runtimeDir, 'seccomp-chroot.bpf', runtimeDefaultFilter(process.arch, { allowChroot: true })),
        nsenter: which('nsenter'),
        hidden: (options.hiddenPaths ?? []).map((path) => resolve(path)),
      };
    }
    if (options.unsafeLocalShell) return { mode: 'unsafe-local' };
    return { mode: 'unavailable', reason: `bubblewrap cannot create a sandbox here (${probe.stderr.trim() || `exit ${probe.status}`}); start the cluster with --unsafe-local-shell to run shells unsandboxed on a single-user machine` };
  }
  if (options.unsafeLocalShell) return { mode: 'unsafe-local' };
  if (!bwrap) return { mode: 'unavailable', reason: 'bubblewrap (bwrap) is not installed, so shells cannot be sandboxed: install it (apt-get install bubblewrap) or start the cluster with --unsafe-local-shell on a single-user machine' };
  return { mode: 'unavailable', reason: 'sandboxed shells need the cluster to run as root, or rootless in a user namespace of its own (`formicary cluster` makes one for a normal user with a subordinate uid range); start it so, or with --unsafe-local-shell on a single-user machine' };
}

/**
 * setpriv's options that make the kubelet the sandbox's host user: its own gid and the pod's
 * supplementary groups' host gids as the only groups (the kubelet's are never inherited), no
 * capabilities. In the pod's user namespace those gids are the groups `id` shows.
 */
export function dropPrivileges(identity: SandboxIdentity = SHARED_IDENTITY): string[] {
  // A pod's processes hold their primary group as a supplementary one too, as containerd gives it.
  const membership = identity.groups ? `--groups=${[identity.gid, ...identity.groups.map((group) => group.host)].join(',')}` : '--clear-groups';
  return [`--reuid=${identity.uid}`, `--regid=${identity.gid}`, membership, '--inh-caps=-all', '--bounding-set=-all'];
}

/** The runtime dir holds files every sandbox reads (passwd, group); it must be traversable by the sandbox user. */
function prepareRuntimeDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o711);
  writeFileSync(join(dir, 'passwd'), `root:x:0:0:root:/root:/bin/bash\nlearner:x:${INSIDE_UID}:${INSIDE_GID}:Formicary learner:/home/learner:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`);
  writeFileSync(join(dir, 'group'), `root:x:0:\nlearner:x:${INSIDE_GID}:\nnogroup:x:65534:\n`);
  chmodSync(join(dir, 'passwd'), 0o644);
  chmodSync(join(dir, 'group'), 0o644);
}

function writeSeccompFilter(runtimeDir: string, file: string, filter: Buffer | undefined): string | null {
  if (!filter) return null;
  const path = join(runtimeDir, file);
  writeFileSync(path, filter, { mode: 0o644 });
  return path;
}

/** The seccomp hook of a spawn: bubblewrap loads the filter from fd 3 (after its own set-up, before the container's process) and the shell that execs it opens that fd. */
function seccompArgs(support: Extract<SandboxSupport, { mode: 'bubblewrap' }>, capabilities: string[]): { bwrap: string[]; redirect: string } {
  const filter = capabilities.includes('SYS_CHROOT') ? support.seccompFilterWithChroot : support.seccompFilter;
  if (!filter) return { bwrap: [], redirect: '' };
  return { bwrap: ['--seccomp', '3'], redirect: ` 3< '${filter.replaceAll("'", "'\\''")}'` };
}

/**
 * bubblewrap raises what it adds in the inheritable and ambient sets too, so a user other than
 * root would hold them after exec; a runtime leaves them only in root's permitted and effective
 * sets (and everyone's bounding set). setpriv lowers them before the command runs: busybox's in
 * an image's root (which runs its own applets first, as the image's shell does), the host's
 * util-linux one where the host's tools are the image's.
 */
function withRuntimeCapabilities(argv: string[], capabilities: string[], root: SandboxRoot | undefined, hostSetpriv: string, path: string): string[] {
  if (capabilities.length === 0) return argv;
  const lowered = capabilities.map((name) => `-${name.toLowerCase()}`).join(',');
  const setpriv = root ? ['/bin/busybox', 'setpriv'] : [hostSetpriv];
  return [...setpriv, '--inh-caps', lowered, '--ambient-caps', lowered, ...(root ? imageProgramFirst(argv, root, path) : argv)];
}

/**
 * busybox's setpriv runs an applet of its own before a program of that name on PATH; the image's
 * own program (a version's stand-in script such as busybox 1.28's nslookup) is named by its path
 * so that it runs, as exec finds it in the image. Applets are left as typed.
 */
function imageProgramFirst(argv: string[], root: SandboxRoot, path: string): string[] {
  const [program, ...rest] = argv;
  if (!program || program.includes('/')) return argv;
  for (const dir of path.split(':')) {
    if (!dir.startsWith('/')) continue;
    const found = lstatSync(join(root.writable, dir, program), { throwIfNoEntry: false });
    if (!found) continue;
    return found.isFile() ? [posix.join(dir, program), ...rest] : argv;
  }
  return argv;
}

/** Makes a host directory only the sandbox's user can enter and write (emptyDir, HOME): 0700, owned by its identity. */
export function createSandboxDirectory(path: string, owner: SandboxIdentity = SHARED_IDENTITY): void {
  mkdirSync(path, { recursive: true });
  if (process.getuid?.() === 0) chownSync(path, owner.uid, owner.gid);
  chmodSync(path, 0o700);
}

const SYSTEM_TREES = ['/usr', '/etc', '/opt'];

/**
 * Binds a host tree read-only. When a volume lands inside it (a ConfigMap at /etc/config), the
 * tree is bound entry by entry along that path, so the mount point can be made in a writable
 * directory of bubblewrap's own rather than in the read-only host tree.
 */
function bindTree(hostDir: string, targets: string[], args: string[]): void {
  const inside = targets.filter((target) => target.startsWith(`${hostDir}/`));
  if (inside.length === 0) {
    args.push('--ro-bind', hostDir, hostDir);
    return;
  }
  args.push('--dir', hostDir);
  for (const entry of readdirSync(hostDir)) {
    const path = posix.join(hostDir, entry);
    if (targets.includes(path)) continue;
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (stat.isDirectory() && inside.some((target) => target.startsWith(`${path}/`))) bindTree(path, targets, args);
    else args.push('--ro-bind', path, path);
  }
}

/** /bin, /lib and friends: links into /usr on merged-usr systems, directories elsewhere. */
export function systemLinks(): string[] {
  const args: string[] = [];
  for (const link of ['bin', 'lib', 'lib64', 'sbin', 'lib32', 'libx32']) {
    const path = `/${link}`;
    if (!existsSync(path)) continue;
    if (lstatSync(path).isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else args.push('--ro-bind', path, path);
  }
  return args;
}

/** Where a joining bubblewrap reads the pod's user and PID namespaces (the shell opens them before it execs). */
const USERNS_FD = 10;
const PIDNS_FD = 11;

function bubblewrapArgs(spec: SandboxSpec, support: Extract<SandboxSupport, { mode: 'bubblewrap' }>, forwardSockets: Map<number, string>): string[] {
  // In a pod sandbox the process joins the pod's namespaces and gets only its own mount (and
  // cgroup) namespace; alone, it gets every namespace of its own.
  const user = spec.user ?? { uid: INSIDE_UID, gid: INSIDE_GID };
  const args = spec.pod
    ? [
        '--userns',
        String(USERNS_FD),
        // A container's own PID namespace is made straight from bubblewrap (under the pod's, bubblewrap's
        // intermediate children would leave the command to the pod's reaper, out of bubblewrap's wait).
        ...(spec.ownPidNamespace ? ['--unshare-pid', '--as-pid-1'] : ['--pidns', String(PIDNS_FD)]),
        '--unshare-cgroup-try',
        '--die-with-parent',
      ]
    : ['--unshare-all', '--die-with-parent', '--uid', String(user.uid), '--gid', String(user.gid), '--hostname', spec.hostname];
  // Without a terminal, a new session keeps the sandbox from pushing input into ours (TIOCSTI).
  // With one, the terminal is the sandbox's own, and bash needs it as its controlling terminal.
  if (!spec.tty) args.push('--new-session');
  for (const name of spec.capabilities ?? []) args.push('--cap-add', `CAP_${name}`);
  if (spec.root) {
    args.push(spec.readOnlyRoot ? '--ro-bind' : '--bind', spec.root.writable, '/');
    for (const shared of spec.root.readOnly) args.push('--ro-bind', shared.source, shared.target);
    args.push('--dev', '/dev', '--proc', '/proc');
    if (forwardSockets.size > 0) args.push('--tmpfs', '/run');
  } else {
    const targets = spec.mounts.map((mount) => mount.target);
    for (const tree of SYSTEM_TREES) if (existsSync(tree)) bindTree(tree, targets, args);
    args.push(...systemLinks());
    args.push(...maskArgs(support.hidden));
    args.push('--ro-bind', join(support.runtimeDir, 'passwd'), '/etc/passwd', '--ro-bind', join(support.runtimeDir, 'group'), '/etc/group');
    args.push('--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--tmpfs', '/run', '--dir', '/var/tmp');
  }
  const pinned = pinnedDescriptors(spec.mounts);
  for (const mount of spec.mounts) {
    const fd = pinned.get(mount);
    if (fd !== undefined) args.push(mount.readOnly ? '--ro-bind-fd' : '--bind-fd', String(fd), mount.target);
    else args.push(mount.readOnly ? '--ro-bind' : '--bind', mount.source, mount.target);
  }
  for (const [port, socket] of forwardSockets) args.push('--ro-bind', socket, `/run/formicary/forward-${port}.sock`);
  // bubblewrap's own root (the directories it made for the host's trees and the mount points) stays writable otherwise.
  if (spec.readOnlyRoot && !spec.root) args.push('--remount-ro', '/');
  args.push('--clearenv');
  for (const [name, value] of Object.entries(spec.env)) args.push('--setenv', name, value);
  if (spec.workingDir) args.push('--chdir', spec.workingDir);
  return args;
}

/**
 * The cluster's and the portal's data directories are covered wherever they lie inside a tree the
 * sandbox sees (/usr, /etc, /opt): an empty read-only directory over a directory, /dev/null over
 * a file.
 */
function maskArgs(hidden: string[]): string[] {
  const args: string[] = [];
  for (const path of hidden) {
    if (!SYSTEM_TREES.some((tree) => path === tree || path.startsWith(`${tree}/`))) continue;
    // Inside another hidden path, or behind a directory others cannot pass: already out of sight
    // (and bubblewrap, as the sandbox user, could not reach it to cover it).
    if (hidden.some((other) => path.startsWith(`${other}/`)) || !passable(posix.dirname(path))) continue;
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) args.push('--perms', '0000', '--tmpfs', path, '--remount-ro', path);
    else args.push('--ro-bind', '/dev/null', path);
  }
  return args;
}

/** Whether every directory from / down to this one lets others through (o+x). */
function passable(dir: string): boolean {
  for (let current = dir; ; current = posix.dirname(current)) {
    const stat = lstatSync(current, { throwIfNoEntry: false });
    if (!stat || (stat.mode & 0o001) === 0) return false;
    if (current === '/') return true;
  }
}

/** Inside the sandbox: start the forwarders, then become the container's process. */
function withForwards(argv: string[], forwards: SandboxForward[], socat: string | null): string[] {
  if (forwards.length === 0) return argv;
  if (!socat) throw new Error('socat is not installed: the sandbox cannot reach the API server without it (apt-get install socat)');
  const starts = forwards
    .map((forward) => `${socat} TCP-LISTEN:${forward.port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:/run/formicary/forward-${forward.port}.sock 2>/dev/null &`)
    .join(' ');
  const waits = forwards.map((forward) => `i=0; while [ $i -lt 100 ] && ! grep -qi ':${forward.port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A' /proc/net/tcp; do i=$((i+1)); sleep 0.01; done;`).join(' ');
  return ['/bin/sh', '-c', `${starts} ${waits} exec "$@"`, 'sh', ...argv];
}

/**
 * The terminal's foreground process group belongs to the session outside the sandbox's PID
 * namespace, where shells cannot see it: dash then fails its exit ("Cannot set tty process group",
 * status 2) and job control is off. An interactive bash takes the terminal's foreground inside the
 * namespace, then becomes the command.
 */
function asTerminalLeader(argv: string[]): string[] {
  if (!existsSync('/bin/bash')) return argv;
  return ['/bin/bash', '--norc', '--noprofile', '-i', '-c', 'exec "$@"', 'terminal', ...argv];
}

/** Starts the process. Throws when the machine cannot sandbox shells (see detectSandboxSupport). */
function quoted(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}

/** How long output may trail a process's exit before the exit is reported anyway. */
const OUTPUT_DRAIN_MS = 2000;

/** Standalone sandboxes (no container's cgroup) get their cgroups under this kubelet-wide parent. */
let standaloneParent: Promise<SandboxCgroup | null> | undefined;

/** Starts the process. Throws when the machine cannot sandbox shells (see detectSandboxSupport). */
export async function spawnSandboxed(spec: SandboxSpec, support: SandboxSupport): Promise<SandboxedProcess> {
  if (support.mode === 'unavailable') throw new Error(support.reason);
  const id = randomBytes(6).toString('hex');
  const placement: Placement = { joined: null, own: null, survivorsTo: null, oomBefore: 0, cpuBefore: 0 };
  if (support.mode === 'bubblewrap') {
    if (spec.cgroup) {
      if (spec.trackProcesses) placement.own = await spec.cgroup.processLeaf(`process-${id}`);
      // What has no leaf of its own (a probe, a hook) and what a session leaves running go to the
      // container's shared leaf: on v2 only leaves take processes (see sharedLeaf).
      const shared = !placement.own || spec.survivorsStay ? ((await spec.cgroup.sharedLeaf()) ?? spec.cgroup) : null;
      if (spec.survivorsStay) placement.survivorsTo = shared;
      placement.joined = placement.own ?? shared;
    } else {
      placement.own = (await (await (standaloneParent ??= SandboxCgroup.parent('formicary-standalone', {})))?.child(`process-${id}`, spec.limits ?? {})) ?? null;
      placement.joined = placement.own;
    }
  }
  // The OOM killer's count where this process's memory is accounted (the container's, on v1): one
  // more by its end, and a SIGKILL, is this process's OOM kill.
  placement.oomBefore = placement.joined?.oomKills() ?? 0;
  // The CPU counter where it is read: on v1 the container's, which every earlier instance of the
  // container (and its execs) ran up. A runtime makes each instance a cgroup of its own, whose
  // counter starts at zero at its creation: this process's counts from here.
  placement.cpuBefore = placement.joined?.cpuUsageNanos() ?? 0;
  const cgroup = placement.joined;

  let argv: string[];
  let env: Record<string, string>;
  if (support.mode === 'bubblewrap') {
    if (spec.pod && !support.nsenter) throw new Error('nsenter (util-linux) is not installed: a process cannot join its pod sandbox without it');
    // A pod's forwards listen once in the pod's network namespace (PodSandbox.forward); alone, the sandbox starts its own.
    const forwards = spec.pod ? [] : (spec.forwards ?? []);
    if (spec.root && forwards.length > 0) throw new Error('nsenter (util-linux) is not installed: a container with its image\'s root file system reaches the network only through its pod sandbox');
    const forwardSockets = new Map(forwards.map((forward) => [forward.port, forward.unixSocket] as const));
    // busybox's ash takes the terminal's foreground itself; the host's bash is not in an image's root.
    const capabilities = spec.capabilities ?? [];
    const command = withRuntimeCapabilities(spec.argv, capabilities, spec.root, support.setpriv, spec.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    const inner = withForwards(spec.tty && !spec.root ? asTerminalLeader(command) : command, forwards, support.socat);
    const seccomp = seccompArgs(support, capabilities);
    const bwrap = [support.bwrap, ...seccomp.bwrap, ...bubblewrapArgs(spec, support, forwardSockets), '--', ...inner];
    // Supplementary groups are mapped only in a pod's user namespace; alone, the process has none.
    const identity = spec.identity ?? SHARED_IDENTITY;
    const drop = [support.setpriv, ...dropPrivileges(spec.pod ? identity : { uid: identity.uid, gid: identity.gid }), ...bwrap];
    // The shell joins the cgroup before it becomes the sandbox, so no child can escape the limits;
    // in a pod it opens the pod's namespaces for bubblewrap and enters the network, IPC and UTS ones
    // (bash: the namespace descriptors are above dash's single digit, left to pinned mounts).
    const joinCgroup = cgroup ? cgroup.procsFiles.map((file) => `echo $$ > ${quoted(file)} &&`).join(' ') : '';
    const pins = [...pinnedDescriptors(spec.mounts)].map(([mount, fd]) => ` ${fd}< ${quoted(mount.pinned ?? '')}`).join('');
    const pod = spec.pod;
    const enter = pod ? `exec ${USERNS_FD}< ${quoted(pod.user)} ${PIDNS_FD}< ${quoted(pod.pid)} && ` : '';
    const nsenter = pod && support.nsenter ? [support.nsenter, `--net=${pod.net}`, `--uts=${pod.uts}`, `--ipc=${pod.ipc}`, '--'] : [];
    // --norc: bash reads ~/.bashrc when its stdin is a socket, as Node's pipes are.
    argv = [...(pod ? ['/bin/bash', '--norc', '--noprofile'] : ['/bin/sh']), '-c', `${joinCgroup} ${enter}exec "$@"${seccomp.redirect}${pins}`, 'sh', ...nsenter, ...drop];
    env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
  } else {
    argv = spec.argv;
    env = spec.env;
  }

  return spec.tty ? spawnWithTerminal(argv, env, spec, placement) : spawnWithPipes(argv, env, spec, placement, support.mode === 'unsafe-local');
}

const FIND_INIT_TRIES = 400;

/** bubblewrap's child that is PID 1 of a PID namespace (NSpid ends in 1), if it has one now. */
function pidNamespaceInit(bubblewrapPid: number): number | undefined {
  let children: string;
  try {
    children = readFileSync(`/proc/${bubblewrapPid}/task/${bubblewrapPid}/children`, 'utf8').trim();
  } catch {
    return undefined;
  }
  for (const child of children.split(' ').filter(Boolean).map(Number)) {
    try {
      const nspid = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${child}/status`, 'utf8'))?.[1]?.trim().split(/\s+/);
      if (nspid && nspid.length > 1 && nspid.at(-1) === '1') return child;
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

/**
 * The PID namespace a process started with ownPidNamespace made: bubblewrap's child, PID 1 there,
 * opened as soon as it exists (before the container's command could end) and held until closed.
 * Its path is checked on every use: joining a namespace whose PID 1 has gone fails (fork gives
 * ENOMEM, which bubblewrap reports as "Can't fork for --pidns: Cannot allocate memory"), so a
 * namespace whose init is not the one held is looked up again among bubblewrap's children.
 */
export async function ownPidNamespace(process: SandboxedProcess): Promise<PidNamespace | undefined> {
  for (let tries = 0; tries < FIND_INIT_TRIES; tries++) {
    const init = pidNamespaceInit(process.pid);
    if (init === undefined) {
      try {
        readFileSync(`/proc/${process.pid}/stat`);
      } catch {
        return undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    let held: { init: number; fd: number } | undefined;
    const open = (pid: number) => {
      const fd = openSync(`/proc/${pid}/ns/pid`, 'r');
      if (held) closeSync(held.fd);
      held = { init: pid, fd };
    };
    try {
      open(init);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    return {
      get path() {
        if (!held) return undefined;
        const now = pidNamespaceInit(process.pid);
        if (now !== held.init) {
          try {
            if (now === undefined) throw new Error('no init');
            open(now);
          } catch {
            return undefined;
          }
        }
        return `/proc/${globalThis.process.pid}/fd/${held.fd}`;
      },
      close: () => {
        if (held) closeSync(held.fd);
        held = undefined;
      },
    };
  }
  return undefined;
}

/** Where a process's pid went (`joined`), the leaf that is its own, if any, and the OOM and CPU counts at its start. */
interface Placement {
  joined: SandboxCgroup | null;
  own: SandboxCgroup | null;
  /** Where what the process leaves running goes when it ends (survivorsStay); null: it is killed. */
  survivorsTo: SandboxCgroup | null;
  oomBefore: number;
  cpuBefore: number;
}

/** CPU time used where the process is accounted since it was placed there, in nanoseconds. */
function cpuSincePlaced(placement: Placement): number | undefined {
  const now = placement.joined?.cpuUsageNanos();
  return now === undefined ? undefined : Math.max(0, now - placement.cpuBefore);
}

/** What the process left running in its own leaf: killed, or handed to the container. */
function endLeftovers(placement: Placement): void {
  if (placement.survivorsTo) placement.own?.moveAllTo(placement.survivorsTo);
  else placement.own?.killAll();
}

function finish(placement: Placement, exitCode: number, signal: string | null): SandboxExit {
  const killed = exitCode === 137 || signal === 'SIGKILL' || signal === '9';
  const oomKilled = killed && (placement.joined?.oomKills() ?? 0) > placement.oomBefore;
  const own = placement.own;
  if (own) {
    endLeftovers(placement);
    setTimeout(() => void own.remove(), 100).unref();
  }
  return { exitCode: oomKilled ? 137 : exitCode, signal, oomKilled };
}

function signalAll(pid: number, cgroup: SandboxCgroup | null, signal: NodeJS.Signals): void {
  const pids = cgroup?.pids() ?? [];
  for (const target of pids.length > 0 ? pids : [pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Most output a process may print before anyone listens; past it, the oldest is dropped. */
const EARLY_OUTPUT_BYTES = 1024 * 1024;

/**
 * A process's output to its listeners. What it printed before the first listener came (a
 * container that printed and exited while the kubelet was still setting it up) is kept and given
 * to that listener, so no line of a short-lived container's log is lost.
 */
class OutputFanout {
  readonly #listeners: Array<(stream: OutputStream, data: Buffer) => void> = [];
  #early: Array<[OutputStream, Buffer]> | null = [];
  #earlyBytes = 0;

  emit(stream: OutputStream, data: Buffer): void {
    if (this.#early) {
      this.#early.push([stream, data]);
      this.#earlyBytes += data.length;
      while (this.#earlyBytes > EARLY_OUTPUT_BYTES && this.#early.length > 1) this.#earlyBytes -= this.#early.shift()![1].length;
      return;
    }
    for (const listener of this.#listeners) listener(stream, data);
  }

  listen(listener: (stream: OutputStream, data: Buffer) => void): void {
    this.#listeners.push(listener);
    const early = this.#early;
    if (!early) return;
    this.#early = null;
    for (const [stream, data] of early) listener(stream, data);
  }
}

function spawnWithPipes(argv: string[], env: Record<string, string>, spec: SandboxSpec, placement: Placement, local: boolean): SandboxedProcess {
  const [command, ...args] = argv as [string, ...string[]];
  const child = spawn(command, args, { env, cwd: local ? spec.workingDir : undefined, stdio: ['pipe', 'pipe', 'pipe'], detached: local });
  const output = new OutputFanout();
  child.stdout.on('data', (data: Buffer) => output.emit('stdout', data));
  child.stderr.on('data', (data: Buffer) => output.emit('stderr', data));
  child.stdin.on('error', () => {});
  const exited = new Promise<SandboxExit>((resolve) => {
    child.on('error', () => resolve(finish(placement, 127, null)));
    // What the process left running in its own leaf ends with it; the exit counts once its output
    // is read, or a moment after (a process it left behind may hold the pipes).
    child.on('exit', (code, signal) => {
      endLeftovers(placement);
      const result = () => resolve(finish(placement, code ?? (signal ? 128 + signalNumber(signal) : 1), signal));
      const late = setTimeout(result, OUTPUT_DRAIN_MS);
      child.once('close', () => {
        clearTimeout(late);
        result();
      });
    });
  });
  // After the exit its pid may belong to someone else: signals stop here.
  let done = false;
  void exited.then(() => (done = true));
  const kill = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (done) return;
    if (local && child.pid) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    } else signalAll(child.pid ?? -1, placement.own, signal);
    if (signal === 'SIGKILL') child.kill('SIGKILL');
  };
  return {
    pid: child.pid ?? -1,
    write: (data) => {
      if (!child.stdin.destroyed) child.stdin.write(data);
    },
    endInput: () => child.stdin.end(),
    resize: () => {},
    onOutput: (listener) => output.listen(listener),
    exited,
    kill,
    hangUp: () => kill('SIGHUP'),
    memoryUsageBytes: () => placement.joined?.memoryUsageBytes(),
    cpuUsageNanos: () => cpuSincePlaced(placement),
  };
}

async function spawnWithTerminal(argv: string[], env: Record<string, string>, spec: SandboxSpec, placement: Placement): Promise<SandboxedProcess> {
  const pty = await import('@lydell/node-pty');
  const [command, ...args] = argv as [string, ...string[]];
  const terminal: IPty = pty.spawn(command, args, {
    name: spec.env.TERM ?? 'xterm-256color',
    cols: spec.tty?.cols || 80,
    rows: spec.tty?.rows || 24,
    cwd: spec.workingDir && existsSync(spec.workingDir) ? spec.workingDir : '/',
    env,
  });
  const output = new OutputFanout();
  terminal.onData((data) => {
    const bytes = Buffer.from(data, 'utf8');
    output.emit('stdout', bytes);
  });
  const exited = new Promise<SandboxExit>((resolve) => {
    terminal.onExit(({ exitCode, signal }) => resolve(finish(placement, signal ? 128 + signal : exitCode, signal ? String(signal) : null)));
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    pid: terminal.pid,
    write: (data) => terminal.write(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')),
    endInput: () => terminal.write('\x04'),
    resize: (cols, rows) => {
      if (cols > 0 && rows > 0) terminal.resize(cols, rows);
    },
    onOutput: (listener) => output.listen(listener),
    exited,
    kill: (signal = 'SIGTERM') => {
      if (done) return;
      signalAll(terminal.pid, placement.own, signal);
      if (signal === 'SIGKILL') terminal.kill('SIGKILL');
    },
    hangUp: () => {
      if (done) return;
      // Closing the terminal's master side: the kernel hangs up the session it controls.
      (terminal as IPty & { destroy?: () => void }).destroy?.();
    },
    memoryUsageBytes: () => placement.joined?.memoryUsageBytes(),
    cpuUsageNanos: () => cpuSincePlaced(placement),
  };
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
function signalNumber(signal: string): number {
  return SIGNALS[signal] ?? 9;
}
