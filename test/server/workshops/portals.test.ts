// Two portal processes on one PostgreSQL behave as one: the workshop API over HTTP on either (the
// site's API routes, built over test/fixtures/portal), and
// a learner's check recorded through one portal updates the instructor's live grid (server-sent
// events) served by the other; the instructor's message reaches a learner following on the other.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type PortalConfig } from '../../../src/server/config.ts';
import type { Database } from '../../../src/server/db/index.ts';
import { startPortal, type Portal, type SiteHandler } from '../../../src/server/main.ts';
import { buildSite, type BuiltSite } from '../../pages/site.ts';
import { SESSION_COOKIE } from '../../../src/server/auth/index.ts';
import { createTracking, fixedOutlines } from '../../../src/server/tracking/index.ts';
import type { Dashboard, LearnerRow } from '../../../src/contracts/index.ts';
import { labProject } from '../../support/lab-fixture.ts';
import { captureLogs } from '../../support/logs.ts';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.ts';
import { follow } from '../../support/sse.ts';

const KUBECONFIG = [
  'apiVersion: v1',
  'kind: Config',
  'clusters: [{name: lab-host, cluster: {server: "https://127.0.0.1:1"}}]',
  'users: [{name: admin, user: {token: t}}]',
  'contexts: [{name: lab-host, context: {cluster: lab-host, user: admin}}]',
  'current-context: lab-host',
  '',
].join('\n');

async function until<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('two portals on one PostgreSQL', () => {
  let postgres: TestPostgres;
  let root: string;
  let built: BuiltSite;
  const portals: Portal[] = [];
  const databases: Database[] = [];

  beforeAll(async () => {
    postgres = await startTestPostgres();
    built = await buildSite(path.join(import.meta.dirname, '..', '..', 'fixtures', 'portal'));
    const { handler } = (await import(pathToFileURL(path.join(built.outDir, 'server', 'entry.mjs')).href)) as { handler: SiteHandler };
    root = await labProject();
    await mkdir(path.join(root, 'src', 'pages'), { recursive: true });
    await writeFile(path.join(root, 'kubeconfig'), KUBECONFIG);
    const url = await postgres.createDatabase();
    const config: PortalConfig = {
      ...parseConfig({ DATA_DIR: 'data', PORT: '0', LAB_CLUSTER: 'kubernetes', KUBECONFIG: 'kubeconfig', DATABASE_URL: url }, root),
      sessionSecret: 's'.repeat(32),
    };
    const { log } = captureLogs();
    for (let index = 0; index < 2; index += 1) {
      portals.push(await startPortal(config, { root, site: handler, log, shutdownGraceMs: 1_000, configure: (_routes, parts) => void databases.push(parts.db) }));
    }
  }, 300_000);

  afterAll(async () => {
    for (const portal of portals) await portal.stop();
    await postgres?.stop();
    await built?.remove();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function signIn(portal: Portal, name: string, roles: Array<'instructor'> = []) {
    const { token, learner } = await portal.services.sessions.signIn(name, { roles });
    const cookie = `${SESSION_COOKIE}=${token}`;
    const post = (on: Portal, address: string, body: unknown) =>
      fetch(`${on.url}${address}`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', origin: on.url, 'x-csrf-token': on.services.auth.csrfToken(token) },
        body: JSON.stringify(body),
      });
    const get = (on: Portal, address: string) => fetch(`${on.url}${address}`, { headers: { cookie } });
    return { learner, cookie, post, get };
  }

  it('a check recorded through one portal updates the instructor’s grid on the other', async () => {
    const [a, b] = portals as [Portal, Portal];
    const irene = await signIn(a, 'Irene', ['instructor']);
    const ada = await signIn(b, 'Ada');
    const grace = await signIn(b, 'Grace');

    const created = await irene.post(a, '/api/workshops', {
      title: 'Kubernetes day',
      labs: ['configure'],
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      seats: 2,
    });
    expect(created.status).toBe(201);
    const workshop = (await created.json()) as { id: string; code: string; joinPath: string };

    // Learners may join, not run workshops; signed-out callers are asked to sign in.
    expect((await ada.get(b, '/api/workshops')).status).toBe(403);
    expect((await fetch(`${b.url}/api/workshops/${workshop.id}/events`)).status).toBe(401);
    expect((await ada.post(b, '/api/workshops', { title: 'mine' })).status).toBe(403);

    expect((await ada.post(b, '/api/workshops/join', { code: workshop.code })).status).toBe(200);
    const wrong = await grace.post(b, '/api/workshops/join', { code: 'NOPE00' });
    expect(wrong.status).toBe(404);
    expect(((await wrong.json()) as { error: string }).error).toContain('there is no workshop with the code NOPE00');

    const grid = await follow(`${a.url}/api/workshops/${workshop.id}/events`, irene.cookie);
    expect(grid.status).toBe(200);
    const first = await until('the whole grid', () => grid.events.find((event) => event.event === 'dashboard'));
    expect((first.data as Dashboard).rows.map((row) => row.name)).toEqual(['Ada']);
    expect((first.data as Dashboard).columns.map((column) => column.step)).toEqual(['create', 'change']);

    // Grace joins through portal B; the instructor's grid on A shows her.
    expect((await grace.post(b, '/api/workshops/join', { code: workshop.code })).status).toBe(200);
    await until('Grace on A’s grid', () => grid.events.some((event) => event.event === 'row' && (event.data as { row: LearnerRow }).row.name === 'Grace'));

    const banner = await follow(`${b.url}/api/workshops/current/events`, grace.cookie);
    await until('Grace’s workshop on B', () => banner.events.find((event) => event.event === 'workshop'));

    // Ada's lab session and check, recorded as the lab service on portal B records them.
    const records = createTracking(databases[1]!, { outlines: fixedOutlines([]) }).labs;
    const { session } = await records.open({ learnerId: ada.learner.id, lab: 'configure', lessons: [], step: 'create', expiresAt: null });
    await records.recordCheck(session.id, {
      step: 'create',
      results: [{ kind: 'exists', passed: true, expected: 'ConfigMap settings', found: 'settings', message: 'ok' }],
      durationMs: 3,
      nextStep: 'change',
    });
    const update = await until('Ada’s passed step on A', () =>
      grid.events.find((event) => event.event === 'row' && (event.data as { row: LearnerRow }).row.name === 'Ada' && (event.data as { row: LearnerRow }).row.cells[0] === 'passed'),
    );
    expect((update.data as { completions: number[] }).completions).toEqual([1, 0]);

    // The instructor's message, posted on A, reaches Grace's banner on B.
    expect((await irene.post(a, `/api/workshops/${workshop.id}/message`, { message: 'Lunch at 12:30' })).status).toBe(200);
    await until('the banner on B', () => banner.events.some((event) => event.event === 'message' && (event.data as { message: string }).message === 'Lunch at 12:30'));

    const csv = await irene.get(b, `/api/workshops/${workshop.id}/results.csv`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const text = await csv.text();
    expect(text.split('\r\n')[1]).toMatch(/^Ada,[^,]+,passed,working,1,2,configure\/change,$/);

    const ended = await irene.post(b, `/api/workshops/${workshop.id}/end`, {});
    expect(((await ended.json()) as { endedAt: string | null }).endedAt).not.toBeNull();
    await until('the end on B', () => banner.events.some((event) => event.event === 'workshop' && (event.data as { workshop: { endedAt: string | null } }).workshop.endedAt !== null));
    const linus = await signIn(a, 'Linus');
    expect((await linus.post(a, '/api/workshops/join', { code: workshop.code })).status).toBe(409);
    grid.close();
    banner.close();
  }, 60_000);
});
