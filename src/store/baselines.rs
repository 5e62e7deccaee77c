//! Keeping each job's [`Baseline`]: reading its window (the newest N successful runs since
//! its start, through the partial index `runs_job_success`, never the whole history),
//! computing it with [`crate::baseline::compute`] and storing one row per job in
//! `baselines`; after a success, replacing it only with a settled window
//! ([`crate::baseline::settle::settled`]), else holding it (ADR 0031).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::jobs::require_job;
use super::record::{get_time_req, get_uint, to_int, to_ms};
use super::{Store, StoreError};
use crate::baseline::settle::settled;
use crate::baseline::{self, Baseline, Sample};

/// The columns [`baseline_from_row`] reads.
const BASELINE_COLUMNS: &str = "job, runs, newest_run_id, duration_median_ms, duration_p95_ms, \
    duration_mad_ms, memory_median_bytes, memory_max_bytes, memory_mad_bytes, cpu_median_usec, \
    computed_at, duration_spread, memory_spread, checked_run_id, held";

/// What [`Store::refresh_baseline`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum BaselineChange {
    /// Computed from the newest window and stored.
    Computed(Baseline),
    /// Kept: the newest window was not settled (a change under way).
    Held,
}

impl Store {
    /// The newest `n` successful runs of `job` (at most), newest first, as baseline samples.
    /// Reads `n` entries of the index `runs_job_success` and their rows.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn success_samples(&self, job: &str, n: u32) -> Result<Vec<Sample>, StoreError> {
        self.success_samples_since(job, 0, n)
    }

    /// As [`Store::success_samples`], only runs with an id of at least `since`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn success_samples_since(
        &self,
        job: &str,
        since: i64,
        n: u32,
    ) -> Result<Vec<Sample>, StoreError> {
        const OP: &str = "reading a job's newest successful runs";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, duration_ms, memory_peak_bytes, cpu_usage_usec \
                 FROM runs INDEXED BY runs_job_success \
                 WHERE job = ?1 AND status = 'success' AND duration_ms IS NOT NULL AND id >= ?3 \
                 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map(params![job, n, since], sample_from_row)
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }

    /// The stored baseline of `job`, if it has one.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or the row does not convert.
    pub fn baseline(&self, job: &str) -> Result<Option<Baseline>, StoreError> {
        const OP: &str = "reading a baseline";
        let sql = format!("SELECT {BASELINE_COLUMNS} FROM baselines WHERE job = ?1");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(OP))?;
        stmt.query_row([job], baseline_from_row)
            .optional()
            .map_err(StoreError::sql(OP))
    }

    /// Every stored baseline, by job name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a row does not convert.
    pub fn baselines(&self) -> Result<HashMap<String, Baseline>, StoreError> {
        const OP: &str = "reading baselines";
        let sql = format!("SELECT {BASELINE_COLUMNS} FROM baselines");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map([], |row| Ok((row.get("job")?, baseline_from_row(row)?)))
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }

    /// Stores `baseline` as `job`'s, replacing the one it had; `None` removes it.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownJob`] if `job` was never synced; [`StoreError::Invalid`] for a
    /// memory figure above `i64::MAX`; [`StoreError::Sql`] if SQLite fails.
    pub fn save_baseline(
        &mut self,
        job: &str,
        baseline: Option<&Baseline>,
    ) -> Result<(), StoreError> {
        const OP: &str = "saving a baseline";
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        require_job(&tx, job)?;
        match baseline {
            None => {
                tx.execute("DELETE FROM baselines WHERE job = ?1", [job])
                    .map_err(StoreError::sql(OP))?;
            }
            Some(b) => {
                let sql = format!(
                    "INSERT OR REPLACE INTO baselines ({BASELINE_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                );
                tx.execute(
                    &sql,
                    params![
                        job,
                        b.runs,
                        b.newest_run_id,
                        b.duration_median_ms,
                        b.duration_p95_ms,
                        b.duration_mad_ms,
                        b.memory_median_bytes,
                        to_int("memory_max_bytes", b.memory_max_bytes)?,
                        b.memory_mad_bytes,
                        b.cpu_median_usec,
                        to_ms(b.computed_at),
                        b.duration_spread,
                        b.memory_spread,
                        b.checked_run_id,
                        b.held,
                    ],
                )
                .map_err(StoreError::sql(OP))?;
            }
        }
        tx.commit().map_err(StoreError::sql(OP))
    }

    /// Computes `job`'s baseline from its newest `n` successful runs (since its start,
    /// [`Store::baseline_since`]) and stores it, whether the window is settled or not;
    /// with fewer than `n`, removes any stored one (a job has no baseline before `n`
    /// successes). Returns the new baseline.
    ///
    /// # Errors
    ///
    /// As [`Store::success_samples`] and [`Store::save_baseline`].
    pub fn recompute_baseline(
        &mut self,
        job: &str,
        n: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<Baseline>, StoreError> {
        let since = self.baseline_since(job)?;
        let samples = self.success_samples_since(job, since, n)?;
        let computed = baseline::compute(&samples, n as usize, now);
        self.save_baseline(job, computed.as_ref())?;
        Ok(computed)
    }

    /// Whether `job`'s baseline is due for a check: it has none and `n` successful runs
    /// since its start, or its window size is not `n` (the setting changed), or it has no
    /// spread (stored by an older slotcron), or `every` successful runs came after its
    /// last check. Reads at most `max(n, every)` index entries.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn baseline_due(&self, job: &str, n: u32, every: u32) -> Result<bool, StoreError> {
        const OP: &str = "checking whether a baseline is due";
        let stored: Option<(u32, i64, bool)> = self
            .conn
            .prepare_cached(
                "SELECT runs, checked_run_id, duration_spread IS NOT NULL \
                 FROM baselines WHERE job = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([job], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                    .optional()
            })
            .map_err(StoreError::sql(OP))?;
        let (after, needed) = match stored {
            Some((runs, _, spread)) if runs != n || !spread => return Ok(true),
            Some((_, checked, _)) => (checked + 1, every),
            None => (self.baseline_since(job)?, n),
        };
        let count: u32 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM runs INDEXED BY runs_job_success \
                 WHERE job = ?1 AND status = 'success' AND id >= ?2 \
                 ORDER BY id DESC LIMIT ?3)",
            )
            .and_then(|mut stmt| stmt.query_row(params![job, after, needed], |row| row.get(0)))
            .map_err(StoreError::sql(OP))?;
        Ok(count >= needed)
    }

    /// The daemon's rule after a success: when [`Store::baseline_due`], reads the newest
    /// window and stores its baseline, unless `job` has a usable baseline (of `n` runs,
    /// with a spread) and the window is not [`settled`]: then the baseline is
    /// held (only its `checked_run_id` and `held` change). `None` when nothing was due.
    ///
    /// # Errors
    ///
    /// As [`Store::baseline_due`] and [`Store::recompute_baseline`].
    pub fn refresh_baseline(
        &mut self,
        job: &str,
        n: u32,
        every: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<BaselineChange>, StoreError> {
        const OP: &str = "holding a baseline";
        if !self.baseline_due(job, n, every)? {
            return Ok(None);
        }
        let since = self.baseline_since(job)?;
        let samples = self.success_samples_since(job, since, n)?;
        let usable = self
            .baseline(job)?
            .is_some_and(|b| b.runs == n && b.duration_spread.is_some());
        if usable && samples.len() == n as usize && !settled(&samples) {
            let newest = samples.first().map_or(0, |s| s.id);
            self.conn
                .execute(
                    "UPDATE baselines SET checked_run_id = ?2, held = 1 WHERE job = ?1",
                    params![job, newest],
                )
                .map_err(StoreError::sql(OP))?;
            return Ok(Some(BaselineChange::Held));
        }
        let computed = baseline::compute(&samples, n as usize, now);
        self.save_baseline(job, computed.as_ref())?;
        Ok(computed.map(BaselineChange::Computed))
    }
}

