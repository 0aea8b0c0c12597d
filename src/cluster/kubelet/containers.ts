// One run of a container ("instance"; a restart makes a new one). Either a simulated server
// (timers and catalog data: start-up lines, HTTP answers for probes, an exit when the image
// would exit) or a real process in the sandbox whose output is the log and whose exit code is
// the container's.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fillTemplate } from './format.ts';
import type { HttpEndpoint, ImageBehaviour } from './images/index.ts';
import { ContainerLog } from './logs.ts';
import type { NginxListening, TlsCredentials } from './nginx-config.ts';
import type { PidNamespace, SandboxedProcess } from './sandbox/index.ts';

export interface ContainerExit {
  exitCode: number;
  reason: 'Completed' | 'Error' | 'OOMKilled';
  signal?: number;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface ContainerInstance {
  /** containerd://<64 hex>, as containerStatuses[].containerID */
  readonly containerID: string;
  /** When the runtime created it, before its process ran: its cgroup's CPU counter starts here. */
  readonly createdAt: Date;
  readonly startedAt: Date;
  readonly log: ContainerLog;
  readonly exited: Promise<ContainerExit>;
  readonly running: boolean;
  /** The container's own writable /tmp on the host (exec sessions and exec probes share it). */
  readonly tmpDir: string;
  /** A real process (shell images): attach reaches its stdin and terminal. */
  readonly process: SandboxedProcess | undefined;
  /** The container's own PID namespace while it runs (its process is PID 1 there): execs join it. */
  readonly pidNamespace?: string | undefined;
  /** SIGTERM now, SIGKILL once the grace period is over. */
  stop(graceMs: number): void;
  /** Simulated servers answer HTTP on their port; undefined: nothing listens there (connection refused). */
  http(port: number, path: string, client: string, userAgent: string): HttpAnswer | undefined;
  /** Whether something accepts TCP connections on the port. */
  listens(port: number): boolean;
  memoryBytes(): number | undefined;
  /** Cumulative CPU time in nanoseconds of a real process's cgroup since this instance was made; undefined for a simulated server. */
  cpuUsageNanos(): number | undefined;
  /** Requests a second served lately (not counting probes). */
  requestRate(): number;
}

const RATE_WINDOW = 15;

export function newContainerID(): string {
  return `containerd://${randomBytes(32).toString('hex')}`;
}

function exitOf(code: number, oomKilled: boolean): ContainerExit {
  if (oomKilled) return { exitCode: 137, reason: 'OOMKilled' };
  return { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', ...(code > 128 && code < 160 ? { signal: code - 128 } : {}) };
}

export interface SimulatedOptions {
  /** undefined: an image the catalog does not know, a generic long-running container that accepts anything. */
  behaviour: ImageBehaviour | undefined;
  templates: Record<string, string>;
  env: Map<string, string>;
  /** Lines to log before exiting at once (a required variable is missing). */
  failure?: { logs: string[]; exitCode: number };
  /** Usage passes the memory limit: the kernel kills it after a moment. */
  oomAfterMs?: number;
  now: () => Date;
  /** The bound of this container's log (see ContainerLog). */
  logLimit: () => number;
  /** Real milliseconds for a simulated delay (the kubelet's time scale). */
  scaled: (ms: number) => number;
  tmpDir: string;
  /** A web server's document root with volumes in it: what it answers on its HTTP port (html-documents.ts). */
  documents?: (path: string) => { status: number; body: string };
  /** Where it listens when its configuration says (nginx-config.ts), instead of the image's ports: HTTP, and HTTPS with its credentials. */
  listening?: NginxListening;
}

/** A server that does not run: it logs, answers probes from data and exits when the image would. */
export class SimulatedContainer implements ContainerInstance {
  readonly containerID = newContainerID();
  readonly startedAt: Date;
  readonly log: ContainerLog;
  readonly exited: Promise<ContainerExit>;
  readonly tmpDir: string;
  readonly process = undefined;
  #running = true;
  #resolve!: (exit: ContainerExit) => void;
  readonly #options: SimulatedOptions;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Served requests per second over the last RATE_WINDOW seconds, as a ring of counts. */
  readonly #counts = new Array<number>(RATE_WINDOW).fill(0);
  #countsSecond = 0;

  /** Nothing of it runs before it starts. */
  get createdAt(): Date {
    return this.startedAt;
  }

  constructor(options: SimulatedOptions) {
    this.#options = options;
    this.tmpDir = options.tmpDir;
    this.log = new ContainerLog(options.logLimit);
    this.startedAt = options.now();
    this.exited = new Promise((resolve) => (this.#resolve = resolve));
    const now = this.startedAt;
    const write = (lines: string[]) => {
      for (const line of lines) this.log.line('stdout', fillTemplate(line, options.templates, now), now.getTime());
    };
    if (options.failure) {
      write(options.failure.logs);
      this.#later(() => this.#exit(exitOf(options.failure?.exitCode ?? 1, false)), 10);
      return;
    }
    write(options.behaviour?.startLogs ?? []);
    const exit = options.behaviour?.exit;
    if (exit) this.#later(() => this.#exit(exitOf(exit.code, false)), options.scaled(exit.afterMs));
    if (options.oomAfterMs !== undefined) this.#later(() => this.#exit(exitOf(137, true)), options.oomAfterMs);
  }

  get running(): boolean {
    return this.#running;
  }

  #later(callback: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  #exit(exit: ContainerExit): void {
    if (!this.#running) return;
    this.#running = false;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.log.close(this.#options.now().getTime());
    this.#resolve(exit);
  }

  /** The simulated usage passed the memory limit. */
  oomKill(afterMs: number): void {
    this.#later(() => this.#exit(exitOf(137, true)), afterMs);
  }

  stop(graceMs: number): void {
    // Simulated servers shut down promptly on SIGTERM; the grace period is never needed.
    const code = this.#options.behaviour?.stopExitCode ?? 143;
    this.#later(() => this.#exit(exitOf(code, false)), Math.min(graceMs, this.#options.scaled(100)));
  }

  #endpointAnswer(endpoint: HttpEndpoint, failStatus: number): number {
    const env = this.#options.env;
    const aliveMs = this.#options.now().getTime() - this.startedAt.getTime();
    const seconds = (name: string | undefined) => {
      const value = name ? Number(env.get(name)) : NaN;
      return Number.isFinite(value) ? this.#options.scaled(value * 1000) : undefined;
    };
    if (endpoint.failWhileFileExists && existsSync(join(this.tmpDir, endpoint.failWhileFileExists))) return failStatus;
    const notBefore = seconds(endpoint.notBeforeSecondsFromEnv);
    if (notBefore !== undefined && aliveMs < notBefore) return failStatus;
    const failAfter = seconds(endpoint.failAfterSecondsFromEnv);
    if (failAfter !== undefined && aliveMs >= failAfter) return failStatus;
    if (endpoint.forSeconds !== undefined && aliveMs >= this.#options.scaled(endpoint.forSeconds * 1000)) return endpoint.thenStatus ?? 500;
    return endpoint.status;
  }

  http(port: number, path: string, client: string, userAgent: string): HttpAnswer | undefined {
    if (!this.#running) return undefined;
    const behaviour = this.#options.behaviour;
    if (!behaviour) return { status: 200, body: '' };
    const listening = this.#options.listening;
    const serves = listening ? listening.http.has(port) || listening.tls.has(port) : behaviour.httpPort === port;
    if (!serves || !behaviour.http) return undefined;
    const cleanPath = path.split('?')[0] ?? '/';
    const now = this.#options.now();
    const endpoint = behaviour.http[cleanPath];
    const failStatus = cleanPath.includes('ready') ? 503 : 500;
    const answer = this.#options.documents?.(path) ?? {
      status: endpoint ? this.#endpointAnswer(endpoint, failStatus) : 404,
      body: endpoint ? fillTemplate(endpoint.body ?? '', this.#options.templates, now) : '404 page not found\n',
    };
    if (!userAgent.startsWith('kube-probe')) this.#count(now.getTime());
    if (behaviour.requestLog) {
      this.log.line('stdout', fillTemplate(behaviour.requestLog, { ...this.#options.templates, path, status: String(answer.status), client, userAgent }, now), now.getTime());
    }
    return answer;
  }

  /** The ports it serves HTTPS on, with their credentials. */
  get tls(): ReadonlyMap<number, TlsCredentials> | undefined {
    return this.#options.listening?.tls;
  }

  /** The ports the image's server listens on; undefined for an image the catalog does not know (it accepts any). */
  get ports(): readonly number[] | undefined {
    const listening = this.#options.listening;
    if (this.#options.behaviour && listening) return [...new Set([...listening.http, ...listening.tls.keys()])];
    return this.#options.behaviour?.ports;
  }

  listens(port: number): boolean {
    if (!this.#running) return false;
    const behaviour = this.#options.behaviour;
    if (!behaviour) return true;
    const listening = this.#options.listening;
    return listening ? listening.http.has(port) || listening.tls.has(port) : behaviour.ports.includes(port);
  }

  memoryBytes(): number | undefined {
    return undefined;
  }

  cpuUsageNanos(): number | undefined {
    return undefined;
  }

  #advance(second: number): void {
    if (second - this.#countsSecond >= RATE_WINDOW) this.#counts.fill(0);
    else for (let s = this.#countsSecond + 1; s <= second; s++) this.#counts[s % RATE_WINDOW] = 0;
    this.#countsSecond = Math.max(this.#countsSecond, second);
  }

  #count(ms: number): void {
    const second = Math.floor(ms / 1000);
    this.#advance(second);
    this.#counts[second % RATE_WINDOW] = (this.#counts[second % RATE_WINDOW] ?? 0) + 1;
  }

  requestRate(): number {
    this.#advance(Math.floor(this.#options.now().getTime() / 1000));
    return this.#counts.reduce((sum, count) => sum + count, 0) / RATE_WINDOW;
  }
}

/** A real process in the sandbox: its output is the log, its exit code the container's. */
export class ProcessContainer implements ContainerInstance {
  readonly containerID = newContainerID();
  readonly createdAt: Date;
  readonly startedAt: Date;
  readonly log: ContainerLog;
  readonly exited: Promise<ContainerExit>;
  readonly tmpDir: string;
  readonly process: SandboxedProcess;
  readonly #pidNamespace: PidNamespace | undefined;
  #running = true;
  #killTimer: NodeJS.Timeout | undefined;
  readonly #attached = new Set<(stream: 'stdout' | 'stderr', data: Buffer) => void>();

  constructor(process: SandboxedProcess, createdAt: Date, tmpDir: string, now: () => Date, logLimit: () => number, pidNamespace?: PidNamespace) {
    this.process = process;
    this.createdAt = createdAt;
    this.tmpDir = tmpDir;
    this.#pidNamespace = pidNamespace;
    this.log = new ContainerLog(logLimit);
    this.startedAt = now();
    process.onOutput((stream, data) => {
      this.log.write(stream, data.toString('utf8'), now().getTime());
      for (const listener of this.#attached) listener(stream, data);
    });
    this.exited = process.exited.then((exit) => {
      this.#running = false;
      this.#pidNamespace?.close();
      if (this.#killTimer) clearTimeout(this.#killTimer);
      this.log.close(now().getTime());
      return exitOf(exit.exitCode, exit.oomKilled);
    });
  }

  get running(): boolean {
    return this.#running;
  }

  get pidNamespace(): string | undefined {
    return this.#running ? this.#pidNamespace?.path : undefined;
  }

  /** Raw output as it comes (attach: a prompt without a newline shows at once). */
  attachOutput(listener: (stream: 'stdout' | 'stderr', data: Buffer) => void): () => void {
    this.#attached.add(listener);
    return () => this.#attached.delete(listener);
  }

  stop(graceMs: number): void {
    if (!this.#running) return;
    this.process.kill('SIGTERM');
    this.#killTimer ??= setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    this.#killTimer.unref();
  }

  http(): HttpAnswer | undefined {
    return undefined;
  }

  listens(): boolean {
    return false;
  }

  memoryBytes(): number | undefined {
    return this.process.memoryUsageBytes();
  }

  cpuUsageNanos(): number | undefined {
    return this.process.cpuUsageNanos();
  }

  requestRate(): number {
    return 0;
  }
}
