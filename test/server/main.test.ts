import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { parseConfig, type PortalConfig } from '../../src/server/config.ts';
import { openEventStream } from '../../src/server/http/index.ts';
import { PROJECT_ROOT, startPortal, type Portal, type PortalOptions, type SiteHandler } from '../../src/server/main.ts';
import { useTestDatabases } from '../support/databases.ts';
import { captureLogs } from '../support/logs.ts';

const MAIN = fileURLToPath(new URL('../../src/server/main.ts', import.meta.url));
const databases = useTestDatabases();

/** Stands in for Astro's handler: shows what the portal gave it, and leaves unknown pages to `next`. */
const echoSite: SiteHandler = async (req, res, next, locals) => {
  if (req.url?.startsWith('/missing')) return next();
  if (req.url?.startsWith('/slow')) await new Promise((resolve) => setTimeout(resolve, 700));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ url: req.url, learner: locals.learner, hasServices: typeof locals.services.progress.forLearner === 'function' }));
};

const KUBECONFIG = [
  'apiVersion: v1',
  'kind: Config',
  'clusters: [{name: lab-host, cluster: {server: "https://lab-host.example.com:6443"}}]',
  'users: [{name: admin, user: {token: t}}]',
  'contexts: [{name: lab-host, context: {cluster: lab-host, user: admin}}]',
  'current-context: lab-host',
  '',
].join('\n');

