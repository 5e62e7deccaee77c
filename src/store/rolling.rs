//! The last 24 hours of every job in one query: runs, failures, OOM kills, duration and
//! memory. It reads only the runs started since the given time, through `runs_started_at`
//! (schema 3), so its cost follows the day's runs, not the history's size.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::Row;
use serde::Serialize;

use super::record::{FAILURE_STATUSES_SQL, get_uint, to_ms};
use super::{Store, StoreError};

/// One job's runs started in a period (skipped ones left out; running ones counted in
/// `runs` only, having no figures yet). All zero / `None` when nothing ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rolling {
    /// Runs started (not skipped), running ones included.
    pub runs: u32,
    /// Runs that ended failed, timeout, oom_killed or lost.
    pub failures: u32,
    /// Runs that met the OOM killer: ended `oom_killed`, or recorded an `oom_kill` of one
    /// of their processes while the run itself went on.
    pub oom_kills: u32,
    /// Mean wall time of the finished runs, ms.
    pub duration_avg_ms: Option<f64>,
    /// Longest wall time, ms.
    pub duration_max_ms: Option<u64>,
    /// Highest memory peak, bytes.
    pub memory_peak_max_bytes: Option<u64>,
}

impl Store {
    /// The figures of every job that started a run at or after `since`, by name; jobs with
    /// no such run are absent.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn rolling(&self, since: DateTime<Utc>) -> Result<HashMap<String, Rolling>, StoreError> {
        const OP: &str = "summing the last day's runs";
        let failures = &*FAILURE_STATUSES_SQL;
        let sql = format!(
            "SELECT job, count(*) AS runs, \
               sum(status IN {failures}) AS failures, \
               sum(status = 'oom_killed' OR coalesce(oom_kills, 0) > 0) AS oom_kills, \
               avg(duration_ms) AS duration_avg_ms, max(duration_ms) AS duration_max_ms, \
               max(memory_peak_bytes) AS memory_peak_max_bytes \
             FROM runs INDEXED BY runs_started_at \
             WHERE started_at >= ?1 AND status <> 'skipped' GROUP BY job"
        );
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map([to_ms(since)], |row| {
                Ok((row.get("job")?, rolling_from_row(row)?))
            })
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }
}

fn rolling_from_row(row: &Row<'_>) -> rusqlite::Result<Rolling> {
    Ok(Rolling {
        runs: get_uint(row, "runs")?.unwrap_or(0),
        failures: get_uint(row, "failures")?.unwrap_or(0),
        oom_kills: get_uint(row, "oom_kills")?.unwrap_or(0),
        duration_avg_ms: row.get("duration_avg_ms")?,
        duration_max_ms: get_uint(row, "duration_max_ms")?,
        memory_peak_max_bytes: get_uint(row, "memory_peak_max_bytes")?,
    })
}
