//! The daemon's log of things that are not runs: a start deferred because the machine is
//! under memory pressure, a circuit breaker that tripped, a job file that failed to
//! reload, runs recovered after a crash. They live in their own table, not as pseudo-runs,
//! so every row of `runs` stays a process that ran (or was skipped) and its figures.

use chrono::{DateTime, Utc};
use rusqlite::{Row, params};
use serde::Serialize;

use super::record::{get_time_req, to_ms};
use super::runs::require_run;
use super::{Store, StoreError};

/// An event about to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened, a short snake-case word: `deferred`, `resumed`, `breaker_tripped`,
    /// `reload_error`, `recovered`, ...; never empty.
    pub kind: String,
    /// The job it concerns, if one; need not be a row of `jobs` (a job file that never
    /// loaded has none).
    pub job: Option<String>,
    /// The run it concerns, if one; must be a row of `runs`.
    pub run_id: Option<i64>,
    /// What to tell the user, in words.
    pub message: String,
}

/// One row of `events`. Field names are JSON keys; `at` serializes as RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    /// Row id; increases with every event recorded.
    pub id: i64,
    /// See [`NewEvent::at`].
    pub at: DateTime<Utc>,
    /// See [`NewEvent::kind`].
    pub kind: String,
    /// See [`NewEvent::job`].
    pub job: Option<String>,
    /// See [`NewEvent::run_id`].
    pub run_id: Option<i64>,
    /// See [`NewEvent::message`].
    pub message: String,
}

impl Store {
    /// Records an event in one transaction and returns its id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] for an empty kind or a `run_id` that is not a run (nothing
    /// is written); [`StoreError::Sql`] if SQLite fails.
    pub fn record_event(&mut self, event: &NewEvent) -> Result<i64, StoreError> {
        const OP: &str = "recording an event";
        if event.kind.trim().is_empty() {
            return Err(StoreError::invalid("event kind", "must not be empty"));
        }
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        if let Some(run_id) = event.run_id {
            require_run(&tx, "run_id", run_id)?;
        }
        tx.execute(
            "INSERT INTO events (at, kind, job, run_id, message) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                to_ms(event.at),
                event.kind,
                event.job,
                event.run_id,
                event.message
            ],
        )
        .map_err(StoreError::sql(OP))?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(StoreError::sql(OP))?;
        tracing::debug!(event_id = id, kind = %event.kind, job = ?event.job, "event recorded");
        Ok(id)
    }

    /// The newest `limit` events, newest (highest id) first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn events(&self, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        const OP: &str = "listing events";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, at, kind, job, run_id, message FROM events ORDER BY id DESC LIMIT ?1",
            )
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map([limit], event_from_row)
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<EventRecord> {
    Ok(EventRecord {
        id: row.get("id")?,
        at: get_time_req(row, "at")?,
        kind: row.get("kind")?,
        job: row.get("job")?,
        run_id: row.get("run_id")?,
        message: row.get("message")?,
    })
}
