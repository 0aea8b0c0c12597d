// A terminal reconnecting through the other portal replica (the goal: ≤ 500 ms with its
// scrollback). Two portal processes on one PostgreSQL with LAB_CLUSTER=kubernetes against a
// `formicary cluster` process, as test/server/terminals/replicas.test.ts sets them up. For each of
// BENCH_RECONNECTS learners: a lab started and a line printed through replica A; then the figure is
// the time from opening the terminal's WebSocket at replica B to that line showing there (B opens
// its own exec into the workbench, whose workbench-shell finds the tmux session and prints it).
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestPostgres } from '../test/support/postgres.ts';
import { startLabCluster, startReplica, stopAll } from '../test/support/replicas.ts';
import { PortalLearner } from '../test/security/portal-learner.ts';
import { percentile, round } from './stats.ts';

const LAB = 'configmaps-and-secrets';
const RECONNECTS = Number(process.env.BENCH_RECONNECTS ?? 10);

export default async function replicasBench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'formicary-bench-replicas-'));
  const postgres = await startTestPostgres();
  const children: ChildProcess[] = [];
  try {
    const shared = { databaseUrl: await postgres.createDatabase(), kubeconfig: path.join(dir, 'admin.kubeconfig'), sessionSecret: 'bench-replicas-session-secret-of-at-least-32-characters' };
    children.push(await startLabCluster(path.join(dir, 'cluster'), shared.kubeconfig));
    const replicas: string[] = [];
    for (const name of ['a', 'b']) {
      const { child, url } = await startReplica({ dataDir: path.join(dir, `portal-${name}`), ...shared });
      children.push(child);
      replicas.push(url);
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
    await stopAll(children);
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
