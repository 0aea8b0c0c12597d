// A learner signs in through a real identity provider in a real browser: the portal in this
// process with AUTH=oidc (temp DATA_DIR, a copy of the built site), oidc-provider in this process
// with its own sign-in and consent pages, Debian's Chromium through playwright-core.
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcPortal, startTestProvider, type OidcPortal, type TestProvider } from '../server/auth/provider.ts';
import { copyBuiltSite, type SiteCopy } from '../server/auth/site.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let site: SiteCopy;
let provider: TestProvider;
let running: OidcPortal;
let browser: Browser;

beforeAll(async () => {
  site = await copyBuiltSite();
  provider = await startTestProvider([{ login: 'ada.lovelace', name: 'Ada Lovelace', email: 'ada@example.com', groups: ['engineering'] }]);
  running = await startOidcPortal(provider, {}, { root: site.root });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await running?.stop();
  await provider?.stop();
  await site?.remove();
});

/** A browser of its own; the provider's pages ask for web fonts, and nothing here reaches the internet. */
async function newContext() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
  return context;
}

/** From the portal's header, through the provider's sign-in form and consent page, back to the portal. */
async function signInThroughProvider(page: Page, login: string): Promise<void> {
  await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Sign in with single sign-on' }).click();
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password will do');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.href.startsWith(running.portal.url));
}

describe('signing in with single sign-on', () => {
  it('signs in on the provider’s own form and shows the learner’s name in the portal header', async () => {
    const context = await newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${running.portal.url}/paths/kubernetes-foundations`);
      await signInThroughProvider(page, 'ada.lovelace');
      expect(new URL(page.url()).pathname).toBe('/paths/kubernetes-foundations');
      await expect.poll(() => page.locator('.account__name').innerText()).toMatch(/Ada Lovelace/);

      const cookies = await context.cookies(running.portal.url);
      expect(cookies.find((cookie) => cookie.name === 'formicary_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
      expect(cookies.some((cookie) => cookie.name === 'formicary_signin')).toBe(false);
    } finally {
      await context.close();
    }
  });

  it('sends the page’s CSRF token with its own scripts’ requests and form posts, and signs out at the provider too', async () => {
    const context = await newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${running.portal.url}/paths/kubernetes-foundations/clusters-and-the-api`);
      await signInThroughProvider(page, 'ada.lovelace');
      // Mark complete posts with fetch(): the page adds the x-csrf-token header for it.
      await page.getByRole('button', { name: 'Mark complete' }).click();
      await expect.poll(() => page.locator('[data-mark-complete-status]').innerText()).toBe('You completed this lesson.');
      const learner = (await running.portal.services.sessions.resolve((await context.cookies()).find((c) => c.name === 'formicary_session')!.value))!;
      expect(await running.portal.services.progress.forLearner(learner.id)).toEqual([
        expect.objectContaining({ path: 'kubernetes-foundations', lesson: 'clusters-and-the-api', completedAt: expect.any(String) }),
      ]);

      // The header's sign-out form carries the token; the provider then asks to confirm.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.waitForURL(`${running.portal.url}/`);
      await expect.poll(() => page.getByRole('banner').getByRole('link', { name: 'Sign in' }).isVisible()).toBe(true);
      expect((await context.cookies(running.portal.url)).some((cookie) => cookie.name === 'formicary_session')).toBe(false);
    } finally {
      await context.close();
    }
  });
});
