// Builds the portal's site over a fixture project into WORK_DIR/dist (Astro's cache in
// WORK_DIR/cache: a build empties its outDir after syncing content, so the cache must not be
// inside it), in its own process so Astro's Vite does not share a process with Vitest's.
// Usage: node test/pages/build-site.ts CONTENT_ROOT WORK_DIR
import { build } from 'astro';
import { join } from 'node:path';

const [contentRoot, workDir] = process.argv.slice(2);
if (!contentRoot || !workDir) throw new Error('usage: node test/pages/build-site.ts CONTENT_ROOT WORK_DIR');
process.env.FORMICARY_CONTENT_ROOT = contentRoot;
await build({
  root: join(import.meta.dirname, '..', '..'),
  outDir: join(workDir, 'dist'),
  cacheDir: join(workDir, 'cache'),
  logLevel: 'warn',
});
