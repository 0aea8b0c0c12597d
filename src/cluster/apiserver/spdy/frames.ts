// SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 with the 3.1 flow-control changes), as
// kubectl ≤ 1.29 and kubectl port-forward speak it through moby/spdystream: an 8-byte header,
// then the frame's body. Control frames carry the version (3) and a type; data frames a stream id.
// Header blocks are zlib streams primed with the dictionary the specification defines.

export const SPDY_VERSION = 3;
/** The largest frame this server accepts: clients copy in 32 KiB pieces, so a bigger frame is an attack, not traffic. */
export const MAX_FRAME_BYTES = 1 << 20;

export const FrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  cancel: 5,
  internalError: 6,
  flowControlError: 7,
  streamInUse: 8,
  streamAlreadyClosed: 9,
  frameTooLarge: 11,
} as const;

export const GoAwayStatus = { ok: 0, protocolError: 1, internalError: 2 } as const;

/** SETTINGS id of the initial per-stream send window. */
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;
/** Every stream and the connection start with this window (SPDY/3.1). */
export const DEFAULT_WINDOW = 64 * 1024;

export type Frame =
  | { kind: 'control'; type: number; flags: number; body: Buffer }
  | { kind: 'data'; streamId: number; flags: number; data: Buffer };

/**
 * Splits the bytes received so far into whole frames; what remains is the start of the next one.
 * Throws when a frame announces more than MAX_FRAME_BYTES.
 */
export function readFrames(buffer: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let offset = 0;
  while (buffer.length - offset >= 8) {
    const length = buffer.readUIntBE(offset + 5, 3);
    if (length > MAX_FRAME_BYTES) throw new Error(`frame of ${length} bytes is larger than ${MAX_FRAME_BYTES}`);
    if (buffer.length - offset - 8 < length) break;
    const first = buffer.readUInt32BE(offset);
    const flags = buffer[offset + 4] ?? 0;
    const body = buffer.subarray(offset + 8, offset + 8 + length);
    if (first & 0x80000000) {
      const version = (first >>> 16) & 0x7fff;
      if (version !== SPDY_VERSION) throw new Error(`SPDY version ${version} is not supported (3 is)`);
      frames.push({ kind: 'control', type: first & 0xffff, flags, body });
    } else {
      frames.push({ kind: 'data', streamId: first & 0x7fffffff, flags, data: body });
    }
    offset += 8 + length;
  }
  return { frames, rest: buffer.subarray(offset) };
}

function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const header = Buffer.allocUnsafe(8);
  header.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  header.writeUInt32BE(((flags << 24) | body.length) >>> 0, 4);
  return Buffer.concat([header, body]);
}

export function dataFrame(streamId: number, data: Buffer, fin: boolean): Buffer {
  const header = Buffer.allocUnsafe(8);
  header.writeUInt32BE(streamId & 0x7fffffff, 0);
  header.writeUInt32BE((((fin ? FLAG_FIN : 0) << 24) | data.length) >>> 0, 4);
  return Buffer.concat([header, data]);
}

export function synReplyFrame(streamId: number, headerBlock: Buffer, fin: boolean): Buffer {
  const body = Buffer.allocUnsafe(4);
  body.writeUInt32BE(streamId & 0x7fffffff, 0);
  return controlFrame(FrameType.synReply, fin ? FLAG_FIN : 0, Buffer.concat([body, headerBlock]));
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  const body = Buffer.allocUnsafe(8);
  body.writeUInt32BE(streamId & 0x7fffffff, 0);
  body.writeUInt32BE(status, 4);
  return controlFrame(FrameType.rstStream, 0, body);
}

export function pingFrame(id: number): Buffer {
  const body = Buffer.allocUnsafe(4);
  body.writeUInt32BE(id >>> 0, 0);
  return controlFrame(FrameType.ping, 0, body);
}

export function goAwayFrame(lastStreamId: number, status: number): Buffer {
  const body = Buffer.allocUnsafe(8);
  body.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
  body.writeUInt32BE(status, 4);
  return controlFrame(FrameType.goAway, 0, body);
}

