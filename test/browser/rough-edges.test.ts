// The learner's rough edges, each as the learner meets it in Chromium: the portal in this process
// (embedded cluster, temp DATA_DIR, the built site in dist/), real labs, real key presses. Every
// assertion is something on screen, found by its accessible name or its text.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLab } from '../../src/labs/index.ts';
import { parseConfig } from '../../src/server/config.ts';
import { PROJECT_ROOT, startPortal, type Portal } from '../../src/server/main.ts';
import { captureLogs } from '../support/logs.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** A lesson with a lab whose first step has three checks that fail for one reason (no pod yet), one with a timeout. */
const PODS_LESSON = '/paths/kubernetes-foundations/pods';
const PODS_LAB = 'deploy-and-expose';
/** Two short steps, in a lesson that has a next one. */
const DRAIN_LESSON = '/paths/operating-for-peak-traffic/disruption-budgets-and-drain';

let dataDir: string;
let portal: Portal;
let browser: Browser;
const { log } = captureLogs('warn');

beforeAll(async () => {
  if (!existsSync(path.join(PROJECT_ROOT, 'dist', 'server', 'entry.mjs'))) {
    const built = spawnSync('npx', ['astro', 'build'], { cwd: PROJECT_ROOT, stdio: 'pipe', encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`npx astro build failed:\n${built.stderr.slice(-4000)}`);
  }
  dataDir = await mkdtemp(path.join(tmpdir(), 'formicary-rough-edges-'));
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

async function signedIn(name: string, role: 'Learner' | 'Admin (sees every report)' = 'Learner', width = 1400): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: portal.url, viewport: { width, height: 900 } });
  const page = await context.newPage();
  await page.goto('/signin');
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel(role).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
  return { context, page };
}

/** The terminal's rows as text (screen reader mode puts them in the accessibility tree). */
function terminalRows(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const host = document.querySelector('[data-terminal-host]');
    const rows = host?.querySelector('.xterm-accessibility-tree') ?? host?.querySelector('.xterm-rows');
    return rows ? [...rows.children].map((row) => row.textContent ?? '') : [];
  });
}

async function waitForRows(page: Page, found: (rows: string[]) => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await terminalRows(page);
    if (found(rows)) return;
    if (Date.now() > deadline) throw new Error(`the terminal did not show ${what} within ${timeoutMs} ms; it shows:\n${rows.join('\n')}`);
    await page.waitForTimeout(100);
  }
}

async function typeCommand(page: Page, command: string): Promise<void> {
  await page.locator('[data-terminal-host] textarea').focus();
  await page.keyboard.type(command, { delay: 2 });
  await page.keyboard.press('Enter');
}

async function startLab(page: Page): Promise<void> {
  // Screen reader mode keeps the terminal's rows in the accessibility tree, where the test reads them.
  const reader = page.getByRole('switch', { name: 'Screen reader mode' });
  if ((await reader.getAttribute('aria-checked')) !== 'true') await reader.click();
  await page.getByRole('button', { name: 'Start lab' }).click();
  await page.getByRole('button', { name: 'Check', exact: true }).waitFor({ state: 'visible', timeout: 120_000 });
  await page.getByText('Connected', { exact: true }).waitFor({ timeout: 60_000 });
}

/** Everything the lab's status line said from now on, in order. */
async function recordAnnouncements(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const said: string[] = [];
    (window as unknown as { said: string[] }).said = said;
    const live = document.querySelector('[data-lab-live]')!;
    new MutationObserver(() => live.textContent && said.push(live.textContent)).observe(live, { childList: true, characterData: true, subtree: true });
  });
  return () => page.evaluate(() => (window as unknown as { said: string[] }).said);
}

