// Live dashboard figures: two portals on one PostgreSQL (as replicas behind one address), a
// workshop with 100 learners, the instructor's event stream on portal A. Each learner passes both
// steps of a lab, recorded through portal B's database as the lab service records a Check; the
// time is from recording the check to the instructor's stream delivering that learner's new row.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseConfig, type PortalConfig } from '../src/server/config.ts';
import type { Database } from '../src/server/db/index.ts';
import { startPortal, type Portal } from '../src/server/main.ts';
import { SESSION_COOKIE } from '../src/server/auth/index.ts';
import { createTracking, fixedOutlines } from '../src/server/tracking/index.ts';
import { createWorkshopInput, type LearnerRow } from '../src/contracts/index.ts';
import { FIXTURE_LAB, FIXTURE_LAB_YAML } from '../test/support/lab-fixture.ts';
import { startTestPostgres } from '../test/support/postgres.ts';
import { follow } from '../test/support/sse.ts';
import { percentile } from './stats.ts';

const LEARNERS = 100;
const TIMEOUT_MS = 10_000;
const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: lab-host, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: admin, user: {token: t}}]
contexts: [{name: lab-host, context: {cluster: lab-host, user: admin}}]
current-context: lab-host
`;

export default async function dashboardBench(): Promise<Record<string, number>> {
  const postgres = await startTestPostgres();
  const root = await mkdtemp(path.join(tmpdir(), 'formicary-dashboard-bench-'));
  const portals: Portal[] = [];
  const databases: Database[] = [];
  try {
    await mkdir(path.join(root, 'labs', FIXTURE_LAB), { recursive: true });
    await writeFile(path.join(root, 'labs', FIXTURE_LAB, 'lab.yaml'), FIXTURE_LAB_YAML);
    await mkdir(path.join(root, 'src', 'pages'), { recursive: true });
    await writeFile(path.join(root, 'kubeconfig'), KUBECONFIG);
    const config: PortalConfig = {
      ...parseConfig({ DATA_DIR: 'data', PORT: '0', LAB_CLUSTER: 'kubernetes', KUBECONFIG: 'kubeconfig', DATABASE_URL: await postgres.createDatabase() }, root),
      sessionSecret: 'b'.repeat(32),
    };
    const log = pino({ level: 'silent' });
    for (let index = 0; index < 2; index += 1) {
      portals.push(await startPortal(config, { root, site: null, log, shutdownGraceMs: 1_000, configure: (_routes, parts) => void databases.push(parts.db) }));
    }
    const [a, b] = portals as [Portal, Portal];
    const instructor = await a.services.sessions.signIn('Instructor', { roles: ['instructor'] });
    const workshops = a.services.workshops;
    if (!workshops) throw new Error('the portal runs without workshops');
    const workshop = await workshops.create(instructor.learner, createWorkshopInput.parse({
      title: 'Bench workshop',
      labs: [FIXTURE_LAB],
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      seats: LEARNERS,
    }));
    const records = createTracking(databases[1]!, { outlines: fixedOutlines([]) }).labs;
    const learners: Array<{ id: string; name: string; session: string }> = [];
    for (let index = 0; index < LEARNERS; index += 1) {
      const { learner } = await b.services.sessions.signIn(`Learner ${index}`);
      await b.services.workshops!.join(learner, { code: workshop.code });
      const { session } = await records.open({ learnerId: learner.id, lab: FIXTURE_LAB, lessons: [], step: 'create', expiresAt: null });
      learners.push({ id: learner.id, name: learner.name, session: session.id });
    }

    const waiting = new Map<string, { passed: number; resolve: () => void }>();
    const stream = await follow(`${a.url}/api/workshops/${workshop.id}/events`, `${SESSION_COOKIE}=${instructor.token}`, (event) => {
      if (event.event !== 'row') return;
      const { row } = event.data as { row: LearnerRow };
      const wanted = waiting.get(row.learnerId);
      if (wanted && row.passedSteps >= wanted.passed) {
        waiting.delete(row.learnerId);
        wanted.resolve();
      }
    });
    if (stream.status !== 200) throw new Error(`the dashboard stream answered ${stream.status}`);
    // Let the stream deliver the whole grid and the rows of the sessions opened above.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const times: number[] = [];
    const steps = [
      { step: 'create', nextStep: 'change' as string | null, passed: 1 },
      { step: 'change', nextStep: null, passed: 2 },
    ];
    for (const { step, nextStep, passed } of steps) {
      for (const learner of learners) {
        let timer: NodeJS.Timeout | undefined;
        const seen = new Promise<void>((resolve, reject) => {
          waiting.set(learner.id, { passed, resolve });
          timer = setTimeout(() => reject(new Error(`${learner.name}'s row did not arrive within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
        });
        const started = performance.now();
        await records.recordCheck(learner.session, { step, results: [{ kind: 'exists', passed: true, expected: 'x', found: 'x', message: 'ok' }], durationMs: 1, nextStep });
        await seen.finally(() => clearTimeout(timer));
        times.push(performance.now() - started);
      }
    }
    stream.close();
    return {
      dashboard_learners: LEARNERS,
      dashboard_update_ms_p50: percentile(times, 50),
      dashboard_update_ms_p95: percentile(times, 95),
    };
  } finally {
    for (const portal of portals) await portal.stop();
    await postgres.stop();
    await rm(root, { recursive: true, force: true });
  }
}
