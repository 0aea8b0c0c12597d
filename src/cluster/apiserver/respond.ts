// Writing answers: objects as JSON (or YAML when asked), failures as metav1.Status with the
// HTTP code the Status carries, warnings as RFC 7234 Warning headers like the API server's.
// Compact JSON ends with a newline, as Go's json.Encoder (the API server's serializer) writes it:
// clients that print a body as it came (the Python client's errors) show the same text.
import type { ServerResponse } from 'node:http';
import { StatusError, type Status } from '../types.ts';
import { yaml } from './libraries.ts';

export interface Reply {
  encoding?: 'json' | 'yaml';
  pretty?: boolean;
  contentType?: string;
  warnings?: readonly string[];
  cacheControl?: string;
}

export function sendObject(res: ServerResponse, code: number, body: unknown, reply: Reply = {}): void {
  if (res.headersSent || res.destroyed) return;
  const asYaml = reply.encoding === 'yaml';
  // The text and its final newline go out as two writes: joined, a 1 MiB object would be copied once more.
  const text = asYaml ? yaml().stringify(body) : reply.pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body);
  const end = asYaml ? '' : '\n';
  res.statusCode = code;
  res.setHeader('Content-Type', reply.contentType ?? (asYaml ? 'application/yaml' : 'application/json'));
  res.setHeader('Cache-Control', reply.cacheControl ?? 'no-cache, private');
  setWarnings(res, reply.warnings);
  res.setHeader('Content-Length', Buffer.byteLength(text) + end.length);
  res.cork();
  res.write(text);
  res.end(end);
}

/**
 * A list as JSON, written item by item as the socket takes it: a namespace's worth of objects is
 * never one string in memory, however many clients list it. Items come last, as upstream writes them.
 */
export async function streamList(res: ServerResponse, code: number, list: { items: readonly unknown[] } & Record<string, unknown>, reply: Reply = {}): Promise<void> {
  if (res.headersSent || res.destroyed) return;
  const { items, ...rest } = list;
  const head = JSON.stringify(rest);
  res.statusCode = code;
  res.setHeader('Content-Type', reply.contentType ?? 'application/json');
  res.setHeader('Cache-Control', reply.cacheControl ?? 'no-cache, private');
  setWarnings(res, reply.warnings);
  let room = res.write(`${head.slice(0, -1)}${head === '{}' ? '' : ','}"items":[`);
  for (let i = 0; i < items.length; i++) {
    if (!room) await drained(res);
    if (res.destroyed) return;
    room = res.write((i === 0 ? '' : ',') + JSON.stringify(items[i]));
  }
  res.end(']}\n');
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function sendStatus(res: ServerResponse, status: Status, reply: Reply = {}): void {
  sendObject(res, status.code, status, reply);
}

/** An already serialized body (OpenAPI documents are kept as text). */
export function sendRaw(res: ServerResponse, code: number, body: string | Buffer, contentType: string, cacheControl: string): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = code;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', cacheControl);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = code;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function setWarnings(res: ServerResponse, warnings: readonly string[] | undefined): void {
  if (!warnings || warnings.length === 0) return;
  res.setHeader(
    'Warning',
    [...new Set(warnings)].map((warning) => `299 - ${JSON.stringify(warning)}`),
  );
}

/** Anything thrown below the HTTP layer as the StatusError the client should see. */
export function asStatusError(error: unknown): StatusError {
  if (error instanceof StatusError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StatusError({
    code: 500,
    reason: 'InternalError',
    message: `Internal error occurred: ${message}`,
    details: { causes: [{ message }] },
  });
}

export const httpErrors = {
  notFoundPath(): StatusError {
    return new StatusError({ code: 404, reason: 'NotFound', message: 'the server could not find the requested resource', details: {} });
  },
  unauthorized(): StatusError {
    return new StatusError({ code: 401, reason: 'Unauthorized', message: 'Unauthorized' });
  },
  notAcceptable(accepted: string): StatusError {
    return new StatusError({ code: 406, reason: 'NotAcceptable', message: `only the following media types are accepted: ${accepted}` });
  },
  methodNotAllowed(method: string): StatusError {
    return new StatusError({ code: 405, reason: 'MethodNotAllowed', message: `the server does not allow this method on the requested resource (${method})` });
  },
  serviceUnavailable(message: string): StatusError {
    return new StatusError({ code: 503, reason: 'ServiceUnavailable', message });
  },
};
