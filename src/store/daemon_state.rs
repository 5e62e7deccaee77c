//! State the daemon keeps between restarts that is not history: per-job controls set by
//! `slotcron enable/disable/reset JOB`, and a small key/value table for the daemon itself
//! (the boot id that tells `@reboot` jobs the machine restarted, ...).
//!
//! A `job_controls` row exists only while one of its settings is set: clearing the last
//! one deletes the row, so [`Store::job_controls`] lists exactly the jobs that have one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::jobs::require_job;
use super::record::{get_time, to_ms};
use super::{Store, StoreError};

/// The control settings of one job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobControl {
    /// `Some` overrides the job file's `enabled:` (set by `slotcron enable/disable`);
    /// `None` follows the file.
    pub enabled_override: Option<bool>,
    /// Runs started before this instant do not count towards the circuit breaker (set by
    /// `slotcron reset`); `None` if the breaker was never reset.
    pub breaker_reset_at: Option<DateTime<Utc>>,
    /// Successes with a lower id never count towards the baseline (set by `slotcron
    /// recalculate-baselines JOB` when it accepts a new level); `None`: all count.
    pub baseline_since_run_id: Option<i64>,
}

impl JobControl {
    /// Whether a job whose file says `file_enabled` is enabled: the override, else the file.
    pub fn enabled(&self, file_enabled: bool) -> bool {
        self.enabled_override.unwrap_or(file_enabled)
    }
}

/// Deletes `job`'s `job_controls` row if none of its settings is set any more.
const DELETE_IF_EMPTY: &str = "DELETE FROM job_controls WHERE job = ?1 AND enabled_override IS NULL \
     AND breaker_reset_at IS NULL AND baseline_since_run_id IS NULL";

impl Store {
    /// Sets (`Some`) or clears (`None`) the override of `job`'s `enabled:` flag, in one
    /// transaction. The override outlives daemon restarts and job file edits until cleared.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownJob`] if `job` is not a row of `jobs` (nothing is written);
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn set_enabled_override(
        &mut self,
        job: &str,
        enabled: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const OP: &str = "setting a job's enabled override";
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        require_job(&tx, job)?;
        tx.execute(
            "INSERT INTO job_controls (job, enabled_override, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (job) DO UPDATE SET enabled_override = excluded.enabled_override, \
             updated_at = excluded.updated_at",
            params![job, enabled, to_ms(now)],
        )
        .map_err(StoreError::sql(OP))?;
        tx.execute(DELETE_IF_EMPTY, [job])
            .map_err(StoreError::sql(OP))?;
        tx.commit().map_err(StoreError::sql(OP))?;
        tracing::debug!(job, ?enabled, "enabled override set");
        Ok(())
    }

    /// Resets `job`'s circuit breaker: runs started before `now` no longer count as
    /// consecutive failures (see [`Store::job_summaries`]). A later reset replaces an
    /// earlier one.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownJob`] if `job` is not a row of `jobs` (nothing is written);
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn reset_breaker(&mut self, job: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        const OP: &str = "resetting a job's breaker";
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        require_job(&tx, job)?;
        tx.execute(
            "INSERT INTO job_controls (job, breaker_reset_at, updated_at) VALUES (?1, ?2, ?2) \
             ON CONFLICT (job) DO UPDATE SET breaker_reset_at = excluded.breaker_reset_at, \
             updated_at = excluded.updated_at",
            params![job, to_ms(now)],
        )
        .map_err(StoreError::sql(OP))?;
        tx.commit().map_err(StoreError::sql(OP))?;
        tracing::debug!(job, "breaker reset");
        Ok(())
    }

    /// The control settings of every job that has one, by job name. A job without an
    /// entry has no override and no breaker reset.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn job_controls(&self) -> Result<HashMap<String, JobControl>, StoreError> {
        const OP: &str = "listing job controls";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT job, enabled_override, breaker_reset_at, baseline_since_run_id \
                 FROM job_controls",
            )
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map([], |row| {
                let control = JobControl {
                    enabled_override: row.get("enabled_override")?,
                    breaker_reset_at: get_time(row, "breaker_reset_at")?,
                    baseline_since_run_id: row.get("baseline_since_run_id")?,
                };
                Ok((row.get("job")?, control))
            })
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }

    /// The first run whose success counts towards `job`'s baseline (0: every run).
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn baseline_since(&self, job: &str) -> Result<i64, StoreError> {
        const OP: &str = "reading where a job's baseline starts";
        let since: Option<Option<i64>> = self
            .conn
            .prepare_cached("SELECT baseline_since_run_id FROM job_controls WHERE job = ?1")
            .and_then(|mut stmt| stmt.query_row([job], |row| row.get(0)).optional())
            .map_err(StoreError::sql(OP))?;
        Ok(since.flatten().unwrap_or(0))
    }

    /// Makes `job`'s baseline start at run `since`: earlier successes no longer count.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownJob`] if `job` is not a row of `jobs` (nothing is written);
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn set_baseline_since(
        &mut self,
        job: &str,
        since: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const OP: &str = "restarting a job's baseline";
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        require_job(&tx, job)?;
        tx.execute(
            "INSERT INTO job_controls (job, baseline_since_run_id, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (job) DO UPDATE SET baseline_since_run_id = excluded.baseline_since_run_id, \
             updated_at = excluded.updated_at",
            params![job, since, to_ms(now)],
        )
        .map_err(StoreError::sql(OP))?;
        tx.commit().map_err(StoreError::sql(OP))
    }

    /// The daemon's value for `key`, if it was ever set.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        const OP: &str = "reading daemon state";
        self.conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
            .map_err(StoreError::sql(OP))
    }

    /// Sets the daemon's value for `key`, replacing any earlier one, in one transaction.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for an empty key; [`StoreError::Sql`] if SQLite fails.
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        const OP: &str = "writing daemon state";
        if key.is_empty() {
            return Err(StoreError::invalid("meta key", "must not be empty"));
        }
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
        .map_err(StoreError::sql(OP))?;
        tx.commit().map_err(StoreError::sql(OP))
    }
}
