// Attacks on the portal's JSON API, through the real portal (startPortal: the gate, the access
// table, CSRF) serving the built site over test/fixtures/portal on SQLite:
// - a learner whose name is a spreadsheet formula: every CSV export neutralises it;
// - an instructor acting on another instructor's workshop, over HTTP, server-sent events and the
//   terminal WebSocket: told there is no such workshop, and nothing changes;
// - oversized and malformed bodies: 413 naming the limit, 400 naming the field.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parseConfig } from '../../src/server/config.ts';
import { startPortal, type Portal, type SiteHandler } from '../../src/server/main.ts';
import { buildSite, type BuiltSite } from '../pages/site.ts';
import { parseCsv } from '../server/reports/rfc4180.ts';
import { captureLogs } from '../support/logs.ts';

const fixture = path.join(import.meta.dirname, '..', 'fixtures', 'portal');
const KUBECONFIG = [
  'apiVersion: v1',
  'kind: Config',
  'clusters: [{name: lab-host, cluster: {server: "https://127.0.0.1:1"}}]',
  'users: [{name: admin, user: {token: t}}]',
  'contexts: [{name: lab-host, context: {cluster: lab-host, user: admin}}]',
  'current-context: lab-host',
  '',
].join('\n');
const FORMULA_NAME = '=HYPERLINK("http://evil","x")';
const FORMULA_START = /^[=+\-@\t\r]/;

let built: BuiltSite;
let dir: string;
let portal: Portal;

interface Visitor {
  cookie: string;
  csrf: string;
  id: string;
}

beforeAll(async () => {
  built = await buildSite(fixture);
  dir = await mkdtemp(path.join(tmpdir(), 'formicary-portal-api-'));
  await cp(path.join(fixture, 'content'), path.join(dir, 'content'), { recursive: true });
  await cp(path.join(fixture, 'labs'), path.join(dir, 'labs'), { recursive: true });
  await writeFile(path.join(dir, 'kubeconfig'), KUBECONFIG);
  const { handler } = (await import(pathToFileURL(path.join(built.outDir, 'server', 'entry.mjs')).href)) as { handler: SiteHandler };
  const config = { ...parseConfig({ DATA_DIR: 'data', PORT: '0', LAB_CLUSTER: 'kubernetes', KUBECONFIG: 'kubeconfig' }, dir), sessionSecret: 's'.repeat(32) };
  portal = await startPortal(config, { root: dir, site: handler, log: captureLogs('warn').log, shutdownGraceMs: 2_000 });
}, 300_000);

