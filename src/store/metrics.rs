//! What the Prometheus endpoint starts its counters from: per job, slot and status, how
//! many runs history holds, what they used, and how long they took, in one grouped read.
//! The daemon adds to these in memory as runs end (see `metrics`), so its counters
//! continue across restarts instead of starting again from zero.

use chrono::{DateTime, Utc};
use rusqlite::Row;

use super::record::{get_parsed, get_time, get_uint};
use super::{Store, StoreError};
use crate::model::IoStat;
use crate::model::RunStatus;

/// The finished runs of one job in one slot with one status (`running` rows are not
/// counted: they are counted when they end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTotals {
    pub job: String,
    pub slot: String,
    /// Never `running`.
    pub status: RunStatus,
    /// How many runs.
    pub runs: u64,
    /// Sum of their `cpu_usage_usec` (runs without the figure count 0).
    pub cpu_usage_usec: u64,
    /// Sum of their `oom_kills`.
    pub oom_kills: u64,
    /// Sums of their `io.stat` figures (runs without them count 0).
    pub io: IoStat,
    /// The newest `started_at` among them.
    pub last_started_at: Option<DateTime<Utc>>,
    /// The newest `finished_at` among them.
    pub last_finished_at: Option<DateTime<Utc>>,
    /// The id of the newest of them, and its `memory_peak_bytes`.
    pub last_id: i64,
    pub last_memory_peak: Option<u64>,
    /// How many have a `duration_ms`, and its sum.
    pub durations: u64,
    pub duration_ms_sum: u64,
    /// For each bound asked for, in order: how many durations are at most that many ms
    /// (cumulative, as Prometheus buckets).
    pub duration_le: Vec<u64>,
}

impl Store {
    /// Every (job, slot, status) group of finished runs, with the sums above, from one
    /// grouped query (one pass over `runs`: a million rows take well under a second,
    /// read once at daemon start). `bounds_ms` are the duration buckets' upper bounds.
    ///
    /// # Errors
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn run_totals(&self, bounds_ms: &[u64]) -> Result<Vec<RunTotals>, StoreError> {
        const OP: &str = "totalling runs for metrics";
        let buckets: String = bounds_ms
            .iter()
            .enumerate()
            .map(|(i, b)| format!(", coalesce(sum(r.duration_ms <= {b}), 0) AS le_{i}"))
            .collect();
        let sql = format!(
            "SELECT g.*, x.memory_peak_bytes AS last_memory_peak FROM ( \
               SELECT r.job AS job, r.slot AS slot, r.status AS status, count(*) AS runs, \
                 coalesce(sum(r.cpu_usage_usec), 0) AS cpu, coalesce(sum(r.oom_kills), 0) AS ooms, \
                 coalesce(sum(r.io_rbytes), 0) AS io_rbytes, coalesce(sum(r.io_wbytes), 0) AS io_wbytes, \
                 coalesce(sum(r.io_rios), 0) AS io_rios, coalesce(sum(r.io_wios), 0) AS io_wios, \
                 max(r.started_at) AS last_started, max(r.finished_at) AS last_finished, \
                 max(r.id) AS last_id, count(r.duration_ms) AS durations, \
                 coalesce(sum(r.duration_ms), 0) AS duration_sum {buckets} \
               FROM runs AS r WHERE r.status <> 'running' GROUP BY r.job, r.slot, r.status \
             ) AS g LEFT JOIN runs AS x ON x.id = g.last_id ORDER BY g.job, g.slot, g.status"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map([], |row| totals_from_row(row, bounds_ms.len()))
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }
}

fn totals_from_row(row: &Row<'_>, bounds: usize) -> rusqlite::Result<RunTotals> {
    let count = |col: &str| get_uint::<u64>(row, col).map(Option::unwrap_or_default);
    Ok(RunTotals {
        job: row.get("job")?,
        slot: row.get("slot")?,
        status: get_parsed(row, "status")?,
        runs: count("runs")?,
        cpu_usage_usec: count("cpu")?,
        oom_kills: count("ooms")?,
        io: IoStat {
            rbytes: count("io_rbytes")?,
            wbytes: count("io_wbytes")?,
            rios: count("io_rios")?,
            wios: count("io_wios")?,
        },
        last_started_at: get_time(row, "last_started")?,
        last_finished_at: get_time(row, "last_finished")?,
        last_id: row.get("last_id")?,
        last_memory_peak: get_uint(row, "last_memory_peak")?,
        durations: count("durations")?,
        duration_ms_sum: count("duration_sum")?,
        duration_le: (0..bounds)
            .map(|i| count(&format!("le_{i}")))
            .collect::<Result<_, _>>()?,
    })
}
