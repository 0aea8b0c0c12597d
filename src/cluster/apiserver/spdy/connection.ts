// The server side of one SPDY/3.1 connection: the client (kubectl through spdystream) opens every
// stream with SYN_STREAM and the server answers each with SYN_REPLY, then both send DATA until
// each side has sent FIN. Frames are handled one after another, in order, because header blocks
// share one zlib stream for the whole connection.
//
// Flow control: SPDY/3.1 gives every stream and the connection a 64 KiB window. spdystream, on
// both sides of every kubectl connection, never sends WINDOW_UPDATE and ignores the ones it gets,
// so a server that waited for window would stall after 64 KiB. This one sends WINDOW_UPDATEs as
// it consumes data (for peers that count) and holds its own sends to the window only once the
// peer has shown it counts (a SETTINGS initial window or a WINDOW_UPDATE). A stream whose reader
// is slow pauses reading from the socket, the back-pressure spdystream itself relies on.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { constants as zlibConstants, createInflate, type Inflate } from 'node:zlib';
import {
  DEFAULT_WINDOW,
  FLAG_FIN,
  FrameType,
  type Frame,
  GoAwayStatus,
  HEADER_DICTIONARY,
  type HeaderBlock,
  HeaderEncoder,
  RstStatus,
  SETTINGS_INITIAL_WINDOW_SIZE,
  dataFrame,
  goAwayFrame,
  parseHeaderBlock,
  pingFrame,
  readFrames,
  rstStreamFrame,
  synReplyFrame,
  windowUpdateFrame,
} from './frames.ts';

/** Streams one connection may hold open at once (kubectl port-forward opens two a TCP connection). */
const MAX_OPEN_STREAMS = 256;
/** The most a header block may inflate to: kubectl's are a few dozen bytes. */
const MAX_HEADER_BLOCK_BYTES = 64 * 1024;
/** Largest DATA frame this server sends. */
const MAX_DATA_PIECE = 32 * 1024;
/** A connection with no frame either way for this long is closed (the kubelet's streaming idle timeout, 4 h). */
const DEFAULT_IDLE_TIMEOUT_MS = 4 * 60 * 60 * 1000;

export interface SpdyConnectionOptions {
  /** Bytes that came with the upgrade request, already the first frames. */
  head?: Buffer;
  idleTimeoutMs?: number;
}

