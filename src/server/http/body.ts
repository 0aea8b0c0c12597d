// The one way an API route reads what a browser or a script sent: JSON (or a form, for routes that
// take forms), at most `limit` bytes, checked against the route's zod schema. The limit is counted
// while the body streams in, so a client that sends gigabytes is cut off after `limit` bytes, not
// after buffering them; a Content-Length above it is refused before reading anything. What goes
// wrong is answered as JSON `{error, field?, issues?}`: 413 naming the limit, 415 naming the
// types taken, 400 naming the field (zod's path, `labs.0`) and what would be right.

import type { z } from 'zod';

/** What most API bodies need: a few fields of text. Routes that take more say so. */
export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024;

/** The CSRF form field: the gate has checked it before a route runs; a route's schema never sees it. */
const CSRF_FIELD = '_csrf';

export interface ReadBodyOptions {
  /** Bytes; the default is DEFAULT_BODY_LIMIT_BYTES. */
  limit?: number;
  /** Also take `application/x-www-form-urlencoded` and `multipart/form-data` (their text fields). */
  forms?: boolean;
}

/** A fetch Request, or a Node request's headers and the request itself (its chunks). */
export interface BodySource {
  headers: Headers;
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | null;
}

export interface BodyIssue {
  /** zod's path joined with dots (`labs.0`); `body` when the whole body is wrong. */
  field: string;
  message: string;
}

/** A refusal of a request body, answered by `bodyRefusal`. */
export class RequestBodyError extends Error {
  readonly status: 400 | 413 | 415;
  readonly issues: readonly BodyIssue[];

  constructor(status: 400 | 413 | 415, message: string, issues: readonly BodyIssue[] = []) {
    super(message);
    this.name = 'RequestBodyError';
    this.status = status;
    this.issues = issues;
  }
}

function sizeText(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB (${bytes} bytes)` : `${bytes} bytes`;
}

function tooLarge(limit: number): RequestBodyError {
  return new RequestBodyError(413, `the request body is larger than this endpoint takes: at most ${sizeText(limit)}`);
}

/**
 * The next chunk, for a fetch body or a Node request alike. Nothing here cancels the stream: a
 * cancelled Node request destroys its socket, and the 413 would never reach the client.
 */
function chunksOf(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): () => Promise<IteratorResult<Uint8Array>> {
  if (body instanceof ReadableStream) {
    const reader = body.getReader();
    return async () => {
      const { done, value } = await reader.read();
      return done ? { done: true, value: undefined } : { done: false, value };
    };
  }
  const iterator = body[Symbol.asyncIterator]();
  return () => iterator.next();
}

/** Reads the body, stopping as soon as it passes `limit`; what is left is not read. */
async function readLimited(body: BodySource['body'], limit: number): Promise<Uint8Array<ArrayBuffer>> {
  if (body === null) return new Uint8Array(0);
  const next = chunksOf(body);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let chunk = await next(); !chunk.done; chunk = await next()) {
    size += chunk.value.byteLength;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk.value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function isForm(type: string): boolean {
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data');
}

async function decode(bytes: Uint8Array<ArrayBuffer>, type: string): Promise<unknown> {
  if (isForm(type)) {
    let form: FormData;
    try {
      form = await new Response(bytes, { headers: { 'content-type': type } }).formData();
    } catch {
      throw new RequestBodyError(400, 'the form could not be read; send it as application/x-www-form-urlencoded or multipart/form-data');
    }
    const fields: Record<string, string> = {};
    for (const [name, value] of form.entries()) if (typeof value === 'string' && name !== CSRF_FIELD) fields[name] = value;
    return fields;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RequestBodyError(400, 'the request body is not UTF-8 text');
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RequestBodyError(400, `the request body is not JSON: ${(error as Error).message}`);
  }
}

/** `labs.0: lab ids are …` for each issue zod found, the whole body as `body`. */
export function issuesOf(error: z.ZodError): BodyIssue[] {
  return error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || 'body', message: issue.message }));
}

/**
 * The body of `request` as `schema` reads it; a RequestBodyError when it is too large (413), of a
 * type this route does not take (415), not JSON (400) or not what the schema asks (400, naming
 * each field). An empty body is `{}`, so routes whose fields are all optional take none.
 */
export async function readBody<Schema extends z.ZodType>(request: BodySource, schema: Schema, options: ReadBodyOptions = {}): Promise<z.output<Schema>> {
  const limit = options.limit ?? DEFAULT_BODY_LIMIT_BYTES;
  const type = (request.headers.get('content-type') ?? '').toLowerCase();
  const json = type === '' || type.startsWith('application/json');
  if (!json && !(options.forms && isForm(type))) {
    const taken = options.forms ? 'JSON (application/json) or a form' : 'JSON (content-type: application/json)';
    throw new RequestBodyError(415, `send the request body as ${taken}, not ${type.split(';')[0]}`);
  }
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const value = await decode(await readLimited(request.body, limit), type);
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = issuesOf(parsed.error);
  throw new RequestBodyError(400, issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '), issues);
}

/**
 * Recognised by name and shape as well as by class: a route bundled into the site has its own
 * copy of this module, so `instanceof` across the site and the server would not match.
 */
export function isRequestBodyError(error: unknown): error is RequestBodyError {
  return error instanceof RequestBodyError || (error instanceof Error && error.name === 'RequestBodyError' && 'status' in error && 'issues' in error);
}

/** The JSON answer to a refused body: `{error, field, issues}` (field: the first wrong one). */
export function bodyRefusal(error: RequestBodyError): Response {
  const [first] = error.issues;
  return Response.json(
    { error: error.message, ...(first ? { field: first.field, issues: error.issues } : {}) },
    // The rest of a body that was too large is never read: the connection closes after the answer.
    { status: error.status, headers: { 'cache-control': 'no-store', ...(error.status === 413 ? { connection: 'close' } : {}) } },
  );
}