afterAll(async () => {
  await portal?.stop();
  await built?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function signIn(name: string, role: 'learner' | 'instructor' | 'admin' = 'learner'): Promise<Visitor> {
  const response = await fetch(`${portal.url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: portal.url },
    body: JSON.stringify({ name, role }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { learner: { id: string }; csrfToken: string };
  const cookie = response.headers.getSetCookie().find((value) => value.startsWith('formicary_session='))?.split(';')[0] ?? '';
  return { cookie, csrf: body.csrfToken, id: body.learner.id };
}

function get(address: string, who: Visitor) {
  return fetch(portal.url + address, { headers: { cookie: who.cookie }, redirect: 'manual' });
}

function post(address: string, who: Visitor, body: unknown, headers: Record<string, string> = {}) {
  return fetch(portal.url + address, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: who.cookie, origin: portal.url, 'x-csrf-token': who.csrf, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function errorOf(response: Response): Promise<{ status: number; error: string; field?: string }> {
  const body = (await response.json()) as { error: string; field?: string };
  return { status: response.status, ...body };
}

const plan = () => ({
  title: 'Kubernetes day',
  labs: ['first-pod'],
  startsAt: new Date(Date.now() - 60_000).toISOString(),
  endsAt: new Date(Date.now() + 3_600_000).toISOString(),
  seats: 5,
});

/** The status a WebSocket upgrade is answered with: 101 when it opens. */
function upgradeStatus(address: string, who: Visitor): Promise<number> {
  const socket = new WebSocket(`${portal.url.replace('http', 'ws')}${address}`, { headers: { cookie: who.cookie, origin: portal.url } });
  return new Promise<number>((resolve) => {
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('error', () => resolve(0));
  });
}

describe('a learner whose name is a formula', () => {
  it('is neutralised in every CSV export: workshop results, certificates and each report', async () => {
    const evil = await signIn(FORMULA_NAME);
    const irene = await signIn('Irene Instructor', 'instructor');
    const admin = await signIn('Olga Owner', 'admin');

    const workshop = (await (await post('/api/workshops', irene, plan())).json()) as { id: string; code: string };
    expect((await post('/api/workshops/join', evil, { code: workshop.code })).status).toBe(200);
    // The learner completes a path (a certificate in their name) and fails a check whose message repeats what they typed.
    const lab = { learnerId: evil.id, lab: 'first-pod', labSession: '6c0e7a52-3c1d-4a8e-9f1a-2b3c4d5e6f71', path: 'container-basics', lesson: 'first-pod' };
    const failing = { kind: 'exists', passed: false, expected: '@SUM(1+1)', found: '-2+3', message: `+${FORMULA_NAME}` };
    await portal.services.learning!.record.record({ kind: 'lab.started', ...lab, at: new Date().toISOString() });
    await portal.services.learning!.record.record({ kind: 'check.failed', ...lab, step: 'run', results: [failing], at: new Date().toISOString() });
    await portal.services.learning!.record.record({ kind: 'lab.completed', ...lab, at: new Date().toISOString() });
    for (const lesson of ['images', 'first-pod']) expect((await post('/api/progress', evil, { path: 'container-basics', lesson, status: 'completed' })).status).toBe(200);

    const exports = {
      workshop: await (await get(`/api/workshops/${workshop.id}/results.csv`, irene)).text(),
      certificates: await (await get('/api/reports/certificates?format=csv', admin)).text(),
      paths: await (await get('/api/reports/paths?format=csv', admin)).text(),
      labs: await (await get('/api/reports/labs?format=csv', admin)).text(),
      teams: await (await get('/api/reports/teams?format=csv', admin)).text(),
      checks: await (await get('/api/reports/checks?format=csv', admin)).text(),
    };
    for (const [name, csv] of Object.entries(exports)) {
      const rows = parseCsv(csv);
      expect(rows.length, `${name}: a header and rows`).toBeGreaterThan(1);
      for (const cell of rows.flat()) {
        if (FORMULA_START.test(cell)) expect(Number.isFinite(Number(cell)), `${name}: the cell ${JSON.stringify(cell)} would run as a formula`).toBe(true);
      }
    }
    expect(parseCsv(exports.workshop)[1]?.[0]).toBe(`'${FORMULA_NAME}`);
    expect(parseCsv(exports.certificates).flat()).toContain(`'${FORMULA_NAME}`);
    const checks = parseCsv(exports.checks).flat();
    expect(checks).toEqual(expect.arrayContaining([`'+${FORMULA_NAME}`, "'@SUM(1+1)"]));
  });
});

describe('workshops belong to their instructors', () => {
  let alice: Visitor;
  let bob: Visitor;
  let ada: Visitor;
  let workshop: { id: string; code: string };

  beforeAll(async () => {
    alice = await signIn('Alice Instructor', 'instructor');
    bob = await signIn('Bob Instructor', 'instructor');
    ada = await signIn('Ada Learner');
    const created = await post('/api/workshops', alice, plan());
    expect(created.status).toBe(201);
    workshop = (await created.json()) as { id: string; code: string };
    expect((await post('/api/workshops/join', ada, { code: workshop.code })).status).toBe(200);
  });

  it('tells another instructor there is no such workshop, for reading and for every action, and changes nothing', async () => {
    const id = workshop.id;
    const missing = `there is no workshop ${id}`;
    for (const address of [`/api/workshops/${id}`, `/api/workshops/${id}/dashboard`, `/api/workshops/${id}/results.csv`, `/api/workshops/${id}/events`]) {
      expect(await errorOf(await get(address, bob)), address).toEqual({ status: 404, error: missing });
    }
    const actions: Array<[string, unknown]> = [
      [`/api/workshops/${id}/message`, { message: 'Free pizza at evil.example' }],
      [`/api/workshops/${id}/extend`, { minutes: 480 }],
      [`/api/workshops/${id}/learners/${ada.id}/reset`, { lab: 'first-pod' }],
      [`/api/workshops/${id}/instructors`, { instructor: 'Bob Instructor' }],
      [`/api/workshops/${id}/end`, {}],
    ];
    for (const [address, body] of actions) expect(await errorOf(await post(address, bob, body)), address).toEqual({ status: 404, error: missing });
    expect(((await (await get('/api/workshops', bob)).json()) as { workshops: unknown[] }).workshops).toEqual([]);
    expect((await get(`/instructor/workshops/${id}`, bob)).status).toBe(404);

    const seen = (await (await get(`/api/workshops/${id}`, alice)).json()) as { message: string | null; endedAt: string | null; endsAt: string; instructors: Array<{ name: string }> };
    expect(seen).toMatchObject({ message: null, endedAt: null, instructors: [{ name: 'Alice Instructor' }] });
    expect(Date.parse(seen.endsAt) - Date.now()).toBeLessThan(3_700_000);
  });

  it('refuses another instructor the learner’s terminal over WebSocket', async () => {
    const address = `/api/workshops/${workshop.id}/learners/${ada.id}/terminal?lab=first-pod`;
    expect(await upgradeStatus(address, bob)).toBe(404);
    // The owner gets past ownership: Ada has not started the lab, so there is no terminal yet.
    expect(await upgradeStatus(address, alice)).toBe(409);
  });

  it('lets the owner add a co-instructor, who may then run it; admins run every workshop', async () => {
    const cleo = await signIn('Cleo Instructor', 'instructor');
    const root = await signIn('Rita Admin', 'admin');
    expect((await get(`/api/workshops/${workshop.id}`, cleo)).status).toBe(404);
    const added = await post(`/api/workshops/${workshop.id}/instructors`, alice, { instructor: 'cleo instructor' });
    expect(added.status).toBe(200);
    expect(((await added.json()) as { instructors: Array<{ name: string; owner: boolean }> }).instructors).toEqual([
      { id: alice.id, name: 'Alice Instructor', owner: true },
      { id: cleo.id, name: 'Cleo Instructor', owner: false },
    ]);
    expect((await get(`/api/workshops/${workshop.id}/dashboard`, cleo)).status).toBe(200);
    expect((await get(`/instructor/workshops/${workshop.id}`, cleo)).status).toBe(200);
    expect(await errorOf(await post(`/api/workshops/${workshop.id}/instructors`, cleo, { instructor: 'Bob Instructor' }))).toEqual({
      status: 403,
      error: 'only the instructor who created the workshop adds instructors to it',
    });
    expect((await get(`/api/workshops/${workshop.id}`, root)).status).toBe(200);
    expect(await upgradeStatus(`/api/workshops/${workshop.id}/learners/${ada.id}/terminal?lab=first-pod`, root)).toBe(409);
  });
});

