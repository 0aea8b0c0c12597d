-- Learners (AUTH=dev signs in by name), their sessions and their lesson progress.
--
-- Conventions for every migration here, so one file serves SQLite and PostgreSQL:
-- ids are TEXT (random UUIDs made by the portal); timestamps are TEXT in ISO-8601 UTC with
-- milliseconds (`2025-01-31T09:30:00.000Z`), made by the portal, so they sort and compare as text
-- in both databases; no booleans, no serial columns, no database-side defaults that differ.
-- A migration that cannot be written this way comes as NNNN-name.sqlite.sql + NNNN-name.postgres.sql.

CREATE TABLE learners (
  id TEXT PRIMARY KEY,
  -- The sign-in key: the display name trimmed, spaces collapsed, lower-cased.
  name TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE sessions (
  -- SHA-256 of the cookie's token, hex: a leaked table signs nobody in.
  token_hash TEXT PRIMARY KEY,
  learner_id TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

CREATE INDEX sessions_learner ON sessions (learner_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE lesson_progress (
  learner_id TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  lesson TEXT NOT NULL,
  viewed_at TEXT,
  completed_at TEXT,
  PRIMARY KEY (learner_id, path, lesson)
);
