// exec and attach over SPDY/3.1, as the kubelet's remotecommand server speaks them: the client
// opens one stream per part of the session, named by its `streamType` header (error, stdin,
// stdout, stderr, resize), and the session starts once every stream the options call for exists.
// stdin ends with the stream's FIN; the result goes on the error stream (v4: a Status as JSON,
// Success included; v1–v3: the message of a failure, nothing on success); then the connection
// closes. The protocols are those the kubelet speaks over SPDY: kubectl offers v5 first, which
// means something only over WebSocket, and settles on v4.
import type { ConnectRequest } from '../apiserver/index.ts';
import { acceptSpdy, type SpdyStream } from '../apiserver/spdy/index.ts';
import { StatusError } from '../types.ts';
import { acceptRemoteCommand, isWebSocketUpgrade, type RemoteCommandHandlers, type RemoteCommandStream, type StreamOptions } from './streams.ts';

export const spdyRemoteCommandProtocols = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;

/** How long the client has to open its streams (the kubelet's streamCreationTimeout). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** A resize stream carries JSON objects a line each; a line longer than this is not a terminal size. */
const MAX_RESIZE_LINE = 1024;

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

function expectedStreams(options: StreamOptions, version: number): Set<StreamType> {
  const expected = new Set<StreamType>(['error']);
  if (options.stdin) expected.add('stdin');
  if (options.stdout) expected.add('stdout');
  if (options.stderr) expected.add('stderr');
  if (options.tty && version >= 3) expected.add('resize');
  return expected;
}

function ended(stream: SpdyStream | undefined): Promise<void> {
  if (!stream || stream.writableFinished || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('finish', resolve);
    stream.once('close', resolve);
    stream.end();
  });
}

class SpdyRemoteCommandSession implements RemoteCommandStream {
  readonly #streams: Map<StreamType, SpdyStream>;
  readonly #version: number;
  readonly #close: () => void;
  #finished = false;
  #closedByClient = false;
  #handlers: RemoteCommandHandlers | undefined;

  constructor(streams: Map<StreamType, SpdyStream>, version: number, onClientGone: (listener: () => void) => void, close: () => void) {
    this.#streams = streams;
    this.#version = version;
    this.#close = close;
    onClientGone(() => {
      if (this.#finished) return;
      this.#finished = true;
      this.#closedByClient = true;
      this.#handlers?.closed();
    });
  }

  handle(handlers: RemoteCommandHandlers): void {
    this.#handlers = handlers;
    const stdin = this.#streams.get('stdin');
    if (stdin) {
      stdin.on('data', (data: Buffer) => handlers.stdin(data));
      stdin.on('end', () => handlers.stdinEnd());
    }
    const resize = this.#streams.get('resize');
    if (resize) {
      let pending = '';
      resize.on('data', (data: Buffer) => {
        pending += data.toString('utf8');
        if (pending.length > MAX_RESIZE_LINE && !pending.includes('\n')) pending = '';
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          try {
            // Go decodes TerminalSize{Width, Height} without regard to the keys' case.
            const size = JSON.parse(line) as Record<string, unknown>;
            const field = (name: string) => Number(Object.entries(size).find(([key]) => key.toLowerCase() === name)?.[1]);
            if (field('width') > 0 && field('height') > 0) handlers.resize(field('width'), field('height'));
          } catch {
            // A malformed size is ignored, as the kubelet does.
          }
        }
      });
    }
    if (this.#closedByClient) handlers.closed();
  }

  stdout(data: Buffer): void {
    if (!this.#finished) this.#streams.get('stdout')?.write(data);
  }

  stderr(data: Buffer): void {
    if (!this.#finished) this.#streams.get('stderr')?.write(data);
  }

  finish(status: Record<string, unknown>): void {
    if (this.#finished) return;
    this.#finished = true;
    // Output first, then the result: the client reads the error stream after stdout and stderr end.
    void Promise.all([ended(this.#streams.get('stdout')), ended(this.#streams.get('stderr'))]).then(async () => {
      const error = this.#streams.get('error');
      if (error && !error.destroyed) {
        if (this.#version >= 4) error.write(JSON.stringify(status));
        else if (status['status'] !== 'Success') error.write(String(status['message'] ?? 'error'));
        await ended(error);
      }
      for (const stream of this.#streams.values()) stream.destroy();
      this.#close();
    });
  }
}

/**
 * Completes an exec or attach upgrade over WebSocket or SPDY; undefined when the SPDY handshake
 * was refused (the answer is already sent) or the client never opened its streams.
 */
export async function acceptRemoteCommandStreams(request: ConnectRequest, options: StreamOptions): Promise<RemoteCommandStream | undefined> {
  if (!request.upgrade) throw new StatusError({ code: 400, reason: 'BadRequest', message: 'unable to upgrade: missing upgrade headers in request' });
  const { socket, head } = request.upgrade;
  if (isWebSocketUpgrade(request.req)) return acceptRemoteCommand(request.req, socket, head);
  const upgraded = acceptSpdy(request.req, socket, head, spdyRemoteCommandProtocols);
  if (!upgraded) return undefined;
  const { connection, protocol } = upgraded;
  const version = Number(/^v(\d)\./.exec(protocol)?.[1] ?? 1);
  const expected = expectedStreams(options, version);
  const streams = new Map<StreamType, SpdyStream>();
  const complete = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), STREAM_CREATION_TIMEOUT_MS);
    timer.unref();
    connection.on('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
    connection.on('stream', (stream) => {
      const type = stream.header('streamtype') as StreamType | undefined;
      if (!type || !expected.has(type) || streams.has(type)) {
        stream.reset();
        return;
      }
      stream.reply();
      streams.set(type, stream);
      if (streams.size === expected.size) {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  if (!complete) {
    connection.close();
    return undefined;
  }
  return new SpdyRemoteCommandSession(streams, version, (listener) => connection.once('close', listener), () => connection.close());
}
