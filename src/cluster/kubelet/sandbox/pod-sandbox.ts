// A pod sandbox, as a container runtime has one (CRI RunPodSandbox): one user, PID, network, IPC
// and UTS namespace a pod, made once by a small pause process the kubelet holds, one cgroup, and
// one host identity. Every container process, exec, exec probe and hook of the pod joins it
// (spawnSandboxed with `pod`), keeping only its own mount namespace: `ps` anywhere in the pod shows
// the pod's processes, localhost is the pod's, and the pod's limits bind them all together.
// Forwards (the API server for a workbench, the service network) listen once in the pod's network
// namespace. Stopping the pod sandbox ends the pause process, and with it every process of the pod.
// The user namespace comes first, from a holder process the kubelet maps itself, so it can map the
// pod's supplementary groups (fsGroup, supplementalGroups) beside its user and group.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxCgroup } from './cgroups.ts';
import { dropPrivileges, INSIDE_GID, INSIDE_UID, type InsideUser, type SandboxForward, type SandboxIdentity, type SandboxSupport, systemLinks } from './index.ts';

/** Paths a joining process opens to enter the pod's namespaces (descriptors the kubelet holds). */
export interface PodNamespaces {
  user: string;
  pid: string;
  net: string;
  uts: string;
  ipc: string;
}

export interface PodSandboxOptions {
  /** The pod's hostname (spec.hostname or its name). */
  hostname: string;
  identity: SandboxIdentity;
  /** The pod's cgroup; the pause process gets a leaf of its own under it. */
  cgroup: SandboxCgroup | null;
  /** Who the pod's processes are inside its user namespace (default uid/gid 1000). */
  user?: InsideUser;
  /**
   * A hostNetwork pod's: the node's network namespace (a path nsenter takes) to join instead of a
   * new one. Its user namespace stays the pod's own, so the pod holds no capability over it.
   */
  netns?: string;
}

const NAMESPACES = ['user', 'pid', 'net', 'uts', 'ipc'] as const;
const START_TIMEOUT_MS = 10_000;

function quoted(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}

const HOLDER_TRIES = 400;

