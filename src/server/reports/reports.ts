// Reports for training owners, read from the summaries the learning record keeps up to date
// (one row per learner and path, per learner and lab, per lab step and day, per failing check
// message and day), never from the event table itself: their cost grows with learners and labs,
// not with the number of events recorded.

import { z } from 'zod';
import type { Database } from '../db/index.ts';
import type { PathOutlines } from '../tracking/index.ts';
import type { FailingCheckRow, LabCompletionRow, PathCompletionRow, Period, TeamCompletionRow } from '../../contracts/index.ts';

export interface Reports {
  /** Completion by path: started, completed, still in progress, time to complete. Every path of the content is listed. */
  paths(period: Period): Promise<PathCompletionRow[]>;
  labs(period: Period): Promise<LabCompletionRow[]>;
  /** By team (the identity provider's groups); learners in no group form the team null. */
  teams(period: Period): Promise<TeamCompletionRow[]>;
  /** The checks that fail most, with what learners were told. */
  checks(period: Period & { lab?: string; limit?: number }): Promise<FailingCheckRow[]>;
}

const MESSAGES_PER_CHECK = 5;
const n = z.coerce.number();
const pathCounts = z.object({ path: z.string(), started: n, started_completed: n, completed: n });
const msRow = z.object({ ms: n });
const labCounts = z.object({ lab: z.string(), started: n, started_completed: n, completed: n, attempts: n, checks: n, failed_checks: n, hints: n, solutions: n });
const teamCounts = z.object({
  team: z.string().nullable(),
  learners: n,
  active: n,
  paths_started: n,
  paths_completed: n,
  labs_started: n,
  labs_completed: n,
  completing: n,
});
const messageCounts = z.object({ lab: z.string(), step: z.string(), check_key: z.string(), kind: z.string(), expected: z.string(), message: z.string(), failures: n });
const stepCounts = z.object({ lab: z.string(), step: z.string(), runs: n, failures: n });

/** A period of whole days as [from, until) timestamps and days; open ends reach past any value. */
function bounds(period: Period) {
  const fromDay = period.from ?? '0000-01-01';
  const toDay = period.to ?? '9999-12-31';
  const until = period.to ? new Date(Date.parse(`${period.to}T00:00:00.000Z`) + 86_400_000).toISOString() : '9999-12-31T23:59:59.999Z';
  return { since: `${fromDay}T00:00:00.000Z`, until, fromDay, toDay };
}

const rate = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);

/** The nearest rank (1-based) of the p-th percentile of n values: ⌈p·n/100⌉. */
const rankOf = (p: number, count: number) => Math.max(1, Math.ceil((p * count) / 100));

