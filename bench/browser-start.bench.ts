// "Start lab" to the first prompt, as a learner sees it: the portal (embedded cluster, its
// `formicary cluster` child), Debian's Chromium through playwright-core, a lesson with a lab.
// The clock runs from the click on Start lab until the terminal in the page shows the
// workbench's bash prompt. Warm: with SANDBOX_WARM_POOL for the lab, waiting before each start
// until the pool is full again (a learner arriving at a quiet portal); cold: no pool.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseConfig } from '../src/server/config.ts';
import { PROJECT_ROOT, startPortal, type Portal } from '../src/server/main.ts';
import { createLogger } from '../src/server/log.ts';
import { percentile, round } from './stats.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LESSON = '/paths/kubernetes-foundations/pods';
const LAB = 'deploy-and-expose';
const WARM_STARTS = 10;
const COLD_STARTS = 4;
const POOL = 2;

/**
 * Resolves when the terminal's WebSocket brings bash's prompt into the page (`learner@…$ `): the
 * bytes xterm.js draws in its next frame, whichever renderer it uses.
 */
function promptArrives(page: Page, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no prompt within ${timeoutMs} ms`)), timeoutMs);
    let seen = '';
    page.on('websocket', (socket) => {
      socket.on('framereceived', ({ payload }) => {
        let message: { type?: string; data?: string };
        try {
          message = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) as typeof message;
        } catch {
          return;
        }
        if (message.type !== 'output' || typeof message.data !== 'string') return;
        seen = (seen + message.data).slice(-4096);
        // The workbench's PS1 (learner@host:dir$ ), its colours taken out, as the last thing printed.
        const shown = seen.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|[\r\x01\x02]/g, '');
        if (/learner@[^\n]*\$ *$/.test(shown)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  });
}

async function startToPrompt(browser: Browser, portal: Portal, learner: string): Promise<number> {
  const context = await browser.newContext({ baseURL: portal.url, viewport: { width: 1400, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto('/signin');
    await page.getByLabel('Your name').fill(learner);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
    await page.goto(LESSON);
    const start = page.getByRole('button', { name: 'Start lab' });
    await start.waitFor();
    const prompt = promptArrives(page);
    const started = performance.now();
    await start.click();
    await prompt;
    const ms = performance.now() - started;
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'End lab' }).click();
    await start.waitFor({ timeout: 60_000 });
    return ms;
  } finally {
    await context.close();
  }
}

/** Waits until the lab's warm pool holds `count` ready sandboxes. */
async function poolFull(portal: Portal, count: number): Promise<void> {
  const core = portal.cluster.loadKubeConfig().makeApiClient(CoreV1Api);
  for (let tries = 0; tries < 600; tries++) {
    const warm = await core.listNamespace({ labelSelector: `formicary.dev/lab=${LAB},formicary.dev/learner=warm,formicary.dev/ready=true` });
    if (warm.items.filter((ns) => ns.status?.phase === 'Active').length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the warm pool of ${LAB} did not fill to ${count}`);
}

async function run(pool: number, starts: number, browser: Browser): Promise<number[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'formicary-bench-browser-'));
  await chmod(dataDir, 0o711);
  const env = { DATA_DIR: dataDir, PORT: '0', AUTH: 'dev', LAB_CLUSTER: 'embedded', ...(pool > 0 ? { SANDBOX_WARM_POOL: `${LAB}=${pool},default=0` } : {}) };
  const portal = await startPortal({ ...parseConfig(env, dataDir), sessionSecret: 's'.repeat(32) }, { log: createLogger({ level: 'error', destination: process.stderr }), shutdownGraceMs: 2_000 });
  try {
    await portal.cluster.whenReady();
    // The first start pulls the workbench image onto the nodes; learners after it do not wait for that.
    await startToPrompt(browser, portal, 'bench-warmup');
    const samples: number[] = [];
    for (let i = 0; i < starts; i++) {
      if (pool > 0) await poolFull(portal, pool);
      samples.push(await startToPrompt(browser, portal, `bench-learner-${pool}-${i}`));
    }
    return samples;
  } finally {
    await portal.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export default async function bench(): Promise<Record<string, number>> {
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'server', 'entry.mjs'))) {
    const built = spawnSync('npx', ['astro', 'build'], { cwd: PROJECT_ROOT, stdio: 'pipe', encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`npx astro build failed:\n${built.stderr.slice(-4000)}`);
  }
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const warm = await run(POOL, WARM_STARTS, browser);
    const cold = await run(0, COLD_STARTS, browser);
    return {
      browser_start_to_prompt_ms_warm_p50: round(percentile(warm, 50), 0),
      browser_start_to_prompt_ms_warm_p95: round(percentile(warm, 95), 0),
      browser_start_to_prompt_ms_cold_p50: round(percentile(cold, 50), 0),
      browser_start_to_prompt_ms_cold_max: round(Math.max(...cold), 0),
    };
  } finally {
    await browser.close();
  }
}
