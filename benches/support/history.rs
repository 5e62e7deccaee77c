//! A year of history for the benchmarks that read it (`history`, `api`): 1,000,000 runs
//! interleaved across the jobs, one every ~31.5 s, written straight into `runs` in one
//! transaction (the store's own writer would take minutes for a million rows).

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

/// Runs written by [`insert_runs`].
pub const RUNS: usize = 1_000_000;
/// A run every ~31.5 s across all jobs: 1,000,000 runs span a year, ~2,700 in a day.
pub const SPACING_MS: i64 = 31_536;

/// Writes [`RUNS`] runs of `names` ending at `now`: 90 % successes, the rest failed,
/// timed out, OOM-killed or lost, each failure with an `error` text; durations and memory
/// peaks vary per job around a fixed base. `seed` makes the mix repeatable.
pub fn insert_runs(db: &Path, names: &[String], now: DateTime<Utc>, seed: u64) {
    let mut conn = Connection::open(db).expect("open");
    let tx = conn.transaction().expect("transaction");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO runs (job, slot, status, trigger, enforcement, started_at, \
                 finished_at, duration_ms, exit_code, memory_peak_bytes, cpu_usage_usec, \
                 oom_kills, error) VALUES (?1, 'default', ?2, 'schedule', 'cgroup', ?3, ?4, ?5, \
                 ?6, ?7, ?8, ?9, ?10)",
            )
            .expect("prepare");
        let mut rng = fastrand::Rng::with_seed(seed);
        let start = now.timestamp_millis() - RUNS as i64 * SPACING_MS;
        for i in 0..RUNS {
            let job = i % names.len();
            let base = 1_000 + (job as u64 * 37) % 60_000;
            let duration = base / 2 + rng.u64(0..base);
            let status = match rng.u32(0..100) {
                0..90 => "success",
                90..96 => "failed",
                96..98 => "timeout",
                98 => "oom_killed",
                _ => "lost",
            };
            let started = start + i as i64 * SPACING_MS;
            insert
                .execute(params![
                    names[job],
                    status,
                    started,
                    started + duration as i64,
                    duration as i64,
                    if status == "success" { 0 } else { 1 },
                    (base * 40_000 + rng.u64(0..1 << 24)) as i64,
                    (duration * 800) as i64,
                    i64::from(status == "oom_killed"),
                    (status != "success").then(|| format!("{status} on purpose")),
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
}
