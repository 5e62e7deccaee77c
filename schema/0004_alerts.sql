-- slotcron history database: alerts (issue 4). Numbered 0004 although it follows 0002 on
-- its branch: 0003 (baselines) comes from another branch and is ordered before it when
-- both are merged.
--
-- Applied by rusqlite_migration inside one transaction at `Store::open`. Never edit this
-- file once released. Same conventions as 0001: STRICT tables, INTEGER unix-millisecond
-- timestamps (UTC).

-- One row per alert. While `resolved_at` is NULL the alert is open, and there is at most
-- one open alert per (job, kind): a repeat raises `count` and `last_at` on it, a worse
-- severity escalates it (`severity`, `escalated_at`). Acknowledging sets
-- `acknowledged_at` and keeps it open (silenced) until it resolves.
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    job             TEXT    NOT NULL REFERENCES jobs (name),
    kind            TEXT    NOT NULL CHECK (kind IN ('failure', 'timeout', 'oom_kill',
                        'high_memory', 'high_duration', 'consecutive_failures', 'anomaly',
                        'overdue', 'slot_saturated')),
    severity        TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'error',
                        'critical')),
    -- The newest finding's words.
    message         TEXT    NOT NULL,
    count           INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
    -- The run that opened it and the newest run that repeated it; NULL for an alert that
    -- is about no run (`overdue`).
    first_run_id    INTEGER REFERENCES runs (id),
    last_run_id     INTEGER REFERENCES runs (id),
    opened_at       INTEGER NOT NULL,
    last_at         INTEGER NOT NULL,
    escalated_at    INTEGER,
    acknowledged_at INTEGER,
    resolved_at     INTEGER,
    CHECK (last_at >= opened_at)
) STRICT;

-- The one open alert of a job and kind: enforced, and found in one probe by `raise`.
CREATE UNIQUE INDEX alerts_open ON alerts (job, kind) WHERE resolved_at IS NULL;
