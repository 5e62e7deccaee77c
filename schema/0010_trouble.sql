-- slotcron history database: the end of each job's newest troubled run, found by one
-- index probe (issue 13 item 2, ADR 0034).
--
-- Applied by rusqlite_migration inside one transaction at `Store::open`. Never edit this
-- file once released.
--
-- A job's health warns for 24 hours after a run that ended failed, timed out, OOM-killed
-- or lost, or that met the OOM killer whatever its status (`stats::health::is_trouble`).
-- The summary query reads `max(finished_at)` of those runs per job; this partial index
-- holds only them, by job and end, so that is one probe per job however long the history.
-- Its WHERE is the query's condition word for word, as SQLite requires to use it.
CREATE INDEX runs_job_trouble ON runs (job, finished_at)
  WHERE status IN ('failed', 'timeout', 'oom_killed', 'lost') OR oom_kills > 0;
