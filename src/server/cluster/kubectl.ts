import { execFile } from 'node:child_process';

/**
 * Whether kubectl is on PATH. The workbench shells of labs run it; without it lessons are still
 * served but labs cannot be worked.
 */
export function findKubectl(): Promise<{ found: true; version: string } | { found: false; reason: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', ['version', '--client', '--output=json'], { timeout: 10_000 }, (error, stdout) => {
      if (error) {
        resolve({ found: false, reason: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not on PATH' : error.message });
        return;
      }
      let version = 'unknown version';
      try {
        const parsed = JSON.parse(stdout) as { clientVersion?: { gitVersion?: unknown } };
        if (typeof parsed.clientVersion?.gitVersion === 'string') version = parsed.clientVersion.gitVersion;
      } catch {
        // An unparsable answer still means kubectl runs.
      }
      resolve({ found: true, version });
    });
  });
}
