// One cluster a data directory. Two clusters on the same store would each keep their own copy of
// every object and overwrite each other's files (writes to one are lost), so a cluster holds
// DIR/cluster.lock while it runs: a file created exclusively, naming the holder's pid and when
// that process started (a pid alone may have been reused). A lock whose holder is gone (killed,
// crashed) is taken over; one whose holder runs refuses the start with a message naming both.

import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const LOCK_FILE = 'cluster.lock';
/** A stale lock removed by two starting clusters at once: the loser tries again, a few times. */
const ATTEMPTS = 5;

interface Holder {
  pid: number;
  /** Clock ticks after boot at which the process started (/proc/PID/stat), null where unknown. */
  startTicks: number | null;
}

export class DataDirLockedError extends Error {
  readonly dataDir: string;
  readonly holderPid: number;

  constructor(dataDir: string, holderPid: number) {
    super(`the data dir ${dataDir} is in use by another cluster (pid ${holderPid}); stop that one first, or choose another data dir`);
    this.name = 'DataDirLockedError';
    this.dataDir = dataDir;
    this.holderPid = holderPid;
  }
}

/** The process's state and start time from /proc, or null when it does not exist (or is a zombie). */
function processStart(pid: number): { startTicks: number | null } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    const ticks = Number(fields[19]);
    return { startTicks: Number.isSafeInteger(ticks) ? ticks : null };
  } catch {
    // No /proc (not Linux): whether the pid answers a signal.
    try {
      process.kill(pid, 0);
      return { startTicks: null };
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM' ? { startTicks: null } : null;
    }
  }
}

function alive(holder: Holder): boolean {
  const running = processStart(holder.pid);
  if (running === null) return false;
  return holder.startTicks === null || running.startTicks === null || running.startTicks === holder.startTicks;
}

function parseHolder(text: string): Holder | null {
  try {
    const parsed = JSON.parse(text) as { pid?: unknown; startTicks?: unknown };
    if (typeof parsed.pid !== 'number' || !Number.isSafeInteger(parsed.pid) || parsed.pid <= 0) return null;
    return { pid: parsed.pid, startTicks: typeof parsed.startTicks === 'number' ? parsed.startTicks : null };
  } catch {
    return null;
  }
}

export interface DataDirLock {
  /** Gives the directory up; only while the file still names this process. */
  release(): Promise<void>;
}

/** Takes DIR/cluster.lock for this process; throws DataDirLockedError while another running cluster holds it. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = join(dataDir, LOCK_FILE);
  const me: Holder = { pid: process.pid, startTicks: processStart(process.pid)?.startTicks ?? null };
  const text = `${JSON.stringify(me)}\n`;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(text);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= ATTEMPTS) throw error;
    }
    const holder = parseHolder(await readFile(file, 'utf8').catch(() => ''));
    // A half-written lock (its writer died between create and write) has no holder: stale.
    if (holder !== null && alive(holder)) throw new DataDirLockedError(dataDir, holder.pid);
    await unlink(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      const holder = parseHolder(await readFile(file, 'utf8').catch(() => ''));
      if (holder?.pid === me.pid) await unlink(file).catch(() => undefined);
    },
  };
}
