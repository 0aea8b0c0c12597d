// Report figures: 1,000,000 learning events from ~16,000 generated learners (paths of lessons,
// labs with failing and passing checks, hints, solutions, teams from groups). The first 20,000
// go through record() one by one (the portal's path; `report_record_events_per_s`), the rest are
// imported in bulk, then the summaries are derived again from all events and paths completed —
// the same summaries recording keeps (test/server/learning/record.test.ts compares them). Each
// report is then timed: a warm-up, then the median of five runs. `report_ms` is the completion
// report by path over all time. REPORT_BENCH_DATABASES=sqlite,postgres chooses the databases
// (default sqlite; PostgreSQL is a throwaway server, as the tests use, its figures prefixed
// postgres_); REPORT_BENCH_EVENTS changes the million.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DatabaseConfig } from '../src/server/config.ts';
import { applyMigrations, openDatabase, readMigrations, type Database } from '../src/server/db/index.ts';
import { createTracking, fixedOutlines, type LearningEventInput, type PathOutline } from '../src/server/tracking/index.ts';
import { createLogger } from '../src/server/log.ts';
import { createReports, type Period } from '../src/server/reports/index.ts';
import { startTestPostgres } from '../test/support/postgres.ts';
import { percentile, round, time } from './stats.ts';

const TARGET_EVENTS = Number(process.env.REPORT_BENCH_EVENTS ?? 1_000_000);
const RECORDED_ONE_BY_ONE = Math.min(20_000, TARGET_EVENTS);
const BATCH = 10_000;
const TEAMS = Array.from({ length: 25 }, (_, index) => `team-${String(index + 1).padStart(2, '0')}`);
const YEAR_START = Date.parse('2025-01-01T00:00:00.000Z');
const DAY = 86_400_000;

/** mulberry32: the same learners every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface LabShape {
  id: string;
  steps: string[];
}

const PATHS: PathOutline[] = Array.from({ length: 6 }, (_, p) => ({
  id: `path-${p + 1}`,
  title: `Path ${p + 1}`,
  lessons: Array.from({ length: 5 + (p % 4) }, (_, l) => `lesson-${l + 1}`),
}));
const LABS: LabShape[] = Array.from({ length: 15 }, (_, index) => ({ id: `lab-${index + 1}`, steps: Array.from({ length: 3 + (index % 3) }, (_, s) => `step-${s + 1}`) }));
/** Every other lesson opens a lab. */
const labOf = (pathIndex: number, lessonIndex: number): LabShape | null => (lessonIndex % 2 === 1 ? (LABS[(pathIndex * 3 + lessonIndex) % LABS.length] ?? null) : null);

function uuid(next: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** One learner's learning, in time order. */
function learnerEvents(learnerId: string, next: () => number): LearningEventInput[] {
  const events: LearningEventInput[] = [];
  let clock = YEAR_START + Math.floor(next() * 300) * DAY + Math.floor(next() * DAY);
  const step = (minutes: number) => (clock += Math.floor((0.5 + next()) * minutes * 60_000));
  const at = () => new Date(clock).toISOString();
  const pathCount = 1 + Math.floor(next() * 3);
  for (let chosen = 0; chosen < pathCount; chosen += 1) {
    const pathIndex = Math.floor(next() * PATHS.length);
    const outline = PATHS[pathIndex]!;
    for (const [lessonIndex, lesson] of outline.lessons.entries()) {
      if (next() < 0.08) break;
      for (let views = 1 + Math.floor(next() * 2); views > 0; views -= 1) {
        events.push({ kind: 'lesson.viewed', learnerId, path: outline.id, lesson, at: at() });
        step(6);
      }
      const lab = labOf(pathIndex, lessonIndex);
      if (lab) {
        const labSession = uuid(next);
        const common = { learnerId, lab: lab.id, labSession, path: outline.id, lesson };
        const started = clock;
        events.push({ kind: 'lab.started', ...common, at: at() });
        let finished = true;
        for (const [stepIndex, stepId] of lab.steps.entries()) {
          let passed = false;
          for (let tries = 0; tries < 4 && !passed; tries += 1) {
            step(4);
            passed = next() < 0.6;
            const found = 1 + Math.floor(next() * 3);
            const results = [
              { kind: 'exists', passed: true, expected: `deployment web-${stepIndex}`, found: `deployment web-${stepIndex}`, message: 'Deployment exists.' },
              passed
                ? { kind: 'field', passed: true, expected: '3', found: '3', message: 'Deployment has 3 replicas.' }
                : { kind: 'field', passed: false, expected: '3', found: String(found), message: `Deployment web-${stepIndex} has ${found} replicas; this step asks for 3.` },
            ];
            events.push({ kind: passed ? 'check.passed' : 'check.failed', ...common, step: stepId, results, durationMs: 150 + Math.floor(next() * 400), at: at() });
            if (!passed && tries === 1) events.push({ kind: 'hint.shown', ...common, step: stepId, number: 0, at: at() });
            if (!passed && tries === 2) events.push({ kind: 'solution.shown', ...common, step: stepId, at: at() });
          }
          if (!passed) {
            finished = false;
            break;
          }
        }
        if (finished) events.push({ kind: 'lab.completed', ...common, durationMs: clock - started, at: at() });
        step(2);
        events.push({ kind: 'lab.ended', ...common, reason: finished ? 'ended' : 'expired', durationMs: clock - started, at: at() });
      }
      step(3);
      events.push({ kind: 'lesson.completed', learnerId, path: outline.id, lesson, at: at() });
      step(60 * 24 * next());
    }
  }
  return events;
}

async function insertLearners(db: Database, count: number, next: () => number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, index) => `learner-${String(index).padStart(6, '0')}`);
  await db.transaction(async (tx) => {
    for (const id of ids) {
      const groups = next() < 0.1 ? [] : [...new Set([TEAMS[Math.floor(next() * TEAMS.length)]!, ...(next() < 0.3 ? [TEAMS[Math.floor(next() * TEAMS.length)]!] : [])])];
      await tx.run('INSERT INTO learners (id, name, display_name, created_at, member_of) VALUES ($1, $2, $3, $4, $5)', [id, id, id, new Date(YEAR_START).toISOString(), JSON.stringify(groups)]);
    }
  });
  return ids;
}

