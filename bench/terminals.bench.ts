// Terminal figures through the portal as `npm start` runs it (a child process with the embedded
// cluster, realistic start-up delays): a keystroke's echo — portal WebSocket → exec → the
// workbench's bash → back — for one learner alone, then many learners at once, each with an open
// terminal, typing, and pressing Check every 10 s. `concurrent_learners` is how many got a lab and
// then ran with no error (a failed request, a lost connection, an echo later than 5 s or not of the
// key typed, a Check whose answer has no results); starting stops at the first round of failed
// starts (the lab cluster is full), and a start that is neither ready nor failed within 3 minutes
// fails. The RSS figures are the portal's and the cluster process's at the end.
//   BENCH_LEARNERS (default 500), BENCH_SECONDS (default 60) size the crowd; BENCH_PORTAL_LOG=FILE
//   keeps the portal's log (JSON lines) there.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { percentile, round } from './stats.ts';

const LAB = 'rbac-least-privilege';
const LEARNERS = Number(process.env.BENCH_LEARNERS ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const ECHOES_ALONE = 300;
const START_CONCURRENCY = 6;
const ECHO_LIMIT_MS = 5_000;
const CHECK_EVERY_MS = 10_000;
const TYPE_EVERY_MS = 1_000;
const START_LIMIT_MS = 180_000;
/** Any one request or terminal open that takes longer is a failure, so the bench ends in bounded time. */
const REQUEST_LIMIT_MS = 30_000;

interface Portal {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

async function startPortal(dir: string): Promise<Portal> {
  const root = join(import.meta.dirname, '..');
  const child = spawn(process.execPath, [join(root, 'src', 'server', 'main.ts')], {
    cwd: root,
    env: { ...process.env, PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'info', AUTH: 'dev', LAB_CLUSTER: 'embedded' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the portal did not listen within 120 s')), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('portal listening')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`the portal exited with ${code}`)));
  });
  if (process.env.BENCH_PORTAL_LOG) child.stdout!.pipe(createWriteStream(process.env.BENCH_PORTAL_LOG));
  else child.stdout!.resume();
  const deadline = Date.now() + 120_000;
  while ((await fetch(`${url}/api/ready`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > deadline) throw new Error('the portal was not ready within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    url,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024, 0);
}

async function childrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
  }
  return found;
}

class Learner {
  readonly name: string;
  cookie = '';
  csrf = '';
  session = '';
  socket: WebSocket | null = null;
  #waiting: { started: number; key: string; resolve: (ms: number) => void } | null = null;
  errors: string[] = [];

  constructor(name: string) {
    this.name = name;
  }

  async signIn(url: string): Promise<void> {
    const response = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ name: this.name }), signal: AbortSignal.timeout(REQUEST_LIMIT_MS) });
    if (!response.ok) throw new Error(`sign-in of ${this.name}: HTTP ${response.status}`);
    this.cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    this.csrf = ((await response.json()) as { csrfToken: string }).csrfToken;
  }

  async post(url: string, action: string): Promise<Response> {
    return fetch(`${url}/api/labs/${LAB}/${action}`, {
      method: 'POST',
      headers: { cookie: this.cookie, origin: url, 'content-type': 'application/json', 'x-csrf-token': this.csrf },
      body: JSON.stringify(this.session ? { session: this.session } : {}),
      signal: AbortSignal.timeout(REQUEST_LIMIT_MS),
    });
  }

  /** Start lab, then wait until the portal says it is ready; returns the milliseconds. */
  async start(url: string): Promise<number> {
    const started = performance.now();
    const response = await this.post(url, 'start');
    if (!response.ok) throw new Error(`start for ${this.name}: HTTP ${response.status} ${await response.text()}`);
    while (performance.now() - started < START_LIMIT_MS) {
      const state = (await (await fetch(`${url}/api/labs/${LAB}/state`, { headers: { cookie: this.cookie }, signal: AbortSignal.timeout(REQUEST_LIMIT_MS) })).json()) as { session: { id: string; status: string; detail: string | null } | null };
      if (state.session?.status === 'ready') {
        this.session = state.session.id;
        return performance.now() - started;
      }
      if (state.session?.status === 'failed') throw new Error(`start for ${this.name} failed: ${state.session.detail}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    throw new Error(`start for ${this.name}: neither ready nor failed within ${START_LIMIT_MS / 1000} s`);
  }

  async openTerminal(url: string): Promise<void> {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/api/labs/${LAB}/terminal?session=${this.session}`, { headers: { cookie: this.cookie, origin: url } });
    // Only a terminal that connected counts: until then the learner has none.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`terminal of ${this.name}: not connected within ${REQUEST_LIMIT_MS / 1000} s`)), REQUEST_LIMIT_MS);
      socket.once('open', () => {
        socket.send(JSON.stringify({ type: 'attach', cols: 120, rows: 40 }));
      });
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString()) as { type: string; state?: string; data?: string };
        if (message.type === 'status' && message.state === 'connected') {
          clearTimeout(timer);
          resolve();
        }
        // A printable key counts only when the shell printed it back; a control key's echo is whatever it printed.
        if (message.type === 'output' && this.#waiting && (this.#waiting.key < ' ' || (message.data ?? '').includes(this.#waiting.key))) {
          const waiting = this.#waiting;
          this.#waiting = null;
          waiting.resolve(performance.now() - waiting.started);
        }
      });
      socket.once('unexpected-response', (_req, res) => reject(new Error(`terminal of ${this.name}: HTTP ${res.statusCode}`)));
      socket.once('close', (code) => this.errors.push(`terminal closed (${code})`));
      socket.once('error', reject);
    }).catch((error: unknown) => {
      socket.terminate();
      throw error;
    });
    this.socket = socket;
    // Let the prompt arrive before measuring echoes.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }

  /** One keystroke; resolves with the time until the shell's echo arrived. */
  keystroke(key: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting = null;
        reject(new Error(`no echo within ${ECHO_LIMIT_MS} ms`));
      }, ECHO_LIMIT_MS);
      this.#waiting = {
        started: performance.now(),
        key,
        resolve: (ms) => {
          clearTimeout(timer);
          resolve(ms);
        },
      };
      this.socket!.send(JSON.stringify({ type: 'input', data: key }));
    });
  }
}

