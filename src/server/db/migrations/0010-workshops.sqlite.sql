-- Instructor-led workshops: the workshop, its seats, and a feed of lab activity that live
-- dashboards follow. Conventions as in 0001-learners.sql; JSON is TEXT.
--
-- SQLite has no LISTEN/NOTIFY: triggers append the learner of every lab change to lab_activity,
-- and src/server/events reads what is new. PostgreSQL notifies instead (0010-workshops.postgres.sql).

CREATE TABLE workshops (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  -- What learners type to join: upper-case letters and digits, unique.
  code TEXT NOT NULL UNIQUE,
  instructor_id TEXT NOT NULL REFERENCES learners (id),
  -- JSON string[]: the labs whose steps make the dashboard's columns, in order.
  labs TEXT NOT NULL,
  -- JSON string[]: the learning paths the workshop follows.
  paths TEXT NOT NULL,
  starts_at TEXT NOT NULL,
  ends_at TEXT NOT NULL,
  seats INTEGER NOT NULL,
  -- Stuck: no progress for this many minutes, or this many failed checks in a row.
  stuck_minutes INTEGER NOT NULL,
  stuck_failures INTEGER NOT NULL,
  -- Warm sandboxes per lab made ready before the start; 0 for none.
  prewarm INTEGER NOT NULL,
  -- The instructor's message to every learner, shown as a banner.
  message TEXT,
  message_at TEXT,
  created_at TEXT NOT NULL,
  ended_at TEXT
);

CREATE TABLE workshop_seats (
  workshop_id TEXT NOT NULL REFERENCES workshops (id) ON DELETE CASCADE,
  learner_id TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
  joined_at TEXT NOT NULL,
  -- Minutes this learner has beyond the workshop's end.
  extra_minutes INTEGER NOT NULL,
  PRIMARY KEY (workshop_id, learner_id)
);

CREATE INDEX workshop_seats_learner ON workshop_seats (learner_id, joined_at);

CREATE TABLE lab_activity (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  learner_id TEXT NOT NULL
);

CREATE TRIGGER lab_activity_check AFTER INSERT ON lab_checks
BEGIN
  INSERT INTO lab_activity (learner_id) SELECT learner_id FROM lab_sessions WHERE id = NEW.lab_session_id;
END;

CREATE TRIGGER lab_activity_session_opened AFTER INSERT ON lab_sessions
BEGIN
  INSERT INTO lab_activity (learner_id) VALUES (NEW.learner_id);
END;

CREATE TRIGGER lab_activity_session_changed AFTER UPDATE ON lab_sessions
BEGIN
  INSERT INTO lab_activity (learner_id) VALUES (NEW.learner_id);
END;
