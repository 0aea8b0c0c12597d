// A learner walks one lab of each newer path in a real browser, by accessible names: the portal in
// this process (embedded cluster, temp DATA_DIR, the built site in dist/), Debian's Chromium through
// playwright-core, keystrokes into xterm.js as real key presses. Each walk sees a failing Check
// teach (the lab's own message for a plausible wrong answer), then the fix pass.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLab } from '../../src/labs/index.ts';
import { parseConfig } from '../../src/server/config.ts';
import { PROJECT_ROOT, startPortal, type Portal } from '../../src/server/main.ts';
import { captureLogs } from '../support/logs.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function ensureBuiltSite(): void {
  if (existsSync(path.join(PROJECT_ROOT, 'dist', 'server', 'entry.mjs'))) return;
  const built = spawnSync('npx', ['astro', 'build'], { cwd: PROJECT_ROOT, stdio: 'pipe', encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npx astro build failed:\n${built.stderr.slice(-4000)}`);
}

let dataDir: string;
let portal: Portal;
let browser: Browser;
const { log } = captureLogs('warn');

beforeAll(async () => {
  ensureBuiltSite();
  dataDir = await mkdtemp(path.join(tmpdir(), 'formicary-walks-'));
  const config = { ...parseConfig({ DATA_DIR: dataDir, PORT: '0', AUTH: 'dev', LAB_CLUSTER: 'embedded' }, dataDir), sessionSecret: 's'.repeat(32) };
  portal = await startPortal(config, { log, shutdownGraceMs: 2_000 });
  await portal.cluster.whenReady();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function signedIn(name: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: portal.url, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto('/signin');
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
  return page;
}

/** What the terminal shows, read from xterm's accessibility tree (screen reader mode). */
function terminalText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const host = document.querySelector('[data-terminal-host]');
    const rows = host?.querySelector('.xterm-accessibility-tree') ?? host?.querySelector('.xterm-rows');
    return rows ? [...rows.children].map((row) => row.textContent ?? '').join('\n') : '';
  });
}

async function waitForTerminalText(page: Page, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await terminalText(page);
    if (shown.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`the terminal did not show ${JSON.stringify(text)} within ${timeoutMs} ms; it shows:\n${shown}`);
    await page.waitForTimeout(200);
  }
}

async function typeCommand(page: Page, command: string): Promise<void> {
  await page.locator('[data-terminal-host] textarea').focus();
  await page.keyboard.type(command, { delay: 5 });
  await page.keyboard.press('Enter');
}

/** Presses Check until the live region announces `outcome` (the portal waits at most a few seconds per press). */
async function checkUntil(page: Page, outcome: 'Check passed' | 'Check failed', timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    const announced = await page
      .waitForFunction((prefix) => document.querySelector('[data-lab-live]')?.textContent?.startsWith(prefix), outcome, { timeout: 30_000 })
      .then(() => true)
      .catch(() => false);
    if (announced) return;
    if (Date.now() > deadline) throw new Error(`Check never announced "${outcome}"; it says: ${await page.locator('[data-lab-live]').textContent()}`);
  }
}

/** Starts the lesson's lab in screen reader mode and waits for the shell. */
async function startLab(page: Page, lessonUrl: string): Promise<void> {
  await page.goto(lessonUrl);
  await page.getByRole('switch', { name: 'Screen reader mode' }).click();
  await page.getByRole('button', { name: 'Start lab' }).click();
  await page.getByRole('button', { name: 'Check', exact: true }).waitFor({ state: 'visible', timeout: 120_000 });
  await page.locator('[data-terminal-status][data-state="connected"]').waitFor({ timeout: 60_000 });
}

async function endLab(page: Page): Promise<void> {
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'End lab' }).click();
  await page.getByRole('button', { name: 'Start lab' }).waitFor({ timeout: 30_000 });
  await page.context().close();
}

describe('a lab of each newer path, in the browser', () => {
  it('walks the Pod Security lab of Secure operations: a refusal that is not one is refused, the real one passes', async () => {
    const page = await signedIn('Secure Walker');
    const lab = await loadLab(path.join(PROJECT_ROOT, 'labs', 'pod-security-restricted'));
    const step = lab.steps[0]!;
    await page.goto('/paths/secure-operations');
    await expect(page.getByRole('region', { name: 'Before you start' }).getByRole('link', { name: 'Kubernetes foundations' }).isVisible()).resolves.toBe(true);
    await startLab(page, '/paths/secure-operations/pod-security-admission');

    await checkUntil(page, 'Check failed', 30_000);
    await expect(page.locator(`[data-step-body="${step.id}"] .lab__result--failed`).first().textContent()).resolves.toContain('There is no file ~/refusal.txt in your workbench yet.');
    await typeCommand(page, 'echo "pods are forbidden" > ~/refusal.txt');
    await checkUntil(page, 'Check failed', 30_000);
    await expect(page.locator('[data-lab-live]').textContent()).resolves.toContain('does not hold a Pod Security refusal');

    for (const command of step.solution) await typeCommand(page, command);
    await typeCommand(page, 'echo "walked-$((6*7))"');
    await waitForTerminalText(page, 'walked-42', 120_000);
    await checkUntil(page, 'Check passed', 90_000);
    await expect(page.locator(`[data-step-button="${step.id}"]`).getAttribute('data-status')).resolves.toBe('passed');
    await endLab(page);
  }, 480_000);

  it('walks the first lab of Observability and troubleshooting: the pod status instead of the event reason is refused, the reason and the fix pass', async () => {
    const page = await signedIn('Observability Walker');
    const lab = await loadLab(path.join(PROJECT_ROOT, 'labs', 'obs-first-look'));
    const step = lab.steps[0]!;
    await page.goto('/paths/observability-and-troubleshooting');
    await expect(page.getByRole('region', { name: 'Before you start' }).getByRole('link', { name: 'Kubernetes foundations' }).isVisible()).resolves.toBe(true);
    await startLab(page, '/paths/observability-and-troubleshooting/events-and-describe');

    await typeCommand(page, 'echo Pending > ~/reports-reason.txt');
    await checkUntil(page, 'Check failed', 30_000);
    await expect(page.locator(`[data-step-body="${step.id}"] .lab__result--failed`).first().textContent()).resolves.toContain("Pending is the pod's phase");

    for (const command of step.solution) await typeCommand(page, command);
    await typeCommand(page, 'echo "walked-$((6*7))"');
    await waitForTerminalText(page, 'walked-42', 180_000);
    await checkUntil(page, 'Check passed', 120_000);
    await expect(page.locator(`[data-step-button="${step.id}"]`).getAttribute('data-status')).resolves.toBe('passed');
    await endLab(page);
  }, 480_000);
});
