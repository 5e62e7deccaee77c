-- slotcron history database, schema version 6: alerts judged by effect size (ADR 0031).
--
-- Applied by rusqlite_migration inside one transaction at `Store::open`. Never edit this
-- file once released: add 0007_*.sql. Same conventions as 0001: STRICT tables, INTEGER
-- unix-millisecond timestamps (UTC).

-- `alerts` gains three kinds (`degraded`, `too_fast`, `too_small`), the evidence of its
-- newest finding and a count of reopenings. SQLite cannot change a CHECK in place, so the
-- table is rebuilt; no other table refers to it.
CREATE TABLE alerts_v6 (
    id              INTEGER PRIMARY KEY,
    job             TEXT    NOT NULL REFERENCES jobs (name),
    kind            TEXT    NOT NULL CHECK (kind IN ('failure', 'timeout', 'oom_kill',
                        'high_memory', 'high_duration', 'consecutive_failures', 'anomaly',
                        'degraded', 'too_fast', 'too_small', 'overdue', 'slot_saturated')),
    severity        TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'error',
                        'critical')),
    message         TEXT    NOT NULL,
    -- The newest finding's evidence (`stats::effect::Evidence`) as a JSON array; NULL for
    -- kinds that are not judged against a baseline.
    evidence        TEXT    CHECK (evidence IS NULL OR json_valid(evidence)),
    count           INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
    -- How many times it was raised again within `alerting.flap_window` of being resolved,
    -- and so reopened (same episode, no new notification) instead of opening a new alert.
    reopened        INTEGER NOT NULL DEFAULT 0 CHECK (reopened >= 0),
    first_run_id    INTEGER REFERENCES runs (id),
    last_run_id     INTEGER REFERENCES runs (id),
    opened_at       INTEGER NOT NULL,
    last_at         INTEGER NOT NULL,
    escalated_at    INTEGER,
    acknowledged_at INTEGER,
    resolved_at     INTEGER,
    CHECK (last_at >= opened_at)
) STRICT;

INSERT INTO alerts_v6 (id, job, kind, severity, message, count, first_run_id, last_run_id,
        opened_at, last_at, escalated_at, acknowledged_at, resolved_at)
    SELECT id, job, kind, severity, message, count, first_run_id, last_run_id, opened_at,
        last_at, escalated_at, acknowledged_at, resolved_at
    FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_v6 RENAME TO alerts;

CREATE UNIQUE INDEX alerts_open ON alerts (job, kind) WHERE resolved_at IS NULL;
-- The newest resolved alert of a job and kind, for the flapping rule (`Store::raise`).
CREATE INDEX alerts_resolved ON alerts (job, kind, resolved_at) WHERE resolved_at IS NOT NULL;

-- Baselines gain the spreads the alert rules judge by (robust standard deviations of the
-- logarithm of duration and memory peak) and the hold of ADR 0031: `checked_run_id` is
-- the newest success at the last check, `held` says the check kept the baseline because
-- the newest window was not settled. Rows from schema 5 have no spread: they are due for
-- recomputation at the job's next success and judge nothing until then.
ALTER TABLE baselines ADD COLUMN duration_spread REAL CHECK (duration_spread >= 0);
ALTER TABLE baselines ADD COLUMN memory_spread REAL CHECK (memory_spread >= 0);
ALTER TABLE baselines ADD COLUMN checked_run_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE baselines ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1));
UPDATE baselines SET checked_run_id = newest_run_id;

-- `slotcron recalculate-baselines JOB` on a job with an open performance alert restarts
-- its baseline at the run that opened it: successes before this run id never count.
ALTER TABLE job_controls ADD COLUMN baseline_since_run_id INTEGER;
