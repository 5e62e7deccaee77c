-- slotcron history database, schema version 5: baselines and the 24-hour figures.
--
-- Applied by rusqlite_migration inside one transaction at `Store::open`. Never edit this
-- file once released: add 0006_*.sql. Same conventions as 0001: STRICT tables, INTEGER
-- unix-millisecond timestamps (UTC).

-- One row per job: what its normal successful run costs, from its newest `runs`
-- successful runs (the setting `baseline_runs`), with medians and MADs (robust to a few
-- runaway runs). Recomputed by the daemon after every 10th success since `newest_run_id`
-- and by `slotcron recalculate-baselines`. No row: fewer than `baseline_runs` successes.
CREATE TABLE baselines (
    job                 TEXT    PRIMARY KEY NOT NULL REFERENCES jobs (name),
    runs                INTEGER NOT NULL CHECK (runs >= 1),
    -- The newest run of the window; successes after it count towards the next computation.
    newest_run_id       INTEGER NOT NULL,
    duration_median_ms  REAL    NOT NULL CHECK (duration_median_ms >= 0),
    duration_p95_ms     REAL    NOT NULL CHECK (duration_p95_ms >= 0),
    duration_mad_ms     REAL    NOT NULL CHECK (duration_mad_ms >= 0),
    -- NULL when no run of the window recorded the figure.
    memory_median_bytes REAL    CHECK (memory_median_bytes >= 0),
    memory_max_bytes    INTEGER CHECK (memory_max_bytes >= 0),
    memory_mad_bytes    REAL    CHECK (memory_mad_bytes >= 0),
    cpu_median_usec     REAL    CHECK (cpu_median_usec >= 0),
    computed_at         INTEGER NOT NULL
) STRICT;

-- The 24-hour figures of every job read the runs started since a time through
-- `runs_started_at` (schema 3).
