// The portal as an attacker meets it: oversized and malformed bodies (no session needed), floods,
// connections that trickle, open redirects, missing headers, WebSocket frames over the limit.
// Real portals on 127.0.0.1 serving the built site; real sockets, fetch, ws and Chromium.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeReturnPath } from '../../src/server/auth/index.ts';
import { parseConfig } from '../../src/server/config.ts';
import { PROJECT_ROOT, startPortal, type Portal } from '../../src/server/main.ts';
import { startTestPortal, type TestPortal } from '../server/auth/portal.ts';
import { Agent, signInAtProvider, startOidcPortal, startTestProvider, type OidcPortal, type TestProvider } from '../server/auth/provider.ts';
import { copyBuiltSite, type SiteCopy } from '../server/auth/site.ts';
import { captureLogs } from '../support/logs.ts';
import { PortalLearner } from './portal-learner.ts';

const MiB = 1024 * 1024;
const BODY_LIMIT = MiB;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function ensureBuiltSite(): void {
  if (existsSync(path.join(PROJECT_ROOT, 'dist', 'server', 'entry.mjs'))) return;
  const built = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules', 'astro', 'bin', 'astro.mjs'), 'build'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`astro build failed:\n${(built.stderr || built.stdout).slice(-4000)}`);
}

interface Answer {
  status: number | null;
  head: string;
  body: string;
  /** Body bytes written before the portal answered or closed the connection. */
  sent: number;
}

/**
 * Sends `method path` with a `size`-byte body over a raw socket, declared by Content-Length or
 * chunked, writing only as fast as the portal reads and stopping as soon as it answers.
 */
function sendBody(url: string, target: string, options: { size: number; chunked?: boolean; headers?: Record<string, string>; method?: string }): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const chunk = Buffer.alloc(64 * 1024, 'a');
  chunk.write('{"name":"');
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    let sent = 0;
    let answered = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      const text = received.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split >= 0 ? text.slice(0, split) : text;
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
      resolve({ status: status ? Number(status) : null, head, body: split >= 0 ? text.slice(split + 4) : '', sent });
    };
    socket.on('data', (data: Buffer) => {
      answered = true;
      received = Buffer.concat([received, data]);
      const text = received.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, split))?.[1];
      if (split >= 0 && length !== undefined && received.length >= split + 4 + Number(length)) finish();
    });
    socket.on('close', finish);
    socket.on('error', finish);
    const headers = {
      host: new URL(url).host,
      'content-type': 'application/json',
      origin: 'https://anywhere.example',
      ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(options.size) }),
      ...options.headers,
    };
    socket.write(`${options.method ?? 'POST'} ${target} HTTP/1.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`);
    const pump = () => {
      while (!answered && !done && sent < options.size) {
        const piece = chunk.subarray(0, Math.min(chunk.length, options.size - sent));
        sent += piece.length;
        const framed = options.chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
        if (!socket.write(framed)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (!answered && !done && options.chunked && sent >= options.size) socket.write('0\r\n\r\n');
    };
    socket.once('connect', pump);
  });
}

function securityHeadersOf(response: Response): Record<string, string | null> {
  return Object.fromEntries(
    ['content-security-policy', 'x-content-type-options', 'referrer-policy', 'permissions-policy', 'cross-origin-opener-policy', 'strict-transport-security'].map((name) => [
      name,
      response.headers.get(name),
    ]),
  );
}

/** Return paths that must not leave the portal, as the form field or query parameter carries them (already decoded once). */
const OFF_SITE = [
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '//evil.example',
  '//evil.example/paths',
  '/\\evil.example',
  '\\\\evil.example',
  '/\\/evil.example',
  'https://evil.example',
  'http:evil.example',
  'javascript:alert(1)',
  ' //evil.example',
  '\t//evil.example',
  '/%09/evil.example',
  '/%0a/evil.example',
  '/%0D%0A/evil.example',
  '/%2F/evil.example',
  '/%2f%2fevil.example',
  '%2F%2Fevil.example',
  '/%5Cevil.example',
  '/%252F%252Fevil.example',
  '/%2509/evil.example',
  '/\u0000/evil.example',
  'evil.example',
  '',
];

