-- slotcron history database, schema version: retention.
--
-- Runs older than `retention` are deleted, or moved here when `retention_mode: archive`.
-- The archive has the columns of `runs` and none of its references: a job or a first
-- attempt may be gone from the live tables while its archived runs remain.

CREATE TABLE runs_archive (
    id                 INTEGER PRIMARY KEY,
    job                TEXT    NOT NULL,
    slot               TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    trigger            TEXT    NOT NULL,
    attempt            INTEGER NOT NULL,
    retry_of           INTEGER,
    pid                INTEGER,
    cgroup             TEXT,
    log_path           TEXT,
    queued_at          INTEGER,
    started_at         INTEGER NOT NULL,
    finished_at        INTEGER,
    duration_ms        INTEGER,
    exit_code          INTEGER,
    signal             INTEGER,
    memory_peak_bytes  INTEGER,
    memory_limit_bytes INTEGER,
    cpu_usage_usec     INTEGER,
    cpu_user_usec      INTEGER,
    cpu_system_usec    INTEGER,
    cpu_throttled_usec INTEGER,
    oom_kills          INTEGER,
    pids_peak          INTEGER,
    enforcement        TEXT    NOT NULL,
    error              TEXT,
    archived_at        INTEGER NOT NULL
) STRICT;

-- Pruning finds old runs by start time without reading the whole table.
CREATE INDEX runs_started_at ON runs (started_at);
-- And the events that name them.
CREATE INDEX events_run_id ON events (run_id) WHERE run_id IS NOT NULL;
-- A run's retries, so pruning keeps a first attempt whose retries are kept.
CREATE INDEX runs_retry_of ON runs (retry_of) WHERE retry_of IS NOT NULL;