/** WCAG contrast of every highlighted code token against its block's background. */
function codeContrasts(page: Page): Promise<{ token: string; ratio: number }[]> {
  return page.evaluate(() => {
    const channels = (colour: string) => (colour.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
    const luminance = (colour: string) => {
      const [r, g, b] = channels(colour).map((value) => {
        const v = value / 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    return [...document.querySelectorAll<HTMLElement>('pre.astro-code span')]
      .filter((span) => span.children.length === 0 && span.textContent?.trim())
      .map((span) => {
        const [a, b] = [luminance(getComputedStyle(span).color), luminance(getComputedStyle(span.closest('pre')!).backgroundColor)];
        return { token: span.textContent ?? '', ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
      });
  });
}

describe('the learner’s rough edges', () => {
  it('shows no timer signed out, fits the header at 900 px behind a Menu, has one on a phone, and colours code at 4.5:1', async () => {
    const anonymous = await browser.newContext({ baseURL: portal.url, viewport: { width: 1400, height: 900 } });
    const page = await anonymous.newPage();
    await page.goto(PODS_LESSON);
    await expect(page.getByText('Time left').isVisible()).resolves.toBe(false);
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const low = (await codeContrasts(page)).filter((token) => token.ratio < 4.5);
      expect(low, `${scheme}: code tokens under 4.5:1`).toEqual([]);
    }
    // The search page has two search landmarks (the header's and its own): each has its own name.
    await page.goto('/search?q=pod');
    const searches = await page.getByRole('search').evaluateAll((found) => found.map((landmark) => landmark.getAttribute('aria-label')));
    expect(searches).toEqual(['Site search', 'Search paths and lessons']);
    await anonymous.close();

    const { context, page: admin } = await signedIn('Admin Header', 'Admin (sees every report)', 900);
    const menu = admin.getByRole('button', { name: 'Menu' });
    const main = admin.getByRole('navigation', { name: 'Main' });
    for (const width of [900, 375]) {
      await admin.setViewportSize({ width, height: 800 });
      await admin.goto('/');
      // One line of header at 900 px (it wrapped to two); on a phone the links are behind the menu, not gone.
      if (width === 900) expect((await admin.locator('.site-header').boundingBox())!.height).toBeLessThan(70);
      await expect(main.getByRole('link', { name: 'Reports' }).isVisible()).resolves.toBe(false);
      await menu.click();
      await expect(menu.getAttribute('aria-expanded')).resolves.toBe('true');
      await main.getByRole('link', { name: 'Reports' }).waitFor({ state: 'visible' });
      await admin.keyboard.press('Escape');
      await main.getByRole('link', { name: 'Reports' }).waitFor({ state: 'hidden' });
      await expect(menu.evaluate((button) => button === document.activeElement)).resolves.toBe(true);
    }
    await admin.setViewportSize({ width: 1400, height: 900 });
    await expect(menu.isVisible()).resolves.toBe(false);
    await expect(main.getByRole('link', { name: 'Reports' }).isVisible()).resolves.toBe(true);
    await context.close();
  }, 120_000);

  it('says when the lab is ready, checks the current step once per reason while saying it waits, replays at the width it was drawn, and tells a taken-over tab the lab ended', async () => {
    const { context, page } = await signedIn('Lin Rough');
    const lab = await loadLab(path.join(PROJECT_ROOT, 'labs', PODS_LAB));
    await page.goto(PODS_LESSON);
    // The lab is far below the lesson's text: a link at the top goes there.
    const labHeading = page.getByRole('heading', { level: 2, name: lab.title });
    await expect(labHeading.evaluate((heading) => heading.getBoundingClientRect().top > innerHeight)).resolves.toBe(true);
    await page.getByRole('link', { name: 'Go to the hands-on lab' }).click();
    await expect.poll(() => labHeading.evaluate((heading) => heading.getBoundingClientRect().top >= 0 && heading.getBoundingClientRect().top < innerHeight), { timeout: 30_000 }).toBe(true);
    await expect(page.getByText('Time left').isVisible()).resolves.toBe(false);

    await startLab(page);
    // “Starting your lab…” and its phases go once the prompt is there; the timer runs.
    await page.getByRole('status').filter({ hasText: 'Your lab is ready' }).waitFor();
    await expect(page.getByText('Starting your lab…').isVisible()).resolves.toBe(false);
    await expect(page.getByText('Time left').textContent()).resolves.toMatch(/^Time left \d+:\d\d$/);
    // The lesson's terminal takes most of the window's height (it had 21 rows on a 900 px screen).
    expect((await terminalRows(page)).length).toBeGreaterThanOrEqual(30);

    // Reading step 2 while on step 1: the panel says what Check works on, and Check shows step 1.
    const [first, second] = [lab.steps[0]!, lab.steps[1]!];
    await page.getByRole('button', { name: new RegExp(second.title) }).click();
    await page.getByRole('heading', { name: `Step 2: ${second.title}` }).waitFor();
    await page.getByText(`Check, hints and the solution are for your current step, step 1: ${first.title}.`).waitFor();
    const said = await recordAnnouncements(page);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Check failed' }).waitFor({ timeout: 60_000 });
    await expect(page.getByRole('heading', { name: `Step 1: ${first.title}` }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('heading', { name: `Step 2: ${second.title}` }).isVisible()).resolves.toBe(false);
    // A check with a timeout says it is waiting; the failure is said once, each reason listed once.
    expect((await said()).some((text) => text.startsWith('Still checking: waiting for your cluster'))).toBe(true);
    await expect(page.getByRole('status').filter({ hasText: 'Check failed' }).textContent()).resolves.toBe('Check failed: There is no Pod hello in your namespace yet. (1 more below.)');
    const reasons = await page.locator(`[data-step-body="${first.id}"] .lab__result--failed`).allTextContents();
    expect(reasons.length).toBe(new Set(reasons).size);
    expect(reasons.filter((reason) => reason.includes('There is no Pod hello in your namespace yet.'))).toHaveLength(1);

    // A command longer than this 77-column terminal, then the lab opened in a much wider tab: the
    // replay comes back whole on one row, not overwritten where the shell wrapped it.
    const long = `echo wide-${'x'.repeat(72)}`;
    await typeCommand(page, long);
    await waitForRows(page, (rows) => rows.some((row) => row.startsWith('wide-x')), 'the echo');
    const wide = await context.newPage();
    await wide.setViewportSize({ width: 1900, height: 900 });
    await wide.goto(`/labs/${PODS_LAB}`);
    await wide.getByText('Connected', { exact: true }).waitFor({ timeout: 60_000 });
    await waitForRows(wide, (rows) => rows.some((row) => row.includes(long)), `“${long}” on one row`, 30_000);

    // The first tab was taken over; the lab then ends in the wide one (after asking).
    await page.getByText('This terminal was opened in another tab.').waitFor({ timeout: 15_000 });
    const asked: string[] = [];
    wide.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await wide.getByRole('button', { name: 'End lab' }).click();
    await wide.getByRole('button', { name: 'Start lab' }).waitFor({ timeout: 60_000 });
    expect(asked).toEqual(['End the lab? Your sandbox and everything in it are deleted.']);
    await expect(wide.getByText('Time left').isVisible()).resolves.toBe(false);
    // Opened afresh, the ended attempt is still what the page shows: the unfinished step keeps its last Check's reasons.
    await wide.reload();
    await wide.getByRole('button', { name: 'Start lab' }).waitFor();
    await expect(wide.locator(`[data-step-body="${first.id}"] .lab__result--failed`).allTextContents()).resolves.toContainEqual(expect.stringContaining('There is no Pod hello in your namespace yet.'));
    // Taking the terminal back finds the lab gone: the tab says so and offers the Start lab it names.
    await page.getByRole('button', { name: 'Use the terminal here' }).click();
    await page.getByRole('status').filter({ hasText: 'This lab has ended (in another tab, or by your instructor). Press “Start lab” to begin again.' }).waitFor({ timeout: 30_000 });
    await expect(page.getByRole('button', { name: 'Start lab' }).isVisible()).resolves.toBe(true);
    await expect(page.getByText('Not connected', { exact: true }).isVisible()).resolves.toBe(true);
    await context.close();
  }, 600_000);

  it('runs solution code in the terminal where the learner sees it, keeps passed steps after End, warns before Reset, and points to the next lesson', async () => {
    const { context, page } = await signedIn('Ada Rough');
    await page.goto(DRAIN_LESSON);
    await page.getByRole('link', { name: 'Go to the hands-on lab' }).click();
    await startLab(page);
    const steps = page.getByRole('navigation', { name: 'Lab steps' });

    // Reset asks first, and says that the steps start over; dismissing keeps everything.
    const asked: string[] = [];
    page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.dismiss();
    });
    await page.getByRole('button', { name: 'Reset lab' }).click();
    await expect.poll(() => asked).toEqual(['Reset the lab? Your sandbox is deleted and a fresh one started at step 1; what you made in it and the steps you passed in it start over.']);
    await expect(page.getByText('Connected', { exact: true }).isVisible()).resolves.toBe(true);

    for (let step = 1; step <= 2; step += 1) {
      await page.getByRole('button', { name: 'Show solution' }).click();
      const run = page.locator('[data-step-body]:visible [data-step-solution]').getByRole('button', { name: 'Run in terminal' });
      await run.waitFor();
      // Scroll away from the terminal first: running must bring it back into view and say what ran.
      await page.evaluate(() => scrollTo(0, 0));
      await run.click();
      await page.getByRole('status').filter({ hasText: 'Ran in the terminal:' }).waitFor();
      await expect.poll(() => page.getByRole('region', { name: 'Terminal' }).evaluate((region) => region.getBoundingClientRect().top < innerHeight && region.getBoundingClientRect().bottom > 0), { timeout: 30_000 }).toBe(true);
      // The commands take a moment in the cluster: Check until the step passes (a few tries at most).
      for (let attempt = 1; ; attempt += 1) {
        await page.getByRole('button', { name: 'Check', exact: true }).click();
        const live = page.locator('[data-lab-live]');
        await page.waitForFunction(() => /^(?!Checking|Still checking)./.test(document.querySelector('[data-lab-live]')?.textContent ?? ''), undefined, { timeout: 120_000 });
        const answer = (await live.textContent()) ?? '';
        if (answer.startsWith('Check passed')) break;
        if (attempt === 8) throw new Error(`step ${step} did not pass: ${answer}`);
        await page.waitForTimeout(3_000);
      }
    }
    // Finished: the panel points on to the next lesson.
    await page.getByRole('status').filter({ hasText: 'You completed the lab!' }).waitFor();
    const next = page.getByRole('link', { name: 'Next lesson: Graceful shutdown' });
    await next.waitFor({ state: 'visible' });

    // Ending keeps what was passed in view (it used to say “Not started” everywhere).
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'End lab' }).click();
    await page.getByRole('button', { name: 'Start lab' }).waitFor({ timeout: 60_000 });
    await expect(steps.getByRole('button').allTextContents()).resolves.toEqual([expect.stringContaining('Passed'), expect.stringContaining('Passed')]);
    // And so does the page opened afresh: the record says the lab was done, and where to go next.
    await page.reload();
    await expect(steps.getByRole('button').allTextContents()).resolves.toEqual([expect.stringContaining('Passed'), expect.stringContaining('Passed')]);
    await page.getByRole('status').filter({ hasText: /^You completed this lab on \d{1,2} \w{3} \d{4}\. Start it again to practise\.$/ }).waitFor();
    await next.click();
    await page.waitForURL((url) => url.pathname.endsWith('/graceful-shutdown'));
    await context.close();
  }, 600_000);
});
