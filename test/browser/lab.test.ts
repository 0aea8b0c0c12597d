// A learner does a lab in a real browser: the portal in this process (embedded cluster, temp
// DATA_DIR, the built site in dist/), Debian's Chromium through playwright-core. Keystrokes go
// into xterm.js as real key presses, through the portal's WebSocket, into the workbench's bash.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { loadLab, type Lab } from '../../src/labs/index.ts';
import { parseConfig } from '../../src/server/config.ts';
import { PROJECT_ROOT, startPortal, type Portal } from '../../src/server/main.ts';
import { captureLogs } from '../support/logs.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LESSON_WITHOUT_LAB_JS_BUDGET = 50 * 1024;

interface LessonWithLab {
  url: string;
  lab: Lab;
}

/** The first lesson of the content whose frontmatter names a lab, and that lab. */
async function lessonWithLab(): Promise<{ withLab: LessonWithLab; withoutLab: string }> {
  const pathsDir = path.join(PROJECT_ROOT, 'content', 'paths');
  const { readdir } = await import('node:fs/promises');
  let withLab: LessonWithLab | null = null;
  let withoutLab: string | null = null;
  for (const pathId of (await readdir(pathsDir)).sort()) {
    for (const file of (await readdir(path.join(pathsDir, pathId))).filter((name) => /^\d\d-.*\.mdx$/.test(name)).sort()) {
      const lesson = file.replace(/^\d\d-/, '').replace(/\.mdx$/, '');
      const frontmatter = /^---\n([\s\S]*?)\n---/.exec(await readFile(path.join(pathsDir, pathId, file), 'utf8'))?.[1] ?? '';
      const labId = /^lab:\s*(\S+)\s*$/m.exec(frontmatter)?.[1];
      if (labId && !withLab) withLab = { url: `/paths/${pathId}/${lesson}`, lab: await loadLab(path.join(PROJECT_ROOT, 'labs', labId)) };
      if (!labId && !withoutLab) withoutLab = `/paths/${pathId}/${lesson}`;
    }
  }
  if (!withLab || !withoutLab) throw new Error('content/paths needs a lesson with `lab:` and one without for this test');
  return { withLab, withoutLab };
}

