// Where the host's tools are: what `command -v` answers, looked up here instead of in a shell the
// kubelet would start (each one a process spawned synchronously, which blocked the event loop on
// the way to serving: a dozen tools on every start).
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

/** The first executable regular file named `command` in the absolute directories of `path`; null when there is none. */
export function findExecutable(command: string, path: string = process.env['PATH'] ?? ''): string | null {
  for (const dir of path.split(':')) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, command);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return null;
}
