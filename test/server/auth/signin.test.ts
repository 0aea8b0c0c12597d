import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Portal } from '../../../src/server/main.ts';
import { startTestPortal, type TestPortal } from './portal.ts';
import { Agent, freePort, signInAtProvider, startOidcPortal, startTestProvider, type OidcPortal, type TestProvider } from './provider.ts';
import { copyBuiltSite, type SiteCopy } from './site.ts';

// Signing in and out through the portal's real pages (the built site), with AUTH=oidc against a
// real provider and with AUTH=dev; what a browser gets at each step: redirects, cookies, pages.

function text(html: string): string {
  return html.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

function cookieLine(response: Response, name: string): string {
  const line = response.headers.getSetCookie().find((cookie) => cookie.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} cookie in ${JSON.stringify(response.headers.getSetCookie())}`);
  return line;
}

function decodeEntities(value: string): string {
  return value.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"');
}

describe('AUTH=oidc through the portal’s pages', () => {
  let provider: TestProvider;
  let running: OidcPortal;
  let site: SiteCopy;
  let url: string;

  beforeAll(async () => {
    site = await copyBuiltSite();
    provider = await startTestProvider([
      { login: 'ada', name: 'Ada Lovelace', email: 'ada@example.com', groups: ['engineering'] },
      { login: 'ines', name: 'Ines Instructor', email: 'ines@example.com', groups: ['trainers'] },
    ]);
    running = await startOidcPortal(provider, { OIDC_INSTRUCTOR_GROUPS: 'trainers' }, { root: site.root });
    url = running.portal.url;
  }, 240_000);

  afterAll(async () => {
    await running?.stop();
    await provider?.stop();
    await site?.remove();
  });

  /** Through /auth/login and the provider's pages; returns the agent, now signed in, and where the portal sent it. */
  async function signIn(login: string, returnTo = '/'): Promise<{ agent: Agent; landed: string }> {
    const agent = new Agent();
    const start = await agent.fetch(`${url}/auth/login?${new URLSearchParams({ returnTo })}`);
    expect(start.status).toBe(303);
    const callback = await signInAtProvider(agent, start.headers.get('location')!, login, `${url}/auth/callback`);
    const back = await agent.fetch(callback);
    expect(back.status).toBe(303);
    return { agent, landed: back.headers.get('location')! };
  }

  it('offers single sign-on on the sign-in page, not a name field', async () => {
    const page = await (await fetch(`${url}/signin?next=%2Fsearch`)).text();
    expect(decodeEntities(page)).toContain('href="/auth/login?returnTo=%2Fsearch"');
    expect(page).not.toContain('name="name"');
  });

  it('signs in at the provider and comes back to where the learner was, named in the header', async () => {
    const agent = new Agent();
    const start = await agent.fetch(`${url}/auth/login?returnTo=%2Fpaths%2Fkubernetes-foundations`);
    expect(start.status).toBe(303);
    expect(start.headers.get('location')).toMatch(new RegExp(`^${provider.issuer}/auth\\?`));
    expect(cookieLine(start, 'formicary_signin')).toMatch(/; Max-Age=600; Path=\/auth; HttpOnly; SameSite=Lax$/);

    const callback = await signInAtProvider(agent, start.headers.get('location')!, 'ada', `${url}/auth/callback`);
    const back = await agent.fetch(callback);
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/paths/kubernetes-foundations');
    expect(cookieLine(back, 'formicary_session')).toMatch(/^formicary_session=[A-Za-z0-9_-]{43}; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(agent.cookies.has('formicary_signin')).toBe(false);

    const catalog = text(await (await agent.fetch(`${url}/`)).text());
    expect(catalog).toContain('Signed in as Ada Lovelace');
  });

  it('marks its cookies Secure when the browser came over HTTPS through a proxy', async () => {
    const start = await fetch(`${url}/auth/login`, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
    expect(cookieLine(start, 'formicary_signin')).toMatch(/; Max-Age=600; Path=\/auth; HttpOnly; Secure; SameSite=Lax$/);
  });

  it('grants the instructor role from the trainers group, and explains the refusal to others', async () => {
    const ada = await signIn('ada');
    const refused = await ada.agent.fetch(`${url}/instructor`, { headers: { accept: 'text/html' } });
    expect(refused.status).toBe(403);
    const page = text(await refused.text());
    expect(page).toContain('This page is for instructors');
    expect(page).toContain('You are signed in as Ada Lovelace , without the instructor role. Roles come with your groups at the identity provider');
    const ines = await signIn('ines');
    // Past the gate: no instructor page exists yet, so the site says not found.
    expect((await ines.agent.fetch(`${url}/instructor`, { headers: { accept: 'text/html' } })).status).toBe(404);
  });

  it('shows on the sign-in page why a sign-in failed', async () => {
    const agent = new Agent();
    const answer = await agent.fetch(`${url}/auth/callback?code=stolen&state=guessed`);
    expect(answer.status).toBe(303);
    const location = answer.headers.get('location')!;
    expect(new URL(location, url).searchParams.get('error')).toMatch(/^Sign-in failed: this browser has no sign-in in progress/);
    const page = await (await agent.fetch(new URL(location, url).href)).text();
    expect(page).toMatch(/role="alert"[^>]*>Sign-in failed: this browser has no sign-in in progress/);
  });

  it('does not sign anyone in by name', async () => {
    const answer = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { origin: url, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Mallory', role: 'admin' }),
    });
    expect(answer.status).toBe(403);
    expect(await answer.json()).toEqual({ error: 'this portal signs in through the identity provider (AUTH=oidc): use /auth/login, not a name' });
  });

  it('signs out here and then at the provider, which sends the browser back to the portal', async () => {
    const { agent } = await signIn('ada');
    const home = await (await agent.fetch(`${url}/`)).text();
    const csrf = /<input type="hidden" name="_csrf" value="([^"]+)"/.exec(home)?.[1];
    expect(csrf).toBeDefined();
    const out = await agent.fetch(`${url}/signout`, {
      method: 'POST',
      headers: { origin: url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf! }).toString(),
    });
    expect(out.status).toBe(303);
    const logout = new URL(out.headers.get('location')!);
    expect(logout.origin + logout.pathname).toBe(`${provider.issuer}/session/end`);
    expect(agent.cookies.has('formicary_session')).toBe(false);
    expect(text(await (await agent.fetch(`${url}/`)).text())).not.toContain('Ada Lovelace');

    // The provider asks to confirm; confirming ends its session and returns to the portal.
    const confirm = await (await agent.fetch(logout.href)).text();
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(confirm);
    expect(form).not.toBeNull();
    const fields = Object.fromEntries([...form![2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
    const done = await agent.fetch(new URL(form![1]!, logout).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, logout: 'yes' }).toString(),
    });
    const { url: landed } = await agent.follow(new URL(done.headers.get('location')!, logout).href, (next) => next.startsWith(url));
    expect(landed).toBe(`${url}/`);
  });
});

describe('AUTH=oidc with the provider down', () => {
  let running: OidcPortal;
  let provider: TestProvider;
  let site: SiteCopy;

  beforeAll(async () => {
    site = await copyBuiltSite();
    provider = await startTestProvider([]);
    const port = await freePort();
    running = await startOidcPortal(provider, { OIDC_ISSUER: `http://127.0.0.1:${port}` }, { root: site.root });
  }, 240_000);

  afterAll(async () => {
    await running?.stop();
    await provider?.stop();
    await site?.remove();
  });

  it('keeps lessons readable and says on the sign-in page that OIDC_ISSUER cannot be reached', async () => {
    const { url } = running.portal;
    expect((await fetch(`${url}/`)).status).toBe(200);
    const start = await fetch(`${url}/auth/login?returnTo=%2Fsearch`, { redirect: 'manual' });
    expect(start.status).toBe(303);
    const page = text(await (await fetch(new URL(start.headers.get('location')!, url))).text());
    expect(page).toMatch(/Sign-in is unavailable: OIDC_ISSUER: could not reach the identity provider at http:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\); check that the address is right and the provider is up/);
  });
});

