//! A job's health in three words, from plain inputs: is it failing (`status`), is it running
//! when it should (`execution`), and does it cost what it used to (`performance`).
//!
//! [`evaluate`] is pure: every figure comes in as an argument, so the rules are tested on
//! hand-made values. [`assess`] takes a loaded [`Job`] and adds what follows from its
//! definition (thresholds, schedule, jitter).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::baseline::Baseline;
use super::effect::{Evidence, Judging};
use super::performance::verdict;
pub use super::performance::{Performance, RECENT_RUNS, Recent, UNSTABLE_SPREAD};
use crate::config::Job;
pub use crate::model::health::{
    DEFAULT_CONSECUTIVE_FAILURES, DEFAULT_OVERDUE_GRACE, Execution, HealthStatus,
};
pub use crate::model::{is_failure, is_trouble};
use crate::store::{JobSummary, Rolling};

/// The thresholds a job is judged by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Failures in a row that make the job `critical`.
    pub consecutive_failures: u32,
    /// How late a scheduled run may start before the job is `overdue` (`overdue_grace`
    /// plus the job's jitter).
    pub overdue_grace: Duration,
    /// What makes the job `degraded`: the machine's `alerting:` with the job's `alerts:`
    /// laid over it.
    pub judging: Judging,
}

/// What history and the settings say about one job, as [`assess`] needs it.
#[derive(Debug, Clone)]
pub struct HealthInputs {
    /// Last start, last final status, failure streak, end of the newest trouble.
    pub summary: JobSummary,
    /// The runs started in the last 24 hours (shown, not judged); all zero when nothing
    /// ran.
    pub rolling: Rolling,
    pub baseline: Option<Baseline>,
    /// Successful runs so far, counted up to `baseline_runs`; for the "no baseline" reason.
    pub successes: u32,
    /// The setting `baseline_runs`.
    pub baseline_runs: u32,
    pub recent: Recent,
    /// Whether the scheduler fires the job (the file's `enabled:` or its override). A
    /// disabled job is never overdue.
    pub enabled: bool,
    /// The setting `overdue_grace`.
    pub overdue_grace: Duration,
    /// The machine's `alerting:` thresholds (a job's `alerts:` is laid over them by
    /// [`assess`]).
    pub judging: Judging,
}

impl Default for HealthInputs {
    /// A job that never ran, enabled, under the default settings.
    fn default() -> HealthInputs {
        HealthInputs {
            summary: JobSummary::default(),
            rolling: Rolling::default(),
            baseline: None,
            successes: 0,
            baseline_runs: super::baseline::DEFAULT_BASELINE_RUNS,
            recent: Recent::default(),
            enabled: true,
            overdue_grace: DEFAULT_OVERDUE_GRACE,
            judging: Judging::default(),
        }
    }
}

/// The health of one job: the element `health` of `slotcron jobs --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub status: HealthStatus,
    pub execution: Execution,
    pub performance: Performance,
    /// Why the job is `degraded` (one item per figure); empty otherwise.
    pub degradation: Vec<Evidence>,
    /// The medians of the newest successful runs that `performance` judges.
    pub recent: Recent,
    /// `None` before the job has `baseline_runs` successful runs.
    pub baseline: Option<Baseline>,
    /// Why there is no baseline ("4 of 10 successful runs"); `None` when there is one.
    pub baseline_missing: Option<String>,
    /// The runs *started* in the last 24 hours. `status` looks at when troubled runs
    /// ended instead, so a long run that failed can warn with 0 failures here.
    pub rolling_24h: Rolling,
    /// The missed scheduled time, while `execution` is `overdue`.
    pub overdue_since: Option<DateTime<Utc>>,
}

/// The health of `job` at `now`: [`evaluate`] with the job's thresholds (its
/// `alerts.consecutive_failures`, `overdue_grace` plus its jitter, its `alerts:` effect
/// thresholds over the machine's) and its first fire time after its last start.
pub fn assess(job: &Job, inputs: &HealthInputs, now: DateTime<Utc>) -> Health {
    let thresholds = Thresholds {
        consecutive_failures: failure_threshold(job),
        overdue_grace: inputs.overdue_grace + job.jitter.unwrap_or_default(),
        judging: job.alerts.judging(&inputs.judging),
    };
    let due_after_last_start = inputs
        .summary
        .last_started_at
        .filter(|_| inputs.enabled)
        .and_then(|last| job.next_fire(last));
    evaluate(&thresholds, inputs, due_after_last_start, now)
}

