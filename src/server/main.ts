// The portal's one HTTP server. In order, a request meets: the portal's own endpoints
// (/api/health, /api/ready, /metrics), the gate (the session of the cookie, the access table,
// CSRF: src/server/auth), routes registered beside Astro (event streams, …), the built site's
// static files, and Astro's handler with `{ services, learner, csrfToken }` as locals. WebSocket
// upgrades pass the same gate, then go to handlers registered on `routes`. Everything is built
// from one validated configuration; `startPortal` is what `npm start`, the tests and the bench run.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { answerRefusal, createAuth, createSessions, Gate, type Refusal } from './auth/index.ts';
import { startDedicatedClusters, startLabCluster, type LabCluster, type LabClusterOptions } from './cluster/index.ts';
import { ConfigError, loadConfig, redactUrl, type PortalConfig } from './config.ts';
import { applyMigrations, openDatabase, readMigrations, type Database } from './db/index.ts';
import {
  admitBody,
  BodyLimits,
  DEFAULT_HTTP_LIMITS,
  indexStaticFiles,
  pageRoutePatterns,
  PortalRoutes,
  RouteTable,
  setSecurityHeaders,
  type HttpLimits,
  type RouteContext,
  type StaticFiles,
} from './http/index.ts';
import { startLabs } from './labs/index.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type PortalMetrics } from './metrics/index.ts';
import { startWorkshops } from './workshops/index.ts';
import { publicPortalUrl, startLearning, type Learner, type Learning, type PortalServices } from './services.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SiteLocals {
  services: PortalServices;
  learner: Learner | null;
  /** The session's CSRF token, for `<meta name="csrf-token">` and forms; null when signed out. */
  csrfToken: string | null;
  /** Why the gate refused the request, for the page that explains it (/auth/refused). */
  refusal: Refusal | null;
}

/** `handler` of dist/server/entry.mjs (@astrojs/node in middleware mode). */
export type SiteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
  locals: SiteLocals,
) => Promise<void>;

export interface PortalParts {
  config: PortalConfig;
  db: Database;
  services: PortalServices;
  cluster: LabCluster;
  log: Logger;
}

export interface PortalOptions {
  /** Defaults to JSON lines on standard output at config.logLevel. */
  log?: Logger;
  /** Where dist/ and src/cli/ are; defaults to this checkout. */
  root?: string;
  /** Astro's handler; defaults to the built one in ROOT/dist; null serves no pages. */
  site?: SiteHandler | null;
  /** How long shutdown waits for requests in flight before cutting connections. */
  shutdownGraceMs?: number;
  embeddedCluster?: LabClusterOptions['embedded'];
  /** Registers upgrade handlers and extra routes before the server listens. */
  configure?: (routes: PortalRoutes, parts: PortalParts) => void;
  /** Body size limits and request timeouts; defaults in src/server/http/limits.ts. */
  limits?: Partial<HttpLimits>;
}

export interface Portal {
  /** Where the server listens, e.g. http://127.0.0.1:4321. */
  url: string;
  port: number;
  routes: PortalRoutes;
  services: PortalServices;
  cluster: LabCluster;
  /** Stops accepting, finishes requests in flight (bounded), closes the database, stops the cluster. */
  stop(): Promise<void>;
}

/** Route names for what is not a page: built assets and files under public/. */
const ASSET_ROUTES = ['/_astro/*'];

const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
const READY_CHECK_TIMEOUT_MS = 2_000;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function loadSite(root: string, log: Logger): Promise<SiteHandler | null> {
  const entry = path.join(root, 'dist', 'server', 'entry.mjs');
  if (!existsSync(entry)) {
    log.warn(`${entry} does not exist: pages are not served; build the site with \`npm run build\` (npm start does this for you)`);
    return null;
  }
  const module = (await import(pathToFileURL(entry).href)) as { handler?: unknown };
  if (typeof module.handler !== 'function') {
    throw new Error(`${entry} exports no handler; astro.config.mjs must use @astrojs/node with mode: 'middleware'`);
  }
  return module.handler as SiteHandler;
}

