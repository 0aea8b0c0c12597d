import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../../src/server/config.ts';
import { myLearningSchema } from '../../src/contracts/index.ts';
import { startPortal, type Portal, type SiteHandler } from '../../src/server/main.ts';
import { PORTAL_OPERATIONS } from '../../src/server/openapi/index.ts';
import { checkReport, labReport, pathReport, teamReport } from '../../src/server/reports/index.ts';
import { statementResult } from '../../src/server/xapi/index.ts';
import { captureLogs } from '../support/logs.ts';
import { parseCsv } from '../server/reports/rfc4180.ts';
import { startTestLrs, type TestLrs } from '../server/xapi/test-lrs.ts';
import { buildSite, type BuiltSite } from './site.ts';

// My learning, certificates, reports, the xAPI download and the OpenAPI document, through the
// built site over test/fixtures/portal served by the real portal (startPortal: the gate, the
// access table, CSRF, SQLite), with an LRS inside the test receiving the statements.

const fixture = path.join(import.meta.dirname, '..', 'fixtures', 'portal');
const LRS_USER = { username: 'formicary', password: 'lrs-secret-for-tests' };
const KUBECONFIG = [
  'apiVersion: v1',
  'kind: Config',
  'clusters: [{name: lab-host, cluster: {server: "https://lab-host.example.com:6443"}}]',
  'users: [{name: admin, user: {token: t}}]',
  'contexts: [{name: lab-host, context: {cluster: lab-host, user: admin}}]',
  'current-context: lab-host',
  '',
].join('\n');
const labSession = '0b0e7a52-3c1d-4a8e-9f1a-2b3c4d5e6f70';

let built: BuiltSite;
let dir: string;
let portal: Portal;
let lrs: TestLrs;

interface Visitor {
  cookie: string;
  csrf: string;
  id: string;
}

beforeAll(async () => {
  built = await buildSite(fixture);
  dir = await mkdtemp(path.join(tmpdir(), 'formicary-learning-pages-'));
  await cp(path.join(fixture, 'content'), path.join(dir, 'content'), { recursive: true });
  await cp(path.join(fixture, 'labs'), path.join(dir, 'labs'), { recursive: true });
  await writeFile(path.join(dir, 'kubeconfig'), KUBECONFIG);
  lrs = await startTestLrs(LRS_USER);
  const { handler } = (await import(pathToFileURL(path.join(built.outDir, 'server', 'entry.mjs')).href)) as { handler: SiteHandler };
  const config = {
    ...parseConfig(
      {
        DATA_DIR: 'data',
        PORT: '0',
        LAB_CLUSTER: 'kubernetes',
        KUBECONFIG: 'kubeconfig',
        XAPI_ENDPOINT: lrs.endpoint,
        XAPI_USERNAME: LRS_USER.username,
        XAPI_PASSWORD: LRS_USER.password,
      },
      dir,
    ),
    sessionSecret: 's'.repeat(32),
  };
  portal = await startPortal(config, { root: dir, site: handler, log: captureLogs('warn').log, shutdownGraceMs: 2_000 });
}, 300_000);

