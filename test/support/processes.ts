// The machine's processes as the host's /proc shows them: how tests find a pod's process (its
// container's command line carries a marker no other test runs) to read its uid, cgroup or
// namespaces, or to kill it from the host. Read from /proc rather than `ps -eo …`, whose output on
// a machine running many clusters outgrows child_process's buffer (ENOBUFS).
import { readdirSync, readFileSync } from 'node:fs';

/** Host pids of the processes whose command line is exactly `argv`. */
export function pidsRunning(argv: string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8') === wanted;
      } catch {
        // Gone meanwhile.
        return false;
      }
    })
    .map(Number);
}

/** The process's effective uid on the host (what `ps -o uid` shows); undefined once it is gone. */
export function effectiveUid(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+\d+\s+(\d+)/m);
    return line ? Number(line[1]) : undefined;
  } catch {
    return undefined;
  }
}
