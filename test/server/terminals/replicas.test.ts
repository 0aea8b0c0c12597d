// Terminals on any replica: two portal processes (`node src/server/main.ts`, as in a Deployment with
// two replicas) on one PostgreSQL, with LAB_CLUSTER=kubernetes against a separately started
// `formicary cluster` standing for the company's lab cluster. A learner's terminal connects through
// one replica, then the other, as a load balancer may send it: the second finds the same shell (its
// working directory, a job it left running) and the output before it, because the shell lives in a
// tmux session in the workbench (workbench-shell), not in the replica that opened it. An
// instructor's read-only view of that terminal works from the replica that does not hold it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../src/server/main.ts';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.ts';
import { LearnerTerminal, PortalLearner } from '../../security/portal-learner.ts';
import { WebSocket } from 'ws';

const LAB = 'configmaps-and-secrets';
const MAIN = path.join(PROJECT_ROOT, 'src', 'server', 'main.ts');
const CLI = path.join(PROJECT_ROOT, 'src', 'cli', 'main.ts');

let dir: string;
let postgres: TestPostgres;
let cluster: ChildProcess;
const portals: ChildProcess[] = [];
/** The replicas' addresses, in the order they started (a stopped one stays listed). */
const replicas: string[] = [];
let replicaEnv: { databaseUrl: string; kubeconfig: string };

async function startReplica(name: string, databaseUrl: string, kubeconfig: string): Promise<string> {
  const env = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: path.join(dir, `portal-${name}`),
    DATABASE_URL: databaseUrl,
    LAB_CLUSTER: 'kubernetes',
    KUBECONFIG: kubeconfig,
    AUTH: 'dev',
    SESSION_SECRET: 'replicas-test-session-secret-of-at-least-32-characters',
    LOG_LEVEL: 'info',
  };
  const { child, value } = await startChild([MAIN], env, (line) => {
    try {
      const parsed = JSON.parse(line) as { msg?: string; url?: string };
      return parsed.msg === 'portal listening' ? String(parsed.url) : undefined;
    } catch {
      return undefined;
    }
  });
  child.stdout?.resume();
  portals.push(child);
  replicas.push(value);
  return value;
}

/** A replica going away (a rolling update, a node drained): its terminals' exec streams close. */
async function stopReplica(index: number): Promise<void> {
  const child = portals[index]!;
  child.kill('SIGTERM');
  if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
}

/** Starts `command`, resolving with the first line `found` accepts. */
function startChild(args: string[], env: NodeJS.ProcessEnv, found: (line: string) => string | undefined): Promise<{ child: ChildProcess; value: string }> {
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let seen = '';
  child.stderr?.on('data', (chunk: Buffer) => (seen += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start within 120 s:\n${seen.slice(-3000)}`)), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      seen += `${line}\n`;
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

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'formicary-replicas-'));
  postgres = await startTestPostgres();
  const databaseUrl = await postgres.createDatabase();
  const kubeconfig = path.join(dir, 'admin.kubeconfig');
  ({ child: cluster } = await startChild([CLI, 'cluster', '--kubeconfig', kubeconfig, '--data', path.join(dir, 'cluster'), '--stop-on-stdin-close'], process.env, (line) => (/\bready\b/.test(line) ? line : undefined)));
  // Two replicas: the same database, session secret and cluster; each its own data directory.
  await startReplica('a', databaseUrl, kubeconfig);
  await startReplica('b', databaseUrl, kubeconfig);
  replicaEnv = { databaseUrl, kubeconfig };
}, 300_000);

afterAll(async () => {
  for (const child of portals) child.kill('SIGTERM');
  await Promise.all(portals.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)))));
  cluster?.stdin?.end();
  cluster?.kill('SIGTERM');
  await postgres?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('a learner’s terminal through two portal replicas', () => {
  it('finds the same shell, its working directory, its running job and its output through the other replica', async () => {
    const [a, b] = replicas as [string, string];
    const learner = await PortalLearner.signIn(a, 'Ada Replicas');
    const session = await learner.startLab(LAB);

    const first = await learner.openTerminal(LAB, { session: session.id });
    first.attach({ cols: 100, rows: 30 });
    // A working directory and a job that only this shell has.
    await first.run('sleep 600 & cd /tmp; echo first-replica-$((40+2))');
    await first.waitFor('first-replica-42');
    first.close();
    await first.closed;
    // Replica A goes away with the shell's exec stream: the shell must not go with it.
    await stopReplica(0);

    const atB = learner.at(b);
    const second = await atB.openTerminal(LAB, { session: session.id });
    second.attach({ cols: 100, rows: 30 });
    // What the shell printed through replica A is on replica B's screen or in its scrollback.
    await second.waitFor('first-replica-42', 30_000);
    expect(await second.run('pwd')).toContain('/tmp');
    expect(await second.run('jobs')).toMatch(/sleep 600/);
    second.close();
    await second.closed;

    // A new replica A (the rolled-out one): still the one shell.
    const again = await startReplica('a2', replicaEnv.databaseUrl, replicaEnv.kubeconfig);
    const third = await learner.at(again).openTerminal(LAB, { session: session.id });
    third.attach({ cols: 100, rows: 30 });
    expect(await third.run('jobs')).toMatch(/sleep 600/);
    third.close();
  }, 240_000);

  it('shows an instructor the learner’s terminal, read-only, through the replica that does not hold it', async () => {
    // Replica A was replaced by A2 in the test before: the learner works through A2, the instructor looks through B.
    const [a, b] = [replicas[2]!, replicas[1]!];
    const instructor = await PortalLearner.signIn(a, 'Irene Replicas', 'instructor');
    const created = await instructor.post('/api/workshops', {
      title: 'Replicas',
      labs: [LAB],
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      seats: 5,
    });
    expect(created.status).toBe(201);
    const workshop = (await created.json()) as { id: string; code: string };
    const learner = await PortalLearner.signIn(a, 'Grace Replicas');
    expect((await learner.post('/api/workshops/join', { code: workshop.code })).status).toBe(200);
    const session = await learner.startLab(LAB);
    const terminal = await learner.openTerminal(LAB, { session: session.id });
    terminal.attach({ cols: 100, rows: 30 });
    await terminal.run('echo seen-by-the-instructor-$((6*7))');

    // Through replica B, which has no terminal of this learner open.
    const address = new URL(`/api/workshops/${workshop.id}/learners/${learner.id}/terminal?lab=${LAB}`, b.replace(/^http/, 'ws'));
    const socket = new WebSocket(address, { headers: { cookie: instructor.cookie, origin: b } });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const view = new LearnerTerminal(socket);
    await view.waitFor('seen-by-the-instructor-42', 30_000);
    // What the learner types next shows up in the view.
    terminal.type('echo typed-after-$((7*6))\r');
    await view.waitFor('typed-after-42', 30_000);
    // The view is read-only: what the instructor sends never reaches the shell.
    view.type('echo instructor-typed-$((5*5))\r');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(terminal.output).not.toContain('instructor-typed-25');
    expect(view.messages.some((message) => message.type === 'error' && /read-only/.test(String(message.message)))).toBe(true);
    view.close();
    terminal.close();
  }, 240_000);
});