export function createReports(db: Database, outlines: PathOutlines): Reports {
  /**
   * The median and 90th percentile of time to complete, per path or lab, over the completions in
   * the period (`completed` of them): each a step into the (key, time) index, not a sort.
   */
  const times = async (table: 'learning_paths' | 'learning_labs', key: 'path' | 'lab', completed: ReadonlyMap<string, number>, since: string, until: string) => {
    const at = async (id: string, rank: number) =>
      (
        await db.one(
          msRow,
          `SELECT time_to_complete_ms AS ms FROM ${table}
            WHERE ${key} = $1 AND completed_at >= $2 AND completed_at < $3 AND time_to_complete_ms IS NOT NULL
            ORDER BY time_to_complete_ms LIMIT 1 OFFSET $4`,
          [id, since, until, rank - 1],
        )
      )?.ms ?? null;
    const found = new Map<string, { median: number | null; p90: number | null }>();
    for (const [id, count] of completed) {
      if (count > 0) found.set(id, { median: await at(id, rankOf(50, count)), p90: await at(id, rankOf(90, count)) });
    }
    return found;
  };

  return {
    async paths(period) {
      const { since, until } = bounds(period);
      const [counts, known] = await Promise.all([
        db.all(
          pathCounts,
          `SELECT path,
                  SUM(CASE WHEN started_at >= $1 AND started_at < $2 THEN 1 ELSE 0 END) AS started,
                  SUM(CASE WHEN started_at >= $1 AND started_at < $2 AND completed_at IS NOT NULL THEN 1 ELSE 0 END) AS started_completed,
                  SUM(CASE WHEN completed_at >= $1 AND completed_at < $2 THEN 1 ELSE 0 END) AS completed
             FROM learning_paths
            GROUP BY path`,
          [since, until],
        ),
        outlines.all(),
      ]);
      const spans = await times('learning_paths', 'path', new Map(counts.map((row) => [row.path, row.completed])), since, until);
      const byPath = new Map(counts.map((row) => [row.path, row]));
      const titles = new Map(known.map((outline) => [outline.id, outline.title]));
      const ids = [...new Set([...known.map((outline) => outline.id), ...counts.filter((row) => row.started + row.completed > 0).map((row) => row.path)])];
      return ids.map((path): PathCompletionRow => {
        const row = byPath.get(path);
        const started = row?.started ?? 0;
        const startedCompleted = row?.started_completed ?? 0;
        return {
          path,
          title: titles.get(path) ?? path,
          learnersStarted: started,
          learnersCompleted: row?.completed ?? 0,
          stillInProgress: started - startedCompleted,
          completionRate: rate(startedCompleted, started),
          medianTimeToCompleteMs: spans.get(path)?.median ?? null,
          p90TimeToCompleteMs: spans.get(path)?.p90 ?? null,
        };
      });
    },

    async labs(period) {
      const { since, until } = bounds(period);
      const counts = await db.all(
        labCounts,
        `SELECT lab,
                SUM(CASE WHEN first_started_at >= $1 AND first_started_at < $2 THEN 1 ELSE 0 END) AS started,
                SUM(CASE WHEN first_started_at >= $1 AND first_started_at < $2 AND completed_at IS NOT NULL THEN 1 ELSE 0 END) AS started_completed,
                SUM(CASE WHEN completed_at >= $1 AND completed_at < $2 THEN 1 ELSE 0 END) AS completed,
                SUM(CASE WHEN first_started_at >= $1 AND first_started_at < $2 THEN attempts ELSE 0 END) AS attempts,
                SUM(CASE WHEN first_started_at >= $1 AND first_started_at < $2 THEN checks ELSE 0 END) AS checks,
                SUM(CASE WHEN first_started_at >= $1 AND first_started_at < $2 THEN failed_checks ELSE 0 END) AS failed_checks,
                SUM(CASE WHEN first_started_at >= $1 AND first_started_at < $2 THEN hints ELSE 0 END) AS hints,
                SUM(CASE WHEN first_started_at >= $1 AND first_started_at < $2 THEN solutions ELSE 0 END) AS solutions
           FROM learning_labs
          GROUP BY lab
          ORDER BY lab`,
        [since, until],
      );
      const spans = await times('learning_labs', 'lab', new Map(counts.map((row) => [row.lab, row.completed])), since, until);
      return counts
        .filter((row) => row.started + row.completed > 0)
        .map(
          (row): LabCompletionRow => ({
            lab: row.lab,
            learnersStarted: row.started,
            learnersCompleted: row.completed,
            completionRate: rate(row.started_completed, row.started),
            attempts: row.attempts,
            checks: row.checks,
            failedChecks: row.failed_checks,
            hints: row.hints,
            solutions: row.solutions,
            medianTimeToCompleteMs: spans.get(row.lab)?.median ?? null,
            p90TimeToCompleteMs: spans.get(row.lab)?.p90 ?? null,
          }),
        );
    },

    async teams(period) {
      const { since, until } = bounds(period);
      // Each group a learner is in is a team they count in; a learner in none is in "no team".
      const members =
        db.dialect === 'postgres'
          ? `SELECT l.id AS learner_id, t.team FROM learners l LEFT JOIN LATERAL jsonb_array_elements_text(l.member_of::jsonb) AS t(team) ON true`
          : `SELECT l.id AS learner_id, t.value AS team FROM learners l LEFT JOIN json_each(l.member_of) AS t ON 1`;
      const rows = await db.all(
        teamCounts,
        `WITH members AS (${members}),
              paths AS (
                SELECT learner_id,
                       SUM(CASE WHEN started_at >= $1 AND started_at < $2 THEN 1 ELSE 0 END) AS started,
                       SUM(CASE WHEN completed_at >= $1 AND completed_at < $2 THEN 1 ELSE 0 END) AS completed
                  FROM learning_paths GROUP BY learner_id),
              labs AS (
                SELECT learner_id,
                       SUM(CASE WHEN first_started_at >= $1 AND first_started_at < $2 THEN 1 ELSE 0 END) AS started,
                       SUM(CASE WHEN completed_at >= $1 AND completed_at < $2 THEN 1 ELSE 0 END) AS completed
                  FROM learning_labs GROUP BY learner_id)
         SELECT m.team AS team,
                COUNT(*) AS learners,
                SUM(CASE WHEN COALESCE(p.started, 0) + COALESCE(b.started, 0) > 0 THEN 1 ELSE 0 END) AS active,
                COALESCE(SUM(p.started), 0) AS paths_started,
                COALESCE(SUM(p.completed), 0) AS paths_completed,
                COALESCE(SUM(b.started), 0) AS labs_started,
                COALESCE(SUM(b.completed), 0) AS labs_completed,
                SUM(CASE WHEN COALESCE(p.completed, 0) > 0 THEN 1 ELSE 0 END) AS completing
           FROM members m
           LEFT JOIN paths p ON p.learner_id = m.learner_id
           LEFT JOIN labs b ON b.learner_id = m.learner_id
          GROUP BY m.team`,
        [since, until],
      );
      return rows
        .map(
          (row): TeamCompletionRow => ({
            team: row.team,
            learners: row.learners,
            activeLearners: row.active,
            pathsStarted: row.paths_started,
            pathsCompleted: row.paths_completed,
            labsStarted: row.labs_started,
            labsCompleted: row.labs_completed,
            learnersWithACompletedPath: row.completing,
          }),
        )
        .sort((a, b) => (a.team === null ? 1 : b.team === null ? -1 : a.team.localeCompare(b.team)));
    },

    async checks(period) {
      const { fromDay, toDay } = bounds(period);
      const params: (string | number)[] = [fromDay, toDay];
      const labFilter = period.lab ? ` AND lab = $${params.push(period.lab)}` : '';
      const [messages, steps] = await Promise.all([
        db.all(
          messageCounts,
          `SELECT lab, step, check_key, MAX(kind) AS kind, MAX(expected) AS expected, message, SUM(failures) AS failures
             FROM learning_check_failures
            WHERE day >= $1 AND day <= $2${labFilter}
            GROUP BY lab, step, check_key, message`,
          params,
        ),
        db.all(
          stepCounts,
          `SELECT lab, step, SUM(runs) AS runs, SUM(failures) AS failures FROM learning_step_days
            WHERE day >= $1 AND day <= $2${labFilter}
            GROUP BY lab, step`,
          params,
        ),
      ]);
      const runsOf = new Map(steps.map((row) => [`${row.lab}\u0000${row.step}`, row]));
      const byCheck = new Map<string, FailingCheckRow>();
      for (const row of messages) {
        const key = `${row.lab}\u0000${row.step}\u0000${row.check_key}`;
        let check = byCheck.get(key);
        if (!check) {
          check = { lab: row.lab, step: row.step, check: row.check_key, kind: row.kind, expected: row.expected, failures: 0, stepChecks: 0, failureRate: null, messages: [] };
          byCheck.set(key, check);
        }
        check.failures += row.failures;
        check.messages.push({ message: row.message, count: row.failures });
      }
      const checks = [...byCheck.values()];
      for (const check of checks) {
        // A Check that fails two checks of a step counts for each; a check fails at most once per Check.
        check.stepChecks = runsOf.get(`${check.lab}\u0000${check.step}`)?.runs ?? 0;
        check.failureRate = rate(check.failures, check.stepChecks);
        check.messages = check.messages.sort((a, b) => b.count - a.count || a.message.localeCompare(b.message)).slice(0, MESSAGES_PER_CHECK);
      }
      return checks
        .sort((a, b) => b.failures - a.failures || a.lab.localeCompare(b.lab) || a.step.localeCompare(b.step) || a.check.localeCompare(b.check))
        .slice(0, period.limit ?? 50);
    },
  };
}
