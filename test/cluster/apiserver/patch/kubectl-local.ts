// Upstream as the oracle: `kubectl patch --local` applies JSON, merge and strategic merge patches
// with the same Go libraries (and, for strategic merge, the same struct tags) as the API server,
// without talking to a server.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type LocalPatchType = 'json' | 'merge' | 'strategic';

export type LocalPatchResult = { ok: true; object: unknown } | { ok: false; error: string };

export interface KubectlLocal {
  patch(doc: unknown, type: LocalPatchType, patch: unknown): Promise<LocalPatchResult>;
  close(): void;
}

export function kubectlLocal(): KubectlLocal {
  const dir = mkdtempSync(join(tmpdir(), 'formicary-patch-oracle-'));
  let count = 0;
  return {
    async patch(doc, type, patch) {
      const file = join(dir, `doc-${count++}.json`);
      writeFileSync(file, JSON.stringify(doc));
      try {
        const { stdout } = await run('kubectl', ['patch', '--local', '-f', file, `--type=${type}`, '-p', JSON.stringify(patch), '-o', 'json'], {
          env: { ...process.env, KUBECONFIG: join(dir, 'no-kubeconfig') },
          timeout: 20_000,
        });
        return { ok: true, object: JSON.parse(stdout) };
      } catch (error) {
        const stderr = String((error as { stderr?: unknown }).stderr ?? error);
        return { ok: false, error: stderr.trim().replace(/^error: /, '') };
      }
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
