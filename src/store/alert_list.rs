//! Reading the alerts of the history: one alert ([`Store::alert`]), the open ones or all
//! ([`Store::alerts`]), and the open ones counted by severity for the metrics.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row};
use serde::Serialize;

use super::record::{get_parsed, get_time, get_time_req, get_uint};
use super::{Store, StoreError};
use crate::model::Evidence;
use crate::model::{AlertKind, Severity};

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Open and notifying.
    Open,
    /// Open, silenced by `slotcron ack`.
    Acknowledged,
    /// Over; a new finding of its kind opens a new alert.
    Resolved,
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        })
    }
}

/// One row of `alerts`: the element of `slotcron alerts --json`. Field names are the JSON
/// keys; timestamps serialize as RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRecord {
    /// Row id; increases with every alert opened.
    pub id: i64,
    pub job: String,
    pub kind: AlertKind,
    /// The highest severity of its findings so far.
    pub severity: Severity,
    /// Computed from the timestamps: resolved if `resolved_at`, else acknowledged if
    /// `acknowledged_at`, else open.
    pub state: AlertState,
    /// The newest finding's message.
    pub message: String,
    /// The newest finding's evidence (figures against the baseline, the rule that fired);
    /// empty for kinds not judged against a baseline.
    pub evidence: Vec<Evidence>,
    /// Findings counted, the first included; at least 1.
    pub count: u64,
    /// Times it was raised again within `alerting.flap_window` of being resolved, and so
    /// reopened instead of notifying anew.
    pub reopened: u64,
    /// The run that opened it; `None` for an alert about no run (`overdue`).
    pub first_run_id: Option<i64>,
    /// The newest run that raised it.
    pub last_run_id: Option<i64>,
    pub opened_at: DateTime<Utc>,
    /// The newest finding; never before `opened_at`.
    pub last_at: DateTime<Utc>,
    /// The newest escalation, if it ever escalated.
    pub escalated_at: Option<DateTime<Utc>>,
    /// The first acknowledgement.
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

const ALERT_COLUMNS: &str = "id, job, kind, severity, message, evidence, count, reopened, \
    first_run_id, last_run_id, opened_at, last_at, escalated_at, acknowledged_at, resolved_at";

impl Store {
    /// The alert with this id, if there is one.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or the row does not convert.
    pub fn alert(&self, id: i64) -> Result<Option<AlertRecord>, StoreError> {
        const OP: &str = "reading an alert";
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(OP))?;
        stmt.query_row([id], alert_from_row)
            .optional()
            .map_err(StoreError::sql(OP))
    }

    /// The open alerts (acknowledged ones included), or with `all` every alert ever
    /// raised; newest (highest id) first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn alerts(&self, all: bool) -> Result<Vec<AlertRecord>, StoreError> {
        const OP: &str = "listing alerts";
        let filter = if all { "" } else { "WHERE resolved_at IS NULL" };
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts {filter} ORDER BY id DESC");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map([], alert_from_row)
            .map_err(StoreError::sql(OP))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sql(OP))
    }

    /// How many alerts are open (acknowledged ones included) at each severity; every
    /// severity is present, 0 if none.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored severity is unknown.
    pub fn open_alert_counts(&self) -> Result<BTreeMap<Severity, u64>, StoreError> {
        const OP: &str = "counting open alerts";
        let mut counts: BTreeMap<Severity, u64> = Severity::ALL.iter().map(|&s| (s, 0)).collect();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT severity, count(*) AS n FROM alerts WHERE resolved_at IS NULL \
                 GROUP BY severity",
            )
            .map_err(StoreError::sql(OP))?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    get_parsed::<Severity>(row, "severity")?,
                    get_uint(row, "n")?,
                ))
            })
            .map_err(StoreError::sql(OP))?;
        for row in rows {
            let (severity, n) = row.map_err(StoreError::sql(OP))?;
            counts.insert(severity, n.unwrap_or(0));
        }
        Ok(counts)
    }
}

fn alert_from_row(row: &Row<'_>) -> rusqlite::Result<AlertRecord> {
    let acknowledged_at = get_time(row, "acknowledged_at")?;
    let resolved_at = get_time(row, "resolved_at")?;
    let state = match (resolved_at, acknowledged_at) {
        (Some(_), _) => AlertState::Resolved,
        (None, Some(_)) => AlertState::Acknowledged,
        (None, None) => AlertState::Open,
    };
    Ok(AlertRecord {
        id: row.get("id")?,
        job: row.get("job")?,
        kind: get_parsed(row, "kind")?,
        severity: get_parsed(row, "severity")?,
        state,
        message: row.get("message")?,
        evidence: get_evidence(row)?,
        count: get_uint(row, "count")?.unwrap_or(1),
        reopened: get_uint(row, "reopened")?.unwrap_or(0),
        first_run_id: row.get("first_run_id")?,
        last_run_id: row.get("last_run_id")?,
        opened_at: get_time_req(row, "opened_at")?,
        last_at: get_time_req(row, "last_at")?,
        escalated_at: get_time(row, "escalated_at")?,
        acknowledged_at,
        resolved_at,
    })
}

/// The `evidence` column: a JSON array of [`Evidence`], or NULL for none.
fn get_evidence(row: &Row<'_>) -> rusqlite::Result<Vec<Evidence>> {
    let Some(text) = row.get::<_, Option<String>>("evidence")? else {
        return Ok(Vec::new());
    };
    serde_json::from_str(&text).map_err(|e| {
        let idx = row.as_ref().column_index("evidence").unwrap_or(0);
        rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))
    })
}