export class SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: HeaderBlock;
  readonly #connection: SpdyConnection;
  #replied = false;
  #finSent = false;
  #finReceived = false;
  #unacknowledged = 0;
  sendWindow: number;

  constructor(connection: SpdyConnection, id: number, headers: HeaderBlock, sendWindow: number) {
    super({ allowHalfOpen: true });
    this.#connection = connection;
    this.id = id;
    this.headers = headers;
    this.sendWindow = sendWindow;
  }

  /** The first value of a request header (names are lower case). */
  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  /** Accepts the stream (SYN_REPLY); the client drops data sent before it. */
  reply(): void {
    if (this.#replied || this.destroyed) return;
    this.#replied = true;
    this.#connection.sendReply(this.id);
  }

  /** Refuses or abandons the stream (RST_STREAM). */
  reset(status: number = RstStatus.cancel): void {
    if (this.destroyed) return;
    if (!(this.#finSent && this.#finReceived)) this.#connection.sendReset(this.id, status);
    this.#finSent = this.#finReceived = true;
    this.destroy();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.reply();
    this.#connection.sendData(this, chunk, false).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.reply();
    this.#finSent = true;
    this.#connection
      .sendData(this, Buffer.alloc(0), true)
      .then(() => {
        this.#settle();
        callback();
      }, callback);
  }

  override _read(): void {
    this.#acknowledge();
    this.#connection.resumeFor(this);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!(this.#finSent && this.#finReceived)) this.#connection.sendReset(this.id, RstStatus.cancel);
    this.#connection.forget(this);
    callback(error);
  }

  /** DATA from the peer. */
  received(data: Buffer, fin: boolean): void {
    if (this.#finReceived) return;
    if (data.length > 0) {
      this.#unacknowledged += data.length;
      if (this.push(data)) this.#acknowledge();
      else this.#connection.pauseFor(this);
    }
    if (fin) this.remoteFinished();
  }

  remoteFinished(): void {
    if (this.#finReceived) return;
    this.#finReceived = true;
    this.push(null);
    this.#settle();
  }

  /** RST_STREAM from the peer, or the connection ended. */
  aborted(): void {
    this.#finSent = this.#finReceived = true;
    this.destroy();
  }

  #acknowledge(): void {
    if (this.#unacknowledged < DEFAULT_WINDOW / 2) return;
    this.#connection.sendWindowUpdate(this.id, this.#unacknowledged);
    this.#unacknowledged = 0;
  }

  /** Both sides have sent FIN: the stream is over. */
  #settle(): void {
    if (this.#finSent && this.#finReceived) this.#connection.forget(this);
  }
}

export interface SpdyConnectionEvents {
  stream: [SpdyStream];
  close: [];
}

export class SpdyConnection extends EventEmitter<SpdyConnectionEvents> {
  readonly #socket: Duplex;
  readonly #inflate: Inflate;
  readonly #encoder = new HeaderEncoder();
  readonly #streams = new Map<number, SpdyStream>();
  readonly #pausedBy = new Set<SpdyStream>();
  #buffer: Buffer = Buffer.alloc(0);
  #queue: Promise<void> = Promise.resolve();
  #inflated: Buffer[] = [];
  #inflatedBytes = 0;
  #lastStreamId = 0;
  #closed = false;
  /** The peer counts windows (it said so with SETTINGS or WINDOW_UPDATE). */
  #flowControl = false;
  #sendWindow = DEFAULT_WINDOW;
  #initialStreamWindow = DEFAULT_WINDOW;
  #windowWaiters: Array<() => void> = [];
  #unacknowledged = 0;
  readonly #idle: NodeJS.Timeout;

  constructor(socket: Duplex, options: SpdyConnectionOptions = {}) {
    super();
    this.#socket = socket;
    this.#idle = setTimeout(() => this.close(), options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    this.#idle.unref();
    this.#inflate = createInflate({ dictionary: HEADER_DICTIONARY });
    this.#inflate.on('data', (chunk: Buffer) => {
      this.#inflatedBytes += chunk.length;
      if (this.#inflatedBytes <= MAX_HEADER_BLOCK_BYTES) this.#inflated.push(chunk);
    });
    this.#inflate.on('error', () => this.#fail(GoAwayStatus.protocolError));
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('end', () => this.#shutdown());
    socket.on('close', () => this.#shutdown());
    socket.on('error', () => this.#shutdown());
    const head = options.head;
    if (head && head.length > 0) queueMicrotask(() => this.#receive(head));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Ends the connection politely (GOAWAY, then the socket), as spdystream's Close does. */
  close(): void {
    if (this.#closed) return;
    this.#write(goAwayFrame(this.#lastStreamId, GoAwayStatus.ok));
    this.#socket.end();
    this.#shutdown();
  }

  /** Sends a PING (server pings carry even ids); the client echoes it. */
  ping(id: number): void {
    this.#write(pingFrame(id & ~1));
  }

  sendReply(streamId: number): void {
    this.#write(synReplyFrame(streamId, this.#encoder.encode({}), false));
  }

  sendReset(streamId: number, status: number): void {
    this.#write(rstStreamFrame(streamId, status));
  }

  sendWindowUpdate(streamId: number, delta: number): void {
    if (delta <= 0) return;
    this.#write(windowUpdateFrame(streamId, delta));
    this.#unacknowledged += delta;
    if (this.#unacknowledged >= DEFAULT_WINDOW / 2) {
      this.#write(windowUpdateFrame(0, this.#unacknowledged));
      this.#unacknowledged = 0;
    }
  }

  /** Sends data on a stream in window-sized pieces; the last piece carries FIN when asked. */
  async sendData(stream: SpdyStream, data: Buffer, fin: boolean): Promise<void> {
    let offset = 0;
    do {
      if (this.#closed) throw new Error('the SPDY connection is closed');
      const room = this.#flowControl ? Math.min(stream.sendWindow, this.#sendWindow) : Infinity;
      if (room <= 0 && data.length > 0) {
        await new Promise<void>((resolve) => this.#windowWaiters.push(resolve));
        continue;
      }
      const piece = data.subarray(offset, offset + Math.min(room, MAX_DATA_PIECE));
      offset += piece.length;
      stream.sendWindow -= piece.length;
      this.#sendWindow -= piece.length;
      const last = offset >= data.length;
      if (!this.#write(dataFrame(stream.id, piece, fin && last))) await this.#drained();
    } while (offset < data.length);
  }

  pauseFor(stream: SpdyStream): void {
    this.#pausedBy.add(stream);
    this.#socket.pause();
  }

  resumeFor(stream: SpdyStream): void {
    if (!this.#pausedBy.delete(stream)) return;
    if (this.#pausedBy.size === 0 && !this.#closed) this.#socket.resume();
  }

  forget(stream: SpdyStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
    this.resumeFor(stream);
  }

  #write(frame: Buffer): boolean {
    if (this.#closed || !this.#socket.writable) return true;
    this.#idle.refresh();
    return this.#socket.write(frame);
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    this.#idle.refresh();
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let frames: Frame[];
    try {
      const read = readFrames(this.#buffer);
      frames = read.frames;
      this.#buffer = read.rest.length === 0 ? Buffer.alloc(0) : Buffer.from(read.rest);
    } catch {
      this.#fail(GoAwayStatus.protocolError);
      return;
    }
    for (const frame of frames) {
      this.#queue = this.#queue.then(() => this.#handle(frame)).catch(() => this.#fail(GoAwayStatus.protocolError));
    }
  }

  async #handle(frame: Frame): Promise<void> {
    if (this.#closed) return;
    if (frame.kind === 'data') {
      this.#streams.get(frame.streamId)?.received(frame.data, (frame.flags & FLAG_FIN) !== 0);
      return;
    }
    const body = frame.body;
    switch (frame.type) {
      case FrameType.synStream:
        return this.#synStream(body, frame.flags);
      case FrameType.headers:
      case FrameType.synReply:
        // Never expected from a client, but their header blocks must still pass through the shared zlib stream.
        await this.#inflateBlock(body.subarray(4));
        return;
      case FrameType.rstStream:
        this.#streams.get(body.readUInt32BE(0) & 0x7fffffff)?.aborted();
        return;
      case FrameType.settings:
        return this.#settings(body);
      case FrameType.ping: {
        const id = body.readUInt32BE(0);
        // Odd ids are the client's pings, to be echoed; even ones answer ours.
        if (id % 2 === 1) this.#write(pingFrame(id));
        return;
      }
      case FrameType.goAway:
        this.#socket.end();
        this.#shutdown();
        return;
      case FrameType.windowUpdate: {
        const streamId = body.readUInt32BE(0) & 0x7fffffff;
        const delta = body.readUInt32BE(4) & 0x7fffffff;
        this.#flowControl = true;
        if (streamId === 0) this.#sendWindow += delta;
        else {
          const stream = this.#streams.get(streamId);
          if (stream) stream.sendWindow += delta;
        }
        this.#openWindow();
        return;
      }
      default:
        // Unknown control frames are ignored, as the specification asks.
        return;
    }
  }

  async #synStream(body: Buffer, flags: number): Promise<void> {
    if (body.length < 10) throw new Error('SYN_STREAM too short');
    const streamId = body.readUInt32BE(0) & 0x7fffffff;
    const headers = parseHeaderBlock(await this.#inflateBlock(body.subarray(10)));
    // Client streams have odd, ever-increasing ids.
    if (streamId % 2 === 0 || streamId <= this.#lastStreamId) {
      this.sendReset(streamId, RstStatus.protocolError);
      return;
    }
    this.#lastStreamId = streamId;
    if (this.#streams.size >= MAX_OPEN_STREAMS) {
      this.sendReset(streamId, RstStatus.refusedStream);
      return;
    }
    const stream = new SpdyStream(this, streamId, headers, this.#initialStreamWindow);
    this.#streams.set(streamId, stream);
    if (flags & FLAG_FIN) stream.remoteFinished();
    this.emit('stream', stream);
  }

  #settings(body: Buffer): void {
    const count = body.readUInt32BE(0);
    for (let i = 0; i < count && 4 + i * 8 + 8 <= body.length; i++) {
      const id = body.readUInt32BE(4 + i * 8) & 0xffffff;
      const value = body.readUInt32BE(8 + i * 8);
      if (id !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
      this.#flowControl = true;
      const change = value - this.#initialStreamWindow;
      this.#initialStreamWindow = value;
      for (const stream of this.#streams.values()) stream.sendWindow += change;
    }
    this.#openWindow();
  }

  #openWindow(): void {
    for (const resolve of this.#windowWaiters.splice(0)) resolve();
  }

  #inflateBlock(block: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#inflated = [];
      this.#inflatedBytes = 0;
      this.#inflate.write(block);
      this.#inflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        if (this.#inflatedBytes > MAX_HEADER_BLOCK_BYTES) reject(new Error('header block too large'));
        else resolve(Buffer.concat(this.#inflated));
      });
    });
  }

  #fail(status: number): void {
    if (this.#closed) return;
    this.#write(goAwayFrame(this.#lastStreamId, status));
    this.#socket.end();
    this.#shutdown();
  }

  #shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idle);
    this.#openWindow();
    for (const stream of [...this.#streams.values()]) stream.aborted();
    this.#streams.clear();
    this.#inflate.close();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
    this.emit('close');
  }
}