export async function startPortal(config: PortalConfig, options: PortalOptions = {}): Promise<Portal> {
  const root = options.root ?? PROJECT_ROOT;
  const log = options.log ?? createLogger({ level: config.logLevel });
  const httpLog = log.child({ component: 'http' });
  const shutdownGraceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;

  const where = config.database.kind === 'sqlite' ? config.database.file : redactUrl(config.database.url);
  const unreachable = (error: unknown) =>
    new Error(`DATABASE_URL: could not use the ${config.database.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} database at ${where}: ${(error as Error).message}`, {
      cause: error,
    });
  let db: Database;
  try {
    db = openDatabase(config.database, log.child({ component: 'db' }));
  } catch (error) {
    throw unreachable(error);
  }
  let cluster: LabCluster | null = null;
  let learning: Learning | null = null;
  try {
    await db.ping().catch((error: unknown) => {
      throw unreachable(error);
    });
    const migrations = await applyMigrations(db, await readMigrations(db.dialect));
    log.info({ database: where, applied: migrations.applied }, `database ready (${db.dialect})`);
    if (migrations.unknown.length > 0) {
      log.warn({ unknown: migrations.unknown }, 'the database has migrations this portal does not know: it was migrated by a newer version');
    }

    const site = options.site === undefined ? await loadSite(root, log) : options.site;
    const staticFiles: StaticFiles = await indexStaticFiles(path.join(root, 'dist', 'client'));
    cluster = startLabCluster(config.labCluster, { root, log, embedded: options.embeddedCluster });

    const sessions = createSessions(db);
    const auth = createAuth(config.auth, { sessions, secret: config.sessionSecret, log });
    // xAPI names the portal by the address learners use; with PORT=0 it is known once listening.
    const address = { url: `http://${config.host}:${config.port}` };
    // Lab events of a learner in a workshop carry the workshop (workshops start below; asked at each event).
    const workshopOf = async (learnerId: string) => (await services.workshops?.current(learnerId))?.id ?? null;
    learning = startLearning({ db, root, xapi: config.xapi, portalUrl: () => publicPortalUrl(config, address.url), workshopOf, log });
    const services: PortalServices = { sessions, progress: learning.tracking.lessons, auth, learning: learning.services };
    const routes = new PortalRoutes();
    options.configure?.(routes, { config, db, services, cluster, log });
    // After `configure`, whose handlers take precedence (tests stand in for the terminal route).
    // Labs with needs: cluster get a cluster of the learner's own, a process beside the embedded one.
    const dedicatedClusters =
      config.labCluster.mode === 'embedded' && config.dedicatedClusterLimit > 0
        ? await startDedicatedClusters({ dir: path.join(config.dataDir, 'dedicated'), root, hiddenPaths: [config.dataDir], limit: config.dedicatedClusterLimit, log: log.child({ component: 'dedicated-clusters' }) })
        : undefined;
    const labs = startLabs({
      root,
      cluster,
      records: learning.tracking.labs,
      log,
      sessionsPerLearner: config.labSessionsPerLearner,
      warmPool: config.sandboxWarmPool,
      sandboxLimit: config.sandboxLimit,
      ...(dedicatedClusters ? { dedicatedClusters } : {}),
      // On a real lab cluster a learner's own cluster is a pod in their sandbox namespace.
      ...(config.labCluster.mode === 'kubernetes' && config.dedicatedClusterLimit > 0 ? { podClusters: { image: config.dedicatedClusterImage, limit: config.dedicatedClusterLimit } } : {}),
    });
    services.labs = labs.sessions;
    labs.register(routes);
    const workshops = startWorkshops({ database: config.database, db, labs: labs.sessions, records: learning.tracking.labs, terminals: labs.viewing, sandboxes: { prewarm: (lab, count) => labs.prewarm(lab, count) }, log });
    services.workshops = workshops.workshops;
    workshops.register(routes);

    const pagePatterns = await pageRoutePatterns(path.join(root, 'src', 'pages'));
    const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
    const portal = await listen({ config, db, cluster, services, learning, routes, site, staticFiles, pagePatterns, log, httpLog, shutdownGraceMs, limits });
    address.url = portal.url;
    return portal;
  } catch (error) {
    await learning?.stop();
    await cluster?.stop();
    await db.close();
    throw error;
  }
}

interface ServerParts {
  config: PortalConfig;
  db: Database;
  cluster: LabCluster;
  services: PortalServices;
  learning: Learning;
  routes: PortalRoutes;
  site: SiteHandler | null;
  staticFiles: StaticFiles;
  /** Routes of src/pages, for naming requests. */
  pagePatterns: string[];
  log: Logger;
  httpLog: Logger;
  shutdownGraceMs: number;
  limits: HttpLimits;
}

