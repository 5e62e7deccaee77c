//! Alerts in the history: one open alert per (job, kind). Raising a finding opens one, or
//! counts a repeat on the open one, escalating it when the finding is worse; a later run
//! resolves it; acknowledging it silences its notifications but keeps it open until then.
//! A finding raised within the flap window of its kind's resolution reopens that alert
//! (one episode, one notification) instead of opening another. Each change is one
//! transaction, and the unique index `alerts_open` guarantees the "one open alert"
//! invariant even with several processes raising at once. Reading them is
//! [`super::alert_list`]'s.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::jobs::require_job;
use super::record::to_ms;
use super::runs::require_run;
use super::{Store, StoreError};
use crate::model::{AlertKind, Finding, Severity};

/// What [`Store::raise`] did, and so whether to notify: `Opened` and `Escalated` notify,
/// `Repeated` and `Reopened` do not. An acknowledged alert that a worse finding escalates
/// is updated (severity, `escalated_at`) but reported as `Repeated`: an acknowledgement
/// silences an alert until it resolves. Serializes as `opened`, `repeated`, `reopened` or
/// `escalated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertChange {
    /// A new alert with this id.
    Opened(i64),
    /// The open alert with this id counted one more occurrence.
    Repeated(i64),
    /// The alert with this id, resolved within the flap window, was raised again: it is
    /// open again and counted one more occurrence and one more reopening (same episode).
    Reopened(i64),
    /// The open (or reopened), unacknowledged alert with this id counted one more
    /// occurrence and took the finding's higher severity.
    Escalated(i64),
}

impl AlertChange {
    /// The alert's id.
    pub fn id(self) -> i64 {
        match self {
            AlertChange::Opened(id)
            | AlertChange::Repeated(id)
            | AlertChange::Reopened(id)
            | AlertChange::Escalated(id) => id,
        }
    }

    /// Whether this change deserves a notification.
    pub fn notifies(self) -> bool {
        matches!(self, AlertChange::Opened(_) | AlertChange::Escalated(_))
    }

    /// `opened`, `repeated` or `escalated`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertChange::Opened(_) => "opened",
            AlertChange::Repeated(_) => "repeated",
            AlertChange::Reopened(_) => "reopened",
            AlertChange::Escalated(_) => "escalated",
        }
    }
}

impl Serialize for AlertChange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Store {
    /// Records `finding` about `job` (and the run `run_id`, if it is about one) at `now`,
    /// in one transaction: opens an alert if the job has none open of that kind (or
    /// reopens the one resolved less than `flap_window` ago: same id, `reopened` + 1), else
    /// counts a repeat on the open one (`count`, `last_at`, `last_run_id`, `message`,
    /// `evidence`) and escalates it if the finding is more severe. A less severe finding
    /// never lowers it. A `flap_window` of zero never reopens.
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
        flap_window: Duration,
        now: DateTime<Utc>,
    ) -> Result<AlertChange, StoreError> {
        const OP: &str = "raising an alert";
        let tx = self.conn.transaction().map_err(StoreError::sql(OP))?;
        require_job(&tx, job)?;
        if let Some(id) = run_id {
            require_run(&tx, "run_id", id)?;
        }
        let evidence = evidence_json(finding)?;
        let kind = finding.kind.as_str();
        let open = latest(&tx, "resolved_at IS NULL", params![job, kind])?;
        let window_start = now - chrono::Duration::from_std(flap_window).unwrap_or_default();
        let reopen = match open {
            Some(_) => None,
            None if flap_window.is_zero() => None,
            None => latest(
                &tx,
                "resolved_at >= ?3 ORDER BY resolved_at DESC LIMIT 1",
                params![job, kind, to_ms(window_start)],
            )?,
        };
        let change = match open.or(reopen) {
            None => {
                tx.execute(
                    "INSERT INTO alerts (job, kind, severity, message, evidence, first_run_id, \
                     last_run_id, opened_at, last_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?7)",
                    params![
                        job,
                        kind,
                        finding.severity.as_str(),
                        finding.message,
                        evidence,
                        run_id,
                        to_ms(now)
                    ],
                )
                .map_err(StoreError::sql(OP))?;
                AlertChange::Opened(tx.last_insert_rowid())
            }
            Some(found) => {
                // An unknown stored severity (a newer slotcron's) is never escalated over.
                let worse = found
                    .severity
                    .is_some_and(|stored| finding.severity > stored);
                tx.execute(
                    "UPDATE alerts SET count = count + 1, last_at = max(last_at, ?2), \
                     last_run_id = coalesce(?3, last_run_id), message = ?4, evidence = ?7, \
                     severity = CASE WHEN ?5 THEN ?6 ELSE severity END, \
                     escalated_at = CASE WHEN ?5 THEN ?2 ELSE escalated_at END, \
                     reopened = reopened + (resolved_at IS NOT NULL), resolved_at = NULL \
                     WHERE id = ?1",
                    params![
                        found.id,
                        to_ms(now),
                        run_id,
                        finding.message,
                        worse,
                        finding.severity.as_str(),
                        evidence
                    ],
                )
                .map_err(StoreError::sql(OP))?;
                match (worse && !found.acknowledged, reopen.is_some()) {
                    (true, _) => AlertChange::Escalated(found.id),
                    (false, true) => AlertChange::Reopened(found.id),
                    (false, false) => AlertChange::Repeated(found.id),
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
        // Most runs find nothing open: one read of the index of open alerts then spares
        // the write transaction (issue 15: it cost a fifth of a run's follow-up).
        let open: bool = self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM alerts WHERE job = ?1 AND resolved_at IS NULL)",
            )
            .and_then(|mut stmt| stmt.query_row([job], |row| row.get(0)))
            .map_err(StoreError::sql(OP))?;
        if !open {
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
}

/// The alert [`Store::raise`] counts a finding on.
#[derive(Debug, Clone, Copy)]
struct Found {
    id: i64,
    /// `None` for a severity this slotcron does not know (a newer one's).
    severity: Option<Severity>,
    acknowledged: bool,
}

/// The alert of `(job, kind)` (parameters 1 and 2) matching `filter`, if any.
fn latest(
    tx: &Transaction<'_>,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Option<Found>, StoreError> {
    let sql = format!(
        "SELECT id, severity, acknowledged_at IS NOT NULL FROM alerts \
         WHERE job = ?1 AND kind = ?2 AND {filter}"
    );
    tx.query_row(&sql, params, |row| {
        let severity: String = row.get(1)?;
        Ok(Found {
            id: row.get(0)?,
            severity: severity.parse().ok(),
            acknowledged: row.get(2)?,
        })
    })
    .optional()
    .map_err(StoreError::sql("finding an alert"))
}

/// The finding's evidence as stored: a JSON array, or NULL when it has none.
fn evidence_json(finding: &Finding) -> Result<Option<String>, StoreError> {
    if finding.evidence.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(&finding.evidence)
        .map(Some)
        .map_err(|e| StoreError::invalid("evidence", e.to_string()))
}
