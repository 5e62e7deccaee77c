-- slotcron history database, schema version 2: state of the scheduler daemon.
--
-- Applied by rusqlite_migration inside one transaction at `Store::open`. Never edit this
-- file once released: add 0003_*.sql. Same conventions as 0001: STRICT tables, INTEGER
-- unix-millisecond timestamps (UTC).

-- Per-job state set by `slotcron enable/disable/reset JOB`, kept across daemon restarts.
-- A row exists only while at least one of the two settings is set.
CREATE TABLE job_controls (
    job              TEXT    PRIMARY KEY NOT NULL REFERENCES jobs (name),
    -- 1/0 overrides the job file's `enabled:`; NULL follows the file.
    enabled_override INTEGER CHECK (enabled_override IN (0, 1)),
    -- Runs started before this instant no longer count towards the circuit breaker.
    breaker_reset_at INTEGER,
    updated_at       INTEGER NOT NULL
) STRICT;

-- Small key/value state of the daemon (the boot id for `@reboot`, ...).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL CHECK (length(key) > 0),
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- What happened that is not a run: a start deferred under memory pressure, a breaker
-- trip, a reload error, crash recovery. `job` is free text (a reload error may name a job
-- that never loaded), so it has no foreign key; `run_id`, when set, is a run.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    kind    TEXT    NOT NULL CHECK (length(kind) > 0),
    job     TEXT,
    run_id  INTEGER REFERENCES runs (id),
    message TEXT    NOT NULL
) STRICT;

-- Job summaries at daemon start: a job's newest success (the end of its failure streak)
-- and its last successes' memory peaks, for 10,000 jobs, without reading their other runs.
CREATE INDEX runs_job_success ON runs (job, id DESC) WHERE status = 'success';
