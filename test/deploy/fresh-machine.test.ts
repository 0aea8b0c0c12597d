// The README's two commands on a fresh machine: a clean clone of this repository's HEAD, a PATH
// whose `node` is the system's old one (Debian's Node 20), an empty home directory (no cached Node
// headers, no global tools), `npm install && npm start`; then the portal must answer /api/ready and
// a learner must be able to start a lab through the HTTP API, as a browser would.
//
// Only the npm cache is shared with the machine (npm_config_cache): it holds registry tarballs,
// which a fresh machine fetches from the registry anyway, and saves this test the download. Node's
// headers (what a native build would look for in ~/.cache/node-gyp) are not in it.
//
// Runs twice: as the user the suite runs as (root in CI), and as an unprivileged user
// (FORMICARY_ROOTLESS_USER, default formicary-learner, which .ci/run creates) in a clone that user
// owns, whose portal then runs its cluster rootless; there a lab's terminal runs a command in the
// learner's sandbox, under one of the user's subordinate uids. The unprivileged half gets its own
// copy of the npm cache (the user cannot read root's). It is skipped, loudly, only where the
// machine cannot switch to such a user (see test/security/unprivileged.ts).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortalLearner } from '../security/portal-learner.ts';
import { effectiveUid, pidsRunning } from '../support/processes.ts';
import { asUnprivileged, unprivilegedUser, visibility } from '../security/unprivileged.ts';

const run = promisify(execFile);
const PROJECT = join(import.meta.dirname, '..', '..');
/** The directories a fresh Debian machine has on PATH: its own node and npm, nothing of ours. */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 4 * 60_000;

let dir: string;
let clone: string;
let portal: ChildProcess | undefined;
let output = '';
/** The portal's address once it answers (the lab test needs the running portal). */
let portalUrl: string | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** The machine's npm cache (registry tarballs only). */
const NPM_CACHE = process.env.npm_config_cache ?? join(homedir(), '.npm');

function freshEnv(extra: Record<string, string> = {}, home = join(dir, 'home'), npmCache = NPM_CACHE): Record<string, string> {
  return {
    PATH: SYSTEM_PATH,
    HOME: home,
    LANG: 'C.UTF-8',
    npm_config_cache: npmCache,
    npm_config_update_notifier: 'false',
    ASTRO_TELEMETRY_DISABLED: '1',
    ...extra,
  };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, printed = () => output): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s; the portal printed:\n${printed().slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'formicary-fresh-'));
  await mkdir(join(dir, 'home'));
  clone = join(dir, 'formicary');
  await run('git', ['clone', '--quiet', PROJECT, clone]);
}, 120_000);

/** Whether any process of the group led by pid is left. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops `npm start` and what it started: npm exits on SIGINT without waiting for its script, so
 * the signal goes to the whole process group (the portal, which stops its cluster), and the group
 * is waited for (killed after 30 s).
 */
async function stop(started: ChildProcess | undefined): Promise<void> {
  const pid = started?.pid;
  if (pid === undefined || !groupAlive(pid)) return;
  process.kill(-pid, 'SIGINT');
  for (let waited = 0; waited < 30_000 && groupAlive(pid); waited += 250) await new Promise((resolve) => setTimeout(resolve, 250));
  if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
}