/** Whether the process has left this process's user namespace (unshare has made its own). */
function inOwnUserNamespace(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/user`) !== readlinkSync('/proc/self/ns/user');
  } catch {
    return false;
  }
}

/**
 * The pod's user namespace maps, as the kubelet writes them: the pod's user and group to the
 * sandbox's host identity, and each supplementary group to the host gid reserved for it. One
 * write a file (the kernel takes a map in a single write); setgroups stays denied, as bubblewrap
 * leaves it, so no process of the pod can drop a group to pass a group-denying mode.
 */
function writeIdMaps(pid: number, identity: SandboxIdentity, user: InsideUser): void {
  const groups = (identity.groups ?? []).filter((group) => group.inside !== user.gid);
  writeFileSync(`/proc/${pid}/setgroups`, 'deny');
  writeFileSync(`/proc/${pid}/uid_map`, `${user.uid} ${identity.uid} 1\n`);
  writeFileSync(`/proc/${pid}/gid_map`, [`${user.gid} ${identity.gid} 1`, ...groups.map((group) => `${group.inside} ${group.host} 1`)].join('\n') + '\n');
}

/** Whether 127.0.0.1:port listens in the network namespace /proc/<pid>/net/tcp shows. */
function listening(pid: number, port: number): boolean {
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    return readFileSync(`/proc/${pid}/net/tcp`, 'utf8').includes(`0100007F:${hex} 00000000:0000 0A`);
  } catch {
    return false;
  }
}

/** An IPv4 address as /proc/net/tcp writes it: the 32-bit value in host (little-endian) order, hex. */
function procAddress(ip: string): string {
  return ip
    .split('.')
    .reverse()
    .map((octet) => Number(octet).toString(16).toUpperCase().padStart(2, '0'))
    .join('');
}

/**
 * Whether a connection to ip:port from outside the network namespace /proc/<pid>/net shows would
 * be taken: a listening socket on the wildcard address (IPv4, or IPv6's, which takes IPv4 too) or on ip.
 */
function accepting(pid: number, ip: string | undefined, port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const wanted = new Set([`00000000:${hex}`, `00000000000000000000000000000000:${hex}`, ...(ip ? [`${procAddress(ip)}:${hex}`] : [])]);
  for (const table of ['tcp', 'tcp6']) {
    let text;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '0A' && local !== undefined && wanted.has(local)) return true;
    }
  }
  return false;
}

/**
 * Waits until bubblewrap's init (the pod's PID 1, the child it reported) has started the pause
 * command: only then is the sandbox's own setup done. bubblewrap reports the child before letting
 * it go on, and the child then brings up its loopback (adding 127.0.0.1 with NLM_F_EXCL): a
 * kubelet that went on at once to attach the pod network (`ip link set lo up`, which adds that
 * address too) made it fail with "loopback: Failed RTM_NEWADDR" under load. PID 1 then exited,
 * leaving a pod whose network worked and whose PID namespace took no process: every exec failed
 * with "Can't fork for --pidns: Cannot allocate memory".
 */
async function untilPauseRuns(pause: ChildProcess, initPid: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (pause.exitCode !== null || pause.signalCode !== null) throw new Error(`failed to create pod sandbox: ${stderr().trim() || 'the pause process exited'}`);
    let children = '';
    try {
      children = readFileSync(`/proc/${initPid}/task/${initPid}/children`, 'utf8').trim();
    } catch {
      // PID 1 is gone: the exit above tells why, on the next turn.
    }
    if (children !== '') return;
    if (Date.now() > deadline) {
      pause.kill('SIGKILL');
      throw new Error('failed to create pod sandbox: bubblewrap did not start the pause process in time');
    }
    await sleep(5);
  }
}

/** The kernel's PF_EXITING task flag (/proc/<pid>/stat's ninth field): the task is in its exit. */
const PF_EXITING = 0x4;

/**
 * Whether the process runs and is not on its way out. When a PID namespace's init exits, the
 * kernel first kills every other process of the namespace and waits for them to be reaped, with
 * PF_EXITING already set: their exits reach the kubelet before the init's own.
 */
function aliveNotExiting(pid: number): boolean {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The command name (in parentheses) may hold spaces and parentheses: the fields start after the last ')'.
  const [state, , , , , , flags] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return state !== 'Z' && state !== 'X' && (Number(flags) & PF_EXITING) === 0;
}

/** Where the pause process's bubblewrap finds the pod's user namespace (the holder's, passed as a descriptor). */
const HOLDER_FD = 4;

interface UserNamespaceHolder {
  process: ChildProcess;
  /** The kubelet's descriptor on the namespace. */
  fd: number;
  stop(): void;
}

/**
 * The pod's user namespace, made by a holder process running as the sandbox's host user (so that
 * user, and so every process of the pod, holds the namespace's capabilities when it joins), and
 * mapped by the kubelet, which alone may map more than one group: a process cannot write a map
 * of several groups into its own namespace, and bubblewrap writes a single line.
 */
async function holdUserNamespace(support: Extract<SandboxSupport, { mode: 'bubblewrap' }>, options: PodSandboxOptions, joinCgroup: string): Promise<UserNamespaceHolder> {
  const alone = { uid: options.identity.uid, gid: options.identity.gid };
  const holder = spawn('/bin/sh', ['-c', `${joinCgroup} exec "$@"`, 'sh', support.setpriv, ...dropPrivileges(alone), '--pdeathsig', 'SIGKILL', 'unshare', '--user', '--', '/usr/bin/sleep', 'infinity'], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  holder.stderr?.on('data', (data: Buffer) => (stderr += data.toString('utf8')));
  const pid = holder.pid ?? -1;
  for (let tries = 0; tries < HOLDER_TRIES && !inOwnUserNamespace(pid) && holder.exitCode === null; tries++) await sleep(5);
  let fd: number | undefined;
  try {
    if (!inOwnUserNamespace(pid)) throw new Error(stderr.trim() || 'the user namespace holder did not start');
    writeIdMaps(pid, options.identity, options.user ?? { uid: INSIDE_UID, gid: INSIDE_GID });
    fd = openSync(`/proc/${pid}/ns/user`, 'r');
  } catch (error) {
    holder.kill('SIGKILL');
    throw new Error(`failed to create pod sandbox: ${error instanceof Error ? error.message : String(error)}`);
  }
  const held = fd;
  return {
    process: holder,
    fd: held,
    stop: () => {
      holder.kill('SIGKILL');
      closeSync(held);
    },
  };
}

export class PodSandbox {
  readonly namespaces: PodNamespaces;
  readonly identity: SandboxIdentity;
  readonly cgroup: SandboxCgroup | null;
  readonly #pause: ChildProcess;
  /** The process that made the pod's user namespace (the kubelet also holds a descriptor on it). */
  readonly #holder: ChildProcess;
  /** The pause process's pid on the host (PID 1 of the pod). */
  readonly #pausePid: number;
  readonly #fds: number[];
  readonly #support: Extract<SandboxSupport, { mode: 'bubblewrap' }>;
  readonly #forwards = new Map<number, Promise<void>>();
  readonly #forwarders: ChildProcess[] = [];
  /** A hostNetwork pod's sandbox: its network namespace is the node's. */
  readonly #sharesNodeNetwork: boolean;
  #stopped = false;
  /** Resolves once the pause process has exited, whoever ended it: stop(), a kill, the OOM killer, a learner. */
  readonly exited: Promise<void>;

  private constructor(support: Extract<SandboxSupport, { mode: 'bubblewrap' }>, pause: ChildProcess, pausePid: number, fds: Map<string, number>, holder: ChildProcess, options: PodSandboxOptions) {
    this.#support = support;
    this.#pause = pause;
    this.#holder = holder;
    this.#pausePid = pausePid;
    this.#fds = [...fds.values()];
    this.identity = options.identity;
    this.cgroup = options.cgroup;
    this.#sharesNodeNetwork = options.netns !== undefined;
    const path = (ns: string) => `/proc/${process.pid}/fd/${fds.get(ns) ?? -1}`;
    this.namespaces = { user: path('user'), pid: path('pid'), net: path('net'), uts: path('uts'), ipc: path('ipc') };
    this.exited = new Promise((resolve) => {
      if (pause.exitCode !== null || pause.signalCode !== null) resolve();
      else pause.once('exit', () => resolve());
    });
  }

  /** RunPodSandbox: starts the pause process and holds the pod's namespaces. */
  static async start(support: Extract<SandboxSupport, { mode: 'bubblewrap' }>, options: PodSandboxOptions): Promise<PodSandbox> {
    if (options.netns && !support.nsenter) throw new Error('failed to create pod sandbox: nsenter (util-linux) is not installed, so a hostNetwork pod cannot join the node network');
    // Beside the pod's containers, which are named by their (DNS label) names: `_` keeps a container
    // called "pause" out of the pause process's leaf (the kernel's own names never begin with it).
    const leaf = options.cgroup ? await options.cgroup.processLeaf('_pause') : null;
    const joinCgroup = leaf ? leaf.procsFiles.map((file) => `echo $$ > ${quoted(file)} &&`).join(' ') : '';
    const holder = await holdUserNamespace(support, options, joinCgroup);
    const bwrap = [
      support.bwrap,
      // The holder's user namespace, already mapped by the kubelet (bubblewrap would map one group only).
      '--userns',
      String(HOLDER_FD),
      '--unshare-pid',
      ...(options.netns ? [] : ['--unshare-net']),
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-cgroup-try',
      '--hostname',
      options.hostname,
      '--die-with-parent',
      '--new-session',
      '--info-fd',
      '3',
      '--ro-bind',
      '/usr',
      '/usr',
      ...systemLinks(),
      '--proc',
      '/proc',
      '--',
      '/usr/bin/sleep',
      'infinity',
    ];
    // nsenter runs as the kubelet (joining a namespace takes that), then setpriv drops to the pod's identity.
    const joinNetwork = options.netns && support.nsenter ? [support.nsenter, `--net=${options.netns}`, '--'] : [];
    const pause = spawn('/bin/sh', ['-c', `${joinCgroup} exec "$@"`, 'sh', ...joinNetwork, support.setpriv, ...dropPrivileges(options.identity), ...bwrap], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', holder.fd],
    });
    let stderr = '';
    pause.stderr?.on('data', (data: Buffer) => (stderr += data.toString('utf8')));
    const info = pause.stdio[3];
    let pausePid: number;
    try {
      pausePid = await new Promise<number>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => fail('bubblewrap did not report the pod sandbox in time'), START_TIMEOUT_MS);
        const fail = (message: string) => {
          clearTimeout(timer);
          pause.kill('SIGKILL');
          reject(new Error(`failed to create pod sandbox: ${message}`));
        };
        info?.on('data', (data: Buffer) => {
          text += data.toString('utf8');
          const match = /"child-pid":\s*(\d+)/.exec(text);
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        });
        pause.once('exit', () => fail(stderr.trim() || 'the pause process exited'));
      });
      await untilPauseRuns(pause, pausePid, () => stderr);
    } catch (error) {
      holder.stop();
      throw error;
    }
    const fds = new Map<string, number>([['user', holder.fd]]);
    try {
      for (const ns of NAMESPACES) if (ns !== 'user') fds.set(ns, openSync(`/proc/${pausePid}/ns/${ns}`, 'r'));
    } catch (error) {
      for (const fd of fds.values()) if (fd !== holder.fd) closeSync(fd);
      pause.kill('SIGKILL');
      holder.stop();
      throw new Error(`failed to create pod sandbox: ${error instanceof Error ? error.message : String(error)}`);
    }
    return new PodSandbox(support, pause, pausePid, fds, holder.process, options);
  }

  /** The pause process's pid on the host (what `ip link … netns` takes). */
  get pid(): number {
    return this.#pausePid;
  }

  /** Whether something in the pod takes TCP connections to its address on `port` (what a tcpSocket probe dials). */
  accepts(podIP: string | undefined, port: number): boolean {
    return this.running && accepting(this.#pausePid, podIP, port);
  }

  get running(): boolean {
    return !this.#stopped && this.#pause.exitCode === null && this.#pause.signalCode === null;
  }

  /**
   * Running, and its PID 1 not exiting (what the runtime reports as SANDBOX_READY): false already
   * while the kernel ends the pod's processes, before the pause process's exit reaches the kubelet.
   */
  get ready(): boolean {
    return this.running && aliveNotExiting(this.#pausePid);
  }

  /** 127.0.0.1:port inside the pod carried to a Unix socket on the host; started once, on first need. */
  forward(forward: SandboxForward): Promise<void> {
    let started = this.#forwards.get(forward.port);
    if (!started) {
      started = this.#startForward(forward);
      this.#forwards.set(forward.port, started);
    }
    return started;
  }

  async #startForward(forward: SandboxForward): Promise<void> {
    // On the node's network a forward would listen for every hostNetwork pod of the node.
    if (this.#sharesNodeNetwork) throw new Error('a hostNetwork pod cannot have the kubelet carry its connections (the API server, Services): it is on the node network');
    const { socat, nsenter, setpriv } = this.#support;
    if (!socat) throw new Error('socat is not installed: the pod cannot reach the API server or Services without it (apt-get install socat)');
    if (!nsenter) throw new Error('nsenter (util-linux) is not installed: the pod sandbox cannot carry its network without it');
    // socat runs in the pod's network namespace only (the host's files and processes are the
    // kubelet's side), as the pod's identity: it reaches the Unix socket, the pod reaches it.
    const forwarder = spawn(
      nsenter,
      // --pdeathsig: the forwarder goes with the kubelet, however the kubelet ends.
      [`--net=${this.namespaces.net}`, '--', setpriv, ...dropPrivileges(this.identity), '--pdeathsig', 'SIGKILL', socat, `TCP-LISTEN:${forward.port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${forward.unixSocket}`],
      { stdio: 'ignore', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
    );
    this.#forwarders.push(forwarder);
    for (let tries = 0; tries < 500 && !listening(this.#pausePid, forward.port); tries++) {
      if (forwarder.exitCode !== null || this.#stopped) break;
      await sleep(5);
    }
  }

  /** StopPodSandbox: the pause process goes, and the kernel ends every process in the pod's PID namespace. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const forwarder of this.#forwarders) forwarder.kill('SIGKILL');
    this.#pause.kill('SIGKILL');
    this.#holder.kill('SIGKILL');
    for (const fd of this.#fds) {
      try {
        closeSync(fd);
      } catch {
        // Already closed.
      }
    }
    const cgroup = this.cgroup;
    if (cgroup) {
      cgroup.killAll();
      setTimeout(() => void cgroup.remove(), 200).unref();
    }
  }
}
