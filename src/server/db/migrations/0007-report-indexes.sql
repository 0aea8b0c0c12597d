-- Indexes the reports read instead of the summary tables themselves (src/server/reports): one
-- per report holding every column it counts, and one per duration in order, so the median and
-- the 90th percentile are a step into the index rather than a sort.

DROP INDEX learning_paths_path;
DROP INDEX learning_labs_lab;

CREATE INDEX learning_paths_report ON learning_paths (path, started_at, completed_at);
CREATE INDEX learning_paths_times ON learning_paths (path, time_to_complete_ms, completed_at);
CREATE INDEX learning_labs_report ON learning_labs (lab, first_started_at, completed_at, attempts, checks, failed_checks, hints, solutions);
CREATE INDEX learning_labs_times ON learning_labs (lab, time_to_complete_ms, completed_at);
