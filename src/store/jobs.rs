//! Mirroring the job files into the `jobs` table. The table is never pruned: a job whose
//! file disappears is marked `removed_at`, so the history of its runs keeps its definition,
//! and a job that comes back is the same row again.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::record::{get_time, get_time_req, to_ms};
use super::{JobRecord, JobRow, Store, StoreError, SyncSummary};

/// The columns [`job_from_row`] reads.
const JOB_COLUMNS: &str =
    "name, file, slot, schedule, enabled, definition, first_seen_at, updated_at, removed_at";

impl Store {
    /// Makes the `jobs` table match `jobs`, the complete list of jobs loaded from the job
    /// files, in one transaction: new jobs are added, changed jobs updated (`updated_at` =
    /// `now`), jobs absent from the list marked removed at `now`, and removed jobs that
    /// are back restored. Unchanged jobs are not written.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for an empty or duplicate job name (nothing is written);
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn sync_jobs(
        &mut self,
        jobs: &[JobRow],
        now: DateTime<Utc>,
    ) -> Result<SyncSummary, StoreError> {
        const OP: &str = "syncing jobs";
        check_names(jobs)?;
        let names: HashSet<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        let stored = stored_jobs(&tx)?;
        let now = to_ms(now);
        let mut summary = SyncSummary::default();
        for job in jobs {
            upsert(&tx, job, stored.get(&job.name), now, &mut summary)?;
        }
        for (name, _) in stored
            .iter()
            .filter(|(n, old)| old.removed_at.is_none() && !names.contains(n.as_str()))
        {
            tx.execute(
                "UPDATE jobs SET removed_at = ?2 WHERE name = ?1",
                params![name, now],
            )
            .map_err(StoreError::sql(OP))?;
            summary.removed += 1;
        }
        tx.commit().map_err(StoreError::sql(OP))?;
        tracing::debug!(?summary, "jobs synced");
        Ok(summary)
    }

    /// Brings only the named jobs in step, for a caller that knows what changed (the
    /// daemon's reload knows which files it read again): `jobs` are added, updated or
    /// restored as by [`Store::sync_jobs`], `removed` are marked removed at `now`. The
    /// other rows are not read, so the cost follows the change, not the number of jobs.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for an empty or duplicate job name (nothing is written);
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn sync_some_jobs(
        &mut self,
        jobs: &[JobRow],
        removed: &[String],
        now: DateTime<Utc>,
    ) -> Result<SyncSummary, StoreError> {
        const OP: &str = "syncing changed jobs";
        check_names(jobs)?;
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        let now = to_ms(now);
        let mut summary = SyncSummary::default();
        {
            let sql = format!("SELECT {STORED_COLUMNS} FROM jobs WHERE name = ?1");
            let mut one = tx.prepare_cached(&sql).map_err(StoreError::sql(OP))?;
            for job in jobs {
                let stored = one
                    .query_row([&job.name], stored_from_row)
                    .optional()
                    .map_err(StoreError::sql(OP))?;
                upsert(&tx, job, stored.as_ref(), now, &mut summary)?;
            }
            let mut gone = tx
                .prepare_cached(
                    "UPDATE jobs SET removed_at = ?2 WHERE name = ?1 AND removed_at IS NULL",
                )
                .map_err(StoreError::sql(OP))?;
            for name in removed {
                summary.removed += gone
                    .execute(params![name, now])
                    .map_err(StoreError::sql(OP))?;
            }
        }
        tx.commit().map_err(StoreError::sql(OP))?;
        tracing::debug!(?summary, "changed jobs synced");
        Ok(summary)
    }

    /// Every job ever synced, removed ones included, by name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        const OP: &str = "listing jobs";
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY name");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map([], job_from_row)
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }

    /// Whether `job` is a row of `jobs` (its file may be gone: its history is still kept).
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn job_known(&self, job: &str) -> Result<bool, StoreError> {
        job_exists(&self.conn, job)
    }
}

/// Whether `job` is a row of `jobs` (removed or not).
fn job_exists(conn: &Connection, job: &str) -> Result<bool, StoreError> {
    const OP: &str = "checking a job name";
    conn.prepare_cached("SELECT 1 FROM jobs WHERE name = ?1")
        .and_then(|mut stmt| stmt.query_row([job], |_| Ok(())).optional())
        .map(|found| found.is_some())
        .map_err(StoreError::sql(OP))
}