describe('request bodies', () => {
  let irene: Visitor;

  beforeAll(async () => {
    irene = await signIn('Irene Bodies', 'instructor');
  });

  it('refuses a body over the limit with 413 naming the limit, on workshop and page API routes alike', async () => {
    const huge = JSON.stringify({ ...plan(), title: 'x'.repeat(64 * 1024) });
    for (const address of ['/api/workshops', '/api/progress', '/api/labs/first-pod/check']) {
      expect(await errorOf(await post(address, irene, huge)), address).toEqual({
        status: 413,
        error: 'the request body is larger than this endpoint takes: at most 16 KiB (16384 bytes)',
      });
    }
  });

  it.each(['/api/workshops', '/api/progress'])('holds a body sent to %s without a length to the route’s limit', async (address) => {
    // 256 KiB in 4 KiB chunks: within the portal's outer limit for any address (1 MiB), over the route's.
    const chunk = new TextEncoder().encode(`{"title": "${'y'.repeat(4096)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent > 64) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await fetch(portal.url + address, {
      method: 'POST',
      headers: { cookie: irene.cookie, origin: portal.url, 'x-csrf-token': irene.csrf, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    expect(await errorOf(response)).toEqual({ status: 413, error: 'the request body is larger than this endpoint takes: at most 16 KiB (16384 bytes)' });
  });

  it('answers a malformed body with 400, and a wrong field with 400 naming it (zod’s path)', async () => {
    expect(await errorOf(await post('/api/workshops', irene, '{"title": '))).toMatchObject({ status: 400, error: expect.stringMatching(/^the request body is not JSON: /) });
    expect(await errorOf(await post('/api/workshops', irene, { ...plan(), seats: 'many' }))).toEqual({
      status: 400,
      error: 'seats: a whole number of seats, e.g. 30',
      field: 'seats',
      issues: [{ field: 'seats', message: 'a whole number of seats, e.g. 30' }],
    });
    expect(await errorOf(await post('/api/workshops', irene, { ...plan(), labs: ['first-pod', 'Bad Lab'] }))).toMatchObject({
      status: 400,
      error: 'labs.1: lab ids are lower-case letters, digits and dashes',
      field: 'labs.1',
    });
    expect(await errorOf(await post('/api/progress', irene, { path: 'container-basics', lesson: 'images', status: 'done' }))).toMatchObject({
      status: 400,
      error: 'status: must be "completed" or "viewed"',
      field: 'status',
    });
    expect(await errorOf(await post('/api/labs/first-pod/check', irene, { session: 42 }))).toMatchObject({ status: 400, field: 'session' });
    expect(await errorOf(await post('/api/workshops', irene, 'title=x', { 'content-type': 'text/plain' }))).toMatchObject({
      status: 415,
      error: 'send the request body as JSON (content-type: application/json), not text/plain',
    });
    const role = await fetch(`${portal.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: portal.url },
      body: JSON.stringify({ name: 'Mallory', role: 'root' }),
    });
    expect(await errorOf(role)).toMatchObject({ status: 400, error: 'role: must be one of learner, instructor, admin', field: 'role' });
  });
});