function ensureBuiltSite(): void {
  if (existsSync(path.join(PROJECT_ROOT, 'dist', 'server', 'entry.mjs'))) return;
  const built = spawnSync('npx', ['astro', 'build'], { cwd: PROJECT_ROOT, stdio: 'pipe', encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npx astro build failed:\n${built.stderr.slice(-4000)}`);
}

let dataDir: string;
let portal: Portal;
let browser: Browser;
let lessons: Awaited<ReturnType<typeof lessonWithLab>>;
const { log } = captureLogs('warn');

beforeAll(async () => {
  ensureBuiltSite();
  lessons = await lessonWithLab();
  dataDir = await mkdtemp(path.join(tmpdir(), 'formicary-browser-'));
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

async function signedIn(name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: portal.url, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto('/signin');
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
  return { context, page };
}

/** What the terminal shows: xterm's accessibility tree (screen reader mode) or its DOM rows. */
function terminalText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const host = document.querySelector('[data-terminal-host]');
    const rows = host?.querySelector('.xterm-accessibility-tree') ?? host?.querySelector('.xterm-rows');
    return rows ? [...rows.children].map((row) => row.textContent ?? '').join('\n') : '';
  });
}

async function waitForTerminalText(page: Page, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await terminalText(page);
    if (shown.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`the terminal did not show ${JSON.stringify(text)} within ${timeoutMs} ms; it shows:\n${shown}`);
    await page.waitForTimeout(100);
  }
}

/** Types into the terminal as real key presses, then Enter. */
async function typeCommand(page: Page, command: string): Promise<void> {
  await page.locator('[data-terminal-host] textarea').focus();
  await page.keyboard.type(command, { delay: 5 });
  await page.keyboard.press('Enter');
}

describe('a lab in the browser', () => {
  it('starts from its lesson, teaches with a failing Check, passes once fixed, and keeps the shell across a reload', async () => {
    const { context, page } = await signedIn('Ada Browser');
    const { lab, url } = lessons.withLab;
    const step = lab.steps[0]!;
    await page.goto(url);

    const terminal = page.getByRole('region', { name: 'Terminal' });
    await expect(terminal.isVisible()).resolves.toBe(true);
    // The lesson holds a lab: no button completes it, the page says the lab does.
    await expect(page.getByRole('button', { name: 'Mark complete' }).count()).resolves.toBe(0);
    await expect(page.locator('[data-lab-completes]').textContent()).resolves.toContain('completes when you finish its lab');
    const screenReader = page.getByRole('switch', { name: 'Screen reader mode' });
    await screenReader.click();
    await expect(screenReader.getAttribute('aria-checked')).resolves.toBe('true');

    await page.getByRole('button', { name: 'Start lab' }).click();
    await page.getByRole('button', { name: 'Check', exact: true }).waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('[data-terminal-status][data-state="connected"]').waitFor({ timeout: 30_000 });
    for (const name of ['Show hint', 'Show solution', 'Reset lab', 'End lab']) await expect(page.getByRole('button', { name }).isVisible()).resolves.toBe(true);

    await typeCommand(page, 'kubectl get pods');
    await waitForTerminalText(page, 'workbench');

    // No keyboard trap: the page says how to leave the terminal, and F6 does.
    await expect(page.locator('[data-terminal-keys]').textContent()).resolves.toContain('Press F6 to leave it');
    await page.locator('[data-terminal-host] textarea').focus();
    await page.keyboard.press('F6');
    await expect(page.evaluate(() => document.activeElement !== null && document.activeElement !== document.body && !document.querySelector('[data-terminal-host]')?.contains(document.activeElement))).resolves.toBe(true);

    const live = page.locator('[data-lab-live]');
    await expect(live.getAttribute('role')).resolves.toBe('status');
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('[data-lab-live]')?.textContent?.startsWith('Check failed'), undefined, { timeout: 30_000 });
    // Focus stays on Check once it has run (it used to drop to <body>).
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.labAction ?? document.activeElement?.tagName)).toBe('check');
    const failures = page.locator(`[data-step-body="${step.id}"] .lab__result--failed`);
    await expect(failures.count()).resolves.toBeGreaterThan(0);
    const teaching = (await failures.first().textContent()) ?? '';
    expect(teaching.length).toBeGreaterThan(10);
    expect(await live.textContent()).toContain(teaching.replace(/^✗Failed: /, '').slice(0, 40));
    await expect(page.locator(`[data-step-button="${step.id}"]`).getAttribute('data-status')).resolves.toBe('failed');

    await page.getByRole('button', { name: 'Show hint' }).click();
    const hints = page.locator(`[data-step-body="${step.id}"] [data-step-hints]`);
    await hints.locator('li').first().waitFor();
    // A hint's `code` shows as code, not as backticks.
    expect(await hints.locator('li').first().textContent()).not.toContain('`');
    if (step.hints[0]?.includes('`')) await expect(hints.locator('li code').count()).resolves.toBeGreaterThan(0);

    for (const command of step.solution) await typeCommand(page, command);
    await typeCommand(page, 'echo "fixed-$((40+2))"');
    await waitForTerminalText(page, 'fixed-42', 120_000);

    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('[data-lab-live]')?.textContent?.startsWith('Check passed'), undefined, { timeout: 60_000 });
    await expect(page.locator(`[data-step-button="${step.id}"]`).getAttribute('data-status')).resolves.toBe('passed');

    // Reload mid-lab: the same shell, its output replayed and its history intact.
    await page.reload();
    await page.locator('[data-terminal-status][data-state="connected"]').waitFor({ timeout: 30_000 });
    await expect(page.getByRole('switch', { name: 'Screen reader mode' }).getAttribute('aria-checked')).resolves.toBe('true');
    await waitForTerminalText(page, 'fixed-42');
    await typeCommand(page, 'history | tail -n 4');
    await waitForTerminalText(page, `${step.solution.at(-1)!.slice(0, 30)}`);
    await waitForTerminalText(page, 'echo "fixed-$((40+2))"');

    // A second tab takes the terminal over; the first is told so.
    const second = await context.newPage();
    await second.goto(url);
    await second.locator('[data-terminal-status][data-state="connected"]').waitFor({ timeout: 30_000 });
    await page.getByText('This terminal was opened in another tab.').waitFor({ timeout: 10_000 });
    await expect(page.getByRole('button', { name: 'Use the terminal here' }).isVisible()).resolves.toBe(true);
    await second.close();

    // Ending throws the sandbox away: the page asks first, and dismissing keeps the lab.
    const asked: string[] = [];
    page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.dismiss();
    });
    await page.getByRole('button', { name: 'End lab' }).click();
    await expect.poll(() => asked).toEqual(['End the lab? Your sandbox and everything in it are deleted.']);
    await expect(page.getByRole('button', { name: 'Check', exact: true }).isVisible()).resolves.toBe(true);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'End lab' }).click();
    await page.getByRole('button', { name: 'Start lab' }).waitFor({ timeout: 30_000 });
    await context.close();
  }, 600_000);

  it('types a lesson’s command block into the terminal with “Run in terminal”, and reconnects after a dropped connection', async () => {
    const { context, page } = await signedIn('Grace Browser');
    await page.goto(lessons.withLab.url);
    // A command block scrolls sideways: the keyboard reaches it. Each search landmark has its own name.
    const commandLines = page.locator('.command__line');
    if ((await commandLines.count()) > 0) await expect(commandLines.first().getAttribute('tabindex')).resolves.toBe('0');
    const searchNames = await page.locator('[role="search"]').evaluateAll((found) => found.map((element) => element.getAttribute('aria-label')));
    expect(searchNames.every((name) => name !== null)).toBe(true);
    expect(new Set(searchNames).size).toBe(searchNames.length);
    // Keeps the page's WebSockets within reach, to drop the terminal's connection as a network would.
    await page.addInitScript(() => {
      const Native = window.WebSocket;
      const sockets: WebSocket[] = [];
      (window as unknown as { labSockets: WebSocket[] }).labSockets = sockets;
      window.WebSocket = new Proxy(Native, {
        construct(target, args: [string | URL, (string | string[])?]) {
          const socket = new target(...args);
          sockets.push(socket);
          return socket;
        },
      });
    });
    await page.goto(lessons.withLab.url);
    await page.getByRole('button', { name: 'Start lab' }).click();
    await page.locator('[data-terminal-status][data-state="connected"]').waitFor({ timeout: 90_000 });
    const run = page.getByRole('button', { name: 'Run in terminal' }).first();
    await run.waitFor({ state: 'visible' });
    await page.evaluate(() => document.dispatchEvent(new CustomEvent('formicary:run-command', { detail: { command: 'echo "typed-$((7*6))"' } })));
    await page.getByRole('switch', { name: 'Screen reader mode' }).click();
    await waitForTerminalText(page, 'typed-42');

    await page.evaluate(() => (window as unknown as { labSockets: WebSocket[] }).labSockets.at(-1)?.close(4999, 'network gone'));
    await page.locator('[data-terminal-status][data-state="reconnecting"]').waitFor({ timeout: 5_000 });
    await expect(page.locator('[data-terminal-notice-text]').textContent()).resolves.toBe('Connection lost — reconnecting…');
    await page.locator('[data-terminal-status][data-state="connected"]').waitFor({ timeout: 15_000 });
    await expect(page.locator('[data-terminal-notice]').isHidden()).resolves.toBe(true);
    await typeCommand(page, 'echo "again-$((8*8))"');
    await waitForTerminalText(page, 'again-64');
    expect(await terminalText(page)).toContain('typed-42');

    // Ctrl+Shift+F searches the terminal; Escape closes the search and returns to the shell.
    await page.locator('[data-terminal-host] textarea').focus();
    await page.keyboard.press('Control+Shift+F');
    const search = page.getByRole('searchbox', { name: 'Search the terminal' });
    await search.waitFor({ state: 'visible' });
    await expect(search.evaluate((input) => input === document.activeElement)).resolves.toBe(true);
    await search.fill('again');
    await page.keyboard.press('Escape');
    await search.waitFor({ state: 'hidden' });

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'End lab' }).click();
    await page.getByRole('button', { name: 'Start lab' }).waitFor({ timeout: 30_000 });
    await context.close();
  }, 300_000);

  it('walks the first lab of Operating for peak traffic by accessible names: a failing Check teaches, the fix passes', async () => {
    const { context, page } = await signedIn('Peak Browser');
    const lab = await loadLab(path.join(PROJECT_ROOT, 'labs', 'peak-right-size'));
    const step = lab.steps[0]!;
    await page.goto('/paths/operating-for-peak-traffic/requests-limits-and-qos');
    // Screen reader mode puts the terminal's rows in the accessibility tree, where the test reads them.
    await page.getByRole('switch', { name: 'Screen reader mode' }).click();
    await page.getByRole('button', { name: 'Start lab' }).click();
    await page.getByRole('button', { name: 'Check', exact: true }).waitFor({ state: 'visible', timeout: 90_000 });
    await page.locator('[data-terminal-status][data-state="connected"]').waitFor({ timeout: 30_000 });

    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('[data-lab-live]')?.textContent?.startsWith('Check failed'), undefined, { timeout: 30_000 });
    await expect(page.locator(`[data-step-body="${step.id}"] .lab__result--failed`).first().textContent()).resolves.toContain('There is no file ~/blocked-by.txt in your workbench yet.');

    await typeCommand(page, 'echo quota > ~/blocked-by.txt');
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('[data-lab-live]')?.textContent?.includes('write only the quota'), undefined, { timeout: 30_000 });

    for (const command of step.solution) await typeCommand(page, command);
    await waitForTerminalText(page, 'lab-budget', 60_000);
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('[data-lab-live]')?.textContent?.startsWith('Check passed'), undefined, { timeout: 60_000 });
    await expect(page.locator(`[data-step-button="${step.id}"]`).getAttribute('data-status')).resolves.toBe('passed');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'End lab' }).click();
    await page.getByRole('button', { name: 'Start lab' }).waitFor({ timeout: 30_000 });
    await context.close();
  }, 400_000);

  it('ships a lesson without a lab with less than 50 KB of JavaScript and no terminal', async () => {
    const { context, page } = await signedIn('Linus Browser');
    const scripts: string[] = [];
    page.on('response', (response) => {
      if (response.request().resourceType() === 'script') scripts.push(response.url());
    });
    await page.goto(lessons.withoutLab, { waitUntil: 'networkidle' });
    let total = 0;
    for (const script of scripts) total += gzipSync(Buffer.from(await (await fetch(script)).arrayBuffer())).length;
    expect(total).toBeLessThan(LESSON_WITHOUT_LAB_JS_BUDGET);
    expect(scripts.some((script) => /terminal|xterm|LabPanel/i.test(script))).toBe(false);
    await expect(page.getByRole('region', { name: 'Terminal' }).count()).resolves.toBe(0);
    await context.close();
  }, 120_000);

  it('opens a lab directly at /labs/<lab>, and refuses another learner’s session over the API and the terminal', async () => {
    const owner = await signedIn('Owner Browser');
    const intruder = await signedIn('Intruder Browser');
    const { lab } = lessons.withLab;
    await owner.page.goto(`/labs/${lab.id}`);
    await expect(owner.page.getByRole('heading', { level: 1, name: lab.title }).isVisible()).resolves.toBe(true);
    await owner.page.getByRole('button', { name: 'Start lab' }).click();
    await owner.page.getByRole('button', { name: 'Check', exact: true }).waitFor({ state: 'visible', timeout: 90_000 });

    // The split between instructions and terminal moves with the keyboard.
    const separator = owner.page.getByRole('separator', { name: 'Resize instructions and terminal' });
    const before = Number(await separator.getAttribute('aria-valuenow'));
    await separator.focus();
    await owner.page.keyboard.press('ArrowRight');
    await owner.page.keyboard.press('ArrowRight');
    await expect(separator.getAttribute('aria-valuenow')).resolves.toBe(String(before + 4));
    await owner.page.keyboard.press('Home');
    await expect(separator.getAttribute('aria-valuenow')).resolves.toBe('20');

    const session = await owner.page.evaluate(async (id) => ((await (await fetch(`/api/labs/${id}/state`)).json()) as { session: { id: string } }).session.id, lab.id);

    // The intruder's browser, with the intruder's cookie and CSRF token, names the owner's session.
    const csrf = await intruder.page.evaluate(() => document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '');
    for (const action of ['check', 'hint', 'solution', 'reset', 'end']) {
      const status = await intruder.page.evaluate(
        async ({ id, action, session, csrf }) =>
          (await fetch(`/api/labs/${id}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ session }) })).status,
        { id: lab.id, action, session, csrf },
      );
      expect(status, action).toBe(403);
    }
    const state = await intruder.page.evaluate(async ({ id, session }) => (await fetch(`/api/labs/${id}/state?session=${session}`)).status, { id: lab.id, session });
    expect(state).toBe(403);

    const intruderCookie = (await intruder.context.cookies()).map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
    const refused = await new Promise<number>((resolve) => {
      const socket = new NodeWebSocket(`${portal.url.replace('http', 'ws')}/api/labs/${lab.id}/terminal?session=${session}`, { origin: portal.url, headers: { cookie: intruderCookie } });
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('open', () => resolve(101));
      socket.once('error', () => undefined);
    });
    expect(refused).toBe(403);

    // The owner's session is untouched, and a page on another site cannot act for the owner.
    await expect(owner.page.getByRole('button', { name: 'Check', exact: true }).isVisible()).resolves.toBe(true);
    const ownerCookie = (await owner.context.cookies()).map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
    const crossSite = await fetch(`${portal.url}/api/labs/${lab.id}/end`, { method: 'POST', headers: { cookie: ownerCookie, origin: 'https://evil.example.com', 'content-type': 'application/json' }, body: '{}' });
    expect(crossSite.status).toBe(403);
    const viaGet = await fetch(`${portal.url}/api/labs/${lab.id}/end`, { headers: { cookie: ownerCookie } });
    expect([404, 405]).toContain(viaGet.status);
    owner.page.once('dialog', (dialog) => void dialog.accept());
    await owner.page.getByRole('button', { name: 'End lab' }).click();
    await owner.page.getByRole('button', { name: 'Start lab' }).waitFor({ timeout: 30_000 });
    await owner.context.close();
    await intruder.context.close();
  }, 300_000);

  it('refuses a third running lab on the lab page, naming the running labs and how to end one', async () => {
    const { context, page } = await signedIn('Busy Browser');
    const { readdir } = await import('node:fs/promises');
    const ids = (await readdir(path.join(PROJECT_ROOT, 'labs'))).sort().slice(0, 3);
    const titles = await Promise.all(ids.map(async (id) => (await loadLab(path.join(PROJECT_ROOT, 'labs', id))).title));
    for (const id of ids.slice(0, 2)) {
      await page.goto(`/labs/${id}`);
      await page.getByRole('button', { name: 'Start lab' }).click();
      await page.getByRole('button', { name: 'Start lab' }).waitFor({ state: 'hidden', timeout: 30_000 });
    }
    await page.goto(`/labs/${ids[2]}`);
    await page.getByRole('button', { name: 'Start lab' }).click();
    const message = page.getByRole('status').filter({ hasText: 'You already have 2 labs running' });
    await message.waitFor({ timeout: 30_000 });
    await expect(message.textContent()).resolves.toBe(
      `You already have 2 labs running: “${titles[0]}” (/labs/${ids[0]}) and “${titles[1]}” (/labs/${ids[1]}). ` +
        'A learner may run at most 2 labs at a time; open one of them and press “End lab”, then start this one.',
    );
    await expect(page.getByRole('button', { name: 'Start lab' }).isVisible()).resolves.toBe(true);
    const csrf = await page.evaluate(() => document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '');
    for (const id of ids.slice(0, 2)) {
      const ended = await page.evaluate(
        async ({ id, csrf }) => (await fetch(`/api/labs/${id}/end`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: '{}' })).status,
        { id, csrf },
      );
      expect(ended).toBe(200);
    }
    await context.close();
  }, 120_000);
});