/// The rules, on plain values. `due_after_last_start` is the job's first scheduled time
/// after its last start (`None` for a job without scheduled times, a disabled one, or one
/// that never started): when it lies more than the grace before `now`, a scheduled run is
/// missing and the job is `overdue`. This is the "last scheduled time passed and nothing
/// started since" rule without walking the schedule: if any scheduled time passed after
/// the last start, the first one did.
pub fn evaluate(
    thresholds: &Thresholds,
    inputs: &HealthInputs,
    due_after_last_start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Health {
    let summary = &inputs.summary;
    let rolling = &inputs.rolling;
    let status = summary_status(summary, thresholds.consecutive_failures, now);
    let grace =
        chrono::Duration::from_std(thresholds.overdue_grace).unwrap_or(chrono::Duration::MAX);
    let overdue_since = due_after_last_start.filter(|due| now.signed_duration_since(*due) > grace);
    let execution = if summary.last_started_at.is_none() && summary.last_final.is_none() {
        Execution::NeverRun
    } else if overdue_since.is_some() {
        Execution::Overdue
    } else if summary.last_final.is_some_and(|run| is_failure(run.status)) {
        Execution::Failing
    } else {
        Execution::Ok
    };
    let performance = verdict(
        inputs.baseline.as_ref(),
        &inputs.recent,
        &thresholds.judging,
    );
    let baseline_missing = inputs.baseline.is_none().then(|| {
        format!(
            "{} of {} successful runs",
            inputs.successes.min(inputs.baseline_runs),
            inputs.baseline_runs
        )
    });
    Health {
        status,
        execution,
        performance: performance.performance,
        degradation: performance.evidence,
        recent: inputs.recent,
        baseline: inputs.baseline.clone(),
        baseline_missing,
        rolling_24h: rolling.clone(),
        overdue_since: overdue_since.filter(|_| execution == Execution::Overdue),
    }
}

/// The `status` rule: `critical` with `streak` failures in a row at or above `threshold`
/// (at least 1), `warning` when the job `troubled` in the last 24 hours ([`troubled`]),
/// else `healthy`.
pub fn status(streak: u32, threshold: u32, troubled: bool) -> HealthStatus {
    if streak >= threshold.max(1) {
        HealthStatus::Critical
    } else if troubled {
        HealthStatus::Warning
    } else {
        HealthStatus::Healthy
    }
}

/// The `status` of a job's health from its summary at `now`: [`status`] on its failure
/// streak and the end of its newest troubled run. The one rule every reader applies:
/// `slotcron jobs` and the API on the summary history gives, `slotcron status` and
/// `slotcron_job_health` on the one the daemon keeps up to date as runs end
/// (`JobSummary::learn`). `threshold` is [`failure_threshold`] of the job.
pub fn summary_status(summary: &JobSummary, threshold: u32, now: DateTime<Utc>) -> HealthStatus {
    status(
        summary.consecutive_failures,
        threshold,
        troubled(summary.last_trouble_at, now),
    )
}

/// The failures in a row that make `job` critical: its `alerts.consecutive_failures`, else
/// [`DEFAULT_CONSECUTIVE_FAILURES`].
pub fn failure_threshold(job: &Job) -> u32 {
    job.alerts
        .consecutive_failures
        .unwrap_or(DEFAULT_CONSECUTIVE_FAILURES)
}

/// Whether a troubled run ended less than [`super::ROLLING_PERIOD`] (24 hours) before
/// `now`, given the end of the newest one. A run troubles when it *ends* badly, so the
/// warning lasts a full day after the failure however long the run took (ADR 0034).
///
/// ```
/// use chrono::{Duration, Utc};
/// use slotcron::stats::health::troubled;
/// let now = Utc::now();
/// assert!(troubled(Some(now - Duration::hours(23)), now));
/// assert!(!troubled(Some(now - Duration::hours(25)), now));
/// assert!(!troubled(None, now));
/// ```
pub fn troubled(last_trouble_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_trouble_at.is_some_and(|at| now.signed_duration_since(at) < super::ROLLING_PERIOD)
}

#[cfg(test)]
mod tests;
