// Resource limits through cgroups, laid out as the kubelet lays them out: one parent for every
// sandbox of this kubelet (a ceiling on the host's share they may take together), one cgroup a
// pod (its memory, CPU and pids limits), one a container under it, and leaves for the container's
// process and each exec, so every process of a container counts against the container's and the
// pod's limits while the kubelet can still tell (and end) one exec's processes. On v2 a process
// only ever joins a leaf (probes and hooks a container's shared one): the kernel refuses it in a
// cgroup that hands controllers to children.
//
// Making and removing cgroups can take tens of milliseconds on a busy host (the kernel's cgroup
// lock): it never runs on the event loop's thread.
//
// cgroup v2 and v1 both work, wherever this process's own cgroup lets us make children. A machine
// that delegates none (a laptop, a CI runner) still runs sandboxes (bubblewrap isolates them) but
// without limits: `cgroupSupport()` says which case holds, once.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SandboxLimits {
  memoryBytes?: number;
  /** CPU in millicores, as a Kubernetes limit: 500 = half a core. */
  cpuMillis?: number;
  pids?: number;
}

const ROOT = '/sys/fs/cgroup';
const PERIOD_US = 100_000;
const KILL_PASSES = 200;
const REMOVE_TRIES = 100;
// cpuacct (v1 only; v2's cpu controller counts usage itself) is made for its usage counter, never limited.
const CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids'] as const;
type Controller = (typeof CONTROLLERS)[number];

interface Layout {
  version: 1 | 2;
  /** controller → the directory of this process's cgroup for it, where ours are made */
  dirs: Map<Controller, string>;
}

let cachedLayout: Layout | null | undefined;

function detectLayout(): Layout | null {
  if (cachedLayout !== undefined) return cachedLayout;
  cachedLayout = null;
  try {
    const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
    const v1 = new Map<Controller, string>();
    for (const line of lines) {
      const [, controllers, path] = line.split(':') as [string, string, string];
      for (const controller of controllers.split(',')) {
        if ((CONTROLLERS as readonly string[]).includes(controller)) {
          const dir = join(ROOT, controller, path);
          if (existsSync(join(dir, 'cgroup.procs'))) v1.set(controller as Controller, dir);
        }
      }
    }
    if (v1.size > 0) {
      cachedLayout = { version: 1, dirs: v1 };
    } else if (existsSync(join(ROOT, 'cgroup.controllers'))) {
      const unified = lines.find((line) => line.startsWith('0::'));
      if (unified) {
        const dir = join(ROOT, unified.slice(3));
        const available = readFileSync(join(dir, 'cgroup.controllers'), 'utf8');
        const v2 = new Map<Controller, string>();
        for (const controller of CONTROLLERS) if (available.includes(controller)) v2.set(controller, dir);
        if (v2.size > 0) cachedLayout = { version: 2, dirs: v2 };
      }
    }
  } catch {
    cachedLayout = null;
  }
  return cachedLayout;
}

async function tryWrite(file: string, value: string): Promise<void> {
  try {
    await writeFile(file, value);
  } catch {
    // This controller's file is not ours to write: go on without that limit.
  }
}

