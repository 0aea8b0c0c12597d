// "Start lab" to the first prompt in a real browser, shared by the benches that time it: Debian's
// Chromium through playwright-core, a lesson with a lab, the clock from the click on Start lab
// until the terminal's WebSocket brings the workbench's bash prompt into the page.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../src/server/main.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** A lesson whose lab is `deploy-and-expose`. */
export const LESSON = '/paths/kubernetes-foundations/pods';
export const LESSON_LAB = 'deploy-and-expose';

/** Builds the site when it is not built yet (the portal serves dist/), then starts Chromium. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'server', 'entry.mjs'))) {
    const built = spawnSync('npx', ['astro', 'build'], { cwd: PROJECT_ROOT, stdio: 'pipe', encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`npx astro build failed:\n${built.stderr.slice(-4000)}`);
  }
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * Resolves when the terminal's WebSocket brings bash's prompt into the page (`learner@…$ `): the
 * bytes xterm.js draws in its next frame, whichever renderer it uses.
 */
function promptArrives(page: Page, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no prompt within ${timeoutMs} ms; the terminal showed ${JSON.stringify(seen.slice(-400))}`)), timeoutMs);
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
        // The workbench's PS1 (learner@host:dir$ ), its colours taken out, as the last line printed:
        // tmux (the kept session) redraws a whole screen, clearing the empty lines under the prompt.
        const shown = seen.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|[\r\x01\x02]/g, '');
        if (/learner@[^\n]*\$[ \n]*$/.test(shown)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  });
}

/** Signs `learner` in (AUTH=dev), opens the lesson, and times Start lab → prompt; then ends the lab. */
export async function startToPrompt(browser: Browser, portalUrl: string, learner: string): Promise<number> {
  const context = await browser.newContext({ baseURL: portalUrl, viewport: { width: 1400, height: 900 } });
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

/** Waits until the lab's warm pool on the lab cluster holds `count` ready sandboxes. */
export async function poolFull(kubeConfig: KubeConfig, lab: string, count: number): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  for (let tries = 0; tries < 600; tries++) {
    const warm = await core.listNamespace({ labelSelector: `formicary.dev/lab=${lab},formicary.dev/learner=warm,formicary.dev/ready=true` });
    if (warm.items.filter((ns) => ns.status?.phase === 'Active').length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the warm pool of ${lab} did not fill to ${count}`);
}