/// Fails with [`StoreError::UnknownJob`] unless `job` is a row of `jobs` (removed or not).
pub(super) fn require_job(conn: &Connection, job: &str) -> Result<(), StoreError> {
    if job_exists(conn, job)? {
        Ok(())
    } else {
        Err(StoreError::UnknownJob {
            job: job.to_owned(),
        })
    }
}

/// Refuses empty and duplicate names before anything is written.
fn check_names(jobs: &[JobRow]) -> Result<(), StoreError> {
    let mut names = HashSet::with_capacity(jobs.len());
    for job in jobs {
        if job.name.is_empty() {
            return Err(invalid(format!("empty name for the job in {}", job.file)));
        }
        if !names.insert(job.name.as_str()) {
            return Err(invalid(format!(
                "`{}` is defined twice (again in {})",
                job.name, job.file
            )));
        }
    }
    Ok(())
}

/// Inserts `job`, or updates (and restores) its row when it differs from `stored`.
fn upsert(
    tx: &Transaction<'_>,
    job: &JobRow,
    stored: Option<&Stored>,
    now: i64,
    summary: &mut SyncSummary,
) -> Result<(), StoreError> {
    const OP: &str = "syncing a job";
    let sql = match stored {
        None => {
            summary.added += 1;
            "INSERT INTO jobs (name, file, slot, schedule, enabled, definition, \
             first_seen_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"
        }
        Some(old) if old.removed_at.is_some() || old.differs(job) => {
            if old.removed_at.is_some() {
                summary.restored += 1;
            } else {
                summary.updated += 1;
            }
            "UPDATE jobs SET file = ?2, slot = ?3, schedule = ?4, enabled = ?5, \
             definition = ?6, updated_at = ?7, removed_at = NULL WHERE name = ?1"
        }
        Some(_) => return Ok(()),
    };
    let params = params![
        job.name,
        job.file,
        job.slot,
        job.schedule,
        job.enabled,
        job.definition,
        now
    ];
    tx.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
        .map_err(StoreError::sql(OP))?;
    Ok(())
}

/// What a sync compares a job against: its row, with the definition as stored text.
struct Stored {
    file: String,
    slot: String,
    schedule: String,
    enabled: bool,
    definition: String,
    removed_at: Option<i64>,
}

/// The columns [`stored_from_row`] reads.
const STORED_COLUMNS: &str = "name, file, slot, schedule, enabled, definition, removed_at";

fn stored_from_row(row: &Row<'_>) -> rusqlite::Result<Stored> {
    Ok(Stored {
        file: row.get("file")?,
        slot: row.get("slot")?,
        schedule: row.get("schedule")?,
        enabled: row.get("enabled")?,
        definition: row.get("definition")?,
        removed_at: row.get("removed_at")?,
    })
}

/// Every stored job by name, read inside the sync transaction.
fn stored_jobs(tx: &Transaction<'_>) -> Result<HashMap<String, Stored>, StoreError> {
    const OP: &str = "reading jobs to sync";
    let sql = format!("SELECT {STORED_COLUMNS} FROM jobs");
    let mut stmt = tx.prepare_cached(&sql).map_err(StoreError::sql(OP))?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, String>("name")?, stored_from_row(row)?))
        })
        .map_err(StoreError::sql(OP))?;
    rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
}

impl Stored {
    /// Whether the job file's content differs from this stored row. Definitions are
    /// compared as text: a job serializes the same way every time (fields in declaration
    /// order, maps sorted), so equal jobs give equal text.
    fn differs(&self, job: &JobRow) -> bool {
        self.file != job.file
            || self.slot != job.slot
            || self.schedule != job.schedule
            || self.enabled != job.enabled
            || self.definition != job.definition
    }
}

fn job_from_row(row: &Row<'_>) -> rusqlite::Result<JobRecord> {
    let text: String = row.get("definition")?;
    let definition = serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(JobRecord {
        name: row.get("name")?,
        file: row.get("file")?,
        slot: row.get("slot")?,
        schedule: row.get("schedule")?,
        enabled: row.get("enabled")?,
        definition,
        first_seen_at: get_time_req(row, "first_seen_at")?,
        updated_at: get_time_req(row, "updated_at")?,
        removed_at: get_time(row, "removed_at")?,
    })
}

fn invalid(reason: String) -> StoreError {
    StoreError::Invalid {
        field: "job name",
        reason,
    }
}
