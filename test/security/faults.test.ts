// Faults as a machine has them: the portal or its cluster killed with SIGKILL at any point of a
// lab. The portal runs as `npm start` runs it (node src/server/main.ts, a child process here, with
// the embedded cluster as its own child); processes are found and killed by pid, the learner works
// through the portal's API and terminal WebSocket. After every kill: no cluster outlives its portal,
// never two clusters on one data dir, every check the portal acknowledged is still recorded, and the
// learner's terminal works again.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/server/main.ts';
import { PortalLearner, type LearnerTerminal } from './portal-learner.ts';

const LAB = 'configmaps-and-secrets';
const MAIN = path.join(PROJECT_ROOT, 'src', 'server', 'main.ts');
const CLI = path.join(PROJECT_ROOT, 'src', 'cli', 'main.ts');

interface PortalProcess {
  child: ChildProcess;
  url: string;
  /** The portal's log lines (JSON) so far. */
  lines: Array<Record<string, unknown>>;
  exited: Promise<void>;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `node src/server/main.ts` on DATA_DIR, as npm start runs it; resolves once it listens. */
async function startPortalProcess(dataDir: string): Promise<PortalProcess> {
  const child = spawn(process.execPath, [MAIN], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LAB_CLUSTER: 'embedded', AUTH: 'dev', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr!.resume();
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        if (parsed.msg === 'portal listening') resolve(String(parsed.url));
      } catch {
        // Not a log line.
      }
    });
    void exited.then(() => reject(new Error(`the portal exited before listening:\n${lines.map((l) => l.msg).join('\n')}`)));
  });
  return { child, url, lines, exited };
}

/**
 * Processes running `formicary cluster` on this data dir (zombies are dead already). A child the
 * cluster is forking (a pod's sandbox between fork and exec) shows its parent's command line for a
 * moment: a match whose parent is a match is that, not a second cluster.
 */