async function listen(parts: ServerParts): Promise<Portal> {
  const { config, db, cluster, services, learning, routes, site, staticFiles, pagePatterns, log, httpLog, shutdownGraceMs, limits } = parts;
  const bodyLimits = new BodyLimits(limits);
  const metrics: PortalMetrics = createMetrics();
  metrics.watchLabCluster(cluster);
  const routeNames = new RouteTable<null>();
  for (const pattern of new Set([...ASSET_ROUTES, ...pagePatterns, ...routes.requests.patterns])) routeNames.add(pattern, null);
  let stopping = false;
  const upgradedSockets = new Set<Duplex>();

  const gate = new Gate({
    services,
    publicHosts: config.auth.mode === 'oidc' ? [new URL(config.auth.redirectUrl).host] : [],
    isRoute: (pathname) => routeNames.match(pathname) !== null || routes.upgrades.match(pathname) !== null,
    log: httpLog,
  });
  const uncovered = gate.uncovered([...routeNames.patterns, ...routes.upgrades.patterns]);
  if (uncovered.length > 0) {
    log.error({ routes: uncovered }, 'routes without an access rule are refused to everyone; add rules to src/server/auth/access.ts');
  }

  const readiness = async () => {
    const database = await withTimeout(db.ping(), READY_CHECK_TIMEOUT_MS, 'the database').then(
      () => ({ ready: true, detail: `${db.dialect} answers` }),
      (error: Error) => ({ ready: false, detail: error.message }),
    );
    const checks = {
      portal: stopping ? { ready: false, detail: 'shutting down' } : { ready: true, detail: 'serving' },
      database,
      migrations: { ready: true, detail: 'applied at start' },
      cluster: { ready: cluster.ready, detail: cluster.detail },
    };
    return { ready: Object.values(checks).every((check) => check.ready), checks };
  };

  const builtins = new Map<string, (res: ServerResponse) => Promise<void>>([
    ['/api/health', async (res) => sendJson(res, 200, { status: 'ok', uptimeSeconds: Math.round(process.uptime()) })],
    [
      '/api/ready',
      async (res) => {
        const report = await readiness();
        sendJson(res, report.ready ? 200 : 503, report);
      },
    ],
    [
      '/metrics',
      async (res) => {
        const text = await metrics.render();
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(text);
      },
    ],
  ]);

  const renderSite = (site: SiteHandler, req: IncomingMessage, res: ServerResponse, locals: SiteLocals) =>
    new Promise<void>((resolve, reject) => {
      site(req, res, (error?: unknown) => (error ? reject(error) : resolve(notFound(req, res))), locals).then(resolve, reject);
    });

  const notFound = (req: IncomingMessage, res: ServerResponse) => {
    if (res.headersSent) return;
    // Astro leaves unknown addresses to us; its prerendered 404 page, when there is one, answers.
    if (staticFiles.serve(req, res, '/404.html', 404)) return;
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Not found\n');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL, route: { name: string }) => {
    const matched = routes.requests.match(url.pathname);
    const handler = matched?.value.get(req.method ?? 'GET');
    // Before anyone reads the body: an unauthenticated 200 MB body is refused unread.
    if (!(await admitBody(req, res, bodyLimits.limitFor(url.pathname), { readChunked: !handler }))) return;

    const builtin = builtins.get(url.pathname);
    if (builtin && (req.method === 'GET' || req.method === 'HEAD')) {
      route.name = url.pathname;
      await builtin(res);
      return;
    }
    const refusal = await gate.admit(req, url, { readForm: !handler });
    if (refusal) {
      const renderPage = site
        ? async () => {
            const { learner, csrfToken } = await gate.session(req);
            // The page that explains the refusal is rendered like any page, without the body.
            req.url = '/auth/refused';
            req.method = 'GET';
            await renderSite(site, req, res, { services, learner, csrfToken, refusal });
          }
        : null;
      await answerRefusal(req, res, url, refusal, renderPage);
      return;
    }

    if (matched && handler) {
      route.name = matched.pattern;
      const context: RouteContext = { learner: (await gate.session(req)).learner, params: matched.params, url, log: httpLog };
      await handler(req, res, context);
      return;
    }

    if (staticFiles.serve(req, res, url.pathname)) {
      route.name = url.pathname.startsWith('/_astro/') ? '/_astro/*' : 'static';
      return;
    }

    if (!site) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The site is not built. Run `npm run build`, or start the portal with `npm start`, which builds it.\n');
      return;
    }
    const { learner, csrfToken } = await gate.session(req);
    await renderSite(site, req, res, { services, learner, csrfToken, refusal: null });
  };

  // Timeouts free connections whose headers or body trickle in; checked every second, not Node's 30 s.
  const serverOptions = { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1_000 };
  const server = createServer(serverOptions, (req, res) => {
    const started = performance.now();
    setSecurityHeaders(req, res);
    metrics.requestStarted();
    const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 100)) || randomUUID();
    res.setHeader('x-request-id', requestId);
    // Query strings can carry search terms and tokens: logs and labels get the path only.
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://portal');
    } catch {
      url = new URL('http://portal/');
    }
    const route = { name: '' };

    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      const seconds = (performance.now() - started) / 1000;
      const name = route.name || (routeNames.match(url.pathname)?.pattern ?? (res.statusCode === 404 ? 'unmatched' : 'other'));
      metrics.requestFinished({ method: req.method ?? 'GET', route: name, status: res.statusCode }, seconds);
      const quiet = url.pathname === '/api/health' || url.pathname === '/api/ready' || url.pathname === '/metrics';
      const line = {
        requestId,
        method: req.method,
        path: url.pathname,
        route: name,
        status: res.statusCode,
        durationMs: Math.round(seconds * 10_000) / 10,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (quiet) httpLog.debug(line, 'request');
      else httpLog.info(line, 'request');
    };
    res.once('finish', record);
    res.once('close', record);

    handle(req, res, url, route).catch((error: unknown) => {
      httpLog.error({ err: error, requestId, path: url.pathname }, 'request failed');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`Something went wrong on our side (request ${requestId}).\n`);
      } else {
        res.destroy();
      }
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, reason: string) => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://portal');
    const matched = routes.upgrades.match(url.pathname);
    if (stopping) return refuse(503, 'Service Unavailable');
    if (!matched) return refuse(404, 'Not Found');
    upgradedSockets.add(socket);
    socket.once('close', () => upgradedSockets.delete(socket));
    const admitted = async () => {
      // A page on another site must not open a learner's terminal with the learner's cookie.
      const refusal = await gate.admitUpgrade(req, url);
      if (refusal) return refuse(refusal.status, refusal.status === 401 ? 'Unauthorized' : 'Forbidden');
      httpLog.info({ path: url.pathname, route: matched.pattern }, 'upgrade');
      const { learner } = await gate.session(req);
      return matched.value(req, socket, head, { learner, params: matched.params, url, log: httpLog });
    };
    void admitted()
      .catch((error: unknown) => {
        httpLog.error({ err: error, path: url.pathname }, 'upgrade failed');
        socket.destroy();
      });
  });

  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // A client too slow with its headers or body (the timeouts above) is told so, as Node would.
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
    else socket.destroy();
    httpLog.debug({ err: error }, 'malformed request');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') throw new Error(`PORT: ${config.port} is in use on ${config.host}; stop what uses it or set PORT to another port`);
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url, labCluster: cluster.mode, auth: config.auth.mode }, 'portal listening');

  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      stopping = true;
      log.info('shutting down: no new connections, finishing requests in flight');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await routes.shutdown(log);
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), shutdownGraceMs);
      });
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      const outcome = await Promise.race([closed.then(() => 'done' as const), graceOver]);
      clearInterval(idle);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        log.warn(`requests still running after ${shutdownGraceMs} ms: closing their connections`);
        server.closeAllConnections();
      }
      for (const socket of upgradedSockets) socket.destroy();
      await closed;
      await cluster.stop();
      // The xAPI worker stops before the database closes; what it had not sent is sent after the next start.
      await learning.stop();
      await db.close();
      log.info('stopped');
    })();
    return stopped;
  };

  return { url, port, routes, services, cluster, stop };
}

/**
 * `node src/server/main.ts` (and `npm start` after building): configuration from the environment,
 * the portal until SIGTERM or SIGINT, then a graceful stop. Exits 1 with the problem when start-up
 * fails, e.g. on a bad variable.
 */
export async function runPortal(options: PortalOptions & { onListening?: (portal: Portal, config: PortalConfig) => void } = {}): Promise<void> {
  let config: PortalConfig;
  try {
    config = await loadConfig();
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `Could not read the configuration: ${(error as Error).message}`}\n`);
    process.exit(1);
  }
  const log = options.log ?? createLogger({ level: config.logLevel });
  let portal: Portal;
  try {
    portal = await startPortal(config, { ...options, log });
  } catch (error) {
    log.fatal({ err: error }, `Formicary could not start: ${(error as Error).message}`);
    process.exit(1);
  }
  options.onListening?.(portal, config);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    log.info({ signal }, 'stopping');
    portal.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

if (import.meta.main) await runPortal();
