// The summaries, derived again from the events alone, set-wise: for a summary whose derivation
// changed (a migration can call this), for events imported in bulk, and as the proof that the
// summaries are a function of the record (the tests compare the result with what recording kept).
// Events are taken to have been recorded in the order they happened, as record() receives them.
// Certificates are not summaries: they are issued once and keep their ids.

import type { Dialect, Queryable } from '../db/index.ts';

/** Milliseconds from one ISO 8601 text column to another. */
function msBetween(dialect: Dialect, from: string, to: string): string {
  return dialect === 'postgres'
    ? `(EXTRACT(EPOCH FROM (${to}::timestamptz - ${from}::timestamptz)) * 1000)::bigint`
    : `CAST(ROUND((julianday(${to}) - julianday(${from})) * 86400000) AS INTEGER)`;
}

/** Every failed check of every check.failed event: lab, step, check key, kind, expected, message, day. */
function failedChecks(dialect: Dialect): string {
  return dialect === 'postgres'
    ? `SELECT e.lab, e.step, (j.position - 1)::text || ':' || (j.value ->> 'kind') AS check_key, j.value ->> 'kind' AS kind,
              substr(j.value ->> 'expected', 1, 500) AS expected, substr(j.value ->> 'message', 1, 500) AS message, substr(e.occurred_at, 1, 10) AS day
         FROM learning_events e
        CROSS JOIN LATERAL jsonb_array_elements(e.detail::jsonb -> 'results') WITH ORDINALITY AS j(value, position)
        WHERE e.kind = 'check.failed' AND (j.value ->> 'passed')::boolean = false`
    : `SELECT e.lab, e.step, j.key || ':' || json_extract(j.value, '$.kind') AS check_key, json_extract(j.value, '$.kind') AS kind,
              substr(json_extract(j.value, '$.expected'), 1, 500) AS expected, substr(json_extract(j.value, '$.message'), 1, 500) AS message, substr(e.occurred_at, 1, 10) AS day
         FROM learning_events e, json_each(e.detail, '$.results') AS j
        WHERE e.kind = 'check.failed' AND json_extract(j.value, '$.passed') = 0`;
}

/** In one transaction: empties every summary and fills it again from learning_events. */
export async function rebuildSummaries(tx: Queryable): Promise<void> {
  const { dialect } = tx;
  for (const table of ['learning_lessons', 'learning_paths', 'learning_attempts', 'learning_labs', 'learning_step_days', 'learning_check_failures']) {
    await tx.run(`DELETE FROM ${table}`);
  }

  await tx.run(
    `INSERT INTO learning_lessons (learner_id, path, lesson, first_viewed_at, completed_at, views)
     SELECT learner_id, path, lesson, MIN(occurred_at),
            MIN(CASE WHEN kind = 'lesson.completed' THEN occurred_at END),
            SUM(CASE WHEN kind = 'lesson.viewed' THEN 1 ELSE 0 END)
       FROM learning_events WHERE kind IN ('lesson.viewed', 'lesson.completed')
      GROUP BY learner_id, path, lesson`,
  );

  await tx.run(
    `INSERT INTO learning_paths (learner_id, path, started_at, last_at)
     SELECT learner_id, path, MIN(occurred_at), MAX(occurred_at)
       FROM learning_events WHERE kind IN ('lesson.viewed', 'lesson.completed')
      GROUP BY learner_id, path`,
  );
  await tx.run(
    `UPDATE learning_paths SET completed_at = done.occurred_at, time_to_complete_ms = done.duration_ms
       FROM learning_events done
      WHERE done.kind = 'path.completed' AND done.learner_id = learning_paths.learner_id AND done.path = learning_paths.path`,
  );

  // An attempt's time stops at its completion: events recorded after it do not lengthen it.
  await tx.run(
    `INSERT INTO learning_attempts (lab_session, learner_id, lab, started_at, last_at, completed_at, ended_at, checks, failed_checks)
     SELECT e.lab_session, MIN(e.learner_id), MIN(e.lab), MIN(e.occurred_at),
            MAX(CASE WHEN done.seq IS NULL OR e.seq <= done.seq THEN e.occurred_at END),
            MIN(done.occurred_at),
            MIN(CASE WHEN e.kind = 'lab.ended' THEN e.occurred_at END),
            SUM(CASE WHEN e.kind IN ('check.passed', 'check.failed') THEN 1 ELSE 0 END),
            SUM(CASE WHEN e.kind = 'check.failed' THEN 1 ELSE 0 END)
       FROM learning_events e
       LEFT JOIN learning_events done ON done.lab_session = e.lab_session AND done.kind = 'lab.completed'
      WHERE e.lab_session IS NOT NULL
      GROUP BY e.lab_session`,
  );

  await tx.run(
    `INSERT INTO learning_labs (learner_id, lab, first_started_at, last_at, attempts, checks, failed_checks, hints, solutions, time_spent_ms, completed_at)
     SELECT a.learner_id, a.lab, MIN(a.started_at), MAX(r.last_at), COUNT(*), SUM(a.checks), SUM(a.failed_checks), MAX(r.hints), MAX(r.solutions),
            SUM(${msBetween(dialect, 'a.started_at', 'a.last_at')}), MIN(a.completed_at)
       FROM learning_attempts a
       JOIN (SELECT learner_id, lab, MAX(occurred_at) AS last_at,
                    SUM(CASE WHEN kind = 'hint.shown' THEN 1 ELSE 0 END) AS hints,
                    SUM(CASE WHEN kind = 'solution.shown' THEN 1 ELSE 0 END) AS solutions
               FROM learning_events WHERE lab_session IS NOT NULL
              GROUP BY learner_id, lab) r ON r.learner_id = a.learner_id AND r.lab = a.lab
      GROUP BY a.learner_id, a.lab`,
  );
  // Time to complete: the time spent in every attempt begun by the first completion.
  await tx.run(
    `UPDATE learning_labs SET time_to_complete_ms = (
       SELECT SUM(${msBetween(dialect, 'a.started_at', 'a.last_at')}) FROM learning_attempts a
        WHERE a.learner_id = learning_labs.learner_id AND a.lab = learning_labs.lab AND a.started_at <= learning_labs.completed_at)
      WHERE completed_at IS NOT NULL`,
  );

  await tx.run(
    `INSERT INTO learning_step_days (lab, step, day, runs, failures)
     SELECT lab, step, substr(occurred_at, 1, 10), COUNT(*), SUM(CASE WHEN kind = 'check.failed' THEN 1 ELSE 0 END)
       FROM learning_events WHERE kind IN ('check.passed', 'check.failed')
      GROUP BY lab, step, substr(occurred_at, 1, 10)`,
  );

  await tx.run(
    `INSERT INTO learning_check_failures (lab, step, check_key, kind, expected, message, day, failures)
     SELECT lab, step, check_key, MAX(kind), MAX(expected), message, day, COUNT(*)
       FROM (${failedChecks(dialect)}) failed
      GROUP BY lab, step, check_key, message, day`,
  );
}
