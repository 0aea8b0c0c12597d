import type { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { FORM_BODY_LIMIT_BYTES } from '../../../src/server/auth/index.ts';
import type { Portal, PortalOptions, SiteHandler } from '../../../src/server/main.ts';
import type { Role } from '../../../src/server/services.ts';
import type { CapturedLogs } from '../../support/logs.ts';
import { startTestPortal, type TestPortal } from './portal.ts';

// The gate in front of every handler (src/server/auth/gate.ts, wired in main.ts): roles from the
// access table, CSRF on every state-changing request and upgrade. The site is a stand-in that
// reads the body the way Astro's handler does (req.body when the gate kept it, else the stream)
// and answers with what it was given.

async function bodyOf(req: IncomingMessage & { body?: Buffer }): Promise<string> {
  if (req.body !== undefined) return req.body.toString('utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const echoSite: SiteHandler = async (req, res, _next, locals) => {
  const body = req.method === 'GET' || req.method === 'HEAD' ? '' : await bodyOf(req);
  res.writeHead(locals.refusal?.status ?? 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ url: req.url, method: req.method, learner: locals.learner?.name ?? null, csrfToken: locals.csrfToken, refusal: locals.refusal, body }));
};

let running: TestPortal | null;
let portal: Portal | null;
let logs: CapturedLogs;

beforeEach(() => {
  running = null;
  portal = null;
});

afterEach(async () => {
  await running?.stop();
});

async function start(options: PortalOptions = {}): Promise<Portal> {
  running = await startTestPortal({}, { site: echoSite, ...options });
  ({ portal, logs } = running);
  return portal;
}

async function signIn(name: string, roles: Role[] = []): Promise<{ cookie: string; csrfToken: string }> {
  const { token } = await portal!.services.sessions.signIn(name, { roles });
  return { cookie: `formicary_session=${token}`, csrfToken: portal!.services.auth.csrfToken(token) };
}

async function send(pathname: string, init: RequestInit = {}) {
  const response = await fetch(`${portal!.url}${pathname}`, { redirect: 'manual', ...init });
  const text = await response.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: response.status, location: response.headers.get('location'), json, text };
}

