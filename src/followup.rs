//! What history does with a finished run, whoever ran it (the daemon or `slotcron run`):
//! its alerts are judged against the job's stored baseline, then, after a success, the
//! baseline itself is refreshed when enough new successes came in. One function, so both
//! paths follow the same rules in the same order, in one visit to the database.

use chrono::{DateTime, Utc};
use tracing::{debug, warn};

use crate::alerts::{self, RunAlerts};
use crate::config::{Job, Settings};
use crate::model::RunStatus;
use crate::stats::baseline::RECOMPUTE_EVERY;
use crate::store::{RunRecord, Store};

/// Records the run's alerts and refreshes the job's baseline; returns the alerts that were
/// opened or escalated and those the run resolved. Failures are only logged: a run's
/// outcome stands whatever history can add to it.
pub fn record(
    store: &mut Store,
    job: &Job,
    run: &RunRecord,
    settings: &Settings,
    now: DateTime<Utc>,
) -> RunAlerts {
    let baseline = alerts::stored_baseline(store, &job.name);
    let alerts = alerts::record_run(store, job, run, baseline.as_ref(), &settings.alerting, now)
        .unwrap_or_else(|error| {
            warn!(job = %run.job, run_id = run.id, %error, "recording alerts");
            RunAlerts::default()
        });
    if run.status == RunStatus::Success {
        let n = settings.health.baseline_runs;
        match store.refresh_baseline(&run.job, n, RECOMPUTE_EVERY, now) {
            Ok(Some(b)) => {
                debug!(job = %run.job, median_ms = b.duration_median_ms, "baseline recomputed")
            }
            Ok(None) => {}
            Err(error) => warn!(job = %run.job, %error, "recomputing the baseline"),
        }
    }
    alerts
}
