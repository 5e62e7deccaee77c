-- slotcron history database, schema version 1.
--
-- Applied by rusqlite_migration inside one transaction at `Store::open`; the version is
-- kept in `PRAGMA user_version`. Never edit this file once released: add 0002_*.sql.
--
-- Timestamps are INTEGER unix milliseconds (UTC). Unsigned figures are stored as INTEGER
-- and are never negative (CHECKs below).

-- Marks the file as a slotcron database ('slot' in ASCII), so another application's
-- SQLite file is refused instead of being migrated.
PRAGMA application_id = 1936486260;

-- One row per job ever loaded from a job file. A job whose file vanished keeps its row
-- with `removed_at` set, so its runs keep a name to point at.
CREATE TABLE jobs (
    name          TEXT    PRIMARY KEY NOT NULL CHECK (length(name) > 0),
    file          TEXT    NOT NULL,
    slot          TEXT    NOT NULL,
    schedule      TEXT    NOT NULL,
    enabled       INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    definition    TEXT    NOT NULL CHECK (json_valid(definition)),
    first_seen_at INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    removed_at    INTEGER
) STRICT;

-- One row per run: inserted as 'running' (or directly 'skipped'), completed once.
CREATE TABLE runs (
    id                 INTEGER PRIMARY KEY,
    job                TEXT    NOT NULL REFERENCES jobs (name),
    slot               TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('running', 'success', 'failed',
                           'timeout', 'oom_killed', 'killed', 'lost', 'skipped')),
    trigger            TEXT    NOT NULL CHECK (length(trigger) > 0),
    attempt            INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    retry_of           INTEGER REFERENCES runs (id),
    pid                INTEGER CHECK (pid >= 0),
    cgroup             TEXT,
    log_path           TEXT,
    queued_at          INTEGER,
    started_at         INTEGER NOT NULL,
    finished_at        INTEGER,
    duration_ms        INTEGER CHECK (duration_ms >= 0),
    exit_code          INTEGER,
    signal             INTEGER,
    memory_peak_bytes  INTEGER CHECK (memory_peak_bytes >= 0),
    memory_limit_bytes INTEGER CHECK (memory_limit_bytes >= 0),
    cpu_usage_usec     INTEGER CHECK (cpu_usage_usec >= 0),
    cpu_user_usec      INTEGER CHECK (cpu_user_usec >= 0),
    cpu_system_usec    INTEGER CHECK (cpu_system_usec >= 0),
    cpu_throttled_usec INTEGER CHECK (cpu_throttled_usec >= 0),
    oom_kills          INTEGER CHECK (oom_kills >= 0),
    pids_peak          INTEGER CHECK (pids_peak >= 0),
    enforcement        TEXT    NOT NULL CHECK (enforcement IN ('cgroup', 'none')),
    error              TEXT,
    -- A finished run has its end time; a running one has none.
    CHECK ((status = 'running') = (finished_at IS NULL))
) STRICT;

-- `slotcron history <job>`: newest runs of one job.
CREATE INDEX runs_job_id ON runs (job, id DESC);
-- Crash recovery: the few runs still marked running, out of a million.
CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
