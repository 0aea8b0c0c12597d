// GET /api/labs/:lab/terminal (WebSocket): a browser tab's connection to the learner's terminal.
// The portal's upgrade listener has already refused other origins and resolved the session cookie;
// here the learner must be signed in and the lab session must be theirs and running, or the
// upgrade is refused with an HTTP status before any WebSocket exists.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { UpgradeHandler } from '../http/index.ts';
import type { Logger } from '../log.ts';
import type { Learner } from '../../contracts/index.ts';
import type { TerminalBridge } from './bridge.ts';
import { CLOSE, parseClientMessage, type ServerMessage } from '../../contracts/index.ts';
import type { WorkbenchTarget } from './shell.ts';
import type { Terminal, TerminalClient } from './terminal.ts';

/** Which terminal a learner may open: the lab session's id (the terminal's key) and its workbench. */
export type TerminalAccess =
  | { allowed: true; labSession: string; target: WorkbenchTarget }
  | { allowed: false; status: 401 | 403 | 404 | 409 | 503; message: string };

/**
 * Decides whether `learner` may open the terminal of lab `lab` — of lab session `labSession` when
 * the tab names one (it must be the learner's own), else of the learner's running session.
 */
export type AuthorizeTerminal = (learner: Learner, lab: string, labSession: string | null) => Promise<TerminalAccess>;

export interface TerminalSocketOptions {
  bridge: TerminalBridge;
  authorize: AuthorizeTerminal;
  log: Logger;
  /** How long a new connection may take to send `attach`; default 10 s. */
  attachTimeoutMs?: number;
  /** Ping interval; a tab that misses a pong between two pings is dropped. Default 30 s. */
  heartbeatMs?: number;
}

const MAX_FRAME_BYTES = 512 * 1024;
const REASONS: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 503: 'Service Unavailable' };

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

class SocketClient implements TerminalClient {
  readonly #socket: WebSocket;

  constructor(socket: WebSocket) {
    this.#socket = socket;
  }

  send(message: ServerMessage): void {
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }
}

export interface TerminalSockets {
  upgrade: UpgradeHandler;
  /** Open terminal connections (tabs). */
  readonly connections: number;
  close(): void;
}

export function terminalSockets(options: TerminalSocketOptions): TerminalSockets {
  const { bridge, authorize, log } = options;
  const attachTimeoutMs = options.attachTimeoutMs ?? 10_000;
  const server = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
  const alive = new Map<WebSocket, boolean>();

  const heartbeat = setInterval(() => {
    for (const [socket, answered] of alive) {
      if (!answered) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  const serve = (socket: WebSocket, labSession: string, target: WorkbenchTarget, learner: Learner) => {
    const client = new SocketClient(socket);
    let terminal: Terminal | null = null;
    alive.set(socket, true);
    socket.on('pong', () => alive.set(socket, true));
    const attachTimer = setTimeout(() => socket.close(CLOSE.protocol, 'no attach message'), attachTimeoutMs);

    socket.on('message', (raw, isBinary) => {
      if (isBinary) {
        client.send({ type: 'error', message: 'terminal message: send JSON text frames, not binary' });
        return;
      }
      const parsed = parseClientMessage(raw.toString());
      if (!parsed.ok) {
        client.send({ type: 'error', message: parsed.error });
        return;
      }
      const message = parsed.message;
      if (message.type === 'attach') {
        clearTimeout(attachTimer);
        if (terminal) {
          client.send({ type: 'error', message: 'terminal message: attach: already attached' });
          return;
        }
        const request = { size: { cols: message.cols, rows: message.rows }, ...(message.shell !== undefined ? { shell: message.shell } : {}), ...(message.seq !== undefined ? { seq: message.seq } : {}) };
        terminal = bridge.attach(labSession, target, client, request);
        return;
      }
      if (!terminal) {
        client.send({ type: 'error', message: `terminal message: ${message.type}: send attach {cols, rows} first` });
        return;
      }
      if (message.type === 'input') terminal.input(client, message.data);
      else terminal.resize(client, { cols: message.cols, rows: message.rows });
    });

    socket.on('close', () => {
      clearTimeout(attachTimer);
      alive.delete(socket);
      terminal?.detach(client);
    });
    socket.on('error', (error) => log.debug({ err: error, labSession, learner: learner.id }, 'terminal socket error'));
  };

  const upgrade: UpgradeHandler = async (req: IncomingMessage, socket: Duplex, head: Buffer, context) => {
    if (!context.learner) return refuse(socket, 401, 'sign in first: the terminal belongs to a signed-in learner');
    const lab = context.params.lab ?? '';
    const named = context.url.searchParams.get('session');
    const access = await authorize(context.learner, lab, named && named !== '' ? named : null);
    if (!access.allowed) {
      if (access.status === 403) log.warn({ learner: context.learner.id, lab, labSession: named }, 'refused a terminal of another learner’s lab session');
      return refuse(socket, access.status, access.message);
    }
    const learner = context.learner;
    server.handleUpgrade(req, socket, head, (ws) => serve(ws, access.labSession, access.target, learner));
  };

  return {
    upgrade,
    get connections() {
      return alive.size;
    },
    close() {
      clearInterval(heartbeat);
      for (const socket of alive.keys()) socket.close(1001, 'portal stopping');
    },
  };
}
