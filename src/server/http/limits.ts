// The portal's outer guard on what a client may send, before any handler reads a byte: a body
// size limit for every address (routes may read less: contracts' readBody has per-route limits),
// and timeouts that free a connection whose headers or body trickle in (slowloris). A body over
// the limit is refused with 413 from its Content-Length, before it is read; a chunked body (no
// Content-Length) bound for Astro is read here while counting, never past the limit, and handed
// to Astro as `req.body`. Routes beside Astro read their own stream with their own limit.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { RouteTable } from './patterns.ts';

export interface HttpLimits {
  /** The most a request body may carry at an address no entry of `bodyBytesByRoute` names. */
  bodyBytes: number;
  /** Route patterns (`/api/workshops/*`) that take less (or more) than `bodyBytes`. */
  bodyBytesByRoute: Record<string, number>;
  /** Time for a client to send its request headers. */
  headersTimeoutMs: number;
  /** Time for a client to send its whole request, body included (not the answer: event streams and terminals live on). */
  requestTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  bodyBytes: 1024 * 1024,
  bodyBytesByRoute: {
    // Workshop routes read JSON of a few fields (src/pages/api/workshops).
    '/api/workshops/*': 64 * 1024,
  },
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 60_000,
};

/** After a 413, how long the rest of the body is drained so the client can read the answer before the connection closes. */
const DRAIN_AFTER_REFUSAL_MS = 2_000;

export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB (${bytes} bytes)`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB (${bytes} bytes)`;
  return `${bytes} bytes`;
}

export class BodyLimits {
  readonly #byRoute = new RouteTable<number>();
  readonly #default: number;

  constructor(limits: Pick<HttpLimits, 'bodyBytes' | 'bodyBytesByRoute'>) {
    this.#default = limits.bodyBytes;
    for (const [pattern, bytes] of Object.entries(limits.bodyBytesByRoute)) this.#byRoute.add(pattern, bytes);
  }

  /** The most a body sent to `pathname` may carry. */
  limitFor(pathname: string): number {
    return this.#byRoute.match(pathname)?.value ?? this.#default;
  }
}

/** The body's declared length; null when it declares none (chunked, or no body). */
function declaredLength(req: IncomingMessage): number | null {
  const header = req.headers['content-length'];
  if (header === undefined) return null;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : null;
}

function refuse(req: IncomingMessage, res: ServerResponse, limit: number): void {
  const text = JSON.stringify({
    error: `the request body is larger than ${sizeText(limit)}, the most ${req.method ?? 'GET'} ${new URL(req.url ?? '/', 'http://portal').pathname} takes`,
    limitBytes: limit,
  });
  res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
  // Closing at once, with the body still arriving, would reset the connection and the client
  // could lose the answer. Node reads on and discards the rest; a client still sending after a
  // moment has its connection closed.
  res.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => {
      if (!req.complete) req.socket.destroy();
    }, DRAIN_AFTER_REFUSAL_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.socket.once('close', () => clearTimeout(timer));
  });
}

/**
 * Whether the request may go on. Answers 413 and returns false when the body is over `limit`.
 * With `readChunked`, a body without Content-Length is read here, counted, and kept as `req.body`
 * (which Astro's handler and the CSRF check read instead of the stream).
 */
export async function admitBody(req: IncomingMessage, res: ServerResponse, limit: number, options: { readChunked: boolean }): Promise<boolean> {
  const declared = declaredLength(req);
  if (declared !== null) {
    if (declared <= limit) return true;
    refuse(req, res, limit);
    return false;
  }
  if (req.headers['transfer-encoding'] === undefined || !options.readChunked) return true;
  return new Promise<boolean>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      stop();
      chunks.length = 0;
      // The rest flows on unread (discarded) until the answer is out and the connection closes.
      refuse(req, res, limit);
      req.resume();
      resolve(false);
    };
    const onEnd = () => {
      stop();
      (req as IncomingMessage & { body?: Buffer }).body = Buffer.concat(chunks);
      resolve(true);
    };
    // The client went away mid-body: nobody to answer.
    const onClose = () => {
      stop();
      resolve(false);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
  });
}
