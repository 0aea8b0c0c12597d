// Keeps one child process running: starts it, waits for the line that says it is ready, forwards
// its output into our log, and starts it again with growing pauses when it dies or never gets
// ready. Level-triggered like a controller: whatever happened, the next step is "make it run".

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../log.ts';

export interface ChildCommand {
  file: string;
  args: string[];
  cwd?: string;
}

export interface SupervisorOptions {
  /** For people: "the embedded cluster". */
  name: string;
  /** Called before every start; may choose a new port, check files exist, … Throwing counts as a failed start. */
  command: (attempt: { restarts: number; failuresSinceReady: number }) => Promise<ChildCommand>;
  /** A line of the child's output (stdout or stderr) matching this means it is serving. */
  readyLine: RegExp;
  readyTimeoutMs: number;
  backoff: { initialMs: number; maxMs: number };
  /** How long the child must stay up after getting ready for the back-off to start over. */
  stableMs: number;
  /** Between SIGTERM and SIGKILL when stopping. */
  stopTimeoutMs: number;
  log: Logger;
}

export type SupervisorState = 'starting' | 'ready' | 'waiting' | 'stopped';

const OUTPUT_KEPT = 20;
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
type Level = (typeof LEVELS)[number];

/** pino writes levels as numbers (30 = info); other loggers as names. */
function levelOf(level: unknown): Level {
  if (typeof level === 'number') return LEVELS[Math.floor(level / 10) - 1] ?? 'info';
  return LEVELS.find((name) => name === level) ?? 'info';
}

