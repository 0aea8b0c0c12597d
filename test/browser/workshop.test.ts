// An instructor-led workshop in real browsers: the portal in this process (embedded cluster, dev
// sign-in, the site built for this test), Debian's Chromium through playwright-core, one browser
// context per person. The instructor creates a workshop, two learners join (by link and by code),
// the dashboard updates live as they start the lab and run checks, the instructor watches one
// terminal and resets the other learner's lab.
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLab, type Lab } from '../../src/labs/index.ts';
import { parseConfig } from '../../src/server/config.ts';
import { PROJECT_ROOT, startPortal, type Portal } from '../../src/server/main.ts';
import { captureLogs } from '../support/logs.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The first lesson whose frontmatter names a lab, and that lab. */
async function lessonWithLab(): Promise<{ url: string; lab: Lab }> {
  const pathsDir = path.join(PROJECT_ROOT, 'content', 'paths');
  for (const pathId of (await readdir(pathsDir)).sort()) {
    for (const file of (await readdir(path.join(pathsDir, pathId))).filter((name) => /^\d\d-.*\.mdx$/.test(name)).sort()) {
      const frontmatter = /^---\n([\s\S]*?)\n---/.exec(await readFile(path.join(pathsDir, pathId, file), 'utf8'))?.[1] ?? '';
      const labId = /^lab:\s*(\S+)\s*$/m.exec(frontmatter)?.[1];
      if (labId) return { url: `/paths/${pathId}/${file.replace(/^\d\d-/, '').replace(/\.mdx$/, '')}`, lab: await loadLab(path.join(PROJECT_ROOT, 'labs', labId)) };
    }
  }
  throw new Error('content/paths needs a lesson with `lab:` for this test');
}

let root: string;
let dataDir: string;
let portal: Portal;
let browser: Browser;
let lesson: Awaited<ReturnType<typeof lessonWithLab>>;
const { log } = captureLogs('warn');

