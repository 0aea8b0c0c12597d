// The built site of this checkout (dist/), served by the real portal in sign-in tests. `npm test`
// builds it before the tests run; run alone, a test builds it when it is missing. Each test file
// serves its own copy: Astro's server bundle loads page chunks on first use, and a rebuild of
// dist/ meanwhile (npm start, another test run) would pull those chunks from under it.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/server/main.ts';

/** Inside the checkout, so the server bundle finds its dependencies in node_modules. */
const COPIES = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'formicary-signin-sites');

function ensureBuiltSite(): void {
  if (existsSync(path.join(PROJECT_ROOT, 'dist', 'server', 'entry.mjs'))) return;
  const build = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules', 'astro', 'bin', 'astro.mjs'), 'build'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`astro build failed (exit ${build.status}):\n${(build.stderr || build.stdout).slice(-4000)}`);
}

export interface SiteCopy {
  /** A portal root: the copy of dist/ beside links to this checkout's src/, labs/ and content/. */
  root: string;
  remove(): Promise<void>;
}

export async function copyBuiltSite(): Promise<SiteCopy> {
  ensureBuiltSite();
  await mkdir(COPIES, { recursive: true });
  const root = await mkdtemp(path.join(COPIES, 'site-'));
  await cp(path.join(PROJECT_ROOT, 'dist'), path.join(root, 'dist'), { recursive: true });
  for (const folder of ['src', 'labs', 'content']) {
    if (existsSync(path.join(PROJECT_ROOT, folder))) await symlink(path.join(PROJECT_ROOT, folder), path.join(root, folder));
  }
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}
