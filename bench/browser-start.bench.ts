// "Start lab" to the first prompt, as a learner sees it: the portal (embedded cluster, its
// `formicary cluster` child), Debian's Chromium through playwright-core, a lesson with a lab.
// The clock runs from the click on Start lab until the terminal in the page shows the
// workbench's bash prompt. Warm: with SANDBOX_WARM_POOL for the lab, waiting before each start
// until the pool is full again (a learner arriving at a quiet portal); cold: no pool.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { parseConfig } from '../src/server/config.ts';
import { startPortal } from '../src/server/main.ts';
import { createLogger } from '../src/server/log.ts';
import { launchBrowser, LESSON_LAB, poolFull, startToPrompt } from './browser.ts';
import { percentile, round } from './stats.ts';

const WARM_STARTS = 10;
const COLD_STARTS = 4;
const POOL = 2;

async function run(pool: number, starts: number, browser: Browser): Promise<number[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'formicary-bench-browser-'));
  await chmod(dataDir, 0o711);
  const env = { DATA_DIR: dataDir, PORT: '0', AUTH: 'dev', LAB_CLUSTER: 'embedded', ...(pool > 0 ? { SANDBOX_WARM_POOL: `${LESSON_LAB}=${pool},default=0` } : {}) };
  const portal = await startPortal({ ...parseConfig(env, dataDir), sessionSecret: 's'.repeat(32) }, { log: createLogger({ level: 'error', destination: process.stderr }), shutdownGraceMs: 2_000 });
  try {
    await portal.cluster.whenReady();
    // The first start pulls the workbench image onto the nodes; learners after it do not wait for that.
    await startToPrompt(browser, portal.url, 'bench-warmup');
    const samples: number[] = [];
    for (let i = 0; i < starts; i++) {
      if (pool > 0) await poolFull(portal.cluster.loadKubeConfig(), LESSON_LAB, pool);
      samples.push(await startToPrompt(browser, portal.url, `bench-learner-${pool}-${i}`));
    }
    return samples;
  } finally {
    await portal.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export default async function bench(): Promise<Record<string, number>> {
  const browser = await launchBrowser();
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
