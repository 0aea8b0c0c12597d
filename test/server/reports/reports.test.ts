import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, openDatabase, readMigrations, type Database } from '../../../src/server/db/index.ts';
import { createSessions } from '../../../src/server/auth/index.ts';
import { createTracking, fixedOutlines } from '../../../src/server/tracking/index.ts';
import { createReports, reportCsv } from '../../../src/server/reports/index.ts';
import { DIALECTS, useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';
import { parseCsv } from './rfc4180.ts';

const databases = useTestDatabases();
const { log } = captureLogs();

const outlines = fixedOutlines([
  { id: 'container-basics', title: 'Containers, "basics" and more', lessons: ['images', 'first-pod'] },
  { id: 'cluster-operations', title: 'Cluster operations', lessons: ['rollouts'] },
]);
const HOUR = 3_600_000;
const day = (date: string, hour = 9) => `2025-03-${date}T${String(hour).padStart(2, '0')}:00:00.000Z`;
const replicas = (found: number) => ({ kind: 'field', passed: false, expected: '3', found: String(found), message: `Deployment web has ${found} replicas; this step asks for 3.` });
const exists = { kind: 'exists', passed: true, expected: 'deployment web', found: 'deployment web', message: 'Deployment web exists.' };
const missing = { kind: 'exists', passed: false, expected: 'service web', found: 'nothing', message: 'There is no Service web.' };
const sessions = ['0b0e7a52-3c1d-4a8e-9f1a-2b3c4d5e6f70', '1c1f8b63-4d2e-4b9f-8a2b-3c4d5e6f7081', '2d2f8b63-4d2e-4b9f-8a2b-3c4d5e6f7092', '3e3f8b63-4d2e-4b9f-8a2b-3c4d5e6f70a3'];

describe.each(DIALECTS)('reports on %s', (dialect) => {
  const open: Database[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.close()));
  });

  /**
   * Ada (platform, sre) completes Container basics in an hour on 1 March and its lab on the second try;
   * Grace (platform) starts on 2 March and completes on 5 March; Linus (no group) starts on 3 March
   * and is still at it; Margaret (sre) completes Cluster operations on 10 March.
   */
  async function setUp() {
    const db = openDatabase(await databases.fresh(dialect), log);
    open.push(db);
    await applyMigrations(db, await readMigrations(dialect));
    const signIn = createSessions(db);
    const person = async (name: string, groups: string[]) =>
      groups.length === 0
        ? (await signIn.signIn(name)).learner
        : (await signIn.signInWithProvider({ issuer: 'https://login.example.com', subject: name.toLowerCase(), name, email: null, groups, roles: [], idToken: null })).learner;
    const [ada, grace, linus, margaret] = [await person('Ada', ['platform', 'sre']), await person('Grace', ['platform']), await person('Linus', []), await person('Margaret', ['sre'])];
    const learning = createTracking(db, { outlines }).record;
    const lesson = (learner: { id: string }, path: string, name: string, at: string, completed = true) =>
      learning.record({ kind: completed ? 'lesson.completed' : 'lesson.viewed', learnerId: learner.id, path, lesson: name, at });
    const lab = (learner: { id: string }, session: string) => ({ learnerId: learner.id, lab: 'first-pod', labSession: session });

    await lesson(ada!, 'container-basics', 'images', day('01', 9));
    await learning.record({ kind: 'lab.started', ...lab(ada!, sessions[0]!), at: day('01', 9) });
    await learning.record({ kind: 'check.failed', ...lab(ada!, sessions[0]!), step: 'run', results: [exists, replicas(2)], at: day('01', 9) });
    await learning.record({ kind: 'lab.started', ...lab(ada!, sessions[1]!), at: day('01', 9) });
    await learning.record({ kind: 'hint.shown', ...lab(ada!, sessions[1]!), step: 'run', number: 0, at: day('01', 9) });
    await learning.record({ kind: 'check.passed', ...lab(ada!, sessions[1]!), step: 'run', results: [exists], at: day('01', 10) });
    await learning.record({ kind: 'lab.completed', ...lab(ada!, sessions[1]!), at: day('01', 10) });
    await lesson(ada!, 'container-basics', 'first-pod', day('01', 10));

    await lesson(grace!, 'container-basics', 'images', day('02'), false);
    await learning.record({ kind: 'lab.started', ...lab(grace!, sessions[2]!), at: day('02') });
    await learning.record({ kind: 'check.failed', ...lab(grace!, sessions[2]!), step: 'run', results: [missing, replicas(2)], at: day('02') });
    await learning.record({ kind: 'check.failed', ...lab(grace!, sessions[2]!), step: 'run', results: [exists, replicas(1)], at: day('05') });
    await lesson(grace!, 'container-basics', 'images', day('05'));
    await lesson(grace!, 'container-basics', 'first-pod', day('05'));

    await lesson(linus!, 'container-basics', 'images', day('03'), false);
    await learning.record({ kind: 'lab.started', ...lab(linus!, sessions[3]!), at: day('03') });

    await lesson(margaret!, 'cluster-operations', 'rollouts', day('10'));
    return { db, learning, reports: createReports(db, outlines) };
  }

  it('reports completion by path, with time to complete, over a period and over all time', async () => {
    const { reports } = await setUp();
    expect(await reports.paths({ from: '2025-03-01', to: '2025-03-04' })).toEqual([
      {
        path: 'container-basics',
        title: 'Containers, "basics" and more',
        learnersStarted: 3,
        learnersCompleted: 1,
        stillInProgress: 1,
        completionRate: 0.6667,
        medianTimeToCompleteMs: HOUR,
        p90TimeToCompleteMs: HOUR,
      },
      { path: 'cluster-operations', title: 'Cluster operations', learnersStarted: 0, learnersCompleted: 0, stillInProgress: 0, completionRate: null, medianTimeToCompleteMs: null, p90TimeToCompleteMs: null },
    ]);
    const all = await reports.paths({ from: null, to: null });
    expect(all.find((row) => row.path === 'container-basics')).toMatchObject({ learnersStarted: 3, learnersCompleted: 2, medianTimeToCompleteMs: HOUR, p90TimeToCompleteMs: 72 * HOUR });
    expect(all.find((row) => row.path === 'cluster-operations')).toMatchObject({ learnersStarted: 1, learnersCompleted: 1, completionRate: 1, medianTimeToCompleteMs: 0 });
    // The last day of a period is included, up to its last millisecond.
    expect((await reports.paths({ from: '2025-03-05', to: '2025-03-05' }))[0]).toMatchObject({ learnersStarted: 0, learnersCompleted: 1 });
  });

  it('reports completion by lab: attempts, checks, hints and time spent to complete', async () => {
    const { reports } = await setUp();
    expect(await reports.labs({ from: null, to: null })).toEqual([
      {
        lab: 'first-pod',
        learnersStarted: 3,
        learnersCompleted: 1,
        completionRate: 0.3333,
        attempts: 4,
        checks: 4,
        failedChecks: 3,
        hints: 1,
        solutions: 0,
        medianTimeToCompleteMs: HOUR,
        p90TimeToCompleteMs: HOUR,
      },
    ]);
    expect(await reports.labs({ from: '2025-03-06', to: '2025-03-31' })).toEqual([]);
  });

  it('reports by team from the groups learners have, learners in no group as "no team"', async () => {
    const { reports } = await setUp();
    expect(await reports.teams({ from: null, to: null })).toEqual([
      { team: 'platform', learners: 2, activeLearners: 2, pathsStarted: 2, pathsCompleted: 2, labsStarted: 2, labsCompleted: 1, learnersWithACompletedPath: 2 },
      { team: 'sre', learners: 2, activeLearners: 2, pathsStarted: 2, pathsCompleted: 2, labsStarted: 1, labsCompleted: 1, learnersWithACompletedPath: 2 },
      { team: null, learners: 1, activeLearners: 1, pathsStarted: 1, pathsCompleted: 0, labsStarted: 1, labsCompleted: 0, learnersWithACompletedPath: 0 },
    ]);
    const early = await reports.teams({ from: '2025-03-01', to: '2025-03-01' });
    expect(early.find((row) => row.team === 'sre')).toMatchObject({ learners: 2, activeLearners: 1, pathsCompleted: 1 });
  });

  it('reports the checks that fail most, with the messages learners saw', async () => {
    const { reports } = await setUp();
    expect(await reports.checks({ from: null, to: null })).toEqual([
      {
        lab: 'first-pod',
        step: 'run',
        check: '1:field',
        kind: 'field',
        expected: '3',
        failures: 3,
        stepChecks: 4,
        failureRate: 0.75,
        messages: [
          { message: 'Deployment web has 2 replicas; this step asks for 3.', count: 2 },
          { message: 'Deployment web has 1 replicas; this step asks for 3.', count: 1 },
        ],
      },
      {
        lab: 'first-pod',
        step: 'run',
        check: '0:exists',
        kind: 'exists',
        expected: 'service web',
        failures: 1,
        stepChecks: 4,
        failureRate: 0.25,
        messages: [{ message: 'There is no Service web.', count: 1 }],
      },
    ]);
    const fifth = await reports.checks({ from: '2025-03-05', to: '2025-03-05' });
    expect(fifth.map((check) => [check.check, check.failures, check.stepChecks])).toEqual([['1:field', 1, 1]]);
    expect(await reports.checks({ from: null, to: null, lab: 'another-lab' })).toEqual([]);
    expect(await reports.checks({ from: null, to: null, limit: 1 })).toHaveLength(1);
  });

  it('exports each report as CSV that reads back to the same values', async () => {
    const { reports } = await setUp();
    const rows = await reports.paths({ from: null, to: null });
    const [header, ...records] = parseCsv(reportCsv.paths(rows));
    expect(header).toEqual(['path', 'title', 'learnersStarted', 'learnersCompleted', 'stillInProgress', 'completionRate', 'medianTimeToCompleteMs', 'p90TimeToCompleteMs']);
    expect(records).toEqual(rows.map((row) => Object.values(row).map((value) => (value === null ? '' : String(value)))));
    const teams = parseCsv(reportCsv.teams(await reports.teams({ from: null, to: null })));
    expect(teams.map((row) => row[0])).toEqual(['team', 'platform', 'sre', 'no team']);
    const checks = parseCsv(reportCsv.checks(await reports.checks({ from: null, to: null })));
    expect(checks.slice(1).map((row) => [row[2], row[8], row[9]])).toEqual([
      ['1:field', 'Deployment web has 2 replicas; this step asks for 3.', '2'],
      ['1:field', 'Deployment web has 1 replicas; this step asks for 3.', '1'],
      ['0:exists', 'There is no Service web.', '1'],
    ]);
  });

  it('answers from the summaries: events recorded later show up in the next report', async () => {
    const { reports, learning } = await setUp();
    const before = (await reports.labs({ from: null, to: null }))[0]!;
    const linus = (await learning.events({ limit: 5000 })).find((event) => event.kind === 'lab.started' && event.labSession === sessions[3]);
    await learning.record({ kind: 'check.passed', learnerId: linus!.learnerId, lab: 'first-pod', labSession: sessions[3]!, step: 'run', results: [exists], at: day('03', 11) });
    await learning.record({ kind: 'lab.completed', learnerId: linus!.learnerId, lab: 'first-pod', labSession: sessions[3]!, at: day('03', 11) });
    const after = (await reports.labs({ from: null, to: null }))[0]!;
    expect(after.learnersCompleted).toBe(before.learnersCompleted + 1);
    expect(after).toMatchObject({ medianTimeToCompleteMs: HOUR, p90TimeToCompleteMs: 2 * HOUR });
  });
});
