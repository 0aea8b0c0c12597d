// Resource limits for one sandbox through the cgroup of the process that runs the cluster. Best
// effort by design: a laptop or CI machine may not delegate cgroups, and then the sandbox still
// runs (bubblewrap isolates it) but without CPU and memory caps; `available` says which case holds.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SandboxLimits {
  memoryBytes?: number;
  /** CPU in millicores, as a Kubernetes limit: 500 = half a core. */
  cpuMillis?: number;
  pids?: number;
}

export interface SandboxCgroup {
  /** Files a process writes its pid to, to join every controller of this sandbox. */
  readonly procsFiles: string[];
  /** Pids currently inside (host view). */
  pids(): number[];
  oomKilled(): boolean;
  memoryUsageBytes(): number | undefined;
  remove(): void;
}

const ROOT = '/sys/fs/cgroup';
const PERIOD_US = 100_000;

interface Layout {
  version: 1 | 2;
  /** controller → absolute directory of this process's cgroup for it */
  dirs: Map<string, string>;
}

let cachedLayout: Layout | null | undefined;

function detectLayout(): Layout | null {
  if (cachedLayout !== undefined) return cachedLayout;
  cachedLayout = null;
  try {
    const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
    const dirs = new Map<string, string>();
    for (const line of lines) {
      const [, controllers, path] = line.split(':') as [string, string, string];
      for (const controller of controllers.split(',')) {
        if (['memory', 'cpu', 'pids'].includes(controller)) {
          const dir = join(ROOT, controller, path);
          if (existsSync(join(dir, 'cgroup.procs'))) dirs.set(controller, dir);
        }
      }
    }
    if (dirs.size > 0) {
      cachedLayout = { version: 1, dirs };
    } else if (existsSync(join(ROOT, 'cgroup.controllers'))) {
      const unified = lines.find((line) => line.startsWith('0::'));
      if (unified) {
        const dir = join(ROOT, unified.slice(3));
        const enabled = readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8');
        const v2 = new Map<string, string>();
        for (const controller of ['memory', 'cpu', 'pids']) if (enabled.includes(controller)) v2.set(controller, dir);
        if (v2.size > 0) cachedLayout = { version: 2, dirs: v2 };
      }
    }
  } catch {
    cachedLayout = null;
  }
  return cachedLayout;
}

function tryWrite(file: string, value: string): boolean {
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
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

/** Creates the cgroup(s) for one sandbox, or returns null when this machine lets us make none. */
export function createSandboxCgroup(id: string, limits: SandboxLimits): SandboxCgroup | null {
  const layout = detectLayout();
  if (!layout) return null;
  const created = new Map<string, string>();
  const name = `formicary-${id}`;
  for (const [controller, parent] of layout.dirs) {
    const dir = join(parent, name);
    if (created.has(controller) || [...created.values()].includes(dir)) {
      created.set(controller, dir);
      continue;
    }
    try {
      mkdirSync(dir, { recursive: true });
      created.set(controller, dir);
    } catch {
      // Not delegated to us: go on without this controller.
    }
  }
  if (created.size === 0) return null;

  const memory = created.get('memory');
  const cpu = created.get('cpu');
  const pidsDir = created.get('pids');
  if (layout.version === 1) {
    if (memory && limits.memoryBytes) {
      tryWrite(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      tryWrite(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
    }
    if (cpu && limits.cpuMillis) {
      tryWrite(join(cpu, 'cpu.cfs_period_us'), String(PERIOD_US));
      tryWrite(join(cpu, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round((limits.cpuMillis / 1000) * PERIOD_US))));
    }
    if (pidsDir && limits.pids) tryWrite(join(pidsDir, 'pids.max'), String(limits.pids));
  } else {
    if (memory && limits.memoryBytes) {
      tryWrite(join(memory, 'memory.max'), String(limits.memoryBytes));
      tryWrite(join(memory, 'memory.swap.max'), '0');
    }
    if (cpu && limits.cpuMillis) tryWrite(join(cpu, 'cpu.max'), `${Math.max(1000, Math.round((limits.cpuMillis / 1000) * PERIOD_US))} ${PERIOD_US}`);
    if (pidsDir && limits.pids) tryWrite(join(pidsDir, 'pids.max'), String(limits.pids));
  }

  const dirs = [...new Set(created.values())];
  return {
    procsFiles: dirs.map((dir) => join(dir, 'cgroup.procs')),
    pids() {
      const seen = new Set<number>();
      for (const dir of dirs) {
        try {
          for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line) seen.add(Number(line));
        } catch {
          // The cgroup is already gone.
        }
      }
      return [...seen];
    },
    oomKilled() {
      if (!memory) return false;
      const file = layout.version === 1 ? join(memory, 'memory.oom_control') : join(memory, 'memory.events');
      try {
        const match = /oom_kill (\d+)/.exec(readFileSync(file, 'utf8'));
        return match !== null && Number(match[1]) > 0;
      } catch {
        return false;
      }
    },
    memoryUsageBytes() {
      if (!memory) return undefined;
      return readNumber(join(memory, layout.version === 1 ? 'memory.usage_in_bytes' : 'memory.current'));
    },
    remove() {
      for (const dir of dirs) {
        try {
          rmdirSync(dir);
        } catch {
          // Still busy or already removed; the kernel frees it when the last process leaves.
        }
      }
    },
  };
}
