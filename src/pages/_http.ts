// Small request helpers shared by the API routes (files starting with "_" are not routes).

import type { z } from 'zod';
import { bodyRefusal, isRequestBodyError, readBody, type ReadBodyOptions } from '../server/http/index.ts';

/** A same-site path to return to after a form post; anything else falls back to `/`. */
export { safeReturnPath as safeNextPath } from '../server/auth/index.ts';

/** Forms get redirects, scripts get JSON: decided by what the request sent. */
export function isFormPost(request: Request): boolean {
  const type = request.headers.get('content-type') ?? '';
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data');
}

/**
 * The body as the route's schema reads it, or the answer to return: 413 naming the limit, 415,
 * or 400 naming each wrong field (`{error, field, issues}`). Read by the portal's one body reader.
 */
export async function bodyOf<Schema extends z.ZodType>(request: Request, schema: Schema, options?: ReadBodyOptions): Promise<z.output<Schema> | Response> {
  try {
    return await readBody(request, schema, options);
  } catch (error) {
    if (isRequestBodyError(error)) return bodyRefusal(error);
    throw error;
  }
}

/** The refusal's message, for routes that answer forms with a redirect rather than JSON. */
export async function refusalMessage(refusal: Response): Promise<string> {
  const answer = (await refusal.json().catch(() => ({}))) as { error?: unknown };
  return typeof answer.error === 'string' ? answer.error : `the request was refused (${refusal.status})`;
}

export function jsonError(status: number, error: string): Response {
  return Response.json({ error }, { status });
}

export function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}

/**
 * The services reject bad learner input (an empty name) with a LearnerInputError. It is
 * recognised by name: the services object comes from the server's module graph, not from the
 * site bundle, so `instanceof` against the bundle's copy of the class would never match.
 */
export function isLearnerInputError(error: unknown): error is Error & { field: string } {
  return error instanceof Error && error.name === 'LearnerInputError' && 'field' in error;
}

/**
 * Whether the browser reached us over HTTPS, directly or through a TLS-terminating proxy. A
 * forged X-Forwarded-Proto only makes the forger's own cookie Secure, so it is safe to trust.
 */
export function requestIsHttps(request: Request, url: URL): boolean {
  const forwarded = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  return url.protocol === 'https:' || forwarded === 'https';
}
