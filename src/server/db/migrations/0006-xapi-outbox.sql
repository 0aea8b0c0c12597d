-- xAPI statements waiting for the LRS: written in the transaction that records their learning
-- event, sent by a background worker (src/server/xapi/outbox.ts) with retries. Rows stay after
-- delivery with sent_at, as the record of what the LRS was sent. Conventions as in 0001-learners.sql.

CREATE TABLE xapi_outbox (
  statement_id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL,
  learner_id TEXT NOT NULL,
  -- Sending order: the event's sequence number, then the statement's place among the event's.
  event_seq BIGINT NOT NULL,
  position INTEGER NOT NULL,
  -- The statement as JSON, exactly as it is sent.
  statement TEXT NOT NULL,
  created_at TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at TEXT NOT NULL,
  -- A worker that took the row holds it until then; a worker that died lets it go by itself.
  lease_until TEXT,
  sent_at TEXT,
  -- The LRS refused the statement itself (4xx): not sent again.
  rejected_at TEXT,
  last_error TEXT
);

CREATE INDEX xapi_outbox_due ON xapi_outbox (next_attempt_at) WHERE sent_at IS NULL AND rejected_at IS NULL;
CREATE INDEX xapi_outbox_order ON xapi_outbox (event_seq, position) WHERE sent_at IS NULL AND rejected_at IS NULL;