/// Builds a [`Sample`] from a row with the columns `id`, `duration_ms`, `memory_peak_bytes`
/// and `cpu_usage_usec`.
pub(super) fn sample_from_row(row: &Row<'_>) -> rusqlite::Result<Sample> {
    Ok(Sample {
        id: row.get("id")?,
        duration_ms: get_uint(row, "duration_ms")?.unwrap_or(0),
        memory_peak_bytes: get_uint(row, "memory_peak_bytes")?,
        cpu_usage_usec: get_uint(row, "cpu_usage_usec")?,
    })
}

fn baseline_from_row(row: &Row<'_>) -> rusqlite::Result<Baseline> {
    Ok(Baseline {
        duration_median_ms: row.get("duration_median_ms")?,
        duration_p95_ms: row.get("duration_p95_ms")?,
        duration_mad_ms: row.get("duration_mad_ms")?,
        memory_median_bytes: row.get("memory_median_bytes")?,
        memory_max_bytes: get_uint(row, "memory_max_bytes")?,
        memory_mad_bytes: row.get("memory_mad_bytes")?,
        cpu_median_usec: row.get("cpu_median_usec")?,
        duration_spread: row.get("duration_spread")?,
        memory_spread: row.get("memory_spread")?,
        runs: get_uint(row, "runs")?.unwrap_or(0),
        newest_run_id: row.get("newest_run_id")?,
        checked_run_id: row.get("checked_run_id")?,
        held: row.get("held")?,
        computed_at: get_time_req(row, "computed_at")?,
    })
}
