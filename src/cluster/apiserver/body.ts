// Request bodies, read with the API server's size limit (3 MiB → 413), and the small helpers
// decoding shares. Every way a body can be wrong ends as a 4xx Status, never as a thrown TypeError.
// A body past the limit is neither kept nor read on: what is left of it stays in the socket (the
// client meets TCP backpressure) until the server has answered and closes the connection.
import type { IncomingMessage } from 'node:http';
import { statusErrors } from '../types.ts';

/** kube-apiserver's --max-request-bytes default for resource bodies. */
const maxRequestBytes = 3 * 1024 * 1024;

/** Stops taking bytes of a refused body: read no further, and tell Node not to drain it either. */
function stopReading(req: IncomingMessage, listener?: (chunk: Buffer) => void): void {
  if (listener) req.off('data', listener);
  // A 'data' listener marks the body as consumed, so Node does not read the rest to throw it away.
  req.on('data', () => undefined);
  req.pause();
}

export function readBody(req: IncomingMessage, limit = maxRequestBytes): Promise<Buffer> {
  const tooLarge = () => statusErrors.tooLarge(`Request entity too large: limit is ${limit}`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    stopReading(req);
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const onData = (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        stopReading(req, onData);
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      if (failed) return;
      failed = true;
      reject(statusErrors.badRequest(`error reading the request body: ${error.message}`));
    });
  });
}

/** The first 30 bytes of a body, as Kubernetes quotes them in decode errors. */
export function summarizeBody(body: Buffer | string): string {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  return text.length > 30 ? `${text.slice(0, 30)} ...` : text;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