/** Runs `work` over the items, `size` at a time, until they are done or `stop()` says enough. */
async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>, stop: () => boolean): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length && !stop()) await work(items[next++]!);
    }),
  );
}

export default async function bench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-terminals-'));
  const portal = await startPortal(dir);
  // `npm run bench` ends a bench that overruns its time with SIGTERM: the portal (and with it its cluster) goes too.
  const stopOnSignal = () => {
    portal.process.kill('SIGTERM');
    process.exit(1);
  };
  process.once('SIGTERM', stopOnSignal);
  try {
    // One learner alone: the echo of a keystroke through the portal.
    const alone = new Learner('bench-alone');
    await alone.signIn(portal.url);
    await alone.start(portal.url);
    await alone.openTerminal(portal.url);
    const aloneMs: number[] = [];
    for (let i = 0; i < ECHOES_ALONE; i++) {
      aloneMs.push(await alone.keystroke('x'));
      // Ctrl+U clears the line every so often; its echo is not measured.
      if (i % 50 === 49) await alone.keystroke('\u0015');
    }

    // The crowd.
    const learners = Array.from({ length: LEARNERS }, (_, i) => new Learner(`bench-learner-${i}`));
    const startMs: number[] = [];
    const failures: string[] = [];
    // Once a round of starts fails, the lab cluster is full: the crowd is whoever got in.
    await inBatches(
      learners,
      START_CONCURRENCY,
      async (learner) => {
        try {
          await learner.signIn(portal.url);
          startMs.push(await learner.start(portal.url));
          await learner.openTerminal(portal.url);
          if (startMs.length % 50 === 0) process.stderr.write(`bench: ${startMs.length} learners started (${failures.length} failed; load ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')})\n`);
        } catch (error) {
          failures.push(`${learner.name}: ${(error as Error).message}`);
        }
      },
      () => failures.length >= START_CONCURRENCY,
    );
    const ready = learners.filter((learner) => learner.socket !== null && learner.errors.length === 0);
    process.stderr.write(`bench: ${ready.length} of ${LEARNERS} learners have a terminal (${failures.length} failed to start)\n`);

    const echoMs: number[] = [];
    const checkMs: number[] = [];
    const until = Date.now() + SECONDS * 1000;
    await Promise.all(
      ready.map(async (learner, index) => {
        let nextCheck = Date.now() + ((index * 37) % CHECK_EVERY_MS);
        let typed = 0;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * TYPE_EVERY_MS));
        while (Date.now() < until) {
          try {
            echoMs.push(await learner.keystroke(typed % 40 === 39 ? '\u0015' : 'k'));
            typed += 1;
            if (Date.now() >= nextCheck) {
              nextCheck += CHECK_EVERY_MS;
              const started = performance.now();
              const response = await learner.post(portal.url, 'check');
              const answer = (await response.json().catch(() => null)) as { results?: unknown[] } | null;
              checkMs.push(performance.now() - started);
              if (response.status !== 200) learner.errors.push(`check: HTTP ${response.status}`);
              else if (!Array.isArray(answer?.results) || answer.results.length === 0) learner.errors.push('check: an answer without results');
            }
          } catch (error) {
            learner.errors.push((error as Error).message);
          }
          await new Promise((resolve) => setTimeout(resolve, TYPE_EVERY_MS * (0.5 + Math.random())));
        }
      }),
    );
    const withErrors = ready.filter((learner) => learner.errors.length > 0);
    for (const learner of withErrors.slice(0, 5)) process.stderr.write(`bench: ${learner.name}: ${learner.errors.slice(0, 3).join('; ')}\n`);
    for (const failure of failures.slice(0, 5)) process.stderr.write(`bench: ${failure}\n`);

    const portalPid = portal.process.pid!;
    const clusterPids = await childrenOf(portalPid);
    const clusterRss = (await Promise.all(clusterPids.map(rssMb))).reduce((sum, value) => sum + value, 0);
    for (const learner of [alone, ...learners]) learner.socket?.close();

    return {
      terminal_echo_ms_p50: round(percentile(aloneMs, 50), 2),
      terminal_echo_ms_p99: round(percentile(aloneMs, 99), 2),
      concurrent_learners_tried: LEARNERS,
      concurrent_learners: ready.length - withErrors.length,
      concurrent_learners_start_failures: failures.length,
      concurrent_learners_errors: withErrors.reduce((sum, learner) => sum + learner.errors.length, 0),
      concurrent_terminal_echo_ms_p50: round(percentile(echoMs, 50), 1),
      concurrent_terminal_echo_ms_p99: round(percentile(echoMs, 99), 1),
      concurrent_check_ms_p95: round(percentile(checkMs, 95), 0),
      concurrent_lab_start_ms_p95: round(percentile(startMs, 95), 0),
      concurrent_portal_rss_mb: await rssMb(portalPid),
      concurrent_cluster_rss_mb: clusterRss,
    };
  } finally {
    process.off('SIGTERM', stopOnSignal);
    await portal.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
