// What main.ts asks before any handler runs — pages, API routes, routes beside Astro (event
// streams) and WebSocket upgrades alike: who is this (the session of the cookie), may they open
// this address (the access table), and, if the request changes something, did a page of this
// portal send it (CSRF). A refusal is answered here: JSON for APIs, the sign-in page or a page
// that explains the refusal for browsers.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { Learner } from '../../contracts/index.ts';
import type { Sessions } from './sessions.ts';
import type { Auth } from './auth.ts';
import { AccessPolicy } from './access.ts';
import { sessionTokenOf } from './cookies.ts';
import { changesState, checkCsrf, sentFromPortal } from './csrf.ts';
import { refusalFor, type Access } from './roles.ts';

export interface RequestSession {
  /** The cookie's session token, even when it no longer names a session (a sign-in then replaces it). */
  token: string | null;
  learner: Learner | null;
  /** The token state-changing requests must send back; null when nobody is signed in. */
  csrfToken: string | null;
}

export interface Refusal {
  status: 401 | 403 | 413;
  /** For the one refused: what happened and what would be right. */
  message: string;
  /** What the address asks for; null when the refusal is not about who is asking. */
  required: Access | null;
}

export interface GateOptions {
  /** Who a session's cookie names, and its CSRF token. */
  services: { sessions: Pick<Sessions, 'resolve'>; auth: Pick<Auth, 'csrfToken'> };
  policy?: AccessPolicy;
  /** Hosts this portal is reached at besides the request's Host (OIDC_REDIRECT_URL's). */
  publicHosts: readonly string[];
  /** Whether some page, route or upgrade handler serves this path: those must have a rule. */
  isRoute: (pathname: string) => boolean;
  log: Logger;
}

const ANONYMOUS: RequestSession = { token: null, learner: null, csrfToken: null };

export class Gate {
  readonly #services: GateOptions['services'];
  readonly #policy: AccessPolicy;
  readonly #publicHosts: readonly string[];
  readonly #isRoute: (pathname: string) => boolean;
  readonly #log: Logger;
  readonly #sessions = new WeakMap<IncomingMessage, Promise<RequestSession>>();

  constructor(options: GateOptions) {
    this.#services = options.services;
    this.#policy = options.policy ?? new AccessPolicy();
    this.#publicHosts = options.publicHosts;
    this.#isRoute = options.isRoute;
    this.#log = options.log;
  }

  /** Route patterns no access rule covers: refused to everyone until a rule is added. */
  uncovered(patterns: Iterable<string>): string[] {
    return [...patterns].filter((pattern) => this.#policy.ruleForRoute(pattern) === null);
  }

  /** Looked up once per request, and only when something needs it: a static file does not. */
  session(req: IncomingMessage): Promise<RequestSession> {
    let session = this.#sessions.get(req);
    if (!session) {
      session = this.#lookUp(req);
      this.#sessions.set(req, session);
    }
    return session;
  }

  async #lookUp(req: IncomingMessage): Promise<RequestSession> {
    const token = sessionTokenOf(req.headers.cookie);
    if (token === null) return ANONYMOUS;
    let learner: Learner | null = null;
    try {
      learner = await this.#services.sessions.resolve(token);
    } catch (error) {
      // Lessons stay readable when the session store is down; the learner just looks signed out.
      this.#log.error({ err: error }, 'could not look up the session; answering as signed out');
    }
    return { token, learner, csrfToken: learner ? this.#services.auth.csrfToken(token) : null };
  }

  async #who(req: IncomingMessage, pathname: string): Promise<Refusal | null> {
    const rule = this.#policy.ruleFor(pathname);
    if (rule === null) {
      if (!this.#isRoute(pathname)) return null;
      this.#log.error({ path: pathname }, 'refused: no access rule names this route; add one to src/server/auth/access.ts');
      return { status: 403, message: `no access rule names ${pathname} yet, so it is open to nobody`, required: null };
    }
    if (rule.access === 'public') return null;
    return refusalFor(rule.access, (await this.session(req)).learner);
  }

  /**
   * Null when the request may go on. `readForm`: the handler is Astro's, which reads a form body
   * the CSRF check had to read from `req.body`.
   */
  async admit(req: IncomingMessage, url: URL, options: { readForm: boolean }): Promise<Refusal | null> {
    const refusal = await this.#who(req, url.pathname);
    if (refusal) return refusal;
    if (!changesState(req.method)) return null;
    const { csrfToken } = await this.session(req);
    const csrf = await checkCsrf(req, { expected: csrfToken, publicHosts: this.#publicHosts, readForm: options.readForm });
    if (csrf.ok) return null;
    this.#log.warn({ path: url.pathname, method: req.method, reason: csrf.reason }, 'refused a possible cross-site request');
    return { status: csrf.status, message: `refused as a possible cross-site request: ${csrf.reason}`, required: null };
  }

  /**
   * WebSocket upgrades: the access rule, and the page that opens the socket must be this portal's.
   * Browsers always send Origin with an upgrade, so one that carries a session cookie but no
   * Origin is not a page of ours either.
   */
  async admitUpgrade(req: IncomingMessage, url: URL): Promise<Refusal | null> {
    const refusal = await this.#who(req, url.pathname);
    if (refusal) return refusal;
    if (req.headers.origin === undefined && sessionTokenOf(req.headers.cookie) === null) return null;
    const origin = sentFromPortal(req, this.#publicHosts);
    if (origin.ok) return null;
    this.#log.warn({ path: url.pathname, origin: req.headers.origin, reason: origin.reason }, 'refused a possible cross-site upgrade');
    return { status: 403, message: `refused as a possible cross-site request: ${origin.reason}`, required: null };
  }
}

/** APIs and scripts get JSON; people get pages. */
export function wantsJson(req: IncomingMessage, url: URL): boolean {
  const accept = req.headers.accept ?? '';
  return url.pathname.startsWith('/api/') || (accept.includes('application/json') && !accept.includes('text/html'));
}

/**
 * Answers a refusal: JSON `{error}` for APIs; for people, 401 sends them to sign in (and back
 * here after), anything else goes to `renderPage` (the portal's page that explains it).
 */
export async function answerRefusal(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  refusal: Refusal,
  renderPage: (() => Promise<void>) | null,
): Promise<void> {
  res.setHeader('cache-control', 'no-store');
  if (wantsJson(req, url)) {
    const text = JSON.stringify({ error: refusal.message });
    res.writeHead(refusal.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  if (refusal.status === 401) {
    const back = req.method === 'GET' || req.method === 'HEAD' ? `?next=${encodeURIComponent(url.pathname + url.search)}` : '';
    res.writeHead(303, { location: `/signin${back}` });
    res.end();
    return;
  }
  if (renderPage) {
    await renderPage();
    return;
  }
  res.writeHead(refusal.status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${refusal.message}\n`);
}
