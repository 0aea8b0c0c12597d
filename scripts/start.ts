// `npm start`: builds the site when dist/ is missing or older than its sources, then runs the
// portal until SIGINT/SIGTERM. On a fresh clone this is the whole set-up.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, runPortal } from '../src/server/main.ts';

const BUILT_ENTRY = path.join(PROJECT_ROOT, 'dist', 'server', 'entry.mjs');

/** What the site build reads. The portal's runtime (src/server, src/cluster, src/cli) is not built. */
const SITE_SOURCES = ['src', 'content', 'labs', 'public', 'astro.config.mjs', 'package-lock.json', 'tsconfig.json'];
const NOT_BUILT = ['src/cluster', 'src/cli', 'src/server'];
/** …except what pages import from the server: the contract with it, and learner names and limits. */
const BUILT_FROM_SERVER = ['src/server/services.ts', 'src/server/learners'];

function newestChange(entry: string): number {
  const full = path.join(PROJECT_ROOT, entry);
  if (!existsSync(full)) return 0;
  const info = statSync(full);
  if (!info.isDirectory()) return info.mtimeMs;
  if (NOT_BUILT.includes(entry)) return 0;
  let newest = info.mtimeMs;
  for (const child of readdirSync(full)) newest = Math.max(newest, newestChange(path.posix.join(entry, child)));
  return newest;
}

function siteIsCurrent(): { current: true } | { current: false; reason: string } {
  if (!existsSync(BUILT_ENTRY)) return { current: false, reason: 'the site has not been built yet' };
  const built = statSync(BUILT_ENTRY).mtimeMs;
  const sources = Math.max(...[...SITE_SOURCES, ...BUILT_FROM_SERVER].map(newestChange));
  return sources > built ? { current: false, reason: 'sources changed since the last build' } : { current: true };
}

function buildSite(reason: string): void {
  process.stdout.write(`Building the site (${reason}): astro build\n`);
  const started = Date.now();
  const astro = path.join(PROJECT_ROOT, 'node_modules', 'astro', 'bin', 'astro.mjs');
  const result = spawnSync(process.execPath, [astro, 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`The site build failed (astro build exited with ${result.status ?? result.signal}); see its output above.\n`);
    process.exit(1);
  }
  process.stdout.write(`Built the site in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

function browserAddress(host: string, port: number): string {
  const local = ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost'].includes(host);
  return `http://${local ? 'localhost' : host.includes(':') ? `[${host}]` : host}:${port}`;
}

const site = siteIsCurrent();
if (!site.current) buildSite(site.reason);

await runPortal({
  onListening(portal, config) {
    process.stdout.write(`Formicary is running at ${browserAddress(config.host, portal.port)}\n`);
    if (portal.cluster.mode === 'embedded') {
      void portal.cluster.whenReady().then(() => process.stdout.write(`Lab cluster ready (kubeconfig: ${portal.cluster.kubeconfigPath})\n`));
    }
  },
});