export function windowUpdateFrame(streamId: number, delta: number): Buffer {
  const body = Buffer.allocUnsafe(8);
  body.writeUInt32BE(streamId & 0x7fffffff, 0);
  body.writeUInt32BE(delta & 0x7fffffff, 4);
  return controlFrame(FrameType.windowUpdate, 0, body);
}

/** Name/value pairs of a header block; names are lower case on the wire, several values are joined by NUL. */
export type HeaderBlock = Map<string, string[]>;

/** Decodes an inflated header block; throws on a block that does not add up. */
export function parseHeaderBlock(block: Buffer): HeaderBlock {
  const headers: HeaderBlock = new Map();
  let offset = 0;
  const take = (): Buffer => {
    if (block.length - offset < 4) throw new Error('header block ends inside a length');
    const length = block.readUInt32BE(offset);
    offset += 4;
    if (block.length - offset < length) throw new Error('header block ends inside a name or value');
    const part = block.subarray(offset, offset + length);
    offset += length;
    return part;
  };
  if (block.length < 4) throw new Error('header block has no pair count');
  const count = block.readUInt32BE(0);
  offset = 4;
  for (let i = 0; i < count; i++) {
    const name = take().toString('latin1');
    const value = take().toString('latin1');
    if (name === '' || name !== name.toLowerCase()) throw new Error(`header name ${JSON.stringify(name)} is empty or not lower case`);
    headers.set(name, [...(headers.get(name) ?? []), ...value.split('\0')]);
  }
  return headers;
}

function encodeHeaderPairs(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.allocUnsafe(4);
  const entries = Object.entries(headers);
  count.writeUInt32BE(entries.length, 0);
  parts.push(count);
  for (const [name, value] of entries) {
    for (const text of [name.toLowerCase(), value]) {
      const bytes = Buffer.from(text, 'latin1');
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32BE(bytes.length, 0);
      parts.push(length, bytes);
    }
  }
  return Buffer.concat(parts);
}

/**
 * The sending half of a connection's header compression. The receiver keeps one zlib stream for
 * the whole connection, so what is sent must continue one stream: a zlib header first, then each
 * block as stored (uncompressed) deflate blocks ending where a sync flush would. The server only
 * sends a few tiny SYN_REPLY blocks, which compression would not shrink.
 */
export class HeaderEncoder {
  #started = false;

  encode(headers: Record<string, string>): Buffer {
    const raw = encodeHeaderPairs(headers);
    const parts: Buffer[] = [];
    if (!this.#started) {
      // CMF 0x78 (deflate, 32 KiB window), FLG 0x01: no preset dictionary, check bits make it a multiple of 31.
      parts.push(Buffer.from([0x78, 0x01]));
      this.#started = true;
    }
    for (let offset = 0; offset < raw.length || offset === 0; offset += 0xffff) {
      const piece = raw.subarray(offset, offset + 0xffff);
      parts.push(storedBlock(piece));
      if (offset + 0xffff >= raw.length) break;
    }
    // The empty stored block a Z_SYNC_FLUSH ends with.
    parts.push(storedBlock(Buffer.alloc(0)));
    return Buffer.concat(parts);
  }
}

function storedBlock(data: Buffer): Buffer {
  const header = Buffer.allocUnsafe(5);
  header[0] = 0; // BFINAL 0, BTYPE 00 (stored), padded to the byte.
  header.writeUInt16LE(data.length, 1);
  header.writeUInt16LE(~data.length & 0xffff, 3);
  return Buffer.concat([header, data]);
}

/** The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1): length-prefixed words, then a run of common values. */
export const HEADER_DICTIONARY: Buffer = (() => {
  const words = [
    'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
    'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
    'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
    'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
    'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
    'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
    'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
  ];
  const tail =
    '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
    '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
    '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
    'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
    'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,' +
    'publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
  const parts: Buffer[] = [];
  for (const word of words) {
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(word.length, 0);
    parts.push(length, Buffer.from(word, 'latin1'));
  }
  parts.push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
})();
