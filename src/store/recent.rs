//! The newest end of every job's history at once, for `slotcron jobs` and the health of
//! 1,000 jobs: each job's latest run, its newest successful runs, and how many successes
//! a job without a baseline has so far. Each is one query that probes the `(job, id)`
//! indexes once per job (a correlated subquery feeding rowid lookups), never one query per
//! job and never a scan of the history.

use std::collections::HashMap;

use rusqlite::params;

use super::baselines::sample_from_row;
use super::record::{RUN_COLUMNS, run_from_row};
use super::{RunRecord, Store, StoreError};
use crate::baseline::Sample;

impl Store {
    /// The newest run (highest id, any status) of every job that has one, by job name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn latest_runs(&self) -> Result<HashMap<String, RunRecord>, StoreError> {
        const OP: &str = "reading every job's latest run";
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE id IN ( \
               SELECT (SELECT r.id FROM runs AS r WHERE r.job = j.name ORDER BY r.id DESC LIMIT 1) \
               FROM jobs AS j)"
        );
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map([], |row| {
                let run = run_from_row(row)?;
                Ok((run.job.clone(), run))
            })
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }

    /// The newest `limit` successful runs of every job (newest first), by job name; jobs
    /// without a success are absent.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn recent_successes(&self, limit: u32) -> Result<HashMap<String, Vec<Sample>>, StoreError> {
        const OP: &str = "reading every job's newest successful runs";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT r.job AS job, r.id AS id, r.duration_ms AS duration_ms, \
                   r.memory_peak_bytes AS memory_peak_bytes, r.cpu_usage_usec AS cpu_usage_usec \
                 FROM jobs AS j, runs AS r \
                 WHERE r.id IN (SELECT s.id FROM runs AS s WHERE s.job = j.name \
                   AND s.status = 'success' AND s.duration_ms IS NOT NULL \
                   ORDER BY s.id DESC LIMIT ?1) \
                 ORDER BY r.job, r.id DESC",
            )
            .map_err(StoreError::sql(OP))?;
        let mut rows = stmt.query(params![limit]).map_err(StoreError::sql(OP))?;
        let mut out: HashMap<String, Vec<Sample>> = HashMap::new();
        while let Some(row) = rows.next().map_err(StoreError::sql(OP))? {
            let job: String = row.get("job").map_err(StoreError::sql(OP))?;
            let sample = sample_from_row(row).map_err(StoreError::sql(OP))?;
            out.entry(job).or_default().push(sample);
        }
        Ok(out)
    }

    /// For every job without a baseline of `n` runs: its successful runs so far (since its
    /// baseline restarted, if it did), counted up to `n` (what "no baseline (4 of 30 runs)"
    /// says). Jobs with such a baseline are absent,
    /// so the cost is at most `n` index entries per job still gathering its window.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn successes_toward_baseline(&self, n: u32) -> Result<HashMap<String, u32>, StoreError> {
        const OP: &str = "counting successes towards baselines";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT j.name, (SELECT count(*) FROM (SELECT 1 FROM runs AS s \
                   WHERE s.job = j.name AND s.status = 'success' AND s.id >= coalesce( \
                     (SELECT c.baseline_since_run_id FROM job_controls AS c WHERE c.job = j.name), 0) \
                   ORDER BY s.id DESC LIMIT ?1)) \
                 FROM jobs AS j \
                 WHERE NOT EXISTS (SELECT 1 FROM baselines AS b WHERE b.job = j.name AND b.runs = ?1)",
            )
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map(params![n], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }
}