beforeAll(async () => {
  lesson = await lessonWithLab();
  // The site as it is now, built beside this checkout's node_modules (so its imports resolve),
  // with the checkout's labs and sources: the shared dist/ may predate the workshop pages.
  await mkdir(path.join(PROJECT_ROOT, '.formicary'), { recursive: true });
  root = await mkdtemp(path.join(PROJECT_ROOT, '.formicary', 'workshop-site-'));
  for (const part of ['labs', 'content']) await symlink(path.join(PROJECT_ROOT, part), path.join(root, part));
  // A copy, not a link: the embedded cluster's CLI only runs as the main module under its own path.
  await cp(path.join(PROJECT_ROOT, 'src'), path.join(root, 'src'), { recursive: true });
  const built = spawnSync('npx', ['astro', 'build', '--outDir', path.join(root, 'dist')], { cwd: PROJECT_ROOT, stdio: 'pipe', encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npx astro build failed:\n${built.stderr.slice(-4000)}`);
  dataDir = path.join(root, 'data');
  const config = { ...parseConfig({ DATA_DIR: dataDir, PORT: '0', AUTH: 'dev', LAB_CLUSTER: 'embedded' }, root), sessionSecret: 's'.repeat(32) };
  portal = await startPortal(config, { root, log, shutdownGraceMs: 2_000 });
  await portal.cluster.whenReady();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await portal?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

async function signedIn(name: string, role: 'learner' | 'instructor' = 'learner'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: portal.url, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto('/signin');
  await page.getByLabel('Your name').fill(name);
  if (role === 'instructor') await page.getByLabel('Instructor (runs workshops)').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
  return { context, page };
}

function xtermText(page: Page, host: string): Promise<string> {
  return page.evaluate((selector) => {
    const element = document.querySelector(selector);
    const rows = element?.querySelector('.xterm-accessibility-tree') ?? element?.querySelector('.xterm-rows');
    return rows ? [...rows.children].map((row) => row.textContent ?? '').join('\n') : '';
  }, host);
}

async function waitForText(page: Page, host: string, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await xtermText(page, host);
    if (shown.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`${host} did not show ${JSON.stringify(text)} within ${timeoutMs} ms; it shows:\n${shown}`);
    await page.waitForTimeout(100);
  }
}

async function typeCommand(page: Page, command: string): Promise<void> {
  await page.locator('[data-terminal-host] textarea').focus();
  await page.keyboard.type(command, { delay: 5 });
  await page.keyboard.press('Enter');
}

async function startLab(page: Page): Promise<void> {
  await page.goto(lesson.url);
  await page.getByRole('switch', { name: 'Screen reader mode' }).click();
  await page.getByRole('button', { name: 'Start lab' }).click();
  await page.getByRole('button', { name: 'Check', exact: true }).waitFor({ state: 'visible', timeout: 120_000 });
  await page.locator('[data-terminal-status][data-state="connected"]').waitFor({ timeout: 60_000 });
}

/** How many Workshops links a learner's header has (none: learners join, they do not run workshops). */
function workshopsLinks(page: Page): Promise<number> {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workshops' }).count();
}

describe('a workshop in the browser', () => {
  it('is created, joined by two learners, followed live, and one terminal is watched while the other lab is reset', async () => {
    const { lab } = lesson;
    const step = lab.steps[0]!;
    const cell = (learner: string, status: string) => `tr[data-learner="${learner}"] td[data-cell="${lab.id}/${step.id}"][data-status="${status}"]`;

    const instructor = await signedIn('Irene Workshop', 'instructor');
    const dashboard = instructor.page;
    // The header leads instructors to their workshops.
    await dashboard.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workshops' }).click();
    await dashboard.waitForURL((url) => url.pathname === '/instructor/workshops');
    await dashboard.getByLabel('Title').fill('Kubernetes day');
    await dashboard.getByLabel('Seats').fill('2');
    // Labs are chosen by title, not typed as ids; what is wrong is said with the form's own words.
    await dashboard.getByRole('button', { name: 'Create workshop' }).click();
    await dashboard.getByRole('alert').getByText('Labs: choose at least one lab or learning path.').waitFor();
    await dashboard.getByRole('group', { name: 'Labs' }).getByLabel(lab.title).check();
    const endsAt = await dashboard.getByLabel('Ends (UTC)').inputValue();
    await dashboard.getByLabel('Ends (UTC)').fill('2020-01-01T09:00');
    await dashboard.getByRole('button', { name: 'Create workshop' }).click();
    await dashboard.getByRole('alert').getByText('Ends (UTC): must be after startsAt').waitFor();
    await dashboard.getByLabel('Ends (UTC)').fill(endsAt);
    await dashboard.getByRole('button', { name: 'Create workshop' }).click();
    await dashboard.waitForURL(/\/instructor\/workshops\/[0-9a-f-]{36}$/);
    await dashboard.locator('[data-live="true"]').waitFor();
    const code = (await dashboard.locator('#join-code').textContent()) ?? '';
    const link = (await dashboard.locator('#join-link').getAttribute('href')) ?? '';
    expect(code).toMatch(/^[A-Z2-9]{6}$/);

    // Ada follows the link; Grace types the code; a third learner finds the workshop full.
    const ada = await signedIn('Ada Workshop');
    await ada.page.goto(link);
    await ada.page.getByRole('button', { name: 'Join' }).click();
    await ada.page.waitForURL((url) => url.pathname === '/workshops');
    await expect(ada.page.locator('#workshop-title').textContent()).resolves.toBe('Kubernetes day');
    // The learner's page names the lab by its title and the end as people read a time.
    await ada.page.getByRole('link', { name: lab.title }).waitFor();
    expect(await ada.page.locator('#workshop-ends').textContent()).toMatch(/^\d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC$/);
    const grace = await signedIn('Grace Workshop');
    await grace.page.goto('/workshops/join');
    await grace.page.getByLabel('Workshop code').fill(code.toLowerCase());
    await grace.page.getByRole('button', { name: 'Join' }).click();
    await grace.page.waitForURL((url) => url.pathname === '/workshops');
    const linus = await signedIn('Linus Workshop');
    await linus.page.goto(link);
    await linus.page.getByRole('button', { name: 'Join' }).click();
    await linus.page.getByRole('alert').getByText('all 2 seats are taken').waitFor();
    await linus.context.close();

    await dashboard.locator('tr[data-learner="Ada Workshop"]').waitFor();
    await dashboard.locator('tr[data-learner="Grace Workshop"]').waitFor();
    await dashboard.locator(cell('Ada Workshop', 'not-started')).waitFor();
    // The seats taken follow the joins, as the rows do.
    await expect(dashboard.locator('#seats-taken').textContent()).resolves.toBe('2');
    const learnerNavigation = await workshopsLinks(grace.page);
    expect(learnerNavigation).toBe(0);

    // Both start the lab: the grid shows them working.
    await startLab(ada.page);
    await dashboard.locator(cell('Ada Workshop', 'working')).waitFor({ timeout: 30_000 });
    await startLab(grace.page);
    await dashboard.locator(cell('Grace Workshop', 'working')).waitFor({ timeout: 30_000 });

    // Grace's check fails, Ada fixes the step and passes: the grid follows, with the count per step.
    await grace.page.getByRole('button', { name: 'Check', exact: true }).click();
    await dashboard.locator(cell('Grace Workshop', 'failed')).waitFor({ timeout: 60_000 });
    // Cells drawn by the page's script carry the page's styles: a failed cell is coloured and bordered.
    const failedStyle = await dashboard.locator(cell('Grace Workshop', 'failed')).evaluate((element) => {
      const style = getComputedStyle(element);
      return { background: style.backgroundColor, border: style.borderTopWidth };
    });
    expect(failedStyle.background).not.toBe('rgba(0, 0, 0, 0)');
    expect(failedStyle.border).toBe('1px');
    for (const command of step.solution) await typeCommand(ada.page, command);
    await typeCommand(ada.page, 'echo "fixed-$((40+2))"');
    await waitForText(ada.page, '[data-terminal-host]', 'fixed-42', 120_000);
    await ada.page.getByRole('button', { name: 'Check', exact: true }).click();
    await dashboard.locator(cell('Ada Workshop', 'passed')).waitFor({ timeout: 60_000 });
    await expect(dashboard.locator(`td[data-completions="${lab.id}/${step.id}"]`).textContent()).resolves.toBe('1');

    // The instructor's message reaches Ada on her lab page, not only on /workshops.
    await dashboard.getByLabel('Message to every learner').fill('Break until 11:00');
    await dashboard.getByRole('button', { name: 'Post message' }).click();
    await ada.page.locator('[data-workshop-banner]').getByText('Your instructor: Break until 11:00').waitFor({ timeout: 15_000 });

    // The instructor watches Ada's terminal; Ada's workshop page says so.
    const notice = await ada.context.newPage();
    await notice.goto('/workshops');
    await dashboard.getByRole('button', { name: 'View terminal of Ada Workshop' }).click();
    await waitForText(dashboard, '#terminal-host', 'fixed-42', 30_000);
    await notice.getByText('Your instructor is viewing your terminal.').waitFor({ timeout: 15_000 });
    await typeCommand(ada.page, 'echo "watched-$((6*7))"');
    await waitForText(dashboard, '#terminal-host', 'watched-42', 30_000);
    await dashboard.getByRole('button', { name: 'Stop viewing' }).click();
    await notice.getByText('Your instructor is viewing your terminal.').waitFor({ state: 'hidden', timeout: 15_000 });

    // The instructor resets Grace's lab: a fresh session, her failed check gone from the grid.
    await dashboard.getByRole('button', { name: 'Reset lab of Grace Workshop' }).click();
    await dashboard.getByRole('status').getByText('Grace Workshop’s lab was reset.').waitFor({ timeout: 60_000 });
    await dashboard.locator(cell('Grace Workshop', 'working')).waitFor({ timeout: 30_000 });
    // Grace's open lab page follows: a new terminal connects, no reload needed (it said “Not connected”).
    await grace.page.getByRole('status').filter({ hasText: 'Your lab is ready' }).waitFor({ timeout: 120_000 });
    await grace.page.getByText('Connected', { exact: true }).waitFor({ timeout: 60_000 });

    dashboard.once('dialog', (dialog) => void dialog.accept());
    await dashboard.getByRole('button', { name: 'End workshop' }).click();
    await dashboard.getByRole('status').getByText('The workshop has ended.').waitFor({ timeout: 60_000 });
    await notice.locator('#workshop-ended').waitFor({ state: 'visible', timeout: 15_000 });
    // On her lab page Ada is told, and the lab shows it has ended.
    await ada.page.locator('[data-workshop-banner]').getByText('has ended').waitFor({ timeout: 15_000 });
    await ada.page.getByRole('button', { name: 'Start lab' }).waitFor({ timeout: 30_000 });
    // Nothing can be done to an ended workshop, and the dashboard says so instead of failing.
    for (const name of ['Post message', 'Extend for all', 'End workshop', 'Reset lab of Ada Workshop', '+15 min of Grace Workshop']) {
      await expect(dashboard.getByRole('button', { name, exact: true }).isDisabled(), name).resolves.toBe(true);
    }

    for (const person of [instructor, ada, grace]) await person.context.close();
  }, 900_000);
});
