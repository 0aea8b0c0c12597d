// A built copy of the site over a fixture project, served the way src/server/main.ts serves
// it (static files first, then Astro's middleware handler with {services, learner} as locals),
// with real sessions and progress on a fresh SQLite database.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createAuth, createSessions } from '../../src/server/auth/index.ts';
import { applyMigrations, openDatabase, readMigrations, type Database } from '../../src/server/db/index.ts';
import { createLogger } from '../../src/server/log.ts';
import { SESSION_COOKIE } from '../../src/server/auth/index.ts';
import type { Learner, PortalServices } from '../../src/server/services.ts';
import { contentOutlines, createTracking } from '../../src/server/tracking/index.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void, locals: { services: PortalServices; learner: Learner | null }) => Promise<void>;

export interface BuiltSite {
  /** Astro's outDir: client/ and server/. */
  outDir: string;
  /** The fixture project it was built over (its content/ gives the paths' outlines). */
  contentRoot: string;
  remove(): Promise<void>;
}

/** Inside the checkout: the server bundle imports its dependencies from node_modules. */
const SITES_DIR = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'formicary-test-sites');

export async function buildSite(contentRoot: string): Promise<BuiltSite> {
  await mkdir(SITES_DIR, { recursive: true });
  const workDir = await mkdtemp(join(SITES_DIR, 'site-'));
  const builder = spawn(process.execPath, [join(import.meta.dirname, 'build-site.ts'), contentRoot, workDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  builder.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => builder.on('close', resolve));
  if (code !== 0) throw new Error(`astro build over ${contentRoot} failed (exit ${code}):\n${errors.slice(-4000)}`);
  return { outDir: join(workDir, 'dist'), contentRoot, remove: () => rm(workDir, { recursive: true, force: true }) };
}

export interface RunningSite {
  url: string;
  services: PortalServices;
  stop(): Promise<void>;
}

const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

function cookieToken(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=') || null;
  }
  return null;
}

export async function serveSite(site: BuiltSite): Promise<RunningSite> {
  const dataDir = await mkdtemp(join(tmpdir(), 'formicary-pages-db-'));
  const db: Database = openDatabase({ kind: 'sqlite', file: join(dataDir, 'portal.db') }, createLogger({ level: 'silent' }));
  await applyMigrations(db, await readMigrations(db.dialect));
  const sessions = createSessions(db);
  const auth = createAuth({ mode: 'dev' }, { sessions, secret: 'test-session-secret-'.repeat(2), log: createLogger({ level: 'silent' }) });
  const services: PortalServices = { sessions, progress: createTracking(db, { outlines: contentOutlines(site.contentRoot) }).lessons, auth };
  const { handler } = (await import(pathToFileURL(join(site.outDir, 'server', 'entry.mjs')).href)) as { handler: Handler };
  const client = join(site.outDir, 'client');

  const serveFile = (res: ServerResponse, file: string, status = 200) => {
    res.writeHead(status, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  };
  const server: Server = createServer(async (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = join(client, normalize(decodeURIComponent(pathname)));
    if (file.startsWith(client) && existsSync(file) && statSync(file).isFile()) return serveFile(res, file);
    const token = cookieToken(req);
    const learner = token ? await services.sessions.resolve(token) : null;
    await handler(req, res, () => serveFile(res, join(client, '404.html'), 404), { services, learner });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    services,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
