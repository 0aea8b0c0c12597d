// One learner's terminal: the shell in their workbench, what it printed lately, and the one browser
// tab attached to it. The shell outlives the tab: a reload or a dropped connection attaches again
// and catches up from the replay buffer; a second tab takes over and the first is told so.

import { randomBytes } from 'node:crypto';
import { ReplayBuffer } from './replay.ts';
import { CLOSE, TAKEOVER_MESSAGE, type ServerMessage } from '../../contracts/index.ts';
import type { OpenShell, Shell, ShellExit, TerminalSize, WorkbenchTarget } from './shell.ts';

/** A browser tab's end of the terminal (a WebSocket in the portal, anything in tests). */
export interface TerminalClient {
  send(message: ServerMessage): void;
  close(code: number, reason: string): void;
  /** Bytes sent but not yet handed to the network: how far behind the tab is. */
  readonly bufferedAmount: number;
}

export interface AttachRequest {
  /** The shell the tab last showed, and how much of its output it saw. */
  shell?: string;
  seq?: number;
  size: TerminalSize;
}

export interface TerminalOptions {
  openShell: OpenShell;
  /** Code units of output kept for catching up. */
  replayCapacity: number;
  /** The shell is closed after this long without any tab attached. */
  idleMs: number;
  /** A tab this many bytes behind pauses the shell's output until it catches up. */
  slowClientBytes: number;
  onClosed: (terminal: Terminal) => void;
  onError: (error: unknown) => void;
  /** The learner typed: called at most once per `activityIntervalMs` (keeps the sandbox from idling out). */
  onActivity: (terminal: Terminal) => void;
  activityIntervalMs: number;
}

type Phase = 'opening' | 'open' | 'closed';

const DRAIN_POLL_MS = 20;
/** How long a terminal whose connection broke keeps trying to open a shell again (the cluster restarting). */
const RECONNECT_WINDOW_MS = 3 * 60_000;
const RECONNECT_FIRST_PAUSE_MS = 500;
const RECONNECT_MAX_PAUSE_MS = 5_000;
const RECONNECTING_NOTICE = '\r\n[The connection to your workbench was lost; reconnecting…]\r\n';
const MAX_TYPE_AHEAD = 64 * 1024;

export class Terminal {
  readonly key: string;
  readonly target: WorkbenchTarget;
  /** Changes when a new shell starts, so a tab can tell its position belongs to an old one. */
  readonly shellId = randomBytes(8).toString('hex');
  readonly #options: TerminalOptions;
  readonly #replay: ReplayBuffer;
  #phase: Phase = 'opening';
  #shell: Shell | null = null;
  #client: TerminalClient | null = null;
  /** Read-only viewers (an instructor): they get the output, never type, and never keep the shell open. */
  readonly #observers = new Set<TerminalClient>();
  #pending: AttachRequest | null = null;
  #size: TerminalSize;
  #idleTimer: NodeJS.Timeout | null = null;
  #drainTimer: NodeJS.Timeout | null = null;
  #lastActivity = Date.now();
  #lastReported = 0;
  /** Keystrokes that came while the shell was still opening. */
  #typedAhead = '';
  /** Which shell's events count: a shell replaced after a lost connection may still report. */
  #generation = 0;
  /** While reconnecting: when to give up; null once the new shell has spoken. */
  #reconnectUntil: number | null = null;
  #reconnectAttempt = 0;
  #reconnectTimer: NodeJS.Timeout | null = null;

  constructor(key: string, target: WorkbenchTarget, size: TerminalSize, options: TerminalOptions) {
    this.key = key;
    this.target = target;
    this.#size = size;
    this.#options = options;
    this.#replay = new ReplayBuffer(options.replayCapacity);
    void this.#open();
  }

  get closed(): boolean {
    return this.#phase === 'closed';
  }

  get attached(): boolean {
    return this.#client !== null;
  }

  /** Output kept for catching up, in code units. */
  get buffered(): number {
    return this.#replay.size;
  }

