//! What the scheduler needs to know about each job's past when it starts: when it last
//! ran, how it last ended, how many times in a row it has failed (for the circuit
//! breaker), and how much memory it recently needed.
//!
//! Summaries are computed from `runs`, not kept as counters next to them: the runs are
//! the truth and are written by several processes (`slotcron run`, the daemon), so a
//! counter could drift from them. One query serves every job: per job it reads only the
//! newest entries of the `(job, id)` indexes, never the runs before the job's last success,
//! so 10,000 jobs with 100 runs each (a million rows) take 0.1-0.3 s (see
//! `docs/adr/0004-sqlite-history.md`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::Row;
use serde::Serialize;

use super::record::{FAILURE_STATUSES_SQL, get_parsed, get_time, get_time_req, get_uint};
use super::{Store, StoreError};
use crate::model::RunStatus;

/// The consecutive-failure count looks at no more than this many of a job's newest runs
/// after its last success, so the count never exceeds it and one job's endless failures
/// cannot slow the daemon's start.
pub const STREAK_SCAN_LIMIT: u32 = 1_000;

/// [`JobSummary::peak_memory`] is the maximum over this many newest successful runs.
pub const PEAK_MEMORY_RUNS: u32 = 10;

/// One job's past, as the scheduler needs it. "Newest" is by run id (recording order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobSummary {
    /// `started_at` of the newest run that was not skipped (a running one included).
    pub last_started_at: Option<DateTime<Utc>>,
    /// The newest run that was neither running nor skipped.
    pub last_final: Option<LastRun>,
    /// Failed, timed-out, OOM-killed and lost runs since the newest success, among the job's
    /// newest [`STREAK_SCAN_LIMIT`] runs after that success, counting only runs started at
    /// or after the breaker reset. A `killed` run (stopped by a user), a skipped or a
    /// running one neither counts nor ends the streak; a success ends it.
    pub consecutive_failures: u32,
    /// `finished_at` of the newest run counted in `consecutive_failures`; `None` when that
    /// count is 0.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// The highest `memory_peak_bytes` of the job's newest [`PEAK_MEMORY_RUNS`] successful
    /// runs; `None` if none of them recorded one.
    pub peak_memory: Option<u64>,
}

/// How a run ended, in a [`JobSummary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LastRun {
    /// The run's id.
    pub id: i64,
    /// Its final status: never `running` or `skipped`.
    pub status: RunStatus,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
}

impl Store {
    /// The summary of every job in `jobs` (removed ones included), by name, from one read
    /// query. A job that never ran has a [`JobSummary::default`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn job_summaries(&self) -> Result<HashMap<String, JobSummary>, StoreError> {
        const OP: &str = "summarizing jobs";
        let sql = summary_sql("");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map([], |row| Ok((row.get("name")?, summary_from_row(row)?)))
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }

    /// The summary of one job, as in [`Store::job_summaries`].
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownJob`] if `job` is not a row of `jobs`; [`StoreError::Sql`] if
    /// SQLite fails or a stored row does not convert.
    pub fn job_summary(&self, job: &str) -> Result<JobSummary, StoreError> {
        const OP: &str = "summarizing a job";
        let sql = summary_sql("WHERE j.name = ?1");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(OP))?;
        let mut rows = stmt.query([job]).map_err(StoreError::sql(OP))?;
        match rows.next().map_err(StoreError::sql(OP))? {
            Some(row) => summary_from_row(row).map_err(StoreError::sql(OP)),
            None => Err(StoreError::UnknownJob {
                job: job.to_owned(),
            }),
        }
    }
}

/// The summary query over the jobs that `filter` (a `WHERE` on `jobs AS j`) keeps.
///
/// Each step is a `MATERIALIZED` CTE, so SQLite computes it once per job instead of
/// inlining it into every later use:
/// - `base`: the job's breaker reset and its newest success (`last_ok`, 0 if none), one
///   probe of the partial index `runs_job_success`;
/// - `bounded`: `floor`, the lowest run id the streak may count: the
///   [`STREAK_SCAN_LIMIT`]th newest run after `last_ok`, found by walking at most that many
///   entries of `runs_job_id`;
/// - `streak`: the counted failures from `floor` up, in one pass, and the newest one's id.
///
/// The other columns are correlated subqueries that read a few entries from the newest
/// end of `runs_job_id` or `runs_job_success`. No step reads a job's runs before its last
/// success, or more than [`STREAK_SCAN_LIMIT`] after it.
fn summary_sql(filter: &str) -> String {
    let offset = STREAK_SCAN_LIMIT - 1;
    let failures = &*FAILURE_STATUSES_SQL;
    format!(
        "WITH base AS MATERIALIZED ( \
           SELECT j.name AS name, c.breaker_reset_at AS reset_at, \
             coalesce((SELECT s.id FROM runs AS s WHERE s.job = j.name AND s.status = 'success' \
                       ORDER BY s.id DESC LIMIT 1), 0) AS last_ok \
           FROM jobs AS j LEFT JOIN job_controls AS c ON c.job = j.name {filter}), \
         bounded AS MATERIALIZED ( \
           SELECT b.name AS name, b.reset_at AS reset_at, \
             coalesce((SELECT w.id FROM runs AS w WHERE w.job = b.name AND w.id > b.last_ok \
                       ORDER BY w.id DESC LIMIT 1 OFFSET {offset}), b.last_ok + 1) AS floor \
           FROM base AS b), \
         streak AS MATERIALIZED ( \
           SELECT b.name AS name, count(w.id) AS failures, max(w.id) AS last_failure_id \
           FROM bounded AS b LEFT JOIN runs AS w ON w.job = b.name AND w.id >= b.floor \
             AND w.status IN {failures} \
             AND (b.reset_at IS NULL OR w.started_at >= b.reset_at) \
           GROUP BY b.name) \
         SELECT s.name AS name, \
           (SELECT r.started_at FROM runs AS r WHERE r.job = s.name AND r.status <> 'skipped' \
            ORDER BY r.id DESC LIMIT 1) AS last_started_at, \
           f.id AS final_id, f.status AS final_status, f.finished_at AS final_finished_at, \
           s.failures AS failures, lf.finished_at AS last_failure_at, \
           (SELECT max(p.memory_peak_bytes) FROM (SELECT x.memory_peak_bytes FROM runs AS x \
              WHERE x.job = s.name AND x.status = 'success' ORDER BY x.id DESC \
              LIMIT {PEAK_MEMORY_RUNS}) AS p) AS peak_memory \
         FROM streak AS s \
         LEFT JOIN runs AS lf ON lf.id = s.last_failure_id \
         LEFT JOIN runs AS f ON f.id = (SELECT r.id FROM runs AS r WHERE r.job = s.name \
           AND r.status NOT IN ('running', 'skipped') ORDER BY r.id DESC LIMIT 1)"
    )
}

fn summary_from_row(row: &Row<'_>) -> rusqlite::Result<JobSummary> {
    let last_final = match row.get::<_, Option<i64>>("final_id")? {
        Some(id) => Some(LastRun {
            id,
            status: get_parsed(row, "final_status")?,
            finished_at: get_time_req(row, "final_finished_at")?,
        }),
        None => None,
    };
    Ok(JobSummary {
        last_started_at: get_time(row, "last_started_at")?,
        last_final,
        consecutive_failures: get_uint(row, "failures")?.unwrap_or(0),
        last_failure_at: get_time(row, "last_failure_at")?,
        peak_memory: get_uint(row, "peak_memory")?,
    })
}
