// A terminal reconnecting through the other portal replica (the goal: ≤ 500 ms with its
// scrollback). Two portal processes on one PostgreSQL with LAB_CLUSTER=kubernetes against a
// `formicary cluster` process, as test/server/terminals/replicas.test.ts sets them up. For each of
// BENCH_RECONNECTS learners: a lab started and a line printed through replica A; then the figure is
// the time from opening the terminal's WebSocket at replica B to that line showing there (B opens
// its own exec into the workbench, whose workbench-shell finds the tmux session and prints it).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startTestPostgres } from '../test/support/postgres.ts';
import { PortalLearner } from '../test/security/portal-learner.ts';
import { percentile, round } from './stats.ts';

const ROOT = path.join(import.meta.dirname, '..');
const LAB = 'configmaps-and-secrets';
const RECONNECTS = Number(process.env.BENCH_RECONNECTS ?? 10);

function startChild(args: string[], env: NodeJS.ProcessEnv, found: (line: string) => string | undefined): Promise<{ child: ChildProcess; value: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start within 120 s`)), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const value = found(line);
      if (value !== undefined) {
        clearTimeout(timer);
        resolve({ child, value });
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

export default async function replicasBench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'formicary-bench-replicas-'));
  const postgres = await startTestPostgres();
  const children: ChildProcess[] = [];
  try {
    const databaseUrl = await postgres.createDatabase();
    const kubeconfig = path.join(dir, 'admin.kubeconfig');
    const cluster = await startChild([path.join(ROOT, 'src', 'cli', 'main.ts'), 'cluster', '--kubeconfig', kubeconfig, '--data', path.join(dir, 'cluster'), '--stop-on-stdin-close'], process.env, (line) =>
      /\bready\b/.test(line) ? line : undefined,
    );
    children.push(cluster.child);
    const replicas: string[] = [];
    for (const name of ['a', 'b']) {
      const env = {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: path.join(dir, `portal-${name}`),
        DATABASE_URL: databaseUrl,
        LAB_CLUSTER: 'kubernetes',
        KUBECONFIG: kubeconfig,
        AUTH: 'dev',
        SESSION_SECRET: 'bench-replicas-session-secret-of-at-least-32-characters',
        LOG_LEVEL: 'info',
      };
      const portal = await startChild([path.join(ROOT, 'src', 'server', 'main.ts')], env, (line) => {
        try {
          const parsed = JSON.parse(line) as { msg?: string; url?: string };
          return parsed.msg === 'portal listening' ? String(parsed.url) : undefined;
        } catch {
          return undefined;
        }
      });
      portal.child.stdout?.resume();
      children.push(portal.child);
      replicas.push(portal.value);
    }
    const [a, b] = replicas as [string, string];
    process.stderr.write(`bench: two replicas at ${a} and ${b}\n`);
    const reconnects: number[] = [];
    for (let round_ = 0; round_ < RECONNECTS; round_ += 1) {
      const learner = await PortalLearner.signIn(a, `Bench Learner ${round_}`);
      const session = await learner.startLab(LAB);
      const first = await learner.openTerminal(LAB, { session: session.id });
      first.attach({ cols: 100, rows: 30 });
      const line = `printed-through-a-${round_}`;
      await first.run(`echo ${line}-$((1+1))`);
      const started = performance.now();
      const second = await learner.at(b).openTerminal(LAB, { session: session.id });
      second.attach({ cols: 100, rows: 30 });
      await second.waitFor(`${line}-2`, 30_000);
      reconnects.push(performance.now() - started);
      process.stderr.write(`bench: reconnect ${round_ + 1}/${RECONNECTS}: ${reconnects.at(-1)!.toFixed(0)} ms\n`);
      first.close();
      second.close();
      await learner.post(`/api/labs/${LAB}/end`);
    }
    return {
      terminal_reconnect_other_replica_ms_p50: round(percentile(reconnects, 50), 1),
      terminal_reconnect_other_replica_ms_p95: round(percentile(reconnects, 95), 1),
    };
  } finally {
    // Portals first, then the cluster; whatever has not stopped 20 s later is killed.
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
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
