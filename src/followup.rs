//! What history does with a finished run, whoever ran it (the daemon or `slotcron run`):
//! its alerts are judged against the job's stored baseline and its newest successes (this
//! run included), then, after a success, the baseline itself is checked when enough new
//! successes came in: replaced by a settled window, or held (ADR 0031). One function, so
//! both paths follow the same rules in the same order, in one visit to the database.

use chrono::{DateTime, Utc};
use tracing::{debug, warn};

use crate::alerts::{self, RunAlerts};
use crate::config::{Job, Settings};
use crate::model::RunStatus;
use crate::stats::baseline::RECOMPUTE_EVERY;
use crate::stats::{Performance, verdict};
use crate::store::{BaselineChange, RunRecord, Store};

/// What [`record`] did with a run.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    /// The alerts it opened or escalated (to notify) and those it resolved.
    pub alerts: RunAlerts,
    /// The job's performance after the run (against the baseline as it is now): what
    /// `slotcron_job_degraded` shows until the next run.
    pub performance: Performance,
}

/// Records the run's alerts and refreshes the job's baseline; returns the alerts that were
/// opened or escalated, those the run resolved, and the job's performance now. Failures
/// are only logged: a run's outcome stands whatever history can add to it.
pub fn record(
    store: &mut Store,
    job: &Job,
    run: &RunRecord,
    settings: &Settings,
    now: DateTime<Utc>,
) -> FollowUp {
    let n = settings.health.baseline_runs;
    let mut history = alerts::history(store, &job.name, n);
    let alerts = alerts::record_run(store, job, run, &history, &settings.alerting, now)
        .unwrap_or_else(|error| {
            warn!(job = %run.job, run_id = run.id, %error, "recording alerts");
            RunAlerts::default()
        });
    if run.status == RunStatus::Success {
        match store.refresh_baseline(&run.job, n, RECOMPUTE_EVERY, now) {
            Ok(Some(BaselineChange::Computed(b))) => {
                debug!(job = %run.job, median_ms = b.duration_median_ms, "baseline recomputed");
                history.baseline = Some(b);
            }
            Ok(Some(BaselineChange::Held)) => {
                debug!(job = %run.job, "baseline held: the newest window is not settled")
            }
            Ok(None) => {}
            Err(error) => warn!(job = %run.job, %error, "recomputing the baseline"),
        }
    }
    let judging = job.alerts.judging(&settings.alerting.judging);
    let performance = verdict(history.baseline.as_ref(), &history.recent, &judging).performance;
    FollowUp {
        alerts,
        performance,
    }
}
