// Cross-site request forgery: another site must not make a learner's browser change anything in
// the portal with the learner's cookie. Every state-changing request (anything but GET, HEAD and
// OPTIONS) must come from a page of this portal (its Origin, or else its Referer, names this
// portal's host), and once signed in it must also carry the session's CSRF token: the
// `x-csrf-token` header (scripts) or a `_csrf` form field (forms). The token is an HMAC of the
// session token, so it changes with every sign-in and needs no storage.

import type { IncomingMessage } from 'node:http';
import { mac, sameText } from './keys.ts';

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A form body is read here to find its token, then handed on; beyond this it is refused. */
export const FORM_BODY_LIMIT_BYTES = 1024 * 1024;

export function changesState(method: string | undefined): boolean {
  return !SAFE_METHODS.has((method ?? 'GET').toUpperCase());
}

export function csrfTokenFor(key: Buffer, sessionToken: string): string {
  return mac(key, sessionToken);
}

export type CsrfVerdict = { ok: true } | { ok: false; status: 403 | 413; reason: string };

function header(value: string | string[] | undefined): string | undefined {
  return (Array.isArray(value) ? value[0] : value)?.trim();
}

/** The host the request names as its page's origin: Origin, or else the Referer's. */
function senderHost(req: IncomingMessage): { host: string | null; shown: string } | null {
  const origin = header(req.headers.origin);
  const referer = header(req.headers.referer);
  const given = origin ?? referer;
  if (given === undefined) return null;
  try {
    return { host: new URL(given).host, shown: origin ?? new URL(given).origin };
  } catch {
    // `Origin: null` (a sandboxed frame, a redirect across sites) has no host.
    return { host: null, shown: given };
  }
}

/**
 * Hosts that are this portal: the one the browser addressed (Host, or X-Forwarded-Host when a
 * proxy rewrote Host; an attacker cannot set either on a victim's request) and `publicHosts`
 * (the host of OIDC_REDIRECT_URL).
 */
function portalHosts(req: IncomingMessage, publicHosts: readonly string[]): Set<string> {
  const hosts = new Set(publicHosts);
  const host = header(req.headers.host);
  // A chain of proxies lists hosts, the one the browser addressed first.
  const forwarded = header(req.headers['x-forwarded-host'])?.split(',')[0]?.trim();
  if (host) hosts.add(host);
  if (forwarded) hosts.add(forwarded);
  return hosts;
}

/** Whether a browser sent this request from a page of this portal; a request naming no origin is not. */
export function sentFromPortal(req: IncomingMessage, publicHosts: readonly string[]): CsrfVerdict {
  const sender = senderHost(req);
  if (sender === null) {
    return { ok: false, status: 403, reason: 'the request names no origin (neither Origin nor Referer); send it from a page of this portal' };
  }
  if (sender.host === null || !portalHosts(req, publicHosts).has(sender.host)) {
    return { ok: false, status: 403, reason: `the request was sent from ${sender.shown}, not from a page of this portal` };
  }
  return { ok: true };
}

function isForm(req: IncomingMessage): boolean {
  const type = req.headers['content-type'] ?? '';
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data');
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  // A chunked body was already read (and counted) by the portal's body limit (src/server/http/limits.ts).
  const kept = (req as IncomingMessage & { body?: unknown }).body;
  if (Buffer.isBuffer(kept)) return kept.length > limit ? null : kept;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function formToken(req: IncomingMessage, body: Buffer): Promise<string | null> {
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/x-www-form-urlencoded')) return new URLSearchParams(body.toString('utf8')).get(CSRF_FIELD);
  try {
    const value = (await new Response(Uint8Array.from(body), { headers: { 'content-type': type } }).formData()).get(CSRF_FIELD);
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

export interface CsrfCheck {
  /** The session's token as it should come back; null when nobody is signed in. */
  expected: string | null;
  publicHosts: readonly string[];
  /**
   * Whether a form body may be read for its `_csrf` field. The body is then kept as `req.body`,
   * where Astro's handler reads it; routes beside Astro read the stream and need the header.
   */
  readForm: boolean;
}

export async function checkCsrf(req: IncomingMessage, check: CsrfCheck): Promise<CsrfVerdict> {
  if (!changesState(req.method)) return { ok: true };
  const origin = sentFromPortal(req, check.publicHosts);
  if (!origin.ok || check.expected === null) return origin;

  let sent = header(req.headers[CSRF_HEADER]) ?? null;
  if (sent === null && check.readForm && isForm(req)) {
    const body = await readBody(req, FORM_BODY_LIMIT_BYTES);
    if (body === null) return { ok: false, status: 413, reason: `the form is larger than ${FORM_BODY_LIMIT_BYTES / 1024 / 1024} MiB` };
    (req as IncomingMessage & { body?: Buffer }).body = body;
    sent = await formToken(req, body);
  }
  if (sent === null) {
    return {
      ok: false,
      status: 403,
      reason: `the request carries no CSRF token; send the ${CSRF_HEADER} header (the content of <meta name="csrf-token">) or a ${CSRF_FIELD} form field`,
    };
  }
  if (!sameText(sent, check.expected)) {
    return { ok: false, status: 403, reason: 'the CSRF token is not this session’s (the page is older than your last sign-in); reload the page and try again' };
  }
  return { ok: true };
}