describe('bodies, floods, trickling connections, redirects and headers', () => {
  let site: SiteCopy;
  let running: TestPortal;
  let url: string;

  beforeAll(async () => {
    site = await copyBuiltSite();
    running = await startTestPortal({ AUTH: 'dev' }, { root: site.root });
    url = running.portal.url;
  }, 240_000);

  afterAll(async () => {
    await running?.stop();
    await site?.remove();
  });

  async function stillServes(): Promise<void> {
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
    const ada = await PortalLearner.signIn(url, `Ada ${Math.random().toString(36).slice(2, 6)}`);
    expect(ada.id).toEqual(expect.any(String));
  }

  it('refuses a 200 MB JSON body to /api/session by its Content-Length, before reading it, with 413 naming the limit', async () => {
    const size = 200 * MiB;
    const answer = await sendBody(url, '/api/session', { size });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: 'the request body is larger than 1 MiB (1048576 bytes), the most POST /api/session takes', limitBytes: BODY_LIMIT });
    expect(answer.sent).toBeLessThan(size);
    await stillServes();
  });

  it('refuses a 200 MB chunked body (no Content-Length) once it passes the limit while streaming', async () => {
    const size = 200 * MiB;
    const answer = await sendBody(url, '/api/session', { size, chunked: true });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ limitBytes: BODY_LIMIT });
    expect(answer.sent).toBeLessThan(size);
    await stillServes();
  });

  it('answers 100 concurrent 10 MB bad bodies to pages, API routes and routes beside Astro with 413, and keeps serving', async () => {
    const targets = ['/api/session', '/api/labs/configmaps-and-secrets/start', '/signin', '/api/workshops', '/paths/kubernetes-foundations', '/api/health'];
    const sent = Array.from({ length: 100 }, (_, i) => ({ target: targets[i % targets.length]!, chunked: i % 4 >= 2 }));
    const answers = await Promise.all(sent.map(({ target, chunked }) => sendBody(url, target, { size: 10 * MiB, chunked })));
    // Every JSON endpoint is a page route (routes beside Astro only stream), so every body is held to its limit first.
    expect(answers.map((answer) => answer.status)).toEqual(sent.map(() => 413));
    for (const answer of answers) expect(answer.sent).toBeLessThan(10 * MiB);
    await stillServes();
  });

  it('answers malformed bodies with a 4xx naming the problem and keeps serving', async () => {
    const bodies: Array<[string, string | Uint8Array<ArrayBuffer>]> = [
      ['application/json', '{"name": '],
      ['application/json', '["Ada"]'],
      ['application/json', '{"name": {"$gt": ""}}'],
      ['application/json', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
      ['application/x-www-form-urlencoded', '%%%name=%zz'],
      ['multipart/form-data; boundary=nothing', '--nothing\r\ngarbage'],
      ['text/plain', 'name=Ada'],
    ];
    for (const [type, body] of bodies) {
      const response = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': type, origin: url }, body, redirect: 'manual' });
      expect(response.status, `${type} ${String(body)}`).toBeGreaterThanOrEqual(300);
      expect(response.status, `${type} ${String(body)}`).toBeLessThan(500);
    }
    await stillServes();
  });

  it('closes connections whose headers or body trickle in (slowloris) while serving everyone else', async () => {
    // Its own portal with short timeouts, so the test need not wait out the default ones.
    const impatient = await startTestPortal({ AUTH: 'dev' }, { root: site.root, limits: { headersTimeoutMs: 1_000, requestTimeoutMs: 3_000 } });
    try {
      await trickle(impatient.portal.url);
    } finally {
      await impatient.stop();
    }
    await stillServes();
  }, 60_000);

  async function trickle(url: string): Promise<void> {
    const { hostname, port } = new URL(url);
    const sockets: Array<{ socket: Socket; answer: Promise<string> }> = [];
    const timers: NodeJS.Timeout[] = [];
    for (let i = 0; i < 30; i += 1) {
      const socket = connect(Number(port), hostname);
      let text = '';
      socket.on('data', (data: Buffer) => (text += data.toString('latin1')));
      socket.on('error', () => undefined);
      const answer = new Promise<string>((resolve) => socket.once('close', () => resolve(text)));
      if (i % 2 === 0) {
        // Headers, one line now and then, never the blank line that ends them.
        socket.write(`GET / HTTP/1.1\r\nhost: ${hostname}\r\n`);
        let line = 0;
        timers.push(setInterval(() => socket.writable && socket.write(`x-slow-${(line += 1)}: 1\r\n`), 300));
      } else {
        // Complete headers, then a body of one byte at a time.
        socket.write(`POST /api/session HTTP/1.1\r\nhost: ${hostname}:${port}\r\norigin: ${url}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{`);
        timers.push(setInterval(() => socket.writable && socket.write(' '), 300));
      }
      sockets.push({ socket, answer });
    }
    try {
      expect((await fetch(`${url}/api/health`)).status).toBe(200);
      const answers = await Promise.all(sockets.map((entry) => entry.answer));
      for (const text of answers) expect(text.split('\r\n')[0], text.slice(0, 300)).toBe('HTTP/1.1 408 Request Timeout');
    } finally {
      for (const timer of timers) clearInterval(timer);
      for (const { socket } of sockets) socket.destroy();
    }
  }

  it.each(OFF_SITE)('sends the dev sign-in form back to / for next=%j', async (next) => {
    const response = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
      body: new URLSearchParams({ name: 'Mallory Redirect', next }).toString(),
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
  });

  it('keeps a return path on this portal, query and fragment included', async () => {
    for (const next of ['/paths/kubernetes-foundations', '/search?q=pods%20and%20services', '/paths/kubernetes-foundations/pods#create-a-pod']) {
      const response = await fetch(`${url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
        body: new URLSearchParams({ name: 'Ada Return', next }).toString(),
        redirect: 'manual',
      });
      expect(response.headers.get('location')).toBe(next);
    }
  });

  it('renders the sign-in page and /auth/login with / in place of an off-site next or returnTo', async () => {
    for (const next of ['/\t/evil.example', '//evil.example', '/\\evil.example', 'https://evil.example', '/%09/evil.example']) {
      const page = await (await fetch(`${url}/signin?${new URLSearchParams({ next })}`)).text();
      expect(page).toContain('name="next" value="/"');
      expect(page).not.toMatch(/value="[^"]*evil\.example/);
      const login = await fetch(`${url}/auth/login?${new URLSearchParams({ returnTo: next })}`, { redirect: 'manual' });
      expect(login.headers.get('location')).toBe('/signin?next=%2F');
    }
    // The raw query as an attacker's link carries it: the tab arrives percent-encoded.
    const page = await (await fetch(`${url}/signin?next=/%09/evil.example`)).text();
    expect(page).toContain('name="next" value="/"');
  });

  it('signs out to /', async () => {
    const ada = await PortalLearner.signIn(url, 'Ada Signout');
    const response = await fetch(`${url}/signout`, { method: 'POST', headers: { ...ada.headers({ 'content-type': 'application/x-www-form-urlencoded' }) }, body: '', redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
  });

  it('keeps every return path a browser would resolve off-site out (the function behind every redirect)', () => {
    for (const next of OFF_SITE) {
      const kept = safeReturnPath(next);
      expect(new URL(kept.replace(/[\t\n\r]/g, ''), 'http://portal.invalid').origin, JSON.stringify(next)).toBe('http://portal.invalid');
      expect(kept, JSON.stringify(next)).toBe('/');
    }
  });

  it('sends the security headers on pages, API answers, redirects, static files and the 404 page', async () => {
    const answers = await Promise.all(
      ['/', '/signin', '/paths/kubernetes-foundations', '/api/health', '/api/ready', '/metrics', '/api/labs/configmaps-and-secrets/state', '/favicon.svg', '/scripts/theme.js', '/no-such-page', '/auth/login'].map(
        async (address) => [address, await fetch(`${url}${address}`, { redirect: 'manual' })] as const,
      ),
    );
    for (const [address, response] of answers) {
      const headers = securityHeadersOf(response);
      expect(headers['content-security-policy'], address).toMatch(/frame-ancestors 'none'/);
      expect(headers, address).toMatchObject({
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'strict-origin-when-cross-origin',
        'permissions-policy': expect.stringContaining('camera=()'),
        'cross-origin-opener-policy': 'same-origin',
        'strict-transport-security': null,
      });
    }
    const api = answers.find(([address]) => address === '/api/health')![1];
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    const behindTls = await fetch(`${url}/`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(behindTls.headers.get('strict-transport-security')).toMatch(/^max-age=\d+; includeSubDomains$/);
  });

  it('runs on pages only the scripts the build hashed: no unsafe-inline for scripts, a hash for every inline script', async () => {
    for (const address of ['/', '/signin', '/paths/kubernetes-foundations', '/paths/kubernetes-foundations/configmaps-and-secrets']) {
      const ada = await PortalLearner.signIn(url, 'Ada Hashes');
      const response = await fetch(`${url}${address}`, { headers: { cookie: ada.cookie } });
      const policy = response.headers.get('content-security-policy') ?? '';
      const scriptSources = /(?:^|;)\s*script-src ([^;]*)/.exec(policy)?.[1] ?? '';
      expect(scriptSources, address).toMatch(/^'self'/);
      expect(scriptSources, address).not.toContain('unsafe-inline');
      expect(scriptSources, address).not.toContain('unsafe-eval');
      const html = await response.text();
      const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>([\s\S]*?)<\/script>/g)].filter((match) => !/type="application\/json"/.test(match[1] ?? ''));
      expect(inline.length, address).toBeGreaterThan(0);
      for (const [, , body] of inline) {
        const hash = `'sha256-${createHash('sha256').update(body ?? '').digest('base64')}'`;
        expect(scriptSources, `${address}: ${body?.slice(0, 60)}`).toContain(hash);
      }
    }
  });
});

describe('AUTH=oidc: the callback stays on the portal', () => {
  let provider: TestProvider;
  let running: OidcPortal;
  let site: SiteCopy;

  beforeAll(async () => {
    site = await copyBuiltSite();
    provider = await startTestProvider([{ login: 'ada', name: 'Ada Lovelace', email: 'ada@example.com', groups: [] }]);
    running = await startOidcPortal(provider, {}, { root: site.root });
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    await provider?.stop();
    await site?.remove();
  });

  it.each(['/\t/evil.example', '//evil.example', '/\\evil.example', 'https://evil.example', '/%09/evil.example', '/%2F%2Fevil.example'])(
    'returns to / after the provider for returnTo=%j',
    async (returnTo) => {
      const url = running.portal.url;
      const agent = new Agent();
      const start = await agent.fetch(`${url}/auth/login?${new URLSearchParams({ returnTo })}`);
      expect(start.status).toBe(303);
      const callback = await signInAtProvider(agent, start.headers.get('location')!, 'ada', `${url}/auth/callback`);
      const back = await agent.fetch(callback);
      expect(back.status).toBe(303);
      expect(back.headers.get('location')).toBe('/');
    },
  );
});

describe('in Chromium, with a lab: pages work under the policy, terminal frames over the limit close with 1009', () => {
  let dataDir: string;
  let portal: Portal;
  let browser: Browser;
  const { log } = captureLogs('warn');

  beforeAll(async () => {
    ensureBuiltSite();
    dataDir = await mkdtemp(path.join(tmpdir(), 'formicary-security-portal-'));
    const config = { ...parseConfig({ DATA_DIR: dataDir, PORT: '0', AUTH: 'dev', LAB_CLUSTER: 'embedded' }, dataDir), sessionSecret: 's'.repeat(32) };
    // This checkout as the root (as npm start runs): the embedded cluster is its src/cli.
    portal = await startPortal(config, { log, shutdownGraceMs: 2_000 });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    await portal.cluster.whenReady();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await portal?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Every CSP violation the page reports (event and console), collected from before its first script. */
  async function watchViolations(page: Page): Promise<() => Promise<string[]>> {
    const reported: string[] = [];
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) reported.push(message.text());
    });
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener("securitypolicyviolation", (event) => seen.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}:${event.columnNumber} ${event.sample}`));
    });
    return async () => [...reported, ...(await page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? []))];
  }

  it('signs in, searches, toggles the theme and works a lab terminal with no CSP violation; an off-site next lands here', async () => {
    const context = await browser.newContext({ baseURL: portal.url, viewport: { width: 1300, height: 900 } });
    const page = await context.newPage();
    const violations = await watchViolations(page);

    await page.goto('/signin?next=/%09/evil.example');
    await page.getByLabel('Your name').fill('Ada Chromium');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState('load');
    expect(new URL(page.url()).origin).toBe(portal.url);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await violations()).toEqual([]);

    const theme = page.locator('[data-theme-toggle]').first();
    const before = await page.evaluate(() => document.documentElement.dataset.theme ?? null);
    await theme.click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme ?? null)).not.toBe(before);
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.dataset.theme ?? null)).not.toBe(before);

    await page.locator('#site-search-input').fill('pods');
    await page.locator('#site-search-suggestions [role="option"]').first().waitFor();

    await page.goto('/paths/kubernetes-foundations/configmaps-and-secrets');
    await page.getByRole('button', { name: 'Start lab' }).click();
    await page.locator('[data-terminal-status][data-state="connected"]').waitFor({ timeout: 120_000 });
    await page.getByRole('switch', { name: 'Screen reader mode' }).click();
    await page.locator('[data-terminal-host] textarea').focus();
    await page.keyboard.type('echo "csp-$((6*7))"', { delay: 5 });
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => (document.querySelector('[data-terminal-host] .xterm-accessibility-tree')?.textContent ?? '').includes('csp-42'),
      undefined,
      { timeout: 60_000 },
    );
    expect(await violations()).toEqual([]);

    // What an injected script would meet: refused, and reported (so the silence above means something).
    await page.evaluate(() => document.head.append(Object.assign(document.createElement('script'), { textContent: 'window.injected = 1' })));
    await page.waitForFunction(() => ((window as unknown as { cspViolations?: string[] }).cspViolations ?? []).length > 0);
    expect(await page.evaluate(() => (window as unknown as { injected?: number }).injected)).toBeUndefined();
    expect((await violations()).join('\n')).toMatch(/script-src/);
    await context.close();
  }, 240_000);

  it('closes a terminal WebSocket with 1009 when a frame is larger than the portal takes', async () => {
    const ada = await PortalLearner.signIn(portal.url, 'Ada Frames');
    const session = await ada.startLab('configmaps-and-secrets');
    const terminal = await ada.openTerminal('configmaps-and-secrets', { session: session.id });
    terminal.attach();
    await terminal.waitFor(/\$ $/m);
    terminal.socket.send(JSON.stringify({ type: 'input', data: 'x'.repeat(600 * 1024) }));
    expect((await terminal.closed).code).toBe(1009);
    // The shell lives on: a new connection gets it back.
    const again = await ada.openTerminal('configmaps-and-secrets', { session: session.id });
    again.attach();
    expect(await again.run('echo still-$((40+2))')).toContain('still-42');
    again.close();
  }, 180_000);
});