describe('roles on pages and API routes', () => {
  it('sends an anonymous visitor of a learner page to sign in and back, and answers APIs with JSON 401', async () => {
    await start();
    const page = await send('/workshops/join?code=K8S-42', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(303);
    expect(page.location).toBe('/signin?next=%2Fworkshops%2Fjoin%3Fcode%3DK8S-42');
    const api = await send('/api/progress');
    expect(api.status).toBe(401);
    expect(api.json).toEqual({ error: 'sign in first' });
  });

  it('shows the page that explains a missing role, and answers APIs with JSON 403 naming it', async () => {
    await start();
    const { cookie } = await signIn('Ada');
    const page = await send('/instructor/workshops', { headers: { cookie, accept: 'text/html' } });
    expect(page.status).toBe(403);
    expect(page.json).toMatchObject({
      url: '/auth/refused',
      learner: 'Ada',
      refusal: { status: 403, required: 'instructor', message: 'this needs the instructor role, and Ada does not have it' },
    });
    const api = await send('/api/reports/completions', { headers: { cookie } });
    expect(api.status).toBe(403);
    expect(api.json).toEqual({ error: 'this needs the admin role, and Ada does not have it' });
  });

  it('lets instructors into instructor pages and admins into both', async () => {
    await start();
    const instructor = await signIn('Ines', ['instructor']);
    expect((await send('/instructor/workshops', { headers: { cookie: instructor.cookie } })).json).toMatchObject({ url: '/instructor/workshops' });
    expect((await send('/admin/reports', { headers: { cookie: instructor.cookie } })).status).toBe(403);
    const admin = await signIn('Anne', ['admin']);
    expect((await send('/instructor/workshops', { headers: { cookie: admin.cookie } })).status).toBe(200);
    expect((await send('/admin/reports', { headers: { cookie: admin.cookie } })).json).toMatchObject({ url: '/admin/reports', learner: 'Anne' });
  });

  it('refuses a route no rule names to everyone, and says so at start', async () => {
    await start({ configure: (routes) => routes.on('GET', '/api/unruled/:id', (_req, res) => void res.end('reached')) });
    const warning = logs.lines().find((line) => line.msg?.toString().startsWith('routes without an access rule'));
    expect(warning?.routes).toEqual(expect.arrayContaining(['/api/unruled/:id']));
    const admin = await signIn('Anne', ['admin']);
    const answer = await send('/api/unruled/1', { headers: { cookie: admin.cookie } });
    expect(answer.status).toBe(403);
    expect(answer.json).toEqual({ error: 'no access rule names /api/unruled/1 yet, so it is open to nobody' });
  });

  it('guards event streams beside Astro like any route', async () => {
    await start({ configure: (routes) => routes.on('GET', '/api/workshops/:id/gate-test-events', (_req, res) => void res.end('stream')) });
    expect((await send('/api/workshops/w-1/gate-test-events')).status).toBe(401);
    expect((await send('/api/workshops/w-1/gate-test-events', { headers: { cookie: (await signIn('Ada')).cookie } })).status).toBe(403);
    const instructor = await signIn('Ines', ['instructor']);
    expect((await send('/api/workshops/w-1/gate-test-events', { headers: { cookie: instructor.cookie } })).text).toBe('stream');
  });

  it('gives pages the session’s CSRF token, and no token to anonymous visitors', async () => {
    await start();
    const ada = await signIn('Ada');
    expect((await send('/', { headers: { cookie: ada.cookie } })).json).toMatchObject({ learner: 'Ada', csrfToken: ada.csrfToken });
    expect((await send('/')).json).toMatchObject({ learner: null, csrfToken: null });
  });
});

describe('CSRF protection on state-changing requests', () => {
  it('refuses a request that names no origin or another site, signed in or not', async () => {
    await start();
    const post = (headers: Record<string, string>) => send('/api/session', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
    const none = await post({});
    expect(none.status).toBe(403);
    expect(none.json).toEqual({
      error: 'refused as a possible cross-site request: the request names no origin (neither Origin nor Referer); send it from a page of this portal',
    });
    expect((await post({ origin: 'https://evil.example.com' })).json).toEqual({
      error: 'refused as a possible cross-site request: the request was sent from https://evil.example.com, not from a page of this portal',
    });
    expect((await post({ origin: 'null' })).status).toBe(403);
    expect((await post({ referer: 'https://evil.example.com/page' })).status).toBe(403);
    expect((await post({ origin: portal!.url })).status).toBe(200);
    expect((await post({ referer: `${portal!.url}/signin` })).status).toBe(200);
  });

  it('needs the session’s token once signed in: header for scripts, for every method that changes state', async () => {
    await start();
    const ada = await signIn('Ada');
    const grace = await signIn('Grace');
    const call = (method: string, token?: string) =>
      send('/api/progress', {
        method,
        headers: { cookie: ada.cookie, origin: portal!.url, 'content-type': 'application/json', ...(token ? { 'x-csrf-token': token } : {}) },
        body: '{"path":"p","lesson":"l"}',
      });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const missing = await call(method);
      expect(missing.status).toBe(403);
      expect(missing.json?.error).toMatch(/carries no CSRF token; send the x-csrf-token header \(the content of <meta name="csrf-token">\) or a _csrf form field$/);
      expect((await call(method, ada.csrfToken)).json).toMatchObject({ method, learner: 'Ada', body: '{"path":"p","lesson":"l"}' });
    }
    const foreign = await call('POST', grace.csrfToken);
    expect(foreign.status).toBe(403);
    expect(foreign.json?.error).toMatch(/the CSRF token is not this session’s .*reload the page and try again$/);
    expect((await send('/api/progress', { headers: { cookie: ada.cookie } })).status).toBe(200);
  });

  it('finds a form’s _csrf field and hands the whole form on to the page', async () => {
    await start();
    const ada = await signIn('Ada');
    const form = new URLSearchParams({ path: 'kubernetes-foundations', lesson: '02-pods', _csrf: ada.csrfToken }).toString();
    const posted = await send('/api/progress', {
      method: 'POST',
      headers: { cookie: ada.cookie, origin: portal!.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(posted.json).toMatchObject({ learner: 'Ada', body: form });

    const multipart = new FormData();
    multipart.set('note', 'résumé');
    multipart.set('_csrf', ada.csrfToken);
    const uploaded = await send('/api/progress', { method: 'POST', headers: { cookie: ada.cookie, origin: portal!.url }, body: multipart });
    expect(uploaded.status).toBe(200);
    expect(uploaded.json?.body).toContain('résumé');

    const forged = await send('/api/progress', {
      method: 'POST',
      headers: { cookie: ada.cookie, origin: portal!.url, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ path: 'p', _csrf: 'not-the-token' }).toString(),
    });
    expect(forged.status).toBe(403);
  });

  it('refuses a form too large to look into', async () => {
    await start();
    const ada = await signIn('Ada');
    const answer = await send('/api/progress', {
      method: 'POST',
      headers: { cookie: ada.cookie, origin: portal!.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: `note=${'x'.repeat(FORM_BODY_LIMIT_BYTES)}`,
    });
    expect(answer.status).toBe(413);
    // The portal's body limit (src/server/http/limits.ts) answers before the CSRF check reads the form.
    expect(answer.json?.error).toMatch(/^the request body is larger than 1 MiB \(1048576 bytes\), the most POST \/api\/progress takes$/);
  });

  it('shows people a page that explains a refused form post', async () => {
    await start();
    const ada = await signIn('Ada');
    const answer = await send('/signout', {
      method: 'POST',
      headers: { cookie: ada.cookie, origin: portal!.url, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: '',
    });
    expect(answer.status).toBe(403);
    // Rendered as a GET of /auth/refused, so the page never sees the refused form.
    expect(answer.json).toMatchObject({ url: '/auth/refused', method: 'GET', learner: 'Ada', body: '' });
    expect((answer.json?.refusal as { message: string }).message).toMatch(/^refused as a possible cross-site request: the request carries no CSRF token/);
  });

  it('accepts the public address a TLS proxy forwards (X-Forwarded-Host)', async () => {
    await start();
    const ada = await signIn('Ada');
    const answer = await send('/api/progress', {
      method: 'POST',
      headers: {
        cookie: ada.cookie,
        origin: 'https://learn.example.com',
        'x-forwarded-host': 'learn.example.com',
        'x-forwarded-proto': 'https',
        'x-csrf-token': ada.csrfToken,
      },
      body: '',
    });
    expect(answer.status).toBe(200);
  });

  it('needs the header on routes beside Astro, which read the body themselves', async () => {
    await start({ configure: (routes) => routes.on('POST', '/api/labs/:lab/gate-test-echo', async (req, res) => void res.end(await bodyOf(req))) });
    const ada = await signIn('Ada');
    const headers = { cookie: ada.cookie, origin: portal!.url, 'content-type': 'application/x-www-form-urlencoded' };
    const form = new URLSearchParams({ _csrf: ada.csrfToken }).toString();
    expect((await send('/api/labs/pods-101/gate-test-echo', { method: 'POST', headers, body: form })).status).toBe(403);
    const answer = await send('/api/labs/pods-101/gate-test-echo', { method: 'POST', headers: { ...headers, 'x-csrf-token': ada.csrfToken }, body: form });
    expect(answer).toMatchObject({ status: 200, text: form });
  });
});

describe('WebSocket upgrades', () => {
  async function open(pathname: string, options: { cookie?: string; origin?: string }): Promise<number | string> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`${portal!.url.replace('http', 'ws')}${pathname}`, {
        ...(options.origin ? { origin: options.origin } : {}),
        headers: options.cookie ? { cookie: options.cookie } : {},
      });
      ws.once('message', (data) => {
        resolve(String(data));
        ws.close();
      });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => undefined);
    });
  }

  it('opens only from this portal’s pages, for those the access table lets in', async () => {
    const sockets = new WebSocketServer({ noServer: true });
    await start({
      configure: (routes) => {
        const greet = (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer, who: string) =>
          sockets.handleUpgrade(req, socket, head, (ws) => ws.send(who));
        routes.upgrade('/api/labs/:lab/gate-test-echo', (req, socket, head, context) => greet(req, socket, head, context.learner?.name ?? 'nobody'));
        routes.upgrade('/api/workshops/:id/gate-test-terminals/:learner', (req, socket, head, context) => greet(req, socket, head, context.learner?.name ?? 'nobody'));
      },
    });
    const ada = await signIn('Ada');
    const ines = await signIn('Ines', ['instructor']);
    const origin = portal!.url;
    expect(await open('/api/labs/pods-101/gate-test-echo', { cookie: ada.cookie, origin })).toBe('Ada');
    expect(await open('/api/labs/pods-101/gate-test-echo', { origin })).toBe(401);
    expect(await open('/api/labs/pods-101/gate-test-echo', { cookie: ada.cookie, origin: 'https://evil.example.com' })).toBe(403);
    // A browser always names the page's origin on an upgrade: a cookie without one is no page of ours.
    expect(await open('/api/labs/pods-101/gate-test-echo', { cookie: ada.cookie })).toBe(403);
    expect(await open('/api/workshops/w-1/gate-test-terminals/l-1', { cookie: ada.cookie, origin })).toBe(403);
    expect(await open('/api/workshops/w-1/gate-test-terminals/l-1', { cookie: ines.cookie, origin })).toBe('Ines');
    sockets.close();
  });
});
