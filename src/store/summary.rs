//! What the scheduler needs to know about each job's past when it starts: when it last
//! ran, how it last ended, how many times in a row it has failed (for the circuit
//! breaker), when it last troubled (for its health), and how much memory it recently
//! needed (for admission).
//!
//! The daemon reads summaries once and then keeps them up to date itself as runs end
//! ([`JobSummary::learn`]); what it derives from them (health, expected memory) is
//! computed by the same functions from either, so the two cannot disagree.
//!
//! Summaries are computed from `runs`, not kept as counters next to them: the runs are
//! the truth and are written by several processes (`slotcron run`, the daemon), so a
//! counter could drift from them. One query serves every job: per job it reads only the
//! newest entries of the `(job, id)` indexes, never the runs before the job's last success,
//! so 10,000 jobs with 100 runs each (a million rows) take 0.1-0.3 s (see
//! `docs/adr/0004-sqlite-history.md`).

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use rusqlite::Row;
use serde::Serialize;

use super::record::{
    FAILURE_STATUSES_SQL, RunRecord, conversion, get_parsed, get_time, get_time_req, get_uint,
};
use super::{Store, StoreError};
use crate::model::{RunStatus, is_failure, is_trouble};

/// The consecutive-failure count looks at no more than this many of a job's newest runs
/// after its last success, so the count never exceeds it and one job's endless failures
/// cannot slow the daemon's start.
pub const STREAK_SCAN_LIMIT: u32 = 1_000;

/// [`JobSummary::peak_memory`] is the maximum over this many newest successful runs
/// (ADR 0034).
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
    /// `finished_at` of the newest run that troubled the job's health: failed, timed out,
    /// OOM-killed or lost, or recorded an OOM kill whatever its status
    /// (`stats::health::is_trouble`); `None` if none did.
    pub last_trouble_at: Option<DateTime<Utc>>,
    /// `memory_peak_bytes` of the job's newest [`PEAK_MEMORY_RUNS`] successful runs.
    pub success_peaks: SuccessPeaks,
}

impl JobSummary {
    /// The highest `memory_peak_bytes` of the job's newest [`PEAK_MEMORY_RUNS`] successful
    /// runs; `None` if none of them recorded one. What admission expects a run to need
    /// (`runner::expected_memory`, ADR 0034).
    pub fn peak_memory(&self) -> Option<u64> {
        self.success_peaks.max()
    }

    /// The summary after `record` ended (a run newer than every run it has seen): what
    /// [`Store::job_summary`] would say now, without reading the history again. The daemon
    /// keeps its summaries up to date with this. Two differences are by design: the
    /// streak is not cut by a breaker reset here (the daemon clears it when it resets),
    /// and `last_started_at` only moves forward.
    pub fn learn(&mut self, record: &RunRecord) {
        self.last_started_at = Some(
            self.last_started_at
                .map_or(record.started_at, |t| t.max(record.started_at)),
        );
        if let Some(finished_at) = record.finished_at {
            self.last_final = Some(LastRun {
                id: record.id,
                status: record.status,
                finished_at,
            });
        }
        if record.status == RunStatus::Success {
            self.consecutive_failures = 0;
            self.last_failure_at = None;
            self.success_peaks.push(record.usage.memory_peak_bytes);
        } else if is_failure(record.status) {
            self.consecutive_failures = (self.consecutive_failures + 1).min(STREAK_SCAN_LIMIT);
            self.last_failure_at = record.finished_at;
        }
        if is_trouble(record.status, record.usage.oom_kills) {
            self.last_trouble_at = self.last_trouble_at.max(record.finished_at);
        }
    }
}

/// `memory_peak_bytes` of a job's newest successful runs, newest first: at most
/// [`PEAK_MEMORY_RUNS`] of them, `None` for a run that recorded none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SuccessPeaks(VecDeque<Option<u64>>);

impl SuccessPeaks {
    /// The newest [`PEAK_MEMORY_RUNS`] of `peaks` (given newest first).
    pub fn newest_first(peaks: impl IntoIterator<Item = Option<u64>>) -> SuccessPeaks {
        SuccessPeaks(peaks.into_iter().take(PEAK_MEMORY_RUNS as usize).collect())
    }

    /// Adds the peak of a success newer than all the others; the oldest one falls out once
    /// there are more than [`PEAK_MEMORY_RUNS`].
    ///
    /// ```
    /// use slotcron::store::{PEAK_MEMORY_RUNS, SuccessPeaks};
    /// let mut peaks = SuccessPeaks::newest_first([Some(500)]);
    /// for _ in 1..PEAK_MEMORY_RUNS {
    ///     peaks.push(Some(10));
    /// }
    /// assert_eq!(peaks.max(), Some(500));
    /// peaks.push(None);
    /// assert_eq!(peaks.max(), Some(10));
    /// ```
    pub fn push(&mut self, peak: Option<u64>) {
        self.0.push_front(peak);
        self.0.truncate(PEAK_MEMORY_RUNS as usize);
    }

    /// The highest of them; `None` if none recorded one.
    pub fn max(&self) -> Option<u64> {
        self.0.iter().flatten().copied().max()
    }
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
/// The other columns are correlated subqueries that read a few entries from the newest end
/// of `runs_job_id` or `runs_job_success`, or one from `runs_job_trouble` (schema 10:
/// troubled runs only, by end, so the newest is its last entry for the job). No step reads
/// a job's runs before its last success, or more than [`STREAK_SCAN_LIMIT`] after it.
pub(super) fn summary_sql(filter: &str) -> String {
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
           (SELECT t.finished_at FROM runs AS t WHERE t.job = s.name \
              AND (t.status IN {failures} OR t.oom_kills > 0) \
              ORDER BY t.finished_at DESC LIMIT 1) AS last_trouble_at, \
           (SELECT group_concat(coalesce(p.memory_peak_bytes, ''), ',' ORDER BY p.id DESC) \
            FROM (SELECT x.id AS id, x.memory_peak_bytes AS memory_peak_bytes FROM runs AS x \
              WHERE x.job = s.name AND x.status = 'success' ORDER BY x.id DESC \
              LIMIT {PEAK_MEMORY_RUNS}) AS p) AS success_peaks \
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
        last_trouble_at: get_time(row, "last_trouble_at")?,
        success_peaks: get_peaks(row, "success_peaks")?,
    })
}

/// Reads the peaks `summary_sql` lists newest first as `"120,,80"` (empty: no figure).
fn get_peaks(row: &Row<'_>, col: &str) -> rusqlite::Result<SuccessPeaks> {
    let Some(list) = row.get::<_, Option<String>>(col)? else {
        return Ok(SuccessPeaks::default());
    };
    let peaks = list.split(',').map(|peak| match peak {
        "" => Ok(None),
        peak => peak.parse().map(Some).map_err(|_| {
            conversion(
                row,
                col,
                rusqlite::types::Type::Text,
                format!("{peak:?} is not a byte count"),
            )
        }),
    });
    Ok(SuccessPeaks::newest_first(
        peaks.collect::<rusqlite::Result<Vec<_>>>()?,
    ))
}
