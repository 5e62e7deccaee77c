//! The values that go into and come out of the history store, and their conversion to and
//! from SQLite rows.
//!
//! SQLite has only signed 64-bit integers: unsigned figures are checked on the way in
//! (`> i64::MAX` is refused) and on the way out (a negative value is a corrupt row).
//! Timestamps are stored as unix milliseconds, so a `DateTime` keeps millisecond precision
//! through a round trip; finer parts are dropped.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use rusqlite::Row;
use rusqlite::types::Type;
use serde::Serialize;

use super::error::StoreError;
use crate::model::is_failure;
use crate::model::{Enforcement, IoStat, PressureTimes, PressureView, RunStatus, RunUsage};

/// A run about to start (or being skipped), as the runner knows it before the process exists.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// The job's name; must already be in the `jobs` table (see `Store::sync_jobs`).
    pub job: String,
    /// The slot the run is placed in.
    pub slot: String,
    /// What started the run: `manual`, `schedule`, `retry`, `catch_up`, ...; never empty.
    pub trigger: String,
    /// 1 for a first attempt, 2 for the first retry, ...; never 0.
    pub attempt: u32,
    /// For a retry, the id of the run it retries; that run must exist.
    pub retry_of: Option<i64>,
    /// Whether the kernel enforces the run's limits.
    pub enforcement: Enforcement,
    /// `memory.max` of the run, if it has one.
    pub memory_limit_bytes: Option<u64>,
    /// When the run was queued, if it waited for its slot.
    pub queued_at: Option<DateTime<Utc>>,
    /// When the run started (or, for a skipped run, when it was skipped).
    pub started_at: DateTime<Utc>,
}

/// How a run ended, recorded once by `Store::finish_run`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCompletion {
    /// The final status; never `running` or `skipped`.
    pub status: RunStatus,
    /// The exit code of the main process, if it exited.
    pub exit_code: Option<i32>,
    /// The signal that killed the main process, if one did.
    pub signal: Option<i32>,
    /// When the run ended.
    pub finished_at: DateTime<Utc>,
    /// Wall time of the run in milliseconds.
    pub duration_ms: u64,
    /// What the run used; all `None` for a run that never started.
    pub usage: RunUsage,
    /// Why the run failed to start or was stopped, in words for the user.
    pub error: Option<String>,
    /// How long the pressure ladder held it throttled and frozen; `None` when it never
    /// acted on the run.
    pub pressure: Option<PressureTimes>,
}

/// One row of `runs`: the element of `slotcron history --json`. Field names are the JSON
/// keys; timestamps serialize as RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Row id; increases with every run recorded, so it orders runs by when they were recorded.
    pub id: i64,
    /// The job's name (a row of `jobs`, possibly removed since).
    pub job: String,
    /// The slot the run was placed in.
    pub slot: String,
    /// `running` until completed; final after that.
    pub status: RunStatus,
    /// The main process's exit code, if it exited.
    pub exit_code: Option<i32>,
    /// The signal that killed the main process, if one did.
    pub signal: Option<i32>,
    /// When the run started (or was skipped).
    pub started_at: DateTime<Utc>,
    /// When the run ended; `None` exactly while `running`.
    pub finished_at: Option<DateTime<Utc>>,
    /// Wall time in milliseconds; `None` while running and for skipped runs.
    pub duration_ms: Option<u64>,
    /// `memory.max` of the run, if it had one.
    pub memory_limit_bytes: Option<u64>,
    /// What the run used (`memory_peak_bytes`, `cpu_*`, `oom_kills`, `pids_peak`, `io` in
    /// the JSON); all `None` while running and for skipped runs.
    #[serde(flatten)]
    pub usage: RunUsage,
    /// Whether the kernel enforced the run's limits.
    pub enforcement: Enforcement,
    /// What started the run (`manual`, `schedule`, `retry`, ...); never empty.
    pub trigger: String,
    /// 1 for a first attempt, counting up for retries.
    pub attempt: u32,
    /// The run this one retries.
    pub retry_of: Option<i64>,
    /// The main process id, once spawned.
    pub pid: Option<u32>,
    /// The run's cgroup directory, once created.
    pub cgroup: Option<String>,
    /// The file the run's output goes to.
    pub log_path: Option<String>,
    /// When the run was queued, if it waited for its slot.
    pub queued_at: Option<DateTime<Utc>>,
    /// How long the run waited for its slot, `started_at - queued_at` in milliseconds;
    /// `None` if it was not queued. Computed on read, not stored; 0 if the clock stepped
    /// back between the two.
    pub wait_ms: Option<u64>,
    /// Why the run failed to start, was stopped or was skipped.
    pub error: Option<String>,
    /// What the pressure ladder did to it (ADR 0040): for a finished run, how long it was
    /// throttled and frozen (`state` and `*_since` null); for a run in progress, the API
    /// and `status` fill in its live state. `None` when the ladder never acted on it.
    pub pressure: Option<PressureView>,
}