export class Supervisor {
  readonly #options: SupervisorOptions;
  #state: SupervisorState = 'stopped';
  #detail = 'not started';
  #child: ChildProcess | null = null;
  #timer: NodeJS.Timeout | null = null;
  #restarts = 0;
  #failuresSinceReady = 0;
  #nextPauseMs: number;
  #recentOutput: string[] = [];
  /** The text of the child's last line of output (a JSON line's `msg`), for explaining a failed start. */
  #lastMessage: string | null = null;
  #stopping = false;
  #readyWaiters: Array<() => void> = [];
  readonly #killOnExit = () => this.#child?.kill('SIGKILL');

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#nextPauseMs = options.backoff.initialMs;
  }

  get state(): SupervisorState {
    return this.#state;
  }

  /** What the state means right now, for /api/ready and logs. */
  get detail(): string {
    return this.#detail;
  }

  /** How many times the child was started again after the first start. */
  get restarts(): number {
    return this.#restarts;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    if (this.#state !== 'stopped' || this.#stopping) return;
    // A child must not outlive the portal, even when the portal exits without stop().
    process.once('exit', this.#killOnExit);
    void this.#launch();
  }

  /** Resolves the next time the child is ready (now, if it is). */
  whenReady(): Promise<void> {
    if (this.#state === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  async #launch(): Promise<void> {
    const { log, name } = this.#options;
    this.#state = 'starting';
    this.#detail = `${name} is starting`;
    this.#recentOutput = [];
    this.#lastMessage = null;
    let command: ChildCommand;
    try {
      command = await this.#options.command({ restarts: this.#restarts, failuresSinceReady: this.#failuresSinceReady });
    } catch (error) {
      this.#failed(`${name} cannot start: ${(error as Error).message}`);
      return;
    }
    if (this.#stopping) return;

    // Its own process group: a Ctrl-C in the terminal reaches the portal only, which stops the
    // child itself, in order, instead of seeing it die and starting it again mid-shutdown.
    const child = spawn(command.file, command.args, { cwd: command.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.#child = child;
    log.info({ pid: child.pid, command: [command.file, ...command.args].join(' ') }, `${name} started`);

    let ready = false;
    const readyTimer = setTimeout(() => {
      this.#detail = `${name} did not print a line matching ${this.#options.readyLine} within ${Math.round(this.#options.readyTimeoutMs / 1000)} s`;
      log.error(this.#lastOutput(), `${this.#detail}; stopping it to start it again`);
      this.#terminate(child);
    }, this.#options.readyTimeoutMs);

    const onLine = (stream: 'stdout' | 'stderr') => (line: string) => {
      this.#forward(stream, line);
      if (!ready && this.#options.readyLine.test(line)) {
        ready = true;
        clearTimeout(readyTimer);
        this.#becameReady(child);
      }
    };
    if (child.stdout) createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', onLine('stdout'));
    if (child.stderr) createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', onLine('stderr'));
    // Never written to: when the portal dies, the child sees its stdin close.
    child.stdin?.on('error', () => undefined);

    // A child that cannot be spawned emits 'error' and maybe no 'exit'; one that ran emits
    // 'exit'. Whichever comes first ends this attempt.
    const ended = (reason: string) => {
      clearTimeout(readyTimer);
      if (this.#child !== child) return;
      this.#child = null;
      this.#failed(reason);
    };
    child.once('error', (error) => ended(`${name} could not be started: ${error.message}`));
    child.once('exit', (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      // What it said last tells people why it would not start (e.g. its data dir is in use).
      const said = this.#lastMessage === null ? '' : ` (it said: ${this.#lastMessage})`;
      ended(ready ? `${name} ${how}` : `${name} ${how} before it was ready${said}`);
    });
  }

  #becameReady(child: ChildProcess): void {
    this.#state = 'ready';
    this.#detail = `${this.#options.name} is ready`;
    this.#failuresSinceReady = 0;
    this.#options.log.info({ pid: child.pid }, this.#detail);
    for (const resolve of this.#readyWaiters.splice(0)) resolve();
    // Back-off starts over only once the child has proved it can stay up.
    const stable = setTimeout(() => {
      if (this.#child === child) this.#nextPauseMs = this.#options.backoff.initialMs;
    }, this.#options.stableMs);
    stable.unref();
    child.once('exit', () => clearTimeout(stable));
  }

  #failed(reason: string): void {
    if (this.#stopping) return;
    this.#failuresSinceReady += 1;
    const pause = this.#nextPauseMs;
    this.#nextPauseMs = Math.min(pause * 2, this.#options.backoff.maxMs);
    this.#state = 'waiting';
    this.#detail = `${reason}; starting it again in ${(pause / 1000).toFixed(1)} s`;
    this.#options.log.error(this.#lastOutput(), this.#detail);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#restarts += 1;
      void this.#launch();
    }, pause);
  }

  #lastOutput(): { lastOutput?: string[] } {
    return this.#recentOutput.length > 0 ? { lastOutput: [...this.#recentOutput] } : {};
  }

  #forward(stream: 'stdout' | 'stderr', line: string): void {
    this.#recentOutput.push(line);
    if (this.#recentOutput.length > OUTPUT_KEPT) this.#recentOutput.shift();
    const { log } = this.#options;
    // The child may log JSON lines itself (pino): keep its level and fields rather than nest them.
    if (line.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(line);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
          const { level, msg, time: _time, ...fields } = parsed as Record<string, unknown>;
          log[levelOf(level)]({ ...fields, stream }, typeof msg === 'string' ? msg : '');
          if (typeof msg === 'string' && msg !== '') this.#lastMessage = msg;
          return;
        }
      } catch {
        // Not JSON after all: forwarded as text below.
      }
    }
    (stream === 'stderr' ? log.warn : log.info).call(log, { stream }, line);
    if (line.trim() !== '') this.#lastMessage = line.trim();
  }

  #terminate(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), this.#options.stopTimeoutMs);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  /** Stops the child (SIGTERM, then SIGKILL after the timeout) and starts nothing more. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const child = this.#child;
    if (child) await this.#terminate(child);
    this.#child = null;
    this.#state = 'stopped';
    this.#detail = `${this.#options.name} is stopped`;
    process.removeListener('exit', this.#killOnExit);
  }
}
