// The SPDY/3.1 server connection driven byte by byte, as a client (or an attacker) would: header
// blocks compressed with the SPDY dictionary as Go's framer sends them, replies that a zlib reader
// with the dictionary decodes, PING echoes, flow control only for peers that count, and hostile
// frames (too large, wrong version, a header block that inflates without end, even stream ids)
// answered with GOAWAY or RST_STREAM instead of memory or a crash.
import { once } from 'node:events';
import { duplexPair, type Duplex } from 'node:stream';
import { constants, createDeflate, createInflate } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SpdyConnection, type SpdyStream } from '../../../src/cluster/apiserver/spdy/index.ts';
import { HEADER_DICTIONARY } from '../../../src/cluster/apiserver/spdy/frames.ts';

/** The client half: frames out, frames in (header blocks inflated with one zlib stream, as spdystream does). */
class Client {
  readonly socket: Duplex;
  readonly #deflate = createDeflate({ dictionary: HEADER_DICTIONARY });
  readonly #inflate = createInflate({ dictionary: HEADER_DICTIONARY });
  #received = Buffer.alloc(0);
  closed = false;

  constructor(socket: Duplex) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => (this.#received = Buffer.concat([this.#received, chunk])));
    socket.on('end', () => (this.closed = true));
    socket.on('close', () => (this.closed = true));
  }

  async compress(headers: Record<string, string>): Promise<Buffer> {
    const parts: Buffer[] = [u32(Object.keys(headers).length)];
    for (const [name, value] of Object.entries(headers)) parts.push(u32(name.length), Buffer.from(name), u32(value.length), Buffer.from(value));
    const chunks: Buffer[] = [];
    const collect = (chunk: Buffer) => chunks.push(chunk);
    this.#deflate.on('data', collect);
    this.#deflate.write(Buffer.concat(parts));
    await new Promise<void>((resolve) => this.#deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    this.#deflate.off('data', collect);
    return Buffer.concat(chunks);
  }

  async synStream(id: number, headers: Record<string, string>, flags = 0): Promise<void> {
    const block = await this.compress(headers);
    const body = Buffer.concat([u32(id), u32(0), Buffer.from([0, 0]), block]);
    this.socket.write(control(1, flags, body));
  }

  data(id: number, payload: Buffer, fin = false): void {
    this.socket.write(Buffer.concat([u32(id), u32(((fin ? 1 : 0) << 24) | payload.length), payload]));
  }

  /** The frames received so far, parsed (control frames by type, data frames by stream). */
  frames(): Array<{ type: number; flags: number; body: Buffer } | { stream: number; flags: number; data: Buffer }> {
    const frames = [];
    let offset = 0;
    const bytes = this.#received;
    while (bytes.length - offset >= 8) {
      const length = bytes.readUIntBE(offset + 5, 3);
      const first = bytes.readUInt32BE(offset);
      const flags = bytes[offset + 4] ?? 0;
      const body = bytes.subarray(offset + 8, offset + 8 + length);
      frames.push(first & 0x80000000 ? { type: first & 0xffff, flags, body } : { stream: first, flags, data: body });
      offset += 8 + length;
    }
    return frames;
  }

  async inflate(block: Buffer): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const collect = (chunk: Buffer) => chunks.push(chunk);
    this.#inflate.on('data', collect);
    this.#inflate.write(block);
    await new Promise<void>((resolve) => this.#inflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    this.#inflate.off('data', collect);
    return Buffer.concat(chunks);
  }
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0, 0);
  return buffer;
}

function control(type: number, flags: number, body: Buffer, version = 3): Buffer {
  return Buffer.concat([u32((0x80000000 | (version << 16) | type) >>> 0), u32((flags << 24) | body.length), body]);
}

function pair(): { server: SpdyConnection; client: Client; streams: SpdyStream[] } {
  const [ours, theirs] = duplexPair();
  const server = new SpdyConnection(ours);
  const streams: SpdyStream[] = [];
  server.on('stream', (stream) => streams.push(stream));
  return { server, client: new Client(theirs), streams };
}

async function until<T>(what: string, check: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`never saw ${what}`);
}