function clustersOn(clusterDir: string): number[] {
  const found = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const data = argv.indexOf('--data');
      if (argv.includes('cluster') && data >= 0 && argv[data + 1] === clusterDir) found.set(Number(entry), Number(fields[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  return [...found].filter(([, parent]) => !found.has(parent)).map(([pid]) => pid);
}

function readiness(url: string): Promise<{ status: number; cluster?: string }> {
  return fetch(`${url}/api/ready`).then(
    async (response) => ({ status: response.status, cluster: ((await response.json()) as { checks: { cluster: { detail: string } } }).checks.cluster.detail }),
    () => ({ status: 0 }),
  );
}

/** Whether a process runs (a zombie waiting for its reaper does not). */
function running(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !state.slice(state.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

async function ready(url: string): Promise<void> {
  await until(`${url}/api/ready to answer 200`, async () => (await readiness(url)).status === 200, 120_000);
}

/** Opens the lab terminal and runs a command, again and again until the workbench answers (its pod may be restarting). */
async function workingTerminal(learner: PortalLearner, session: string): Promise<LearnerTerminal> {
  return until(
    'a working terminal',
    async () => {
      let terminal: LearnerTerminal | null = null;
      try {
        terminal = await learner.openTerminal(LAB, { session });
        terminal.attach();
        const mark = Math.floor(Math.random() * 1000);
        if ((await terminal.run(`echo alive-$((${mark}+1))`, 20_000)).includes(`alive-${mark + 1}`)) return terminal;
      } catch {
        // The workbench is not back yet.
      }
      terminal?.close();
      await new Promise((resolve) => setTimeout(resolve, 500));
      return null;
    },
    180_000,
  );
}

/** Opens the lab terminal once and runs one command in it. */
async function commandInTerminal(learner: PortalLearner, session: string): Promise<void> {
  const terminal = await learner.openTerminal(LAB, { session });
  try {
    terminal.attach();
    await terminal.run('echo in-flight', 10_000);
  } finally {
    terminal.close();
  }
}

async function recordedChecks(learner: PortalLearner): Promise<number> {
  const response = await learner.fetch('/api/me/learning');
  const body = (await response.json()) as { labs: Array<{ lab: string; checks: number }> };
  return body.labs.find((lab) => lab.lab === LAB)?.checks ?? 0;
}

describe('kill -9 of the portal and of its cluster', () => {
  let dataDir: string;
  let clusterDir: string;
  let portal: PortalProcess;
  let learner: PortalLearner;
  let session: string;
  /** Checks the portal answered 200 to: each must stay recorded. */
  let acknowledged = 0;
  const started: PortalProcess[] = [];

  async function start(): Promise<PortalProcess> {
    const running = await startPortalProcess(dataDir);
    started.push(running);
    return running;
  }

  async function check(): Promise<void> {
    const response = await learner.post(`/api/labs/${LAB}/check`);
    if (response.status === 200) acknowledged += 1;
  }

  function clusterPid(running: PortalProcess): number {
    const line = running.lines.filter((l) => l.component === 'cluster' && l.msg === 'the embedded cluster started').at(-1);
    return Number(line?.pid);
  }

  async function killPortal(running: PortalProcess): Promise<void> {
    running.child.kill('SIGKILL');
    await running.exited;
    // Its cluster sees its standard input close and stops: no orphan.
    await until('the cluster of the killed portal to stop', () => clustersOn(clusterDir).length === 0, 60_000);
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'formicary-faults-'));
    clusterDir = path.join(dataDir, 'cluster');
    portal = await start();
    await ready(portal.url);
    learner = await PortalLearner.signIn(portal.url, 'Ada Faults');
    session = (await learner.startLab(LAB)).id;
  }, 240_000);

  afterAll(async () => {
    for (const running of started) running.child.kill('SIGKILL');
    await Promise.all(started.map((running) => running.exited));
    await until('every cluster to stop', () => clustersOn(clusterDir).length === 0, 60_000).catch(() => {
      for (const pid of clustersOn(clusterDir)) process.kill(pid, 'SIGKILL');
    });
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('stops the cluster child within seconds when the portal is killed, and a new portal carries on with the record', async () => {
    await check();
    await check();
    expect(acknowledged).toBe(2);
    const orphan = clusterPid(portal);
    expect(clustersOn(clusterDir)).toEqual([orphan]);

    await killPortal(portal);
    expect(running(orphan)).toBe(false);

    portal = await start();
    await ready(portal.url);
    expect(clustersOn(clusterDir)).toEqual([clusterPid(portal)]);
    learner = learner.at(portal.url);
    expect(await recordedChecks(learner)).toBe(acknowledged);
    (await workingTerminal(learner, session)).close();
  }, 300_000);

  it('refuses a second cluster on the data dir with a message naming the directory and the holder, and a second portal says why it is not ready', async () => {
    const holder = clusterPid(portal);
    const second = spawn(process.execPath, [CLI, 'cluster', '--data', clusterDir, '--kubeconfig', path.join(dataDir, 'second.kubeconfig'), '--port', '0'], { cwd: PROJECT_ROOT });
    let stderr = '';
    second.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(`formicary cluster: could not start: the data dir ${clusterDir} is in use by another cluster (pid ${holder}); stop that one first, or choose another data dir`);
    expect(clustersOn(clusterDir)).toEqual([holder]);

    const rival = await startPortalProcess(dataDir);
    try {
      const refused = await until('the second portal to report its refused cluster', async () => {
        const answer = await readiness(rival.url);
        return answer.status === 503 && answer.cluster?.includes('in use by another cluster') ? answer : null;
      });
      expect(refused.cluster).toContain(`the data dir ${clusterDir} is in use by another cluster (pid ${holder})`);
      expect(clustersOn(clusterDir)).toEqual([holder]);
    } finally {
      rival.child.kill('SIGTERM');
      await rival.exited;
    }
    expect(clustersOn(clusterDir)).toEqual([holder]);
    expect((await readiness(portal.url)).status).toBe(200);
  }, 180_000);

  it('restarts a killed cluster (not ready meanwhile, with a log line), takes over its stale lock, and the open terminal reconnects', async () => {
    const terminal = await workingTerminal(learner, session);
    await check();
    const before = clusterPid(portal);
    process.kill(before, 'SIGKILL');
    await until('/api/ready to say not ready', async () => (await readiness(portal.url)).status === 503, 30_000);
    await ready(portal.url);
    expect(portal.lines.map((line) => line.msg)).toContainEqual(expect.stringMatching(/^the embedded cluster was killed by SIGKILL; starting it again in \d+\.\d s$/));
    const after = clusterPid(portal);
    expect(after).not.toBe(before);
    expect(clustersOn(clusterDir)).toEqual([after]);
    // The killed cluster left its lock behind, naming a pid that is gone: the new one took it over.
    expect(JSON.parse(await readFile(path.join(clusterDir, 'cluster.lock'), 'utf8'))).toMatchObject({ pid: after });

    // The same WebSocket, never closed: told of the break, then a shell again.
    await terminal.waitFor('[The connection to your workbench was lost; reconnecting…]', 60_000);
    await until(
      'the reconnected terminal to run a command',
      async () => (await terminal.run('echo after-$((40+2))', 20_000).catch(() => '')).includes('after-42'),
      180_000,
    );
    expect(terminal.socket.readyState).toBe(terminal.socket.OPEN);
    terminal.close();
    expect(await recordedChecks(learner)).toBe(acknowledged);
    await check();
    expect(await recordedChecks(learner)).toBe(acknowledged);
  }, 300_000);

  it('survives kill -9 at random points of a lab, 20 times: no orphan, never two clusters, no acknowledged check lost', async () => {
    for (let round = 0; round < 20; round += 1) {
      // Something in flight when the kill lands: a check, a command in the terminal, or both.
      // One try each: the portal they talk to may be the one killed (retrying against it would
      // only wait out the retries).
      const inFlight = [check().catch(() => undefined), commandInTerminal(learner, session).catch(() => undefined)];
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 1500)));
      if (round % 2 === 0) {
        const pid = clusterPid(portal);
        process.kill(pid, 'SIGKILL');
        await until('the supervisor to start another cluster', () => clusterPid(portal) !== pid, 60_000);
      } else {
        await killPortal(portal);
        portal = await start();
        learner = learner.at(portal.url);
      }
      await Promise.all(inFlight);
      await ready(portal.url);
      expect(clustersOn(clusterDir), `round ${round}`).toEqual([clusterPid(portal)]);
      expect(await recordedChecks(learner), `round ${round}`).toBeGreaterThanOrEqual(acknowledged);
    }
    (await workingTerminal(learner, session)).close();
    const last = acknowledged;
    await check();
    expect(acknowledged).toBe(last + 1);
    expect(await recordedChecks(learner)).toBeGreaterThanOrEqual(acknowledged);
  }, 900_000);
});