  get lastActivity(): number {
    return this.#lastActivity;
  }

  async #open(): Promise<void> {
    const generation = ++this.#generation;
    try {
      const shell = await this.#options.openShell(this.target, this.#size, {
        output: (data) => {
          if (generation !== this.#generation) return;
          this.#reconnectUntil = null;
          this.#output(data);
        },
        exit: (exit) => generation === this.#generation && this.#exited(exit),
      });
      if (this.#phase === 'closed') {
        shell.close();
        return;
      }
      this.#shell = shell;
      this.#phase = 'open';
      const client = this.#client;
      const pending = this.#pending;
      this.#pending = null;
      if (client && pending) this.#catchUp(client, pending);
      else if (client && this.#reconnectUntil !== null) client.send({ type: 'status', state: 'connected' });
      if (this.#typedAhead !== '') shell.write(this.#typedAhead);
      this.#typedAhead = '';
    } catch (error) {
      this.#options.onError(error);
      this.#exited({ exitCode: null, message: `Could not open a shell in the workbench: ${(error as Error).message}` });
    }
  }

  /**
   * The connection broke under the shell (the lab cluster restarted): the tab stays attached and
   * is told; a new shell is opened in the workbench, with pauses, until one answers or time is up.
   */
  #reconnect(exit: ShellExit): void {
    if (this.#reconnectUntil === null) {
      this.#output(RECONNECTING_NOTICE);
      this.#reconnectUntil = Date.now() + RECONNECT_WINDOW_MS;
      this.#reconnectAttempt = 0;
    } else if (Date.now() > this.#reconnectUntil) {
      this.#finish({ exitCode: null, message: `Could not reconnect to the workbench: ${exit.message}` }, CLOSE.exited);
      return;
    }
    this.#shell = null;
    this.#phase = 'opening';
    this.#stopDrainWatch();
    const status = { type: 'status', state: 'connecting', message: 'Reconnecting to your workbench…' } as const;
    this.#client?.send(status);
    for (const observer of this.#observers) observer.send(status);
    const pause = Math.min(RECONNECT_FIRST_PAUSE_MS * 2 ** this.#reconnectAttempt, RECONNECT_MAX_PAUSE_MS);
    this.#reconnectAttempt += 1;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      void this.#open();
    }, pause);
  }

  attach(client: TerminalClient, request: AttachRequest): void {
    if (this.#phase === 'closed') {
      client.send({ type: 'status', state: 'exited', message: 'The shell has ended.' });
      client.close(CLOSE.exited, 'shell ended');
      return;
    }
    const previous = this.#client;
    if (previous && previous !== client) {
      previous.send({ type: 'takeover', message: TAKEOVER_MESSAGE });
      previous.close(CLOSE.takenOver, 'opened in another tab');
    }
    this.#client = client;
    this.#touch();
    this.#clearIdle();
    if (this.#phase === 'opening') {
      this.#pending = request;
      this.#size = request.size;
      client.send({ type: 'status', state: 'connecting' });
      return;
    }
    this.#catchUp(client, request);
  }

  /** Shows the terminal to a viewer who cannot type: what it printed lately, then everything new. */
  observe(observer: TerminalClient): void {
    if (this.#phase === 'closed') {
      observer.send({ type: 'status', state: 'exited', message: 'The shell has ended.' });
      observer.close(CLOSE.exited, 'shell ended');
      return;
    }
    this.#observers.add(observer);
    observer.send({ type: 'replay', shell: this.shellId, ...this.#replay.since(null), ...this.#size });
    observer.send({ type: 'status', state: this.#phase === 'open' ? 'connected' : 'connecting' });
  }

  unobserve(observer: TerminalClient): void {
    this.#observers.delete(observer);
  }

  get observed(): boolean {
    return this.#observers.size > 0;
  }

  detach(client: TerminalClient): void {
    if (this.#client !== client) return;
    this.#client = null;
    this.#pending = null;
    this.#stopDrainWatch();
    this.#shell?.resume();
    if (this.#phase !== 'closed') this.#idleTimer = setTimeout(() => this.close('The terminal was idle and has been closed.'), this.#options.idleMs);
  }

  input(client: TerminalClient, data: string): void {
    if (client !== this.#client || this.#phase === 'closed') return;
    this.#touch();
    if (this.#shell) this.#shell.write(data);
    else if (this.#typedAhead.length + data.length <= MAX_TYPE_AHEAD) this.#typedAhead += data;
  }

  resize(client: TerminalClient, size: TerminalSize): void {
    if (client !== this.#client) return;
    this.#size = size;
    if (this.#pending) this.#pending = { ...this.#pending, size };
    this.#shell?.resize(size);
  }

  /** Ends the shell (lab ended or reset, idle, portal stopping) and tells the tab why. */
  close(message: string, code: number = CLOSE.ended): void {
    if (this.#phase === 'closed') return;
    this.#finish({ exitCode: null, message }, code);
    this.#shell?.close();
  }

  #catchUp(client: TerminalClient, request: AttachRequest): void {
    const since = request.shell === this.shellId && request.seq !== undefined ? request.seq : null;
    const catchup = this.#replay.since(since);
    // The output was drawn at the shell's size until now: the tab replays it at that size.
    client.send({ type: 'replay', shell: this.shellId, ...catchup, ...this.#size });
    client.send({ type: 'status', state: 'connected' });
    this.#size = request.size;
    this.#shell?.resize(request.size);
  }

  #output(data: string): void {
    const seq = this.#replay.append(data);
    for (const observer of this.#observers) {
      // A viewer never holds back the learner's shell: one that falls behind is dropped and may reconnect.
      if (observer.bufferedAmount > this.#options.slowClientBytes) {
        this.#observers.delete(observer);
        observer.close(CLOSE.tooSlow, 'too far behind');
      } else {
        observer.send({ type: 'output', seq, data });
      }
    }
    const client = this.#client;
    if (!client || this.#phase !== 'open') return;
    client.send({ type: 'output', seq, data });
    if (client.bufferedAmount > this.#options.slowClientBytes) this.#watchDrain(client);
  }

  #watchDrain(client: TerminalClient): void {
    if (this.#drainTimer) return;
    this.#shell?.pause();
    this.#drainTimer = setInterval(() => {
      if (client !== this.#client) return this.#stopDrainWatch();
      if (client.bufferedAmount <= this.#options.slowClientBytes / 4) {
        this.#stopDrainWatch();
        this.#shell?.resume();
      }
    }, DRAIN_POLL_MS);
  }

  #stopDrainWatch(): void {
    if (this.#drainTimer) clearInterval(this.#drainTimer);
    this.#drainTimer = null;
  }

  #exited(exit: ShellExit): void {
    // A lost connection, or any end of a shell opened to reconnect before it said anything.
    if ((exit.lost && this.#phase === 'open') || (this.#reconnectUntil !== null && this.#phase !== 'closed')) {
      this.#reconnect(exit);
      return;
    }
    this.#finish(exit, CLOSE.exited);
  }

  #finish(exit: ShellExit, code: number): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#clearIdle();
    this.#stopDrainWatch();
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    const client = this.#client;
    this.#client = null;
    if (client) {
      client.send({ type: 'status', state: 'exited', message: exit.message });
      client.close(code, code === CLOSE.exited ? 'shell exited' : 'terminal closed');
    }
    for (const observer of this.#observers) {
      observer.send({ type: 'status', state: 'exited', message: exit.message });
      observer.close(code, code === CLOSE.exited ? 'shell exited' : 'terminal closed');
    }
    this.#observers.clear();
    this.#options.onClosed(this);
  }

  #touch(): void {
    this.#lastActivity = Date.now();
    if (this.#lastActivity - this.#lastReported < this.#options.activityIntervalMs) return;
    this.#lastReported = this.#lastActivity;
    this.#options.onActivity(this);
  }

  #clearIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }
}
