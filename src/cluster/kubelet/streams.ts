// The remotecommand protocol over WebSocket (exec and attach): channel 0 stdin, 1 stdout,
// 2 stderr, 3 the final Status, 4 terminal resize, and in v5 a CLOSE frame (255) that ends
// stdin. v4 is v5 without CLOSE; v1–v3 (and their base64 text framings) are served minimally.
// The same session over SPDY (kubectl ≤ 1.29, and 1.30+ when WebSocket is refused) is in
// remote-command-spdy.ts; both are a RemoteCommandStream to the exec and attach code.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { webSocketServer } from './websocket-server.ts';

const CHANNEL_STDIN = 0;
const CHANNEL_STDOUT = 1;
const CHANNEL_STDERR = 2;
const CHANNEL_ERROR = 3;
const CHANNEL_RESIZE = 4;
const CHANNEL_CLOSE = 255;

const supportedProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'];

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/**
 * A boolean query parameter as the API server converts it into PodExecOptions, PodAttachOptions
 * and PodLogOptions (runtime.Convert_Slice_string_To_bool): absent, "0" or "false" in any case is
 * false; any other value, even an empty one, is true. Nothing is rejected, so the Python client's
 * `stdout=True` works as kubectl's `stdout=true` does.
 */
export function booleanParam(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null) return false;
  return value !== '0' && value.toLowerCase() !== 'false';
}

export function streamOptions(query: URLSearchParams): StreamOptions {
  const tty = booleanParam(query, 'tty');
  return { stdin: booleanParam(query, 'stdin'), stdout: booleanParam(query, 'stdout'), stderr: booleanParam(query, 'stderr') && !tty, tty };
}

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

export function exitStatus(exitCode: number, command: string[]): Record<string, unknown> {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

export function internalErrorStatus(message: string): Record<string, unknown> {
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 };
}

export interface RemoteCommandHandlers {
  stdin(data: Buffer): void;
  /** v5 CLOSE of stdin: the client has no more input. */
  stdinEnd(): void;
  resize(cols: number, rows: number): void;
  /** The client went away. */
  closed(): void;
}

/** One exec or attach session after the handshake, whatever carries it. */
export interface RemoteCommandStream {
  /** Input that arrived before the process was ready is delivered once handlers are set. */
  handle(handlers: RemoteCommandHandlers): void;
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /** Sends the final Status (v4+: JSON; older: a message on failure) and closes. */
  finish(status: Record<string, unknown>): void;
}

/** One exec or attach session over WebSocket. */
export class RemoteCommandSession implements RemoteCommandStream {
  readonly #socket: WebSocket;
  readonly #base64: boolean;
  readonly #version: number;
  #finished = false;
  #handlers: RemoteCommandHandlers | undefined;
  readonly #early: Array<[number, Buffer]> = [];

  constructor(socket: WebSocket, protocol: string) {
    this.#socket = socket;
    this.#base64 = protocol.includes('base64');
    this.#version = Number(/^v(\d)\./.exec(protocol)?.[1] ?? 1);
    socket.on('message', (data: Buffer) => this.#receive(data));
    socket.on('close', () => {
      if (!this.#finished) {
        this.#finished = true;
        this.#handlers?.closed();
      }
    });
    socket.on('error', () => socket.terminate());
  }

  /** Input that arrived before the process was ready is delivered once handlers are set. */
  handle(handlers: RemoteCommandHandlers): void {
    this.#handlers = handlers;
    for (const [channel, payload] of this.#early.splice(0)) this.#dispatch(channel, payload);
    if (this.#finished) handlers.closed();
  }

  /**
   * As the kubelet's wsstream reads a frame: TEXT and BINARY alike (the Python client sends stdin
   * as TEXT), the first byte the channel number, or its ASCII digit under the base64 protocols.
   */
  #receive(data: Buffer): void {
    if (data.length === 0) return;
    const first = data[0] ?? 0;
    const close = first === CHANNEL_CLOSE && this.#version >= 5;
    const channel = close ? CHANNEL_CLOSE : this.#base64 ? first - 0x30 : first;
    const payload = close ? data.subarray(1) : this.#base64 ? Buffer.from(data.subarray(1).toString('latin1'), 'base64') : data.subarray(1);
    if (!this.#handlers) {
      this.#early.push([channel, Buffer.from(payload)]);
      return;
    }
    this.#dispatch(channel, payload);
  }

  #dispatch(channel: number, payload: Buffer): void {
    const handlers = this.#handlers;
    if (!handlers) return;
    if (channel === CHANNEL_STDIN) handlers.stdin(payload);
    else if (channel === CHANNEL_RESIZE && this.#version >= 3) {
      try {
        // Go decodes TerminalSize{Width, Height} with encoding/json, which matches keys without
        // regard to case: client-node sends {"width","height"}, kubectl {"Width","Height"}.
        const size = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
        const field = (name: string) => Number(Object.entries(size).find(([key]) => key.toLowerCase() === name)?.[1]);
        const cols = field('width');
        const rows = field('height');
        if (cols > 0 && rows > 0) handlers.resize(cols, rows);
      } catch {
        // A malformed resize is ignored, as the kubelet does.
      }
    } else if (channel === CHANNEL_CLOSE && this.#version >= 5 && payload[0] === CHANNEL_STDIN) handlers.stdinEnd();
  }

  #send(channel: number, data: Buffer | string): void {
    if (this.#finished || this.#socket.readyState !== this.#socket.OPEN) return;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.#base64) this.#socket.send(`${channel}${bytes.toString('base64')}`);
    else {
      const frame = Buffer.allocUnsafe(bytes.length + 1);
      frame[0] = channel;
      bytes.copy(frame, 1);
      this.#socket.send(frame);
    }
  }

  stdout(data: Buffer): void {
    this.#send(CHANNEL_STDOUT, data);
  }

  stderr(data: Buffer): void {
    this.#send(CHANNEL_STDERR, data);
  }

  /** Sends the final Status (v4+: JSON; older: a message on failure) and closes normally. */
  finish(status: Record<string, unknown>): void {
    if (this.#finished) return;
    if (this.#version >= 4) this.#send(CHANNEL_ERROR, JSON.stringify(status));
    else if (status['status'] !== 'Success') this.#send(CHANNEL_ERROR, String(status['message'] ?? 'error'));
    this.#finished = true;
    this.#socket.close(1000);
  }
}

const server = webSocketServer({
  noServer: true,
  perMessageDeflate: false,
  clientTracking: false,
  handleProtocols: (offered: Set<string>) => {
    for (const protocol of offered) if (supportedProtocols.includes(protocol)) return protocol;
    return false;
  },
});

/** Completes the WebSocket handshake; a client that offers no channel protocol gets channel.k8s.io semantics. */
export function acceptRemoteCommand(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<RemoteCommandSession> {
  return new Promise((resolve) => {
    server().handleUpgrade(req, socket, head, (ws) => {
      ws.binaryType = 'nodebuffer';
      resolve(new RemoteCommandSession(ws, ws.protocol || 'channel.k8s.io'));
    });
  });
}
