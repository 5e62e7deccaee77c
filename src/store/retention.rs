//! Keeping the history bounded: runs older than the retention are deleted, or moved to
//! `runs_archive`, in batches, each its own short transaction so the daemon's writes never
//! wait long. A run still `running` is never pruned, nor a first attempt whose retries are
//! kept (they point at it). Events and resolved alerts older than the retention are
//! deleted; newer ones that name a pruned run keep their text and lose the link.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::record::to_ms;
use super::{Store, StoreError};
use crate::model::RetentionMode;

/// Runs handled per transaction.
pub const PRUNE_BATCH: usize = 5_000;

/// What a prune did (or, for [`Store::prunable`], would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Runs deleted or archived.
    pub runs: u64,
    /// Events deleted.
    pub events: u64,
    /// Resolved alerts deleted (open ones stay, however old).
    pub alerts: u64,
    /// The run logs of the pruned runs, for the caller to delete with them.
    pub logs: Vec<PathBuf>,
}

/// The columns a run keeps in `runs_archive` (every column of `runs`), named so the
/// archive's column order (new columns come last) does not matter.
const ARCHIVED: &str = "id, job, slot, status, trigger, attempt, retry_of, pid, cgroup, \
     log_path, queued_at, started_at, finished_at, duration_ms, exit_code, signal, \
     memory_peak_bytes, memory_limit_bytes, cpu_usage_usec, cpu_user_usec, cpu_system_usec, \
     cpu_throttled_usec, oom_kills, pids_peak, enforcement, error, io_rbytes, io_wbytes, \
     io_rios, io_wios, throttled_ms, frozen_ms";

/// The runs a batch may take: finished, started before the cutoff, and no retry of theirs
/// is kept. Newest first, so a retry always goes in the same batch as its first attempt
/// or an earlier one (it has the higher id).
const PRUNABLE: &str = "SELECT id, log_path FROM runs AS r \
     WHERE r.started_at < ?1 AND r.status != 'running' \
       AND NOT EXISTS (SELECT 1 FROM runs AS k WHERE k.retry_of = r.id \
                       AND (k.started_at >= ?1 OR k.status = 'running')) \
     ORDER BY r.id DESC LIMIT ?2";

impl Store {
    /// Prunes runs that started before `before` (and events from before it).
    ///
    /// # Errors
    /// [`StoreError::Sql`] if SQLite fails; batches committed before the failure stay
    /// pruned, and the report of those is lost (a later prune continues).
    pub fn prune(
        &mut self,
        before: DateTime<Utc>,
        mode: RetentionMode,
        now: DateTime<Utc>,
    ) -> Result<PruneReport, StoreError> {
        const OP: &str = "pruning old runs";
        let cutoff = to_ms(before);
        let mut report = PruneReport::default();
        loop {
            let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
            let batch: Vec<(i64, Option<String>)> = {
                let mut stmt = tx.prepare_cached(PRUNABLE).map_err(StoreError::sql(OP))?;
                let rows = stmt
                    .query_map(params![cutoff, PRUNE_BATCH as i64], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .map_err(StoreError::sql(OP))?;
                rows.collect::<Result<_, _>>()
                    .map_err(StoreError::sql(OP))?
            };
            if batch.is_empty() {
                tx.commit().map_err(StoreError::sql(OP))?;
                break;
            }
            let ids = serde_json::to_string(&batch.iter().map(|(id, _)| id).collect::<Vec<_>>())
                .expect("integers serialize");
            for unlink in [
                "UPDATE events SET run_id = NULL WHERE run_id IN (SELECT value FROM json_each(?1))",
                "UPDATE alerts SET first_run_id = NULL \
                 WHERE first_run_id IN (SELECT value FROM json_each(?1))",
                "UPDATE alerts SET last_run_id = NULL \
                 WHERE last_run_id IN (SELECT value FROM json_each(?1))",
            ] {
                tx.execute(unlink, [&ids]).map_err(StoreError::sql(OP))?;
            }
            if mode == RetentionMode::Archive {
                tx.execute(
                    &format!(
                        "INSERT INTO runs_archive ({ARCHIVED}, archived_at) SELECT {ARCHIVED}, ?2 \
                         FROM runs WHERE id IN (SELECT value FROM json_each(?1))"
                    ),
                    params![ids, to_ms(now)],
                )
                .map_err(StoreError::sql(OP))?;
            }
            let deleted = tx
                .execute(
                    "DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?1))",
                    [&ids],
                )
                .map_err(StoreError::sql(OP))?;
            tx.commit().map_err(StoreError::sql(OP))?;
            report.runs += deleted as u64;
            report.logs.extend(
                batch
                    .into_iter()
                    .filter_map(|(_, log)| log.map(PathBuf::from)),
            );
        }
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        report.events = tx
            .execute("DELETE FROM events WHERE at < ?1", [cutoff])
            .map_err(StoreError::sql(OP))? as u64;
        report.alerts = tx
            .execute(
                "DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?1",
                [cutoff],
            )
            .map_err(StoreError::sql(OP))? as u64;
        tx.commit().map_err(StoreError::sql(OP))?;
        Ok(report)
    }

    /// How many runs and events a prune at `before` would take (`slotcron prune --dry-run`).
    ///
    /// # Errors
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn prunable(&self, before: DateTime<Utc>) -> Result<(u64, u64), StoreError> {
        const OP: &str = "counting old runs";
        let cutoff = to_ms(before);
        let runs: i64 = self
            .conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM ({})",
                    PRUNABLE.replace("LIMIT ?2", "")
                ),
                [cutoff],
                |row| row.get(0),
            )
            .map_err(StoreError::sql(OP))?;
        // An aggregate without GROUP BY always yields one row.
        let events: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM events WHERE at < ?1",
                [cutoff],
                |row| row.get(0),
            )
            .map_err(StoreError::sql(OP))?;
        Ok((runs as u64, events as u64))
    }
}
