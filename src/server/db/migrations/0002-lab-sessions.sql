-- Lab attempts and what happened in them: one row per lab session (a sandbox a learner worked in),
-- every Check with its results, every hint and solution shown. Conventions as in 0001-learners.sql;
-- flags are INTEGER 0/1, JSON is TEXT.

CREATE TABLE lab_sessions (
  id TEXT PRIMARY KEY,
  learner_id TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
  lab TEXT NOT NULL,
  -- starting | ready | failed | ended
  status TEXT NOT NULL,
  -- While starting: what the sandbox is doing (namespace | workbench | setup).
  phase TEXT,
  -- The sandbox's namespace, once known.
  namespace TEXT,
  -- The step the learner is on (the first step not yet passed).
  step TEXT,
  -- JSON [{"path": …, "lesson": …}]: the lessons that hold this lab, completed with it.
  lessons TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ready_at TEXT,
  expires_at TEXT,
  completed_at TEXT,
  ended_at TEXT,
  -- ended | reset | expired | idle | failed
  end_reason TEXT,
  -- Why starting failed, for the learner.
  detail TEXT
);

CREATE INDEX lab_sessions_learner ON lab_sessions (learner_id, lab, started_at);
-- At most one open session per learner and lab: a second Start finds the first.
CREATE UNIQUE INDEX lab_sessions_open ON lab_sessions (learner_id, lab) WHERE ended_at IS NULL;

CREATE TABLE lab_checks (
  id TEXT PRIMARY KEY,
  lab_session_id TEXT NOT NULL REFERENCES lab_sessions (id) ON DELETE CASCADE,
  step TEXT NOT NULL,
  passed INTEGER NOT NULL,
  -- JSON CheckResult[]: kind, passed, expected, found, message for every check of the step.
  results TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  checked_at TEXT NOT NULL
);

CREATE INDEX lab_checks_session ON lab_checks (lab_session_id, checked_at);

CREATE TABLE lab_reveals (
  lab_session_id TEXT NOT NULL REFERENCES lab_sessions (id) ON DELETE CASCADE,
  step TEXT NOT NULL,
  -- hint | solution
  kind TEXT NOT NULL,
  -- Which hint (0-based); 0 for the solution.
  number INTEGER NOT NULL,
  shown_at TEXT NOT NULL,
  PRIMARY KEY (lab_session_id, step, kind, number)
);
