// Request bodies, read with the API server's size limit (3 MiB → 413), and the small helpers
// decoding shares. Every way a body can be wrong ends as a 4xx Status, never as a thrown TypeError.
import type { IncomingMessage } from 'node:http';
import { statusErrors } from '../types.ts';

/** kube-apiserver's --max-request-bytes default for resource bodies. */
const maxRequestBytes = 3 * 1024 * 1024;

export function readBody(req: IncomingMessage, limit = maxRequestBytes): Promise<Buffer> {
  const tooLarge = () => statusErrors.tooLarge(`Request entity too large: limit is ${limit}`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
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