async function benchOn(config: DatabaseConfig, prefix: string): Promise<Record<string, number>> {
  const log = createLogger({ level: 'silent' });
  const db = openDatabase(config, log);
  try {
    await applyMigrations(db, await readMigrations(db.dialect));
    const next = random(20250301);
    const learnerIds = await insertLearners(db, Math.ceil(TARGET_EVENTS / 60), next);
    const learning = createTracking(db, { outlines: fixedOutlines(PATHS) }).record;

    let generated = 0;
    let learners = 0;
    let pending: LearningEventInput[] = [];
    let recorded = 0;
    let recordSeconds = 0;
    let importSeconds = 0;
    const flush = async () => {
      let index = 0;
      const recording = performance.now();
      for (; index < pending.length && recorded < RECORDED_ONE_BY_ONE; index += 1, recorded += 1) await learning.record(pending[index]);
      recordSeconds += (performance.now() - recording) / 1000;
      const importing = performance.now();
      if (index < pending.length) await learning.importEvents(pending.slice(index));
      importSeconds += (performance.now() - importing) / 1000;
      pending = [];
    };
    for (const learnerId of learnerIds) {
      if (generated >= TARGET_EVENTS) break;
      learners += 1;
      const events = learnerEvents(learnerId, next).slice(0, TARGET_EVENTS - generated);
      pending.push(...events);
      generated += events.length;
      if (pending.length >= BATCH) await flush();
      if (generated % 100_000 < events.length) process.stderr.write(`  ${prefix || 'sqlite'}: ${generated} events\n`);
    }
    await flush();
    const derived = performance.now();
    await learning.rebuildSummaries();
    const rebuildSeconds = (performance.now() - derived) / 1000;
    const completing = performance.now();
    const completions = await learning.completePaths();
    const completeSeconds = (performance.now() - completing) / 1000;
    // After a bulk load PostgreSQL has neither statistics nor a visibility map until autovacuum
    // comes round; a running portal's database has both, so the reports are timed with them.
    if (db.dialect === 'postgres') await db.exec('VACUUM ANALYZE');

    const reports = createReports(db, fixedOutlines(PATHS));
    const all: Period = { from: null, to: null };
    const quarter: Period = { from: '2025-04-01', to: '2025-06-30' };
    const timed = async (run: () => Promise<unknown>) => {
      await run();
      const samples: number[] = [];
      for (let index = 0; index < 5; index += 1) samples.push(await time(run));
      return percentile(samples, 50);
    };
    const figures = {
      [`${prefix}report_events`]: generated,
      [`${prefix}report_learners`]: learners,
      [`${prefix}report_record_events_per_s`]: Math.round(recorded / recordSeconds),
      [`${prefix}report_import_events_per_s`]: importSeconds > 0 ? Math.round((generated - RECORDED_ONE_BY_ONE) / importSeconds) : 0,
      [`${prefix}report_rebuild_s`]: rebuildSeconds,
      [`${prefix}report_complete_paths_s`]: completeSeconds,
      [`${prefix}report_paths_completed`]: completions.length,
      [`${prefix}report_ms`]: await timed(() => reports.paths(all)),
      [`${prefix}report_paths_quarter_ms`]: await timed(() => reports.paths(quarter)),
      [`${prefix}report_labs_ms`]: await timed(() => reports.labs(all)),
      [`${prefix}report_teams_ms`]: await timed(() => reports.teams(all)),
      [`${prefix}report_checks_ms`]: await timed(() => reports.checks(all)),
      [`${prefix}report_my_learning_ms`]: await timed(() => learning.myLearning(learnerIds[0]!)),
    };
    return Object.fromEntries(Object.entries(figures).map(([name, value]) => [name, round(value)]));
  } finally {
    await db.close();
  }
}

export default async function reportBench(): Promise<Record<string, number>> {
  const databases = (process.env.REPORT_BENCH_DATABASES ?? 'sqlite').split(',').map((name) => name.trim());
  const figures: Record<string, number> = {};
  if (databases.includes('sqlite')) {
    const dir = await mkdtemp(path.join(tmpdir(), 'formicary-report-bench-'));
    try {
      Object.assign(figures, await benchOn({ kind: 'sqlite', file: path.join(dir, 'report.db') }, ''));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (databases.includes('postgres')) {
    const postgres = await startTestPostgres();
    try {
      Object.assign(figures, await benchOn({ kind: 'postgres', url: await postgres.createDatabase() }, 'postgres_'));
    } finally {
      await postgres.stop();
    }
  }
  return figures;
}