afterAll(async () => {
  await stop(portal);
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('a fresh machine with the system Node and an empty home: npm install && npm start', () => {
  it('has an older system Node on PATH, as the README assumes', async () => {
    const { stdout } = await run('node', ['--version'], { env: freshEnv() });
    expect(Number(/^v(\d+)/.exec(stdout.trim())?.[1])).toBeGreaterThanOrEqual(20);
    expect(existsSync(join(clone, 'node_modules'))).toBe(false);
  });

  it('installs without compiling anything and without Node headers in the home directory', async () => {
    const { stdout, stderr } = await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: clone, env: freshEnv(), timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
    expect(`${stdout}\n${stderr}`).not.toMatch(/gyp (ERR|info it worked)|node-gyp rebuild/);
    // Node 24 came with the install, and the npm scripts run on it.
    const { stdout: version } = await run('npm', ['exec', '--offline', '--', 'node', '--version'], { cwd: clone, env: freshEnv() });
    expect(Number(/^v(\d+)/.exec(version.trim())?.[1])).toBeGreaterThanOrEqual(24);
    // Nothing was downloaded into the home directory (no ~/.cache/node-gyp headers).
    const home = await readdir(join(dir, 'home'), { recursive: true });
    expect(home.filter((entry) => /node-gyp|include\/node/.test(String(entry)))).toEqual([]);
  }, INSTALL_TIMEOUT_MS + 30_000);

  it('starts the portal and its embedded cluster, which answer /api/ready', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    portal = spawn('npm', ['start'], { cwd: clone, env: freshEnv({ PORT: String(port), DATA_DIR: join(dir, 'data') }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    portal.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    portal.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ready = await waitFor('/api/ready answering 200', START_TIMEOUT_MS, async () => {
      if (portal?.exitCode !== null) throw new Error(`npm start exited with ${portal?.exitCode}:\n${output.slice(-4000)}`);
      const answer = await fetch(`${url}/api/ready`);
      return answer.status === 200 ? ((await answer.json()) as { checks: Record<string, { ready: boolean }> }) : undefined;
    });
    expect(Object.keys(ready.checks)).toEqual(expect.arrayContaining(['database', 'migrations', 'cluster']));
    expect(output).toContain(`Formicary is running at http://localhost:${port}`);
    const lesson = await fetch(`${url}/paths/kubernetes-foundations`);
    expect(lesson.status).toBe(200);
    portalUrl = url;
  }, START_TIMEOUT_MS + 30_000);

  it('signs a learner in and starts a lab, whose sandbox gets ready', async () => {
    const url = portalUrl;
    expect(url, 'the portal did not start (see the test before)').toBeDefined();
    const signIn = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { origin: url!, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Fresh Learner' }),
    });
    expect(signIn.status).toBe(200);
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };
    const cookie = signIn.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
    const headers = { origin: url!, cookie, 'x-csrf-token': csrfToken };
    const start = await fetch(`${url}/api/labs/namespaces-and-kubectl/start`, { method: 'POST', headers });
    expect(start.status).toBe(202);
    const session = await waitFor('the lab session getting ready', 120_000, async () => {
      const state = (await (await fetch(`${url}/api/labs/namespaces-and-kubectl/state`, { headers })).json()) as { session: { status: string; namespace: string | null; detail: string | null } | null };
      if (state.session?.status === 'failed') throw new Error(`the lab failed to start: ${state.session.detail}`);
      return state.session?.status === 'ready' ? state.session : undefined;
    });
    expect(session.namespace).toMatch(/^lab-/);
    // The first step's check runs against the sandbox (and fails: nothing has been done yet).
    const check = await fetch(`${url}/api/labs/namespaces-and-kubectl/check`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
    expect(check.status).toBe(200);
    const end = await fetch(`${url}/api/labs/namespaces-and-kubectl/end`, { method: 'POST', headers });
    expect(end.status).toBeLessThan(300);
  }, 180_000);
});

const learnerUser = unprivilegedUser();
if (typeof learnerUser === 'string') {
  // A skip here means nobody proved the README's commands as a normal user on this machine: say so where CI logs show it.
  process.stderr.write(`\n!!! test/deploy/fresh-machine.test.ts: the unprivileged half is SKIPPED (npm install && npm start as a normal user is NOT tested here): ${learnerUser}\n\n`);
}

describe.skipIf(typeof learnerUser === 'string')(`the same as the unprivileged user ${typeof learnerUser === 'string' ? '' : learnerUser.name}, in a clone it owns: the portal runs its cluster rootless`, () => {
  let userDir: string;
  let userClone: string;
  let userPortal: ChildProcess | undefined;
  let userOutput = '';
  let userUrl: string | undefined;

  /** argv as the user in its clone, with the fresh machine's environment (its own home and npm cache). */
  function asLearner(argv: string[], extra: Record<string, string> = {}): [string, string[]] {
    if (typeof learnerUser === 'string') throw new Error(learnerUser);
    const command = asUnprivileged(learnerUser, argv, { reads: [userClone], cwd: userClone, env: freshEnv(extra, join(userDir, 'home'), join(userDir, 'npm-cache')) });
    if (typeof command === 'string') throw new Error(command);
    return command;
  }

  beforeAll(async () => {
    if (typeof learnerUser === 'string') return;
    userDir = await mkdtemp(join(tmpdir(), 'formicary-fresh-user-'));
    userClone = join(userDir, 'formicary');
    await mkdir(join(userDir, 'home'));
    await run('git', ['clone', '--quiet', PROJECT, userClone]);
    // The user cannot read root's npm cache; a copy of its own saves the download as the root half's does.
    if (existsSync(NPM_CACHE)) await cp(NPM_CACHE, join(userDir, 'npm-cache'), { recursive: true });
    await run('chown', ['-R', `${learnerUser.uid}:${learnerUser.gid}`, userDir]);
    await chown(userDir, learnerUser.uid, learnerUser.gid);
    // The user writes its clone (npm install), which read-only binds could not give it.
    const seen = visibility(learnerUser, [userClone]);
    if (typeof seen === 'string' || seen.binds.length > 0) throw new Error(`${learnerUser.name} cannot reach ${userDir} (set TMPDIR to a directory every user can traverse, e.g. /tmp)`);
  }, 300_000);

  afterAll(async () => {
    await stop(userPortal);
    if (userDir) await rm(userDir, { recursive: true, force: true });
  }, 60_000);

  it('installs as the user, in its own clone', async () => {
    const [command, args] = asLearner(['npm', 'install', '--no-audit', '--no-fund']);
    const { stdout, stderr } = await run(command, args, { timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
    expect(`${stdout}\n${stderr}`).not.toMatch(/gyp (ERR|info it worked)|node-gyp rebuild/);
    const [version, versionArgs] = asLearner(['npm', 'exec', '--offline', '--', 'node', '-p', 'process.version + " " + process.getuid()']);
    const { stdout: answer } = await run(version, versionArgs);
    const [node, uid] = answer.trim().split(' ');
    expect(Number(/^v(\d+)/.exec(node ?? '')?.[1])).toBeGreaterThanOrEqual(24);
    expect(Number(uid)).toBe(typeof learnerUser === 'string' ? -1 : learnerUser.uid);
  }, INSTALL_TIMEOUT_MS + 30_000);

  it('starts the portal as the user; its embedded cluster runs rootless and answers /api/ready', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const [command, args] = asLearner(['npm', 'start'], { PORT: String(port), DATA_DIR: join(userDir, 'data') });
    userPortal = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    userPortal.stdout?.on('data', (chunk: Buffer) => (userOutput += chunk.toString()));
    userPortal.stderr?.on('data', (chunk: Buffer) => (userOutput += chunk.toString()));
    const ready = await waitFor(
      '/api/ready answering 200',
      START_TIMEOUT_MS,
      async () => {
        if (userPortal?.exitCode !== null) throw new Error(`npm start exited with ${userPortal?.exitCode}:\n${userOutput.slice(-4000)}`);
        const answer = await fetch(`${url}/api/ready`);
        return answer.status === 200 ? ((await answer.json()) as { checks: Record<string, { ready: boolean }> }) : undefined;
      },
      () => userOutput,
    );
    expect(Object.keys(ready.checks)).toEqual(expect.arrayContaining(['database', 'migrations', 'cluster']));
    expect(userOutput).not.toContain('shells are disabled');
    userUrl = url;
  }, START_TIMEOUT_MS + 30_000);

  it("starts a lab whose terminal runs a command in the learner's sandbox, under one of the user's subordinate uids; Check sees it; the lab ends", async () => {
    if (typeof learnerUser === 'string') return;
    expect(userUrl, 'the portal did not start (see the test before)').toBeDefined();
    const learner = await PortalLearner.signIn(userUrl!, 'Rootless Learner');
    const session = await learner.startLab('configmaps-and-secrets', 240_000);
    const terminal = await learner.openTerminal('configmaps-and-secrets', { session: session.id });
    try {
      terminal.attach();
      const answer = await terminal.run('id -un; (sleep 3671 &); kubectl create configmap web-config --from-literal=GREETING=hello -o name', 60_000);
      expect(answer).toContain('learner');
      expect(answer).toContain('configmap/web-config');
      // On the machine, the sandbox's process belongs to a uid of the user's subordinate range:
      // neither root nor the user itself.
      const owners = pidsRunning(['sleep', '3671']).map(effectiveUid);
      expect(owners.length, 'a process running sleep 3671').toBeGreaterThan(0);
      for (const uid of owners) {
        expect(uid).toBeGreaterThanOrEqual(learnerUser.uids.start);
        expect(uid).toBeLessThan(learnerUser.uids.start + learnerUser.uids.count);
      }
    } finally {
      terminal.close();
    }
    const check = await learner.post('/api/labs/configmaps-and-secrets/check');
    expect(check.status).toBe(200);
    // The step's first check reads web-config's GREETING, which the terminal just wrote.
    const result = (await check.json()) as { step: string; results: Array<{ passed: boolean }> };
    expect(result.step).toBe('create-config');
    expect(result.results[0]?.passed, JSON.stringify(result)).toBe(true);
    const end = await learner.post('/api/labs/configmaps-and-secrets/end');
    expect(end.status).toBeLessThan(300);
    expect((await learner.labState('configmaps-and-secrets'))?.status ?? 'ended', 'the lab session after End').not.toBe('ready');
  }, 360_000);
});