describe('AUTH=dev through the portal’s pages', () => {
  let running: TestPortal;
  let portal: Portal;
  let site: SiteCopy;

  beforeAll(async () => {
    site = await copyBuiltSite();
    running = await startTestPortal({}, { root: site.root });
    portal = running.portal;
  }, 240_000);

  afterAll(async () => {
    await running?.stop();
    await site?.remove();
  });

  async function signInWithForm(agent: Agent, name: string, role: string): Promise<Response> {
    return agent.fetch(`${portal.url}/api/session`, {
      method: 'POST',
      headers: { origin: portal.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name, role, next: '/search' }).toString(),
    });
  }

  it('offers the roles on the sign-in form, marked as development only', async () => {
    const page = await (await fetch(`${portal.url}/signin`)).text();
    expect(text(page)).toContain('Sign in as development only');
    for (const role of ['learner', 'instructor', 'admin']) expect(page).toContain(`name="role" value="${role}"`);
  });

  it('grants the role chosen on the form, and the gate honours it', async () => {
    const learner = new Agent();
    expect((await signInWithForm(learner, 'Lea', 'learner')).headers.get('location')).toBe('/search');
    const refused = await learner.fetch(`${portal.url}/admin`, { headers: { accept: 'text/html' } });
    expect(refused.status).toBe(403);
    expect(text(await refused.text())).toContain('This page is for admins You are signed in as Lea , without the admin role. In development sign-in mode, sign out and sign in again choosing the role on the sign-in form.');
    const admin = new Agent();
    await signInWithForm(admin, 'Anne', 'admin');
    expect((await admin.fetch(`${portal.url}/admin`, { headers: { accept: 'text/html' } })).status).toBe(404);
    expect((await admin.fetch(`${portal.url}/instructor`, { headers: { accept: 'text/html' } })).status).toBe(404);
  });

  it('starts a new session at every sign-in and ends the one the browser had', async () => {
    const agent = new Agent();
    await signInWithForm(agent, 'Rosa', 'learner');
    const first = agent.cookies.get('formicary_session')!.value;
    const home = await (await agent.fetch(`${portal.url}/`)).text();
    const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(home)![1]!;
    const again = await agent.fetch(`${portal.url}/api/session`, {
      method: 'POST',
      headers: { origin: portal.url, 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ name: 'Rosa' }),
    });
    expect(again.status).toBe(200);
    const second = agent.cookies.get('formicary_session')!.value;
    expect(second).not.toBe(first);
    expect(await portal.services.sessions.resolve(first)).toBeNull();
    const body = (await again.json()) as { csrfToken: string };
    // A new session, a new CSRF token: the old page's token no longer works.
    expect(body.csrfToken).not.toBe(csrf);
    expect(body.csrfToken).toBe(portal.services.auth.csrfToken(second));
  });

  it('puts the session’s CSRF token in the page, which its forms send back', async () => {
    const agent = new Agent();
    await signInWithForm(agent, 'Katherine', 'learner');
    const lesson = await (await agent.fetch(`${portal.url}/paths/kubernetes-foundations`)).text();
    const token = /<meta name="csrf-token" content="([^"]+)"/.exec(lesson)?.[1];
    expect(token).toBe(portal.services.auth.csrfToken(agent.cookies.get('formicary_session')!.value));
    expect(lesson).toContain(`<input type="hidden" name="_csrf" value="${token}"`);

    const posted = await agent.fetch(`${portal.url}/signout`, {
      method: 'POST',
      headers: { origin: portal.url, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ _csrf: token! }).toString(),
    });
    expect(posted.status).toBe(303);
    expect(agent.cookies.has('formicary_session')).toBe(false);
  });

  it('accepts the sign-in form behind a TLS proxy, and sets a Secure cookie', async () => {
    const answer = await fetch(`${portal.url}/api/session`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        origin: 'https://learn.example.com',
        'x-forwarded-host': 'learn.example.com',
        'x-forwarded-proto': 'https',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ name: 'Margaret', next: '/search' }).toString(),
    });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/search');
    expect(cookieLine(answer, 'formicary_session')).toMatch(/; HttpOnly; Secure; SameSite=Lax$/);
  });

  it('answers a form post without the token with a page that explains it', async () => {
    const agent = new Agent();
    await signInWithForm(agent, 'Dorothy', 'learner');
    const refused = await agent.fetch(`${portal.url}/signout`, {
      method: 'POST',
      headers: { origin: portal.url, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: '',
    });
    expect(refused.status).toBe(403);
    const page = text(await refused.text());
    expect(page).toContain('That request was not sent from this portal');
    expect(page).toContain('go back, reload the page and try again');
    expect(agent.cookies.has('formicary_session')).toBe(true);
  });
});
