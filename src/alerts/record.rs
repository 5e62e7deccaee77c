//! One finished run's alerts, end to end: evaluate the rules, store every finding
//! (opening, repeating or escalating the job's alert of that kind), resolve what the run
//! shows to be over, and say which changes deserve a notification. Used by the daemon
//! after every run and by `slotcron run`: a run is a run, whoever started it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::performance::History;
use super::rules::{evaluate, resolutions};
use crate::config::{AlertSettings, Job};
use crate::model::alert::{AlertKind, Severity};
use crate::stats::Evidence;
use crate::store::{AlertChange, RunRecord, Store, StoreError};

/// An alert that was opened or escalated and is not acknowledged: what the notification
/// channels send. Field names are JSON keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertNotice {
    /// The alert's row id (`slotcron ack ID`).
    pub alert_id: i64,
    pub job: String,
    pub kind: AlertKind,
    /// The alert's severity after this change.
    pub severity: Severity,
    /// The newest finding's message.
    pub message: String,
    /// The newest finding's evidence; empty for kinds not judged against the baseline.
    pub evidence: Vec<Evidence>,
    /// `Opened` or `Escalated`; never `Repeated` or `Reopened` (they notify nobody).
    pub change: AlertChange,
}

/// What [`record_run`] did with one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunAlerts {
    /// Alerts opened or escalated, to notify, in finding order.
    pub notices: Vec<AlertNotice>,
    /// Alerts the run showed to be over: `(id, kind)`, lowest id first.
    pub resolved: Vec<(i64, AlertKind)>,
}

/// Evaluates `record` (a finished run of `job`) against `history` (the job's baseline and
/// newest successes, this run included) and stores the outcome in one go: every finding is
/// raised (reopening an alert resolved within `alerting.flap_window`), then the job's open
/// alerts that the run shows to be over are resolved. The failure streak is read from the
/// store (`Store::job_summary`), so it counts runs recorded by every process and honours
/// `slotcron reset`. Returns the notices to send, in finding order, and the alerts the run
/// resolved.
///
/// # Errors
///
/// [`StoreError::UnknownJob`] if the job was never synced; [`StoreError::Sql`] if SQLite
/// fails. Findings raised before the failure stay raised.
pub fn record_run(
    store: &mut Store,
    job: &Job,
    record: &RunRecord,
    history: &History,
    settings: &AlertSettings,
    now: DateTime<Utc>,
) -> Result<RunAlerts, StoreError> {
    // A success ends every streak; only a run that did not succeed asks history for it.
    let streak = if record.status == crate::model::RunStatus::Success {
        0
    } else {
        store.job_summary(&record.job)?.consecutive_failures
    };
    let findings = evaluate(record, job, streak, history, settings);
    let mut notices = Vec::new();
    for finding in &findings {
        let change = store.raise(
            &record.job,
            Some(record.id),
            finding,
            settings.flap_window,
            now,
        )?;
        tracing::debug!(job = %record.job, run_id = record.id, kind = %finding.kind, ?change, "alert raised");
        if change.notifies() {
            notices.push(AlertNotice {
                alert_id: change.id(),
                job: record.job.clone(),
                kind: finding.kind,
                severity: finding.severity,
                message: finding.message.clone(),
                evidence: finding.evidence.clone(),
                change,
            });
        }
    }
    let over = resolutions(record, &findings, history);
    let resolved = store.resolve(&record.job, &over, now)?;
    if !resolved.is_empty() {
        tracing::info!(job = %record.job, run_id = record.id, alerts = ?resolved, "alerts resolved");
    }
    Ok(RunAlerts { notices, resolved })
}
