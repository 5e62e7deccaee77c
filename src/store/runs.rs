//! Recording runs: a run is inserted as `running` when it starts, given its process
//! details once spawned, and completed exactly once when it ends. Each step is one
//! transaction, so a crash between steps leaves a whole `running` row that crash recovery
//! finds with [`Store::running_runs`].

use rusqlite::{OptionalExtension, Transaction, params};

use super::jobs::require_job;
use super::record::{RUN_COLUMNS, run_from_row, to_int, to_ms};
use super::{NewRun, RunCompletion, RunFilter, RunRecord, Store, StoreError};
use crate::model::RunStatus;

impl Store {
    /// Records that a run has started: a new row in status `running`. Returns its id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for an empty trigger, an attempt of 0, a `retry_of` that is
    /// not a run, or a figure above `i64::MAX`; [`StoreError::UnknownJob`] if the job was
    /// never synced; [`StoreError::Sql`] if SQLite fails.
    pub fn start_run(&mut self, run: &NewRun) -> Result<i64, StoreError> {
        self.insert_run(run, RunStatus::Running, None)
    }

    /// Records a run that was decided against: a row directly in status `skipped`, with
    /// `reason` as its `error`, `finished_at` equal to `started_at` and no duration.
    ///
    /// # Errors
    ///
    /// As [`Store::start_run`], and [`StoreError::Invalid`] for an empty reason.
    pub fn record_skipped(&mut self, run: &NewRun, reason: &str) -> Result<i64, StoreError> {
        if reason.trim().is_empty() {
            return Err(StoreError::invalid("skip reason", "must not be empty"));
        }
        self.insert_run(run, RunStatus::Skipped, Some(reason))
    }

    /// Turns a run the pressure response stopped (completed `killed`, as every stopped
    /// run is) into `requeued`, with `note` as its `error`: it was queued again, it did
    /// not fail.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] when the run is not `killed`; [`StoreError::Sql`].
    pub fn mark_requeued(&mut self, id: i64, note: &str) -> Result<(), StoreError> {
        const OP: &str = "marking a run requeued";
        let changed = self
            .conn
            .execute(
                "UPDATE runs SET status = 'requeued', error = ?2 WHERE id = ?1 AND status = 'killed'",
                params![id, note],
            )
            .map_err(StoreError::sql(OP))?;
        if changed == 0 {
            return Err(StoreError::invalid(
                "requeued run",
                format!("run {id} is not killed"),
            ));
        }
        Ok(())
    }

    /// Records the process of a running run. A `None` leaves that column as it was, so
    /// the log path and the pid can be recorded in separate calls.
    ///
    /// # Errors
    ///
    /// [`StoreError::NoSuchRun`] or [`StoreError::NotRunning`] if the run is not running;
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn set_run_process(
        &mut self,
        id: i64,
        pid: Option<u32>,
        cgroup: Option<&str>,
        log_path: Option<&str>,
    ) -> Result<(), StoreError> {
        const OP: &str = "recording a run's process";
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        let changed = tx
            .prepare_cached(
                "UPDATE runs SET pid = coalesce(?2, pid), cgroup = coalesce(?3, cgroup), \
                 log_path = coalesce(?4, log_path) WHERE id = ?1 AND status = 'running'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, pid, cgroup, log_path]))
            .map_err(StoreError::sql(OP))?;
        if changed == 0 {
            return Err(not_running(&tx, id));
        }
        tx.commit().map_err(StoreError::sql(OP))
    }

    /// Completes a running run with how it ended. A run is completed once: completing it
    /// again fails and changes nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] if `done.status` is `running` or `skipped`, or a figure is
    /// above `i64::MAX`; [`StoreError::NoSuchRun`] or [`StoreError::NotRunning`] if the
    /// run is not running; [`StoreError::Sql`] if SQLite fails.
    pub fn finish_run(&mut self, id: i64, done: &RunCompletion) -> Result<(), StoreError> {
        const OP: &str = "completing a run";
        if matches!(done.status, RunStatus::Running | RunStatus::Skipped) {
            return Err(StoreError::invalid(
                "completion status",
                format!("`{}` does not end a run", done.status),
            ));
        }
        let figures = [
            to_int("duration_ms", Some(done.duration_ms))?,
            to_int("memory_peak_bytes", done.usage.memory_peak_bytes)?,
            to_int("cpu_usage_usec", done.usage.cpu_usage_usec)?,
            to_int("cpu_user_usec", done.usage.cpu_user_usec)?,
            to_int("cpu_system_usec", done.usage.cpu_system_usec)?,
            to_int("cpu_throttled_usec", done.usage.cpu_throttled_usec)?,
            to_int("oom_kills", done.usage.oom_kills)?,
            to_int("pids_peak", done.usage.pids_peak)?,
            to_int("io_rbytes", done.usage.io.map(|io| io.rbytes))?,
            to_int("io_wbytes", done.usage.io.map(|io| io.wbytes))?,
            to_int("io_rios", done.usage.io.map(|io| io.rios))?,
            to_int("io_wios", done.usage.io.map(|io| io.wios))?,
            to_int("throttled_ms", done.pressure.map(|p| p.throttled_ms))?,
            to_int("frozen_ms", done.pressure.map(|p| p.frozen_ms))?,
        ];
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        // Cached: parsing this statement cost more than running it (issue 15's profile).
        let mut stmt = tx
            .prepare_cached(
                "UPDATE runs SET status = ?2, exit_code = ?3, signal = ?4, finished_at = ?5, \
                 duration_ms = ?6, memory_peak_bytes = ?7, cpu_usage_usec = ?8, \
                 cpu_user_usec = ?9, cpu_system_usec = ?10, cpu_throttled_usec = ?11, \
                 oom_kills = ?12, pids_peak = ?13, error = ?14, io_rbytes = ?15, \
                 io_wbytes = ?16, io_rios = ?17, io_wios = ?18, throttled_ms = ?19, \
                 frozen_ms = ?20 \
                 WHERE id = ?1 AND status = 'running'",
            )
            .map_err(StoreError::sql(OP))?;
        let changed = stmt
            .execute(params![
                id,
                done.status.as_str(),
                done.exit_code,
                done.signal,
                to_ms(done.finished_at),
                figures[0],
                figures[1],
                figures[2],
                figures[3],
                figures[4],
                figures[5],
                figures[6],
                figures[7],
                done.error,
                figures[8],
                figures[9],
                figures[10],
                figures[11],
                figures[12],
                figures[13],
            ])
            .map_err(StoreError::sql(OP))?;
        drop(stmt);
        if changed == 0 {
            return Err(not_running(&tx, id));
        }
        tx.commit().map_err(StoreError::sql(OP))?;
        tracing::debug!(run_id = id, status = %done.status, "run completed");
        Ok(())
    }

    /// Runs matching `filter`, newest (highest id) first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StoreError> {
        // LIMIT -1 is SQLite for "no limit".
        let limit = filter
            .limit
            .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        self.select_runs(
            "listing runs",
            filter.job.as_deref(),
            None,
            None,
            None,
            limit,
        )
    }

