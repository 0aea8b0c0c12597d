// Small request helpers shared by the API routes (files starting with "_" are not routes).

/** A same-site path to return to after a form post; anything else falls back to `/`. */
export { safeReturnPath as safeNextPath } from '../server/auth/index.ts';

/** Forms get redirects, scripts get JSON: decided by what the request sent. */
export function isFormPost(request: Request): boolean {
  const type = request.headers.get('content-type') ?? '';
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data');
}

/** The body's string fields, from JSON or a form; null when it is neither or does not parse. */
export async function readFields(request: Request): Promise<Record<string, string> | null> {
  try {
    if (isFormPost(request)) {
      const form = await request.formData();
      return Object.fromEntries([...form.entries()].filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
    }
    const body: unknown = await request.json();
    if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
    return Object.fromEntries(Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  } catch {
    return null;
  }
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
