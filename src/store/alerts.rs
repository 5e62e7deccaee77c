//! Alerts in the history: one open alert per (job, kind). Raising a finding opens one, or
//! counts a repeat on the open one, escalating it when the finding is worse; a later run
//! resolves it; acknowledging it silences its notifications but keeps it open until then.
//! Each change is one transaction, and the unique index `alerts_open` guarantees the
//! "one open alert" invariant even with several processes raising at once.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::jobs::require_job;
use super::record::{get_parsed, get_time, get_time_req, get_uint, to_ms};
use super::runs::require_run;
use super::{Store, StoreError};
use crate::alerts::{AlertKind, Finding, Severity};

/// What [`Store::raise`] did, and so whether to notify: `Opened` and `Escalated` notify,
/// `Repeated` does not. An acknowledged alert that a worse finding escalates is updated
/// (severity, `escalated_at`) but reported as `Repeated`: an acknowledgement silences an
/// alert until it resolves. Serializes as `opened`, `repeated` or `escalated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertChange {
    /// A new alert with this id.
    Opened(i64),
    /// The open alert with this id counted one more occurrence.
    Repeated(i64),
    /// The open, unacknowledged alert with this id counted one more occurrence and took the
    /// finding's higher severity.
    Escalated(i64),
}

impl AlertChange {
    /// The alert's id.
    pub fn id(self) -> i64 {
        match self {
            AlertChange::Opened(id) | AlertChange::Repeated(id) | AlertChange::Escalated(id) => id,
        }
    }

    /// Whether this change deserves a notification.
    pub fn notifies(self) -> bool {
        !matches!(self, AlertChange::Repeated(_))
    }

    /// `opened`, `repeated` or `escalated`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertChange::Opened(_) => "opened",
            AlertChange::Repeated(_) => "repeated",
            AlertChange::Escalated(_) => "escalated",
        }
    }
}

impl Serialize for AlertChange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// Findings counted, the first included; at least 1.
    pub count: u64,
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

const ALERT_COLUMNS: &str = "id, job, kind, severity, message, count, first_run_id, \
    last_run_id, opened_at, last_at, escalated_at, acknowledged_at, resolved_at";

impl Store {
    /// Records `finding` about `job` (and the run `run_id`, if it is about one) at `now`,
    /// in one transaction: opens an alert if the job has none open of that kind, else
    /// counts a repeat on the open one (`count`, `last_at`, `last_run_id`, `message`) and
    /// escalates it if the finding is more severe. A less severe finding never lowers it.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownJob`] if `job` is not a row of `jobs`; [`StoreError::Invalid`]
    /// if `run_id` is not a run (nothing is written); [`StoreError::Sql`] if SQLite fails.
    pub fn raise(
        &mut self,
        job: &str,
        run_id: Option<i64>,
        finding: &Finding,
        now: DateTime<Utc>,
    ) -> Result<AlertChange, StoreError> {
        const OP: &str = "raising an alert";
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        require_job(&tx, job)?;
        if let Some(id) = run_id {
            require_run(&tx, "run_id", id)?;
        }
        let open: Option<(i64, String, Option<i64>)> = tx
            .query_row(
                "SELECT id, severity, acknowledged_at FROM alerts \
                 WHERE job = ?1 AND kind = ?2 AND resolved_at IS NULL",
                params![job, finding.kind.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(StoreError::sql(OP))?;
        let change = match open {
            None => {
                tx.execute(
                    "INSERT INTO alerts (job, kind, severity, message, first_run_id, \
                     last_run_id, opened_at, last_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?6)",
                    params![
                        job,
                        finding.kind.as_str(),
                        finding.severity.as_str(),
                        finding.message,
                        run_id,
                        to_ms(now)
                    ],
                )
                .map_err(StoreError::sql(OP))?;
                AlertChange::Opened(tx.last_insert_rowid())
            }
            Some((id, severity, acknowledged)) => {
                // An unknown stored severity (a newer slotcron's) is never escalated over.
                let worse = severity
                    .parse::<Severity>()
                    .is_ok_and(|stored| finding.severity > stored);
                tx.execute(
                    "UPDATE alerts SET count = count + 1, last_at = max(last_at, ?2), \
                     last_run_id = coalesce(?3, last_run_id), message = ?4, \
                     severity = CASE WHEN ?5 THEN ?6 ELSE severity END, \
                     escalated_at = CASE WHEN ?5 THEN ?2 ELSE escalated_at END \
                     WHERE id = ?1",
                    params![
                        id,
                        to_ms(now),
                        run_id,
                        finding.message,
                        worse,
                        finding.severity.as_str()
                    ],
                )
                .map_err(StoreError::sql(OP))?;
                if worse && acknowledged.is_none() {
                    AlertChange::Escalated(id)
                } else {
                    AlertChange::Repeated(id)
                }
            }
        };
        tx.commit().map_err(StoreError::sql(OP))?;
        Ok(change)
    }

    /// Resolves `job`'s open alerts of these `kinds` at `now`, in one transaction, and
    /// returns their ids and kinds, lowest id first. Kinds with no open alert are passed
    /// over.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails (nothing is resolved).
    pub fn resolve(
        &mut self,
        job: &str,
        kinds: &[AlertKind],
        now: DateTime<Utc>,
    ) -> Result<Vec<(i64, AlertKind)>, StoreError> {
        const OP: &str = "resolving alerts";
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        let mut resolved = Vec::new();
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE alerts SET resolved_at = max(last_at, ?3) \
                     WHERE job = ?1 AND kind = ?2 AND resolved_at IS NULL RETURNING id",
                )
                .map_err(StoreError::sql(OP))?;
            for kind in kinds {
                let id: Option<i64> = stmt
                    .query_row(params![job, kind.as_str(), to_ms(now)], |row| row.get(0))
                    .optional()
                    .map_err(StoreError::sql(OP))?;
                resolved.extend(id.map(|id| (id, *kind)));
            }
        }
        tx.commit().map_err(StoreError::sql(OP))?;
        resolved.sort_unstable_by_key(|(id, _)| *id);
        Ok(resolved)
    }

    /// Acknowledges alert `id` at `now`: it stays open, and later changes no longer
    /// notify, until it resolves. Acknowledging again keeps the first time.
    ///
    /// # Errors
    ///
    /// [`StoreError::NoSuchAlert`] if no alert has this id; [`StoreError::Sql`] if SQLite
    /// fails.
    pub fn ack(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        const OP: &str = "acknowledging an alert";
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        let changed = tx
            .execute(
                "UPDATE alerts SET acknowledged_at = coalesce(acknowledged_at, ?2) WHERE id = ?1",
                params![id, to_ms(now)],
            )
            .map_err(StoreError::sql(OP))?;
        if changed == 0 {
            return Err(StoreError::NoSuchAlert { id });
        }
        tx.commit().map_err(StoreError::sql(OP))
    }

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
        count: get_uint(row, "count")?.unwrap_or(1),
        first_run_id: row.get("first_run_id")?,
        last_run_id: row.get("last_run_id")?,
        opened_at: get_time_req(row, "opened_at")?,
        last_at: get_time_req(row, "last_at")?,
        escalated_at: get_time(row, "escalated_at")?,
        acknowledged_at,
        resolved_at,
    })
}