/// Which runs `Store::runs` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Only runs of this job; `None` for all jobs.
    pub job: Option<String>,
    /// At most this many runs (the newest); `None` for all.
    pub limit: Option<usize>,
}

/// A job as loaded from its job file, handed to `Store::sync_jobs`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    /// The job's unique name; never empty.
    pub name: String,
    /// The job file it was loaded from.
    pub file: String,
    /// The slot its runs go to.
    pub slot: String,
    /// The schedule as written in the file.
    pub schedule: String,
    /// Whether the scheduler starts it.
    pub enabled: bool,
    /// The whole job as loaded, as JSON text, for `slotcron history` to show what ran.
    /// Text, not a parsed value: a sync of 10,000 jobs compares and writes it as is.
    pub definition: String,
}

/// One row of `jobs`: a job file's content plus when slotcron saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRecord {
    /// See [`JobRow::name`].
    pub name: String,
    /// See [`JobRow::file`].
    pub file: String,
    /// See [`JobRow::slot`].
    pub slot: String,
    /// See [`JobRow::schedule`].
    pub schedule: String,
    /// See [`JobRow::enabled`].
    pub enabled: bool,
    /// See [`JobRow::definition`] (parsed).
    pub definition: serde_json::Value,
    /// The first sync that saw the job.
    pub first_seen_at: DateTime<Utc>,
    /// The last sync that changed the job (or first saw it).
    pub updated_at: DateTime<Utc>,
    /// The sync that found its file gone; `None` while the file exists.
    pub removed_at: Option<DateTime<Utc>>,
}

/// What `Store::sync_jobs` changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncSummary {
    /// Jobs never seen before.
    pub added: usize,
    /// Present jobs whose file, slot, schedule, enabled flag or definition changed.
    pub updated: usize,
    /// Jobs that were removed and whose file is back (counted here, not in `updated`).
    pub restored: usize,
    /// Jobs newly marked removed because they were absent from the list.
    pub removed: usize,
}

/// A timestamp as stored: unix milliseconds.
pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// An unsigned figure as stored, refused if SQLite cannot hold it.
pub(crate) fn to_int(field: &'static str, value: Option<u64>) -> Result<Option<i64>, StoreError> {
    value
        .map(|v| {
            i64::try_from(v).map_err(|_| StoreError::Invalid {
                field,
                reason: format!("{v} is larger than {}", i64::MAX),
            })
        })
        .transpose()
}

/// Reads an optional timestamp column.
pub(crate) fn get_time(row: &Row<'_>, col: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let Some(ms) = row.get::<_, Option<i64>>(col)? else {
        return Ok(None);
    };
    DateTime::from_timestamp_millis(ms)
        .map(Some)
        .ok_or_else(|| {
            conversion(
                row,
                col,
                Type::Integer,
                format!("timestamp {ms} ms out of range"),
            )
        })
}

/// Reads a non-NULL timestamp column.
pub(crate) fn get_time_req(row: &Row<'_>, col: &str) -> rusqlite::Result<DateTime<Utc>> {
    get_time(row, col)?.ok_or_else(|| conversion(row, col, Type::Null, "NULL timestamp".into()))
}

/// Reads an optional unsigned column (`u64` or `u32`), refusing negative values.
pub(crate) fn get_uint<T: TryFrom<i64>>(row: &Row<'_>, col: &str) -> rusqlite::Result<Option<T>> {
    let Some(v) = row.get::<_, Option<i64>>(col)? else {
        return Ok(None);
    };
    T::try_from(v)
        .map(Some)
        .map_err(|_| conversion(row, col, Type::Integer, format!("{v} out of range")))
}

/// Reads a text column and parses it (status, enforcement).
pub(crate) fn get_parsed<T>(row: &Row<'_>, col: &str) -> rusqlite::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.get(col)?;
    text.parse().map_err(|e| {
        let idx = row.as_ref().column_index(col).unwrap_or(0);
        rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))
    })
}

/// The statuses that [`is_failure`] counts, as an SQL list for `status IN {..}`:
/// `('failed', 'timeout', 'oom_killed', 'lost')`. Built from the one Rust definition, so the
/// queries (circuit-breaker streak, rolling failures) cannot drift from it.
pub(crate) static FAILURE_STATUSES_SQL: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<String> = RunStatus::ALL
        .into_iter()
        .filter(|&status| is_failure(status))
        .map(|status| format!("'{status}'"))
        .collect();
    format!("({})", names.join(", "))
});

