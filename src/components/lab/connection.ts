// The browser's end of the lab terminal protocol (src/server/terminals/protocol.ts): attach with
// what this tab last saw, catch up, stream input and output, and reconnect with back-off when the
// connection drops. Knows nothing of xterm: output goes to a sink.

import type { ServerMessage } from '../../contracts/index.ts';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'exited' | 'taken-over' | 'ended';

export interface TerminalSink {
  /**
   * New output; `reset`: clear the screen first (a new shell, or output this tab missed is gone);
   * `drawnAt`: the size the shell had when it printed this (a replay), when the portal says.
   */
  write(data: string, reset: boolean, drawnAt?: { cols: number; rows: number }): void;
  state(state: ConnectionState, message?: string): void;
}

/** Close codes from the portal (CLOSE in protocol.ts). */
const EXITED = 4000;
const TAKEN_OVER = 4001;
const TOO_SLOW = 4002;
const ENDED = 4003;

const FIRST_RETRY_MS = 400;
const MAX_RETRY_MS = 8000;

export class TerminalConnection {
  readonly #url: string;
  readonly #size: () => { cols: number; rows: number };
  readonly #sink: TerminalSink;
  #socket: WebSocket | null = null;
  #shell: string | undefined;
  #seq: number | undefined;
  #retries = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /** The last status the portal sent; "exited" with its message is kept across the close that follows. */
  #exitMessage: string | undefined;
  /** A read-only viewer (an instructor): the portal sends without being asked, and takes nothing. */
  readonly #observing: boolean;

  constructor(url: string, size: () => { cols: number; rows: number }, sink: TerminalSink, options: { observe?: boolean } = {}) {
    this.#url = url;
    this.#size = size;
    this.#sink = sink;
    this.#observing = options.observe ?? false;
  }

  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Connects (again); a tab that was taken over takes the terminal back this way. */
  open(): void {
    this.#stopped = false;
    clearTimeout(this.#retryTimer);
    this.#socket?.close();
    this.#connect(this.#retries === 0 ? 'connecting' : 'reconnecting');
  }

  /** Starts over with a new shell: forgets what this tab saw (after a reset). */
  restart(): void {
    this.#shell = undefined;
    this.#seq = undefined;
    this.#retries = 0;
    this.open();
  }

  input(data: string): void {
    this.#send({ type: 'input', data });
  }

  resize(cols: number, rows: number): void {
    this.#send({ type: 'resize', cols, rows });
  }

  close(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#socket?.close(1000, 'closed by the page');
    this.#socket = null;
  }

  #send(message: object): void {
    if (this.#observing) return;
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  #connect(state: ConnectionState): void {
    this.#sink.state(state);
    this.#exitMessage = undefined;
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    socket.addEventListener('open', () => {
      if (this.#observing) return;
      const { cols, rows } = this.#size();
      socket.send(JSON.stringify({ type: 'attach', cols, rows, ...(this.#shell !== undefined ? { shell: this.#shell } : {}), ...(this.#seq !== undefined ? { seq: this.#seq } : {}) }));
    });
    socket.addEventListener('message', (event) => {
      if (typeof event.data !== 'string') return;
      let message: ServerMessage;
      try {
        message = JSON.parse(event.data) as ServerMessage;
      } catch {
        return;
      }
      this.#receive(message);
    });
    socket.addEventListener('close', (event) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      if (this.#stopped) return;
      if (event.code === EXITED) return this.#sink.state('exited', this.#exitMessage ?? 'The shell ended.');
      if (event.code === TAKEN_OVER) return this.#sink.state('taken-over', 'This terminal was opened in another tab.');
      if (event.code === ENDED) return this.#sink.state('ended', this.#exitMessage ?? 'The lab session ended.');
      this.#retry(event.code === TOO_SLOW);
    });
  }

  #receive(message: ServerMessage): void {
    switch (message.type) {
      case 'replay':
        this.#shell = message.shell;
        this.#seq = message.seq;
        this.#sink.write(message.data, message.reset, message.cols !== undefined && message.rows !== undefined ? { cols: message.cols, rows: message.rows } : undefined);
        return;
      case 'output':
        this.#seq = message.seq;
        this.#sink.write(message.data, false);
        return;
      case 'status':
        if (message.state === 'connected') this.#retries = 0;
        if (message.state === 'exited') {
          this.#exitMessage = message.message;
          return;
        }
        this.#sink.state(message.state, message.message);
        return;
      case 'takeover':
        return;
      case 'error':
        console.warn(`terminal: ${message.message}`);
        return;
    }
  }

  #retry(now: boolean): void {
    this.#sink.state('reconnecting', 'Connection lost — reconnecting…');
    const delay = now ? 0 : Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#retries) * (0.75 + Math.random() * 0.5);
    this.#retries += 1;
    this.#retryTimer = setTimeout(() => this.#connect('reconnecting'), delay);
  }
}
