// Portal replicas as a Deployment runs them, for the tests and the bench that need several: a
// `formicary cluster` process standing for the company's lab cluster, and portal processes
// (`node src/server/main.ts`) on one PostgreSQL database with LAB_CLUSTER=kubernetes against it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.join(import.meta.dirname, '..', '..');

/** Starts `node ARGS`, resolving with the first line of its output `found` accepts. */
export function startChild(args: string[], env: NodeJS.ProcessEnv, found: (line: string) => string | undefined): Promise<{ child: ChildProcess; value: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let seen = '';
  child.stderr?.on('data', (chunk: Buffer) => (seen = (seen + chunk.toString()).slice(-8000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start within 120 s:\n${seen.slice(-3000)}`)), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      seen = `${seen}${line}\n`.slice(-8000);
      const value = found(line);
      if (value !== undefined) {
        clearTimeout(timer);
        resolve({ child, value });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${seen.slice(-3000)}`));
    });
  });
}

/** `formicary cluster` on DATA_DIR, writing its admin kubeconfig to `kubeconfig`; resolves once it is ready. */
export async function startLabCluster(dataDir: string, kubeconfig: string): Promise<ChildProcess> {
  const args = [path.join(ROOT, 'src', 'cli', 'main.ts'), 'cluster', '--kubeconfig', kubeconfig, '--data', dataDir, '--stop-on-stdin-close'];
  return (await startChild(args, process.env, (line) => (/\bready\b/.test(line) ? line : undefined))).child;
}

/** One portal replica: its own data directory, the shared database, session secret and lab cluster. */
export async function startReplica(options: { dataDir: string; databaseUrl: string; kubeconfig: string; sessionSecret: string }): Promise<{ child: ChildProcess; url: string }> {
  const env = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: options.dataDir,
    DATABASE_URL: options.databaseUrl,
    LAB_CLUSTER: 'kubernetes',
    KUBECONFIG: options.kubeconfig,
    AUTH: 'dev',
    SESSION_SECRET: options.sessionSecret,
    LOG_LEVEL: 'info',
  };
  const { child, value } = await startChild([path.join(ROOT, 'src', 'server', 'main.ts')], env, (line) => {
    try {
      const parsed = JSON.parse(line) as { msg?: string; url?: string };
      return parsed.msg === 'portal listening' ? String(parsed.url) : undefined;
    } catch {
      return undefined;
    }
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { child, url: value };
}

/** Stops processes, latest first: SIGTERM, then SIGKILL for whatever has not exited 20 s later. */
export async function stopAll(children: ChildProcess[]): Promise<void> {
  for (const child of [...children].reverse()) child.kill('SIGTERM');
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
          const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve(undefined);
          });
        }),
    ),
  );
}
