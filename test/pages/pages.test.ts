import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSite, serveSite, type BuiltSite, type RunningSite } from './site.ts';

// The built site over test/fixtures/portal, served with real sessions and progress (SQLite).

const fixture = join(import.meta.dirname, '..', 'fixtures', 'portal');
let built: BuiltSite;
let site: RunningSite;

beforeAll(async () => {
  built = await buildSite(fixture);
  site = await serveSite(built);
}, 240_000);

afterAll(async () => {
  await site?.stop();
  await built?.remove();
});

async function get(path: string, cookie?: string) {
  const response = await fetch(site.url + path, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
  return { status: response.status, headers: response.headers, html: await response.text() };
}

async function post(path: string, body: Record<string, string>, options: { cookie?: string; form?: boolean; headers?: Record<string, string> } = {}) {
  const form = options.form ?? false;
  return fetch(site.url + path, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      origin: site.url,
      'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...options.headers,
    },
    body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
  });
}

async function signIn(name: string): Promise<string> {
  const response = await post('/api/session', { name });
  expect(response.status).toBe(200);
  const cookie = response.headers.get('set-cookie') ?? '';
  return cookie.split(';')[0] ?? '';
}

function text(html: string): string {
  return html.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

describe('catalog', () => {
  it('lists every path with its level, duration and lesson count', async () => {
    const { status, html } = await get('/');
    expect(status).toBe(200);
    const page = text(html);
    expect(page).toContain('Container basics');
    expect(page).toMatch(/Beginner Container basics .* 45 min 2 lessons/);
    expect(page).toMatch(/Intermediate Cluster operations .* 30 min 1 lesson After Container basics/);
    expect(html).toContain('href="/paths/container-basics"');
  });

  it('suggests an order in which every path comes after its prerequisites, and lists every lab with the lesson that opens it', async () => {
    const { html } = await get('/');
    const page = text(html);
    expect(page).toMatch(/Suggested order .* Container basics Cluster operations · after Container basics/);
    const order = html.slice(html.indexOf('id="order-heading"'));
    expect(order.indexOf('href="/paths/container-basics"')).toBeLessThan(order.indexOf('href="/paths/cluster-operations"'));
    // Titles and durations come from the lab service; this site has none, so the lab shows its id.
    expect(page).toMatch(/Hands-on labs .* first-pod · with Your first Pod/);
    expect(html).toMatch(/<a href="\/labs\/first-pod"[^>]*>first-pod<\/a>/);
  });

  it('invites an anonymous visitor to sign in instead of showing progress', async () => {
    const { html } = await get('/');
    expect(html).not.toContain('role="progressbar"');
    expect(text(html)).toContain('Sign in to keep track of the lessons you complete.');
  });
});

describe('path page', () => {
  it('shows lessons in NN order, outcomes and prerequisites', async () => {
    const { status, html } = await get('/paths/cluster-operations');
    expect(status).toBe(200);
    const page = text(html);
    expect(page).toContain('Roll out a new version without downtime');
    expect(html).toMatch(/Before you start[\s\S]*href="\/paths\/container-basics"/);
    const basics = await get('/paths/container-basics');
    const order = [...basics.html.matchAll(/class="lesson-list__title"[^>]*><a href="([^"]+)"/g)].map((match) => match[1]);
    expect(order).toEqual(['/paths/container-basics/images', '/paths/container-basics/first-pod']);
  });
});

describe('lesson page', () => {
  it('renders the MDX with every lesson component', async () => {
    const { status, html } = await get('/paths/container-basics/first-pod');
    expect(status).toBe(200);
    expect(html).toMatch(/<h1 id="lesson-title"[^>]*>Your first Pod<\/h1>/);
    expect(html).toContain('data-command="kubectl run web --image=nginx:1.27"');
    expect(html).toMatch(/<button[^>]*data-command-run[^>]*hidden/);
    expect(html).toMatch(/role="tablist"/);
    expect(html).toMatch(/<fieldset[^>]*data-quiz[^>]*data-answer="1"/);
    expect(html).toContain('Which component pulls the image onto the node?');
    const images = await get('/paths/container-basics/images');
    expect(images.html).toMatch(/role="note"[\s\S]*Pin by digest/);
    expect(images.html).toContain('<img src="/diagrams/registry.svg" alt="A registry serving images to nodes"');
  });

  it('highlights fenced code for both themes', async () => {
    const { html } = await get('/paths/container-basics/first-pod');
    expect(html).toMatch(/<pre class="astro-code[^"]*"[^>]*>[\s\S]*light-dark\(/);
  });

  it('lists its headings in the table of contents, linking to their ids', async () => {
    const { html } = await get('/paths/container-basics/first-pod');
    for (const slug of ['create-the-pod', 'watch-it-start', 'read-the-logs']) {
      expect(html).toContain(`id="${slug}"`);
      expect(html).toContain(`href="#${slug}"`);
    }
  });

  it('links to the previous and next lesson', async () => {
    const first = await get('/paths/container-basics/images');
    expect(first.html).toMatch(/href="\/paths\/container-basics\/first-pod" rel="next"/);
    const second = await get('/paths/container-basics/first-pod');
    expect(second.html).toMatch(/href="\/paths\/container-basics\/images" rel="prev"/);
  });

  it('gives every element a unique id and every image alt text', async () => {
    for (const path of ['/', '/paths/container-basics', '/paths/container-basics/first-pod', '/search?q=pod']) {
      const { html } = await get(path);
      const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]);
      expect(ids.length, path).toBe(new Set(ids).size);
      expect(html.match(/<img(?![^>]*\salt=)[^>]*>/g), path).toBeNull();
      expect(html.match(/<h1[\s>]/g)?.length, path).toBe(1);
      expect(html).toContain('href="#main-content"');
      expect(html).toContain('<main id="main-content"');
    }
  });

  it('ships well under 50 KB of JavaScript (gzip)', async () => {
    const { html } = await get('/paths/container-basics/first-pod');
    const inline = [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((match) => match[1] ?? '');
    const external = await Promise.all(
      [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map(async (match) => (await get(match[1] ?? '')).html),
    );
    const gzipped = gzipSync([...inline, ...external].join('\n')).length;
    expect(gzipped).toBeLessThan(50 * 1024);
  });
});

describe('missing pages', () => {
  it.each(['/paths/container-basics/no-such-lesson', '/paths/no-such-path'])('answers %s with the 404 page', async (path) => {
    const { status, html } = await get(path);
    expect(status).toBe(404);
    expect(html).toContain('We could not find that page');
  });
});

describe('search', () => {
  it('answers /api/search with deep links and highlighted snippets', async () => {
    const response = await fetch(`${site.url}/api/search?q=kubelet`);
    expect(response.headers.get('content-type')).toContain('application/json');
    const body = (await response.json()) as { query: string; results: Array<Record<string, unknown>> };
    expect(body.query).toBe('kubelet');
    expect(body.results[0]).toMatchObject({
      title: 'Your first Pod',
      path: 'container-basics',
      lesson: 'first-pod',
      url: '/paths/container-basics/first-pod#watch-it-start',
    });
    expect(body.results[0]?.snippet).toContain('<mark>kubelet</mark>');
    expect(typeof body.results[0]?.score).toBe('number');
  });

  it('shows the same results on the search page', async () => {
    const { html } = await get('/search?q=kubelet');
    expect(html).toContain('href="/paths/container-basics/first-pod#watch-it-start"');
    expect(html).toContain('<mark>kubelet</mark>');
    expect(text(html)).toContain('1 result for “kubelet”');
  });

  it('escapes what the searcher typed', async () => {
    const { html } = await get(`/search?q=${encodeURIComponent('"><img src=x onerror=alert(1)>')}`);
    expect(html).not.toContain('"><img src=x');
    expect(html).toContain('No results for “&quot;&gt;&lt;img src=x onerror=alert(1)&gt;”');
  });
});

describe('signing in and progress', () => {
  it('sets an HttpOnly, SameSite=Lax session cookie, Secure only over HTTPS', async () => {
    const plain = await post('/api/session', { name: 'Grace Hopper' });
    const cookie = plain.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^formicary_session=[^;]+;/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).not.toContain('Secure');
    const proxied = await post('/api/session', { name: 'Grace Hopper' }, { headers: { 'x-forwarded-proto': 'https' } });
    expect(proxied.headers.get('set-cookie')).toContain('Secure');
  });

  it('sends a sign-in form back to where the learner came from, or back to the form with the problem', async () => {
    const ok = await post('/api/session', { name: 'Alan Turing', next: '/paths/container-basics' }, { form: true });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/paths/container-basics');
    const offsite = await post('/api/session', { name: 'Alan Turing', next: '//evil.example/' }, { form: true });
    expect(offsite.headers.get('location')).toBe('/');
    const empty = await post('/api/session', { name: '  ', next: '/' }, { form: true });
    expect(empty.status).toBe(303);
    const back = new URL(empty.headers.get('location') ?? '', site.url);
    expect(back.pathname).toBe('/signin');
    expect(back.searchParams.get('error')).toContain('name: is empty');
    const form = await get(back.pathname + back.search);
    expect(form.html).toContain('role="alert"');
  });

  it('records a viewed lesson, marks it complete and shows progress on the catalog and the path', async () => {
    const cookie = await signIn('Katherine Johnson');
    expect(text((await get('/', cookie)).html)).toContain('0 of 2 complete');

    await get('/paths/container-basics/images', cookie);
    const path = await get('/paths/container-basics', cookie);
    expect(path.html).toMatch(/data-lesson-status="viewed"/);
    expect(text(path.html)).toContain('Continue: Images and registries');

    const lesson = await get('/paths/container-basics/images', cookie);
    expect(lesson.html).toMatch(/<button[^>]*data-mark-complete-button[^>]*>\s*Mark complete/);
    const marked = await post('/api/progress', { path: 'container-basics', lesson: 'images', status: 'completed' }, { cookie, form: true });
    expect(marked.status).toBe(303);
    expect(marked.headers.get('location')).toBe('/paths/container-basics/images');

    expect(text((await get('/', cookie)).html)).toContain('1 of 2 complete');
    expect((await get('/paths/container-basics', cookie)).html).toMatch(/data-lesson-status="completed"/);
    expect(text((await get('/paths/container-basics/images', cookie)).html)).toContain('You completed this lesson.');

    const progress = (await (await fetch(`${site.url}/api/progress`, { headers: { cookie } })).json()) as { progress: Array<Record<string, unknown>> };
    expect(progress.progress).toEqual([expect.objectContaining({ path: 'container-basics', lesson: 'images', completedAt: expect.any(String) })]);
  });

  it('answers progress requests with what is wrong', async () => {
    expect((await post('/api/progress', { path: 'container-basics', lesson: 'images' })).status).toBe(401);
    const cookie = await signIn('Dorothy Vaughan');
    const unknown = await post('/api/progress', { path: 'container-basics', lesson: 'nope', status: 'completed' }, { cookie });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'lesson "container-basics/nope" does not exist' });
    const badStatus = await post('/api/progress', { path: 'container-basics', lesson: 'images', status: 'done' }, { cookie });
    expect(badStatus.status).toBe(400);
  });

  it('signs out', async () => {
    const cookie = await signIn('Mary Jackson');
    expect(text((await get('/', cookie)).html)).toContain('Signed in as Mary Jackson');
    const out = await post('/signout', {}, { cookie, form: true });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/formicary_session=;|Max-Age=0|Expires=Thu, 01 Jan 1970/);
    expect(text((await get('/', cookie)).html)).not.toContain('Signed in as Mary Jackson');
  });
});