function readNumber(file: string): number | undefined {
  try {
    const value = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** One cgroup (one directory per controller on v1, one directory on v2). */
export class SandboxCgroup {
  readonly #version: 1 | 2;
  readonly #dirs: Map<Controller, string>;
  /** The directories this cgroup made (a process leaf shares its container's memory and CPU ones). */
  readonly #owned: Set<string>;
  #sharedLeaf: Promise<SandboxCgroup | null> | undefined;

  private constructor(version: 1 | 2, dirs: Map<Controller, string>, owned: Iterable<string>) {
    this.#version = version;
    this.#dirs = dirs;
    this.#owned = new Set(owned);
  }

  /** The parent of every sandbox of one kubelet, under this process's own cgroup; null when none can be made. */
  static async parent(name: string, ceiling: SandboxLimits): Promise<SandboxCgroup | null> {
    const layout = detectLayout();
    if (!layout) return null;
    const base = new SandboxCgroup(layout.version, layout.dirs, []);
    return base.child(name, ceiling);
  }

  /** Files a process writes its pid to, to join every controller of this cgroup. */
  get procsFiles(): string[] {
    return [...new Set(this.#dirs.values())].map((dir) => join(dir, 'cgroup.procs'));
  }

  /** A child cgroup with these limits (the parent's bound it too); null when the kernel refuses. */
  async child(name: string, limits: SandboxLimits): Promise<SandboxCgroup | null> {
    const created = await this.#make(name, [...this.#dirs.keys()]);
    if (created.size === 0) return null;
    const cgroup = new SandboxCgroup(this.#version, created, created.values());
    await cgroup.#limit(limits);
    return cgroup;
  }

  /**
   * A leaf for one process (a container's process, an exec) that tells its processes apart from
   * the rest of the container's: on v1 only in the pids hierarchy (a memory cgroup costs the kernel
   * far more to make and to let go), the memory and CPU ones staying the container's.
   */
  async processLeaf(name: string): Promise<SandboxCgroup | null> {
    const tracker: Controller | undefined = this.#version === 1 ? (this.#dirs.has('pids') ? 'pids' : [...this.#dirs.keys()][0]) : undefined;
    const created = await this.#make(name, tracker ? [tracker] : [...this.#dirs.keys()]);
    if (created.size === 0) return null;
    const dirs = new Map(this.#dirs);
    for (const [controller, dir] of created) dirs.set(controller, dir);
    return new SandboxCgroup(this.#version, dirs, created.values());
  }

  /**
   * Where a container's processes without a leaf of their own go: exec probes and hooks, and what
   * an exec session leaves running. On v1 the container's cgroup itself. v2 refuses a process in a
   * cgroup that hands controllers to its children (the no internal process constraint: writing its
   * pid fails with EBUSY), and the container's do, for its process leaves: there they share one leaf
   * of the container's, made once, whose usage and limits count toward the container's (v2's limits
   * and counters are hierarchical). As under runc, where an exec joins the container's own cgroup,
   * a leaf there.
   */
  async sharedLeaf(): Promise<SandboxCgroup | null> {
    if (this.#version === 1) return this;
    this.#sharedLeaf ??= this.processLeaf('shared');
    const leaf = await this.#sharedLeaf;
    // The kernel refused it this time: the next process asks again.
    if (!leaf) this.#sharedLeaf = undefined;
    return leaf;
  }

  async #make(name: string, controllers: Controller[]): Promise<Map<Controller, string>> {
    const created = new Map<Controller, string>();
    for (const controller of controllers) {
      const parent = this.#dirs.get(controller);
      if (!parent) continue;
      const dir = join(parent, name);
      const made = [...created.values()].includes(dir);
      try {
        if (!made) await mkdir(dir, { recursive: true });
        created.set(controller, dir);
      } catch {
        // Not delegated to us: go on without this controller.
      }
    }
    // v2 hands a controller to children only when the parent enables it for its subtree.
    if (this.#version === 2) {
      const parent = [...this.#dirs.values()][0];
      if (parent) for (const controller of created.keys()) await tryWrite(join(parent, 'cgroup.subtree_control'), `+${controller}`);
    }
    return created;
  }

  async #limit(limits: SandboxLimits): Promise<void> {
    const memory = this.#dirs.get('memory');
    const cpu = this.#dirs.get('cpu');
    const pids = this.#dirs.get('pids');
    const quota = limits.cpuMillis ? Math.max(1000, Math.round((limits.cpuMillis / 1000) * PERIOD_US)) : undefined;
    if (this.#version === 1) {
      if (memory && limits.memoryBytes) {
        await tryWrite(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
        await tryWrite(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      }
      if (cpu && quota) {
        await tryWrite(join(cpu, 'cpu.cfs_period_us'), String(PERIOD_US));
        await tryWrite(join(cpu, 'cpu.cfs_quota_us'), String(quota));
      }
    } else {
      if (memory && limits.memoryBytes) {
        await tryWrite(join(memory, 'memory.max'), String(limits.memoryBytes));
        await tryWrite(join(memory, 'memory.swap.max'), '0');
      }
      if (cpu && quota) await tryWrite(join(cpu, 'cpu.max'), `${quota} ${PERIOD_US}`);
    }
    if (pids && limits.pids) await tryWrite(join(pids, 'pids.max'), String(limits.pids));
  }

  /** Pids inside this cgroup and its children (host view). */
  pids(): number[] {
    const seen = new Set<number>();
    const walk = (dir: string) => {
      try {
        for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line) seen.add(Number(line));
        for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(join(dir, entry.name));
      } catch {
        // The cgroup is already gone.
      }
    };
    for (const dir of this.#owned) walk(dir);
    return [...seen];
  }

  /** How many processes the OOM killer ended in this cgroup so far. */
  oomKills(): number {
    const memory = this.#dirs.get('memory');
    if (!memory) return 0;
    const file = this.#version === 1 ? join(memory, 'memory.oom_control') : join(memory, 'memory.events');
    try {
      const match = /oom_kill (\d+)/.exec(readFileSync(file, 'utf8'));
      return match ? Number(match[1]) : 0;
    } catch {
      return 0;
    }
  }

  /**
   * The working set, as the kubelet reports it to metrics-server: usage less the inactive file
   * cache (which the kernel reclaims before it would OOM-kill anything).
   */
  memoryUsageBytes(): number | undefined {
    const memory = this.#dirs.get('memory');
    if (!memory) return undefined;
    const usage = readNumber(join(memory, this.#version === 1 ? 'memory.usage_in_bytes' : 'memory.current'));
    if (usage === undefined) return undefined;
    let inactiveFile = 0;
    try {
      const match = new RegExp(`^${this.#version === 1 ? 'total_inactive_file' : 'inactive_file'} (\\d+)$`, 'm').exec(readFileSync(join(memory, 'memory.stat'), 'utf8'));
      inactiveFile = match ? Number(match[1]) : 0;
    } catch {
      // No statistics: the usage is all there is.
    }
    return Math.max(0, usage - inactiveFile);
  }

  /**
   * Reclaims what the kernel can of this cgroup's memory (v1): the page cache a container's earlier
   * instance left charged to it, which would otherwise read as the next instance's working set. A
   * runtime gives every instance a cgroup of its own; v1 keeps the container's across restarts, while
   * v2's processes each have a leaf of their own already.
   */
  async reclaimMemory(): Promise<void> {
    const memory = this.#dirs.get('memory');
    if (this.#version === 1 && memory) await tryWrite(join(memory, 'memory.force_empty'), '0');
  }

  /** CPU time used by every process that ever ran here, in nanoseconds (the kernel's cumulative counter). */
  cpuUsageNanos(): number | undefined {
    if (this.#version === 1) {
      const cpuacct = this.#dirs.get('cpuacct');
      return cpuacct ? readNumber(join(cpuacct, 'cpuacct.usage')) : undefined;
    }
    const cpu = this.#dirs.get('cpu');
    if (!cpu) return undefined;
    try {
      const match = /^usage_usec (\d+)$/m.exec(readFileSync(join(cpu, 'cpu.stat'), 'utf8'));
      return match ? Number(match[1]) * 1000 : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * SIGKILL to every process inside (children included), again until none is left: a fork bomb's
   * survivors of one pass fork into the slots the pass freed.
   */
  killAll(passes = KILL_PASSES): void {
    const pids = this.pids();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (pids.length > 0 && passes > 1) setTimeout(() => this.killAll(passes - 1), 10).unref();
  }

  /**
   * Hands every process of this cgroup to `target` (a leaf's survivors to their container's shared
   * leaf, whose limits and whose end they then share). Twice, for a process that forked while it moved.
   */
  moveAllTo(target: SandboxCgroup): void {
    for (let pass = 0; pass < 2; pass += 1) {
      for (const pid of this.pids()) {
        for (const file of target.procsFiles) {
          try {
            writeFileSync(file, String(pid));
          } catch {
            // Gone meanwhile, or the controller is not there: nothing to move.
          }
        }
      }
    }
  }

  /** Removes the cgroup and its children once empty; a busy one is tried again a while, as its last processes leave. */
  async remove(tries = REMOVE_TRIES): Promise<void> {
    let busy = false;
    const removeTree = async (dir: string) => {
      try {
        for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isDirectory()) await removeTree(join(dir, entry.name));
        await rmdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') busy = true;
      }
    };
    for (const dir of this.#owned) await removeTree(dir);
    if (busy && tries > 1) setTimeout(() => void this.remove(tries - 1), 100).unref();
  }
}
