// Terminals on any replica: two portal processes (`node src/server/main.ts`, as in a Deployment with
// two replicas) on one PostgreSQL, with LAB_CLUSTER=kubernetes against a separately started
// `formicary cluster` standing for the company's lab cluster. A learner's terminal connects through
// one replica, then the other, as a load balancer may send it: the second finds the same shell (its
// working directory, a job it left running) and the output before it, because the shell lives in a
// tmux session in the workbench (workbench-shell), not in the replica that opened it. An
// instructor's read-only view of that terminal works from the replica that does not hold it.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.ts';
import { startLabCluster, startReplica as startPortalReplica, stopAll } from '../../support/replicas.ts';
import { LearnerTerminal, PortalLearner } from '../../security/portal-learner.ts';

const LAB = 'configmaps-and-secrets';

let dir: string;
let postgres: TestPostgres;
const children: ChildProcess[] = [];
/** The replicas' addresses, in the order they started (a stopped one stays listed). */
const replicas: string[] = [];
let shared: { databaseUrl: string; kubeconfig: string };

async function startReplica(name: string): Promise<string> {
  const { child, url } = await startPortalReplica({ dataDir: path.join(dir, `portal-${name}`), ...shared, sessionSecret: 'replicas-test-session-secret-of-at-least-32-characters' });
  children.push(child);
  replicas.push(url);
  return url;
}

/** A replica going away (a rolling update, a node drained): its terminals' exec streams close. */
async function stopReplica(url: string): Promise<void> {
  await stopAll([children[replicas.indexOf(url) + 1]!]);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'formicary-replicas-'));
  postgres = await startTestPostgres();
  shared = { databaseUrl: await postgres.createDatabase(), kubeconfig: path.join(dir, 'admin.kubeconfig') };
  children.push(await startLabCluster(path.join(dir, 'cluster'), shared.kubeconfig));
  // Two replicas: the same database, session secret and cluster; each its own data directory.
  await startReplica('a');
  await startReplica('b');
}, 300_000);

afterAll(async () => {
  await stopAll(children);
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
    await stopReplica(a);

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
    const again = await startReplica('a2');
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