    /// The run with this id, if there is one.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or the row does not convert.
    pub fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        const OP: &str = "reading a run";
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(OP))?;
        stmt.query_row([id], run_from_row)
            .optional()
            .map_err(StoreError::sql(OP))
    }

    /// Every run still in status `running`, oldest first: after a crash, the runs whose
    /// supervisor may be gone.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a row does not convert.
    pub fn running_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        const OP: &str = "listing running runs";
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE status = 'running' ORDER BY id");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map([], run_from_row)
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }

    /// Validates `run` and inserts it with `status`; a skipped run is final at once.
    fn insert_run(
        &mut self,
        run: &NewRun,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<i64, StoreError> {
        const OP: &str = "inserting a run";
        if run.trigger.trim().is_empty() {
            return Err(StoreError::invalid("trigger", "must not be empty"));
        }
        if run.attempt == 0 {
            return Err(StoreError::invalid("attempt", "starts at 1, got 0"));
        }
        let memory_limit = to_int("memory_limit_bytes", run.memory_limit_bytes)?;
        let finished_at = (status != RunStatus::Running).then_some(run.started_at);
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        check_references(&tx, run)?;
        tx.prepare_cached(
            "INSERT INTO runs (job, slot, status, trigger, attempt, retry_of, enforcement, \
             memory_limit_bytes, queued_at, started_at, finished_at, error) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                run.job,
                run.slot,
                status.as_str(),
                run.trigger,
                run.attempt,
                run.retry_of,
                run.enforcement.as_str(),
                memory_limit,
                run.queued_at.map(to_ms),
                to_ms(run.started_at),
                finished_at.map(to_ms),
                error,
            ])
        })
        .map_err(StoreError::sql(OP))?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(StoreError::sql(OP))?;
        tracing::debug!(run_id = id, job = %run.job, %status, "run recorded");
        Ok(id)
    }
}

/// Turns the foreign keys of a new run into errors that name the missing job or run.
fn check_references(tx: &Transaction<'_>, run: &NewRun) -> Result<(), StoreError> {
    require_job(tx, &run.job)?;
    match run.retry_of {
        Some(retry_of) => require_run(tx, "retry_of", retry_of),
        None => Ok(()),
    }
}

/// The error for an update that matched no running run: which of the two reasons it is.
pub(super) fn not_running(tx: &Transaction<'_>, id: i64) -> StoreError {
    match run_status(tx, id) {
        Ok(None) => StoreError::NoSuchRun { id },
        Ok(Some(status)) => StoreError::NotRunning { id, status },
        Err(e) => e,
    }
}

/// Refuses a link (`field`: a retry's `retry_of`, an event's or alert's `run_id`) to a
/// run that does not exist, before the linking row is written.
pub(super) fn require_run(
    tx: &Transaction<'_>,
    field: &'static str,
    id: i64,
) -> Result<(), StoreError> {
    match run_status(tx, id)? {
        Some(_) => Ok(()),
        None => Err(StoreError::invalid(
            field,
            format!("run {id} does not exist"),
        )),
    }
}

/// The status of run `id`, or `None` if there is no such run.
pub(super) fn run_status(tx: &Transaction<'_>, id: i64) -> Result<Option<RunStatus>, StoreError> {
    const OP: &str = "reading a run's status";
    let text: Option<String> = tx
        .prepare_cached("SELECT status FROM runs WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([id], |row| row.get(0)).optional())
        .map_err(StoreError::sql(OP))?;
    text.map(|t| {
        t.parse().map_err(|e| StoreError::Sql {
            op: OP,
            source: rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                Box::new(e),
            ),
        })
    })
    .transpose()
}