/// Reads the columns of a run's [`RunUsage`].
fn get_usage(row: &Row<'_>) -> rusqlite::Result<RunUsage> {
    Ok(RunUsage {
        memory_peak_bytes: get_uint(row, "memory_peak_bytes")?,
        cpu_usage_usec: get_uint(row, "cpu_usage_usec")?,
        cpu_user_usec: get_uint(row, "cpu_user_usec")?,
        cpu_system_usec: get_uint(row, "cpu_system_usec")?,
        cpu_throttled_usec: get_uint(row, "cpu_throttled_usec")?,
        oom_kills: get_uint(row, "oom_kills")?,
        pids_peak: get_uint(row, "pids_peak")?,
        io: get_io(row)?,
    })
}

/// Reads the four `io_*` columns: `None` when the run has no io figures (all NULL).
fn get_io(row: &Row<'_>) -> rusqlite::Result<Option<IoStat>> {
    let [rbytes, wbytes, rios, wios] = [
        get_uint::<u64>(row, "io_rbytes")?,
        get_uint(row, "io_wbytes")?,
        get_uint(row, "io_rios")?,
        get_uint(row, "io_wios")?,
    ];
    if [rbytes, wbytes, rios, wios].iter().all(Option::is_none) {
        return Ok(None);
    }
    Ok(Some(IoStat {
        rbytes: rbytes.unwrap_or(0),
        wbytes: wbytes.unwrap_or(0),
        rios: rios.unwrap_or(0),
        wios: wios.unwrap_or(0),
    }))
}

pub(crate) fn conversion(row: &Row<'_>, col: &str, ty: Type, why: String) -> rusqlite::Error {
    let idx = row.as_ref().column_index(col).unwrap_or(0);
    rusqlite::Error::FromSqlConversionFailure(idx, ty, why.into())
}

/// The column list that [`run_from_row`] reads, for `SELECT {RUN_COLUMNS} FROM runs`.
pub(crate) const RUN_COLUMNS: &str = "id, job, slot, status, exit_code, signal, started_at, \
    finished_at, duration_ms, memory_peak_bytes, memory_limit_bytes, cpu_usage_usec, \
    cpu_user_usec, cpu_system_usec, cpu_throttled_usec, oom_kills, pids_peak, enforcement, \
    trigger, attempt, retry_of, pid, cgroup, log_path, queued_at, error, io_rbytes, io_wbytes, \
    io_rios, io_wios, throttled_ms, frozen_ms";

/// Builds a [`RunRecord`] from a row selected with [`RUN_COLUMNS`].
pub(crate) fn run_from_row(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    let started_at = get_time_req(row, "started_at")?;
    let queued_at = get_time(row, "queued_at")?;
    let wait_ms =
        queued_at.map(|q| u64::try_from((started_at - q).num_milliseconds()).unwrap_or(0));
    Ok(RunRecord {
        id: row.get("id")?,
        job: row.get("job")?,
        slot: row.get("slot")?,
        status: get_parsed(row, "status")?,
        exit_code: row.get("exit_code")?,
        signal: row.get("signal")?,
        started_at,
        finished_at: get_time(row, "finished_at")?,
        duration_ms: get_uint(row, "duration_ms")?,
        memory_limit_bytes: get_uint(row, "memory_limit_bytes")?,
        usage: get_usage(row)?,
        enforcement: get_parsed(row, "enforcement")?,
        trigger: row.get("trigger")?,
        attempt: get_uint(row, "attempt")?.unwrap_or(1),
        retry_of: row.get("retry_of")?,
        pid: get_uint(row, "pid")?,
        cgroup: row.get("cgroup")?,
        log_path: row.get("log_path")?,
        queued_at,
        wait_ms,
        error: row.get("error")?,
        pressure: get_pressure(row)?,
    })
}

/// Reads `throttled_ms` and `frozen_ms`: `None` when the ladder never acted on the run
/// (both NULL).
fn get_pressure(row: &Row<'_>) -> rusqlite::Result<Option<PressureView>> {
    let throttled = get_uint::<u64>(row, "throttled_ms")?;
    let frozen = get_uint::<u64>(row, "frozen_ms")?;
    if throttled.is_none() && frozen.is_none() {
        return Ok(None);
    }
    Ok(Some(PressureView::ended(PressureTimes {
        throttled_ms: throttled.unwrap_or(0),
        frozen_ms: frozen.unwrap_or(0),
    })))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_failure_list_is_the_four_failure_statuses() {
        assert_eq!(
            *super::FAILURE_STATUSES_SQL,
            "('failed', 'timeout', 'oom_killed', 'lost')"
        );
    }
}