describe('the portal server', () => {
  let dir: string;
  let portal: Portal | null;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'formicary-portal-'));
    await writeFile(path.join(dir, 'kubeconfig'), KUBECONFIG);
    // The pages whose file names name the routes in metrics and logs.
    await mkdir(path.join(dir, 'src', 'pages', 'paths', '[path]'), { recursive: true });
    await writeFile(path.join(dir, 'src', 'pages', 'paths', '[path]', 'index.astro'), '');
    await writeFile(path.join(dir, 'src', 'pages', 'paths', '[path]', '[lesson].astro'), '');
    portal = null;
  });

  afterEach(async () => {
    await portal?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function configFor(env: Record<string, string> = {}): PortalConfig {
    return {
      ...parseConfig({ DATA_DIR: 'data', PORT: '0', LAB_CLUSTER: 'kubernetes', KUBECONFIG: 'kubeconfig', ...env }, dir),
      sessionSecret: 's'.repeat(32),
    };
  }

  async function start(options: PortalOptions = {}, env: Record<string, string> = {}) {
    const logs = captureLogs('debug');
    portal = await startPortal(configFor(env), { root: dir, site: echoSite, log: logs.log, shutdownGraceMs: 2_000, ...options });
    return { portal, logs };
  }

  it('answers /api/health with 200 JSON', async () => {
    const { portal } = await start();
    const response = await fetch(`${portal.url}/api/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });

  it('is ready when the database answers, migrations ran and the cluster is there', async () => {
    const { portal } = await start();
    const response = await fetch(`${portal.url}/api/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ready: true,
      checks: {
        portal: { ready: true, detail: 'serving' },
        database: { ready: true, detail: 'sqlite answers' },
        migrations: { ready: true, detail: 'applied at start' },
        cluster: { ready: true, detail: 'using https://lab-host.example.com:6443 (context lab-host)' },
      },
    });
  });

  it('is not ready, and says which part, while the database does not answer', async () => {
    let closeDatabase!: () => Promise<void>;
    const { portal } = await start({ configure: (_routes, parts) => (closeDatabase = () => parts.db.close()) });
    await closeDatabase();
    const response = await fetch(`${portal.url}/api/ready`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as { ready: boolean; checks: Record<string, { ready: boolean; detail: string }> };
    expect(body.ready).toBe(false);
    expect(body.checks.database).toEqual({ ready: false, detail: 'the database is closed' });
    expect(body.checks.cluster?.ready).toBe(true);
  });

  it('is not ready until the embedded cluster says it is, and stops it on stop', async () => {
    const { portal, logs } = await start({ root: PROJECT_ROOT, embeddedCluster: { backoff: { initialMs: 100, maxMs: 100 } } }, { LAB_CLUSTER: 'embedded' });
    const before = await fetch(`${portal.url}/api/ready`);
    expect(before.status).toBe(503);
    expect(((await before.json()) as { checks: { cluster: unknown } }).checks.cluster).toEqual({
      ready: false,
      detail: 'the embedded cluster is starting',
    });
    await portal.cluster.whenReady();
    const after = await fetch(`${portal.url}/api/ready`);
    expect(after.status).toBe(200);
    expect(portal.cluster.kubeconfigPath).toBe(path.join(dir, 'data', 'cluster', 'kubeconfig'));
    const pid = Number(logs.lines().find((line) => line.msg === 'the embedded cluster started')?.pid);
    await portal.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('counts requests by route in /metrics, next to the process metrics', async () => {
    const { portal } = await start();
    await (await fetch(`${portal.url}/paths/kubernetes-foundations/02-pods`)).text();
    await (await fetch(`${portal.url}/paths/kubernetes-foundations/03-deployments?x=1`)).text();
    await (await fetch(`${portal.url}/missing/page`)).text();
    const response = await fetch(`${portal.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('http_requests_total{method="GET",route="/paths/:path/:lesson",status="200"} 2');
    expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/paths/:path/:lesson",status="200"} 2');
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(text).toContain('formicary_lab_cluster_ready{mode="kubernetes"} 1');
    expect(text).toContain('formicary_lab_cluster_restarts 0');
    expect(text).not.toContain('02-pods');
  });

  it('gives the site the learner of the session cookie, and nobody without one', async () => {
    const { portal } = await start();
    const { token, learner } = await portal.services.sessions.signIn('Ada Lovelace');
    const signedIn = await fetch(`${portal.url}/paths/kubernetes-foundations`, { headers: { cookie: `theme=dark; formicary_session=${token}` } });
    expect(await signedIn.json()).toEqual({ url: '/paths/kubernetes-foundations', learner, hasServices: true });
    const anonymous = await fetch(`${portal.url}/paths/kubernetes-foundations`);
    expect(((await anonymous.json()) as { learner: unknown }).learner).toBeNull();
    const forged = await fetch(`${portal.url}/`, { headers: { cookie: `formicary_session=${'A'.repeat(43)}` } });
    expect(((await forged.json()) as { learner: unknown }).learner).toBeNull();
  });

  it('logs one line per request with route, status and duration, and never the cookie', async () => {
    const { portal, logs } = await start();
    const { token } = await portal.services.sessions.signIn('Ada');
    await (await fetch(`${portal.url}/paths/kubernetes-foundations?q=secret-search`, { headers: { cookie: `formicary_session=${token}` } })).text();
    const lines = logs.lines().filter((line) => line.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      component: 'http',
      method: 'GET',
      path: '/paths/kubernetes-foundations',
      route: '/paths/:path',
      status: 200,
      durationMs: expect.any(Number),
      requestId: expect.any(String),
    });
    expect(logs.text()).not.toContain(token);
    expect(logs.text()).not.toContain('secret-search');
  });

  it('serves the built site’s files, with long caching for hashed assets', async () => {
    const client = path.join(dir, 'dist', 'client');
    await mkdir(path.join(client, '_astro'), { recursive: true });
    await mkdir(path.join(client, 'about'), { recursive: true });
    await writeFile(path.join(client, '_astro', 'lesson.Bx1f.js'), 'console.log("lesson")');
    await writeFile(path.join(client, 'about', 'index.html'), '<h1>About</h1>');
    await writeFile(path.join(client, '404.html'), '<h1>Not here</h1>');
    const { portal } = await start();

    const asset = await fetch(`${portal.url}/_astro/lesson.Bx1f.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await asset.text()).toBe('console.log("lesson")');
    const again = await fetch(`${portal.url}/_astro/lesson.Bx1f.js`, { headers: { 'if-none-match': asset.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);

    const page = await fetch(`${portal.url}/about`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toBe('<h1>About</h1>');

    const missing = await fetch(`${portal.url}/missing/page`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('<h1>Not here</h1>');
    // fetch() would tidy the dots away; a raw request sends them as they are.
    const traversal = await new Promise<string>((resolve, reject) => {
      request(`${portal.url}/`, { path: '/_astro/../../kubeconfig' }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      })
        .on('error', reject)
        .end();
    });
    expect(traversal).not.toContain('current-context');
  });

  // `npm test` builds the site before the unit tests run; alone, this needs `npm run build` first.
  it.skipIf(!existsSync(path.join(PROJECT_ROOT, 'dist', 'server', 'entry.mjs')))(
    'mounts the built Astro site and gives its pages the signed-in learner',
    async () => {
      const { portal } = await start({ root: PROJECT_ROOT, site: undefined });
      const catalog = await fetch(`${portal.url}/`);
      expect(catalog.status).toBe(200);
      expect(catalog.headers.get('content-type')).toMatch(/^text\/html/);
      const signIn = await fetch(`${portal.url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: portal.url },
        body: JSON.stringify({ name: 'Katherine Johnson' }),
      });
      expect(signIn.status).toBe(200);
      const cookie = signIn.headers.getSetCookie().find((c) => c.startsWith('formicary_session='))?.split(';')[0];
      expect(cookie).toBeDefined();
      expect(await (await fetch(`${portal.url}/`, { headers: { cookie: cookie! } })).text()).toContain('Katherine Johnson');
      expect(await (await fetch(`${portal.url}/`)).text()).not.toContain('Katherine Johnson');
      const missing = await fetch(`${portal.url}/paths/no-such-path/no-such-lesson`);
      expect(missing.status).toBe(404);
    },
  );

  it('tells the visitor to build the site when it is not built', async () => {
    const { portal } = await start({ site: undefined });
    const response = await fetch(`${portal.url}/`);
    expect(response.status).toBe(503);
    expect(await response.text()).toMatch(/The site is not built\. Run `npm run build`/);
  });

  it('hands WebSocket upgrades to the registered handler with the learner, and refuses others', async () => {
    const sockets = new WebSocketServer({ noServer: true });
    const { portal } = await start({
      configure: (routes) =>
        routes.upgrade('/api/labs/:lab/echo', (req, socket, head, context) => {
          sockets.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify({ lab: context.params.lab, learner: context.learner?.name ?? null })));
        }),
    });
    const { token } = await portal.services.sessions.signIn('Grace');
    const wsUrl = portal.url.replace('http', 'ws');
    const message = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`${wsUrl}/api/labs/pods-101/echo`, { origin: portal.url, headers: { cookie: `formicary_session=${token}` } });
      ws.once('message', (data) => {
        resolve(String(data));
        ws.close();
      });
      ws.once('error', reject);
    });
    expect(JSON.parse(message)).toEqual({ lab: 'pods-101', learner: 'Grace' });

    const refusal = (url: string, origin?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { ...(origin ? { origin } : {}), headers: { cookie: `formicary_session=${token}` } });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('error', () => undefined);
      });
    expect(await refusal(`${wsUrl}/api/nowhere`)).toBe(404);
    expect(await refusal(`${wsUrl}/api/labs/pods-101/echo`, 'https://evil.example.com')).toBe(403);
    sockets.close();
  });

  it('serves a registered event stream and ends it on shutdown, without waiting for the grace period', async () => {
    // A grace period past the test's timeout: a stop that waited for the open stream would fail the test.
    const { portal } = await start({
      shutdownGraceMs: 60_000,
      configure: (routes) => {
        const streams = new Set<ReturnType<typeof openEventStream>>();
        routes.on('GET', '/api/workshops/:id/test-events', (req, res, context) => {
          const stream = openEventStream(req, res);
          streams.add(stream);
          stream.send({ workshop: context.params.id }, { event: 'hello', id: '1' });
        });
        routes.onShutdown(() => streams.forEach((stream) => stream.close()));
      },
    });
    const { token } = await portal.services.sessions.signIn('Ines', { roles: ['instructor'] });
    const response = await fetch(`${portal.url}/api/workshops/ws-1/test-events`, { headers: { cookie: `formicary_session=${token}` } });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe('id: 1\nevent: hello\ndata: {"workshop":"ws-1"}\n\n');
    await portal.stop();
    expect((await reader.read()).done).toBe(true);
  });

  it('finishes a request in flight on stop, and then accepts no more', async () => {
    const { portal } = await start();
    const slow = fetch(`${portal.url}/slow`).then((r) => r.json() as Promise<{ url: string }>);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const stopped = portal.stop();
    expect(await slow).toMatchObject({ url: '/slow' });
    await stopped;
    await expect(fetch(`${portal.url}/api/health`)).rejects.toThrow();
  });

  it('cuts a request that outlasts the shutdown grace period', async () => {
    const { portal } = await start({
      shutdownGraceMs: 300,
      configure: (routes) => routes.on('GET', '/api/labs/:lab/hang', () => undefined),
    });
    const { token } = await portal.services.sessions.signIn('Ada');
    const hanging = new Promise<string>((resolve) => {
      request(`${portal.url}/api/labs/pods-101/hang`, { headers: { cookie: `formicary_session=${token}` } })
        .on('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? error.message))
        .end();
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await portal.stop();
    expect(await hanging).toBe('ECONNRESET');
  });

  it('runs on PostgreSQL when DATABASE_URL says so', async () => {
    const url = (await databases.fresh('postgres')) as { kind: 'postgres'; url: string };
    const { portal } = await start({}, { DATABASE_URL: url.url });
    const body = (await (await fetch(`${portal.url}/api/ready`)).json()) as { checks: { database: unknown } };
    expect(body.checks.database).toEqual({ ready: true, detail: 'postgres answers' });
    const { token, learner } = await portal.services.sessions.signIn('Barbara');
    const page = await fetch(`${portal.url}/`, { headers: { cookie: `formicary_session=${token}` } });
    expect(((await page.json()) as { learner: unknown }).learner).toEqual(learner);
  });
});

describe('node src/server/main.ts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'formicary-process-'));
    await writeFile(path.join(dir, 'kubeconfig'), KUBECONFIG);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function run(env: Record<string, string>) {
    const child = spawn(process.execPath, [MAIN], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, DATA_DIR: 'data', PORT: '0', LAB_CLUSTER: 'kubernetes', KUBECONFIG: 'kubeconfig', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Array<Record<string, unknown>> = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const listening = new Promise<string>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        if (parsed.msg === 'portal listening') resolve(String(parsed.url));
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, lines, listening, exited, stderr: () => stderr };
  }

  it('stops gracefully on SIGTERM and exits 0', async () => {
    const portal = run({});
    const url = await portal.listening;
    expect((await fetch(`${url}/api/health`)).status).toBe(200);
    portal.child.kill('SIGTERM');
    expect(await portal.exited).toBe(0);
    expect(portal.lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['stopping', 'stopped']));
  });

  it('names DATABASE_URL when the database cannot be reached, and exits 1', async () => {
    const portal = run({ DATABASE_URL: 'postgres://learn:hunter2@127.0.0.1:1/formicary' });
    expect(await portal.exited).toBe(1);
    const fatal = portal.lines.find((line) => line.level === 'fatal');
    expect(fatal?.msg).toMatch(
      /^Formicary could not start: DATABASE_URL: could not use the PostgreSQL database at postgres:\/\/learn:\*\*\*@127\.0\.0\.1:1\/formicary: .*ECONNREFUSED/,
    );
    expect(JSON.stringify(portal.lines)).not.toContain('hunter2');
  });

  it('refuses to start on a bad variable, naming it', async () => {
    const portal = run({ LAB_CLUSTER: 'kind' });
    expect(await portal.exited).toBe(1);
    expect(portal.stderr()).toBe('Invalid configuration: LAB_CLUSTER: "kind" is not one of embedded, kubernetes\n');
  });
});