afterAll(async () => {
  await portal?.stop();
  await lrs?.stop();
  await built?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function signIn(name: string, role: 'learner' | 'admin' = 'learner'): Promise<Visitor> {
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

async function get(address: string, who?: Visitor) {
  const response = await fetch(portal.url + address, { headers: who ? { cookie: who.cookie } : {}, redirect: 'manual' });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

async function post(address: string, who: Visitor, body: Record<string, string>, form = false) {
  return fetch(portal.url + address, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      cookie: who.cookie,
      origin: portal.url,
      'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      ...(form ? {} : { 'x-csrf-token': who.csrf }),
    },
    body: form ? new URLSearchParams({ ...body, _csrf: who.csrf }).toString() : JSON.stringify(body),
  });
}

function text(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/\s+/g, ' ');
}

/** Waits a bounded time for what the background worker brings about. */
async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('learning through the portal', () => {
  let ada: Visitor;
  let grace: Visitor;
  let admin: Visitor;
  let certificateId: string;
  let certificateCode: string;

  beforeAll(async () => {
    ada = await signIn('Ada Lovelace');
    grace = await signIn('Grace Hopper');
    admin = await signIn('Training Owner', 'admin');
    // Ada does the lab of Container basics, completes both its lessons (the second holds the lab:
    // it completes only once the lab is done), and opens Cluster operations.
    expect((await get('/paths/container-basics/images', ada)).status).toBe(200);
    const learning = portal.services.learning!;
    const lab = { learnerId: ada.id, lab: 'first-pod', labSession, path: 'container-basics', lesson: 'first-pod' };
    const failing = { kind: 'field', passed: false, expected: 'Running', found: 'Pending', message: 'Pod web is Pending; this step asks for Running.' };
    await learning.record.record({ kind: 'lab.started', ...lab, at: '2025-03-01T09:00:00.000Z' });
    await learning.record.record({ kind: 'check.failed', ...lab, step: 'run', results: [failing], at: '2025-03-01T09:10:00.000Z' });
    const early = await post('/api/progress', ada, { path: 'container-basics', lesson: 'first-pod', status: 'completed' });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: string }).error).toBe('lesson: “Your first Pod” completes when you finish its lab (first-pod), and that lab is not done yet');
    await learning.record.record({ kind: 'check.passed', ...lab, step: 'run', results: [{ ...failing, passed: true, found: 'Running', message: 'Pod web is Running.' }], at: '2025-03-01T09:25:00.000Z' });
    await learning.record.record({ kind: 'lab.completed', ...lab, at: '2025-03-01T09:25:00.000Z' });
    for (const lesson of ['images', 'first-pod']) {
      expect((await post('/api/progress', ada, { path: 'container-basics', lesson, status: 'completed' })).status).toBe(200);
    }
    expect((await get('/paths/cluster-operations/rollouts', ada)).status).toBe(200);
    const [certificate] = await learning.record.certificates.forLearner(ada.id);
    certificateId = certificate!.id;
    certificateCode = certificate!.code;
  });

  it('asks an anonymous visitor to sign in for My learning', async () => {
    const { status, headers } = await get('/me');
    expect(status).toBe(303);
    expect(headers.get('location')).toMatch(/^\/signin\?next=%2Fme/);
  });

  it('shows My learning: paths in progress with a progress bar, completed paths with the certificate, labs with time and attempts', async () => {
    const { status, body } = await get('/me', ada);
    expect(status).toBe(200);
    const page = text(body);
    expect(page).toMatch(/Paths in progress Cluster operations 0 of 1 complete/);
    expect(body).toMatch(/role="progressbar" aria-label="Progress in Cluster operations" aria-valuemin="0" aria-valuemax="1" aria-valuenow="0"/);
    expect(page).toMatch(/Completed paths Container basics Completed \d+ \w+ \d{4}/);
    expect(body).toContain(`href="/certificates/${certificateId}"`);
    expect(page).toContain(certificateCode);
    // The lab: completed, 25 minutes spent over one attempt with two checks.
    expect(page).toMatch(/Completed labs Lab Completed Time spent Attempts Checks Hints (Your first Pod|first-pod) 1 March 2025 25 min 1 2 0/);
    expect(body).toContain('href="/api/xapi/statements?download=1&amp;limit=1000"');
    // The header leads there; only admins see the way to the reports.
    expect(body).toMatch(/<a href="\/me" aria-current="page"[^>]*>My learning<\/a>/);
    expect(body).not.toContain('href="/admin/reports"');
  });

  it('shows another learner only their own learning', async () => {
    const page = text((await get('/me', grace)).body);
    expect(page).toContain('Nothing here yet.');
    expect(page).not.toContain('Container basics Completed');
  });

  it('answers My learning as JSON in the documented shape', async () => {
    const response = await get('/api/me/learning', ada);
    const mine = myLearningSchema.parse(JSON.parse(response.body));
    expect(mine.paths.find((path) => path.path === 'container-basics')).toMatchObject({ lessonsCompleted: 2, lessonsTotal: 2, certificate: { id: certificateId } });
    expect(mine.labs).toEqual([expect.objectContaining({ lab: 'first-pod', attempts: 1, checks: 2, failedChecks: 1, timeSpentMs: 25 * 60_000, completedAt: '2025-03-01T09:25:00.000Z' })]);
  });

  describe('certificate verification', () => {
    it('shows anyone signed in who completed which path when, with the code', async () => {
      const { status, body } = await get(`/certificates/${certificateId}`, grace);
      expect(status).toBe(200);
      const page = text(body);
      expect(page).toMatch(/Certificate of completion Ada Lovelace completed the learning path Container basics/);
      expect(page).toMatch(/Completed on \d+ \w+ \d{4}/);
      expect(page).toContain(`Verification code ${certificateCode}`);
      expect(page).toContain('Valid: issued by Formicary');
      expect(page).toContain(`${portal.url}/certificates/${certificateId}`);
    });

    it('is not shown to someone who is not signed in', async () => {
      const { status, headers } = await get(`/certificates/${certificateId}`);
      expect(status).toBe(303);
      expect(headers.get('location')).toMatch(/^\/signin/);
    });

    it('says so for an address that names no certificate', async () => {
      const { status, body } = await get('/certificates/AAAAAAAAAAAAAAAAAAAAAA', grace);
      expect(status).toBe(404);
      expect(text(body)).toContain('No such certificate');
    });

    it('finds a certificate by the code as typed', async () => {
      const found = await get(`/certificates?code=${encodeURIComponent(certificateCode.toLowerCase().replace(/-/g, ' '))}`, grace);
      expect(found.status).toBe(303);
      expect(found.headers.get('location')).toBe(`/certificates/${certificateId}`);
      const missing = await get('/certificates?code=ZZZZ-ZZZZ-ZZZZ', grace);
      expect(missing.status).toBe(404);
      expect(text(missing.body)).toContain('No certificate has the code ZZZZ-ZZZZ-ZZZZ');
    });
  });

  describe('reports', () => {
    it('are for admins only', async () => {
      expect((await get('/api/reports/paths', ada)).status).toBe(403);
      expect((await get('/admin/reports', ada)).status).toBe(403);
      expect((await get('/api/reports/paths')).status).toBe(401);
    });

    it('answer completion by path, lab and team, and the failing checks, as documented', async () => {
      const paths = pathReport.parse(JSON.parse((await get('/api/reports/paths', admin)).body));
      expect(paths.paths.find((row) => row.path === 'container-basics')).toMatchObject({ learnersStarted: 1, learnersCompleted: 1, completionRate: 1 });
      expect(paths.paths.find((row) => row.path === 'cluster-operations')).toMatchObject({ learnersStarted: 1, learnersCompleted: 0, stillInProgress: 1 });
      const labs = labReport.parse(JSON.parse((await get('/api/reports/labs?from=2025-03-01&to=2025-03-01', admin)).body));
      expect(labs).toEqual({
        period: { from: '2025-03-01', to: '2025-03-01' },
        labs: [expect.objectContaining({ lab: 'first-pod', learnersStarted: 1, learnersCompleted: 1, medianTimeToCompleteMs: 25 * 60_000 })],
      });
      const teams = teamReport.parse(JSON.parse((await get('/api/reports/teams', admin)).body));
      expect(teams.teams).toEqual([expect.objectContaining({ team: null, learners: 3, activeLearners: 1, pathsCompleted: 1 })]);
      const checks = checkReport.parse(JSON.parse((await get('/api/reports/checks', admin)).body));
      expect(checks.checks).toEqual([
        expect.objectContaining({ lab: 'first-pod', step: 'run', failures: 1, stepChecks: 2, messages: [{ message: 'Pod web is Pending; this step asks for Running.', count: 1 }] }),
      ]);
    });

    it('export CSV that parses back (RFC 4180)', async () => {
      const response = await get('/api/reports/paths?format=csv&from=2025-01-01', admin);
      expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="formicary-paths-2025-01-01-to-today.csv"');
      const [header, ...rows] = parseCsv(response.body);
      expect(header).toEqual(['path', 'title', 'learnersStarted', 'learnersCompleted', 'stillInProgress', 'completionRate', 'medianTimeToCompleteMs', 'p90TimeToCompleteMs']);
      expect(rows.map((row) => row.slice(0, 4))).toContainEqual(['container-basics', 'Container basics', '1', '1']);
      const checks = parseCsv((await get('/api/reports/checks?format=csv', admin)).body);
      expect(checks[1]).toContain('Pod web is Pending; this step asks for Running.');
    });

    it('name the parameter that is wrong', async () => {
      const response = await get('/api/reports/paths?from=March', admin);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toEqual({ error: 'from: must be a date as YYYY-MM-DD, such as 2025-03-01' });
      expect(JSON.parse((await get('/api/reports/paths?from=2025-03-02&to=2025-03-01', admin)).body)).toEqual({ error: 'to: must not be before from' });
    });

    it('show on the admin page with CSV links for the period', async () => {
      const { status, body } = await get('/admin/reports?from=2025-03-01', admin);
      expect(status).toBe(200);
      const page = text(body);
      expect(page).toMatch(/Completion by path CSV .*Container basics 1 1 0 100 %/);
      expect(page).toMatch(/Checks that fail most CSV .*step run ?, check 0:field \(expects Running ?\): failed 1 of 2 Checks \(50 %\) 1× Pod web is Pending/);
      expect(page).toMatch(/Completion by team CSV .*no team 3 1/);
      expect(body).toContain('href="/api/reports/paths?from=2025-03-01&amp;format=csv"');
      expect(body).toMatch(/<a href="\/admin\/reports" aria-current="page"[^>]*>Reports<\/a>/);
    });
  });

  describe('xAPI', () => {
    it('sends statements of what learners did to the LRS, valid, with activity ids under the portal’s address', async () => {
      await eventually(() => lrs.statements.some((statement) => statement.verb.display?.['en-US'] === 'passed' && 'id' in statement.object && statement.object.id === `${portal.url}/labs/first-pod`), 'the lab’s passed statement');
      expect(lrs.problems).toEqual([]);
      const ofAda = lrs.statements.filter((statement) => 'account' in statement.actor && statement.actor.account?.name === ada.id);
      expect(ofAda[0]!.actor).toEqual({ objectType: 'Agent', name: 'Ada Lovelace', account: { homePage: portal.url, name: ada.id } });
      const objects = new Set(ofAda.map((statement) => ('id' in statement.object ? statement.object.id : '')));
      expect(objects).toContain(`${portal.url}/paths/container-basics`);
      expect(objects).toContain(`${portal.url}/paths/container-basics/first-pod`);
      expect(objects).toContain(`${portal.url}/labs/first-pod/steps/run`);
    });

    it('lets a learner download their own statements, the same the LRS got, and an admin anyone’s', async () => {
      await eventually(async () => (await portal.services.learning!.outboxStatus())?.pending === 0, 'the outbox to empty');
      const own = await get('/api/xapi/statements', ada);
      expect(own.headers.get('x-experience-api-version')).toBe('1.0.3');
      const page = statementResult.parse(JSON.parse(own.body));
      const sent = new Map(lrs.statements.map((statement) => [statement.id, statement]));
      expect(page.statements.length).toBeGreaterThan(5);
      for (const statement of page.statements) expect(sent.get(statement.id)).toEqual(statement);
      expect(page.more).toBe('');

      const first = statementResult.parse(JSON.parse((await get('/api/xapi/statements?limit=2', ada)).body));
      expect(first.more).toMatch(/^\/api\/xapi\/statements\?limit=2&after=\d+$/);
      const second = statementResult.parse(JSON.parse((await get(first.more, ada)).body));
      expect(second.statements[0]?.id).not.toBe(first.statements[0]?.id);

      expect((await get(`/api/xapi/statements?learner=${ada.id}`, grace)).status).toBe(403);
      const graceOwn = statementResult.parse(JSON.parse((await get('/api/xapi/statements', grace)).body));
      expect(graceOwn.statements).toEqual([]);
      const byAdmin = statementResult.parse(JSON.parse((await get(`/api/xapi/statements?learner=${ada.id}`, admin)).body));
      expect(byAdmin.statements.map((statement) => statement.id)).toEqual(page.statements.map((statement) => statement.id));
      expect((await get('/api/xapi/statements?download=1', ada)).headers.get('content-disposition')).toBe(`attachment; filename="formicary-statements-${ada.id}.json"`);
    });
  });

  describe('the JSON API document', () => {
    it('is OpenAPI 3.1 and describes every operation, with who may call it', async () => {
      const response = await get('/api/openapi.json');
      expect(response.status).toBe(200);
      const document = JSON.parse(response.body) as { openapi: string; paths: Record<string, Record<string, { 'x-formicary-access': string; security: unknown[]; responses: Record<string, unknown> }>> };
      expect(document.openapi).toBe('3.1.0');
      for (const operation of PORTAL_OPERATIONS) {
        const described = document.paths[operation.path]?.[operation.method];
        expect(described, `${operation.method} ${operation.path}`).toBeDefined();
        expect(described!['x-formicary-access']).toBe(operation.access);
        expect(described!.security).toEqual(operation.access === 'public' ? [] : [operation.method === 'get' ? { session: [] } : { session: [], csrf: [] }]);
      }
      expect(Object.keys(document.paths['/api/reports/paths']!.get!.responses)).toEqual(['200', '400', '401', '403']);
    });

    it('matches what the portal answers: every GET without parameters in the path, called as an admin', async () => {
      // Event streams stay open; test/server/workshops/portals.test.ts follows them.
      for (const operation of PORTAL_OPERATIONS.filter((candidate) => candidate.method === 'get' && !candidate.path.includes('{') && !candidate.responses[200]?.stream)) {
        const query = operation.path === '/api/search' ? '?q=pod' : '';
        const response = await get(operation.path + query, admin);
        const documented = operation.responses[response.status]?.schema;
        expect(documented, `${operation.path} answered ${response.status}: ${response.body.slice(0, 200)}`).toBeDefined();
        const parsed = (documented as z.ZodType).safeParse(JSON.parse(response.body));
        expect(parsed.success, `${operation.path}: ${parsed.error?.message}`).toBe(true);
      }
    });
  });

  describe('revoking a certificate', () => {
    it('is refused to a learner, and done by an admin; the verification page then says so', async () => {
      const refused = await post(`/api/reports/certificates/${certificateId}/revoke`, grace, { reason: 'no' });
      expect(refused.status).toBe(403);
      const listed = await get('/admin/reports/certificates', admin);
      expect(text(listed.body)).toContain(`Ada Lovelace completed Container basics`);
      const revoked = await post(`/api/reports/certificates/${certificateId}/revoke`, admin, { reason: 'Completed on a shared account.' }, true);
      expect(revoked.status).toBe(303);
      expect(revoked.headers.get('location')).toBe(`/admin/reports/certificates#certificate-${certificateId}`);
      const page = text((await get(`/certificates/${certificateId}`, grace)).body);
      expect(page).toMatch(/Status Revoked on \d+ \w+ \d{4}, \d+:\d+ UTC : Completed on a shared account\./);
      expect(page).not.toContain('Valid: issued by Formicary');
      expect((await post('/api/reports/certificates/AAAAAAAAAAAAAAAAAAAAAA/revoke', admin, { reason: '' })).status).toBe(404);
      const withoutToken = await fetch(`${portal.url}/api/reports/certificates/${certificateId}/revoke`, {
        method: 'POST',
        headers: { cookie: admin.cookie, origin: portal.url, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(withoutToken.status).toBe(403);
    });
  });
});
