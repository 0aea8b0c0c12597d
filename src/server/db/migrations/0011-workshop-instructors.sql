-- Who runs a workshop besides its creator (workshops.instructor_id, the owner): co-instructors
-- the owner added. Owner and co-instructors see and act on the workshop; other instructors do
-- not (admins see every workshop). Conventions as in 0001-learners.sql.

CREATE TABLE workshop_instructors (
  workshop_id TEXT NOT NULL REFERENCES workshops (id) ON DELETE CASCADE,
  learner_id TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
  added_at TEXT NOT NULL,
  PRIMARY KEY (workshop_id, learner_id)
);

CREATE INDEX workshop_instructors_learner ON workshop_instructors (learner_id);