describe('a SPDY/3.1 server connection', () => {
  it('reads streams whose headers share one zlib stream, replies in a form a zlib reader decodes, and carries data both ways', async () => {
    const { client, streams } = pair();
    await client.synStream(1, { streamtype: 'error' });
    await client.synStream(3, { streamtype: 'stdout', port: '80' });
    await until('two streams', () => streams.length === 2);
    expect(streams.map((stream) => [stream.id, stream.header('streamType'), stream.header('port')])).toEqual([
      [1, 'error', undefined],
      [3, 'stdout', '80'],
    ]);
    for (const stream of streams) stream.reply();
    streams[1]?.end(Buffer.from('hello'));
    client.data(1, Buffer.from('ping'), true);
    const received = await new Promise<string>((resolve) => {
      let text = '';
      streams[0]?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      streams[0]?.on('end', () => resolve(text));
    });
    expect(received).toBe('ping');
    const frames = await until('the replies and data', () => {
      const all = client.frames();
      return all.length >= 4 && all;
    });
    const replies = frames.filter((frame) => 'type' in frame && frame.type === 2);
    expect(replies).toHaveLength(2);
    for (const reply of replies) {
      if (!('body' in reply)) continue;
      // An empty header block: zero pairs, whatever its compressed form.
      expect(await client.inflate(reply.body.subarray(4))).toEqual(u32(0));
    }
    const data = frames.filter((frame) => 'stream' in frame && frame.stream === 3);
    expect(Buffer.concat(data.map((frame) => ('data' in frame ? frame.data : Buffer.alloc(0)))).toString()).toBe('hello');
    expect(data.at(-1)?.flags).toBe(1);
  });

  it('echoes the client’s pings (odd ids) and ignores answers to its own', async () => {
    const { client } = pair();
    client.socket.write(control(6, 0, u32(7)));
    client.socket.write(control(6, 0, u32(8)));
    const pings = await until('a ping', () => {
      const found = client.frames().filter((frame) => 'type' in frame && frame.type === 6);
      return found.length > 0 && found;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pings.map((frame) => ('body' in frame ? frame.body.readUInt32BE(0) : 0))).toEqual([7]);
  });

  it('sends past 64 KiB to a peer that never sends WINDOW_UPDATE (spdystream), and waits for one that counts', async () => {
    const { client, streams } = pair();
    await client.synStream(1, { streamtype: 'stdout' });
    await until('the stream', () => streams[0]);
    const bytes = () => client.frames().reduce((sum, frame) => sum + ('data' in frame && frame.stream === 1 ? frame.data.length : 0), 0);
    streams[0]?.write(Buffer.alloc(200_000));
    await until('200000 bytes', () => bytes() === 200_000);

    const counted = pair();
    // SETTINGS: one entry, INITIAL_WINDOW_SIZE (7) = 1000.
    counted.client.socket.write(control(4, 0, Buffer.concat([u32(1), u32(7), u32(1000)])));
    await counted.client.synStream(1, { streamtype: 'stdout' });
    await until('the stream', () => counted.streams[0]);
    const countedBytes = () => counted.client.frames().reduce((sum, frame) => sum + ('data' in frame && frame.stream === 1 ? frame.data.length : 0), 0);
    counted.streams[0]?.write(Buffer.alloc(5000));
    await until('the first window', () => countedBytes() === 1000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(countedBytes()).toBe(1000);
    counted.client.socket.write(control(9, 0, Buffer.concat([u32(1), u32(4000)])));
    await until('the rest', () => countedBytes() === 5000);
  });

  it('answers a frame larger than 1 MiB, another SPDY version and a header bomb with GOAWAY and closes', async () => {
    const tooLarge = pair();
    tooLarge.client.socket.write(Buffer.concat([u32(1), u32(2 << 20)]));
    const oldVersion = pair();
    oldVersion.client.socket.write(control(6, 0, u32(1), 2));
    const bomb = pair();
    const inflated = Buffer.concat([u32(1), u32(1), Buffer.from('a'), u32(8 << 20), Buffer.alloc(8 << 20, 0x61)]);
    const compressed = await new Promise<Buffer>((resolve) => {
      const deflate = createDeflate({ dictionary: HEADER_DICTIONARY });
      const chunks: Buffer[] = [];
      deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
      deflate.write(inflated);
      deflate.flush(constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(chunks)));
    });
    expect(compressed.length).toBeLessThan(1 << 20);
    bomb.client.socket.write(control(1, 0, Buffer.concat([u32(1), u32(0), Buffer.from([0, 0]), compressed])));
    for (const { client, server, streams } of [tooLarge, oldVersion, bomb]) {
      await until('the connection to close', () => client.closed && server.closed);
      expect(client.frames().some((frame) => 'type' in frame && frame.type === 7)).toBe(true);
      expect(streams).toHaveLength(0);
    }
  });

  it('resets a stream a client opens with an even or repeated id', async () => {
    const { client, streams } = pair();
    await client.synStream(2, { streamtype: 'data' });
    await client.synStream(5, { streamtype: 'data' });
    await client.synStream(3, { streamtype: 'data' });
    await until('two resets', () => client.frames().filter((frame) => 'type' in frame && frame.type === 3).length === 2);
    const resets = client.frames().filter((frame) => 'type' in frame && frame.type === 3);
    expect(resets.map((frame) => ('body' in frame ? [frame.body.readUInt32BE(0), frame.body.readUInt32BE(4)] : []))).toEqual([
      [2, 1],
      [3, 1],
    ]);
    expect(streams.map((stream) => stream.id)).toEqual([5]);
  });

  it('closes a connection on which nothing has moved for its idle timeout, with GOAWAY', async () => {
    const [ours, theirs] = duplexPair();
    const server = new SpdyConnection(ours, { idleTimeoutMs: 100 });
    const client = new Client(theirs);
    await client.synStream(1, { streamtype: 'data' });
    await until('the idle connection to close', () => server.closed && client.closed);
    expect(client.frames().some((frame) => 'type' in frame && frame.type === 7)).toBe(true);
  });

  it('ends every stream when the client goes away', async () => {
    const { client, streams, server } = pair();
    await client.synStream(1, { streamtype: 'stdin' });
    await until('the stream', () => streams[0]);
    const closed = once(streams[0] as SpdyStream, 'close');
    client.socket.destroy();
    await closed;
    expect(server.closed).toBe(true);
  });
});
