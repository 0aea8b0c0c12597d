-- The learning record: every learning event a learner caused, appended and never changed, and
-- the summaries derived from it (written in the same transaction as each event, and rebuilt
-- from the events whenever needed), which My learning and the reports read instead of scanning
-- the events. Conventions as in 0001-learners.sql; JSON is TEXT. The .postgres.sql twin differs
-- only in the event sequence and in how the append-only rule is enforced.

CREATE TABLE learning_events (
  -- The order events were recorded in (statement downloads page by it).
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- A random UUID, unique without an index to prove it: an index of random keys slows every append.
  id TEXT NOT NULL,
  learner_id TEXT NOT NULL REFERENCES learners (id),
  -- lesson.viewed | lesson.completed | lab.started | check.passed | check.failed | hint.shown |
  -- solution.shown | lab.completed | lab.ended | path.completed
  kind TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  path TEXT,
  lesson TEXT,
  lab TEXT,
  step TEXT,
  -- The lab attempt (lab_sessions.id), the xAPI registration of lab statements.
  lab_session TEXT,
  workshop TEXT,
  duration_ms BIGINT,
  -- JSON: check results, hint number, end reason.
  detail TEXT,
  -- Events that happen once (a lesson completed, a lab attempt started) carry a key; a second
  -- record of the same thing finds the first instead of appending.
  once_key TEXT
);

-- Only the events that happen once are in it: most events (views, checks) cost it nothing.
CREATE UNIQUE INDEX learning_events_once ON learning_events (once_key) WHERE once_key IS NOT NULL;
CREATE INDEX learning_events_learner ON learning_events (learner_id, seq);

CREATE FUNCTION learning_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'learning_events is append-only: record a new event instead of changing or deleting one';
END;
$$;

CREATE TRIGGER learning_events_append_only BEFORE UPDATE OR DELETE ON learning_events
  FOR EACH ROW EXECUTE FUNCTION learning_events_append_only();

-- TRUNCATE bypasses row triggers.
CREATE TRIGGER learning_events_no_truncate BEFORE TRUNCATE ON learning_events
  FOR EACH STATEMENT EXECUTE FUNCTION learning_events_append_only();

CREATE TABLE learning_lessons (
  learner_id TEXT NOT NULL,
  path TEXT NOT NULL,
  lesson TEXT NOT NULL,
  first_viewed_at TEXT NOT NULL,
  completed_at TEXT,
  views INTEGER NOT NULL,
  PRIMARY KEY (learner_id, path, lesson)
);

CREATE TABLE learning_paths (
  learner_id TEXT NOT NULL,
  path TEXT NOT NULL,
  started_at TEXT NOT NULL,
  last_at TEXT NOT NULL,
  completed_at TEXT,
  time_to_complete_ms BIGINT,
  PRIMARY KEY (learner_id, path)
);

CREATE INDEX learning_paths_path ON learning_paths (path, completed_at);

-- One row per lab attempt (lab session).
CREATE TABLE learning_attempts (
  lab_session TEXT PRIMARY KEY,
  learner_id TEXT NOT NULL,
  lab TEXT NOT NULL,
  started_at TEXT NOT NULL,
  last_at TEXT NOT NULL,
  completed_at TEXT,
  ended_at TEXT,
  checks INTEGER NOT NULL,
  failed_checks INTEGER NOT NULL
);

CREATE INDEX learning_attempts_learner ON learning_attempts (learner_id, lab);

-- One row per learner and lab, over all attempts.
CREATE TABLE learning_labs (
  learner_id TEXT NOT NULL,
  lab TEXT NOT NULL,
  first_started_at TEXT NOT NULL,
  last_at TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  checks INTEGER NOT NULL,
  failed_checks INTEGER NOT NULL,
  hints INTEGER NOT NULL,
  solutions INTEGER NOT NULL,
  -- Start to last event (or completion) of every attempt, added up.
  time_spent_ms BIGINT NOT NULL,
  completed_at TEXT,
  -- time_spent_ms when the lab was first completed.
  time_to_complete_ms BIGINT,
  PRIMARY KEY (learner_id, lab)
);

CREATE INDEX learning_labs_lab ON learning_labs (lab, completed_at);

-- Checks per lab step and UTC day: how often the step's Check ran and failed.
CREATE TABLE learning_step_days (
  lab TEXT NOT NULL,
  step TEXT NOT NULL,
  day TEXT NOT NULL,
  runs INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  PRIMARY KEY (lab, step, day)
);

-- Failed checks per lab step, check (its position, kind and expected value) and message, per day.
CREATE TABLE learning_check_failures (
  lab TEXT NOT NULL,
  step TEXT NOT NULL,
  check_key TEXT NOT NULL,
  kind TEXT NOT NULL,
  expected TEXT NOT NULL,
  message TEXT NOT NULL,
  day TEXT NOT NULL,
  failures INTEGER NOT NULL,
  PRIMARY KEY (lab, step, check_key, message, day)
);

CREATE INDEX learning_check_failures_day ON learning_check_failures (day);

-- A certificate for each completed path; its id is the unguessable part of its address.
CREATE TABLE certificates (
  id TEXT PRIMARY KEY,
  -- Short, printed on the certificate, to look it up by hand.
  code TEXT NOT NULL UNIQUE,
  learner_id TEXT NOT NULL REFERENCES learners (id),
  -- As they were when it was issued: a certificate does not change when content or names do.
  learner_name TEXT NOT NULL,
  path TEXT NOT NULL,
  path_title TEXT NOT NULL,
  issued_at TEXT NOT NULL,
  event_id TEXT NOT NULL,
  revoked_at TEXT,
  revoked_by TEXT,
  revoked_reason TEXT,
  UNIQUE (learner_id, path)
);

-- Lesson progress recorded before this migration becomes the first events of the record.
INSERT INTO learning_events (id, learner_id, kind, occurred_at, path, lesson, once_key)
SELECT 'lesson.viewed/' || learner_id || '/' || path || '/' || lesson, learner_id, 'lesson.viewed', viewed_at, path, lesson, NULL
  FROM lesson_progress WHERE viewed_at IS NOT NULL
 ORDER BY viewed_at;

INSERT INTO learning_events (id, learner_id, kind, occurred_at, path, lesson, once_key)
SELECT 'lesson.completed/' || learner_id || '/' || path || '/' || lesson, learner_id, 'lesson.completed', completed_at, path, lesson,
       'lesson.completed/' || learner_id || '/' || path || '/' || lesson
  FROM lesson_progress WHERE completed_at IS NOT NULL
 ORDER BY completed_at;

INSERT INTO learning_lessons (learner_id, path, lesson, first_viewed_at, completed_at, views)
SELECT learner_id, path, lesson, COALESCE(viewed_at, completed_at), completed_at, CASE WHEN viewed_at IS NULL THEN 0 ELSE 1 END
  FROM lesson_progress WHERE viewed_at IS NOT NULL OR completed_at IS NOT NULL;

INSERT INTO learning_paths (learner_id, path, started_at, last_at)
SELECT learner_id, path, MIN(first_viewed_at), MAX(COALESCE(completed_at, first_viewed_at))
  FROM learning_lessons GROUP BY learner_id, path;
