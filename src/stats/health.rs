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
use crate::config::Job;
use crate::model::RunStatus;
use crate::store::{JobSummary, Rolling};

/// `alerts.consecutive_failures` of a job that does not set it.
pub const DEFAULT_CONSECUTIVE_FAILURES: u32 = 3;
/// `overdue_grace` when `slotcron.yaml` does not set it.
pub const DEFAULT_OVERDUE_GRACE: Duration = Duration::from_secs(5 * 60);
/// `degraded_factor` when `slotcron.yaml` does not set it.
pub const DEFAULT_DEGRADED_FACTOR: f64 = 1.5;
/// How many of the newest successful runs are compared with the baseline.
pub const RECENT_RUNS: u32 = 5;
/// A duration MAD above this fraction of the median duration makes a job `unstable`.
pub const UNSTABLE_SPREAD: f64 = 0.5;

/// Whether the job fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// No failure, timeout or OOM kill in the last 24 hours, and no failure streak.
    Healthy,
    /// A failure, timeout, lost run or OOM kill in the last 24 hours.
    Warning,
    /// At least `alerts.consecutive_failures` failures in a row.
    Critical,
}

/// Whether the job runs when it should.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Execution {
    /// It ran, its latest finished run did not fail, and no scheduled time is missing.
    Ok,
    /// No run has started yet.
    NeverRun,
    /// A scheduled time passed more than the grace ago and no run started since.
    Overdue,
    /// Its latest finished run failed (failed, timeout, oom_killed, lost).
    Failing,
}

/// Whether the job's runs cost what its baseline says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Performance {
    /// Recent runs are in line with the baseline.
    Stable,
    /// The median of the newest successful runs' duration or memory is more than
    /// `degraded_factor` times the baseline's median.
    Degraded,
    /// The baseline itself is spread wide: duration MAD over half the median.
    Unstable,
    /// No baseline yet (fewer than `baseline_runs` successful runs): nothing to compare with.
    Unknown,
}

/// The medians of a job's newest [`RECENT_RUNS`] successful runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Recent {
    /// How many runs the medians are over (at most [`RECENT_RUNS`]).
    pub runs: u32,
    pub duration_median_ms: Option<f64>,
    pub memory_median_bytes: Option<f64>,
}

/// The thresholds a job is judged by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Failures in a row that make the job `critical`.
    pub consecutive_failures: u32,
    /// How late a scheduled run may start before the job is `overdue` (`overdue_grace`
    /// plus the job's jitter).
    pub overdue_grace: Duration,
    /// Recent median over baseline median that makes the job `degraded`.
    pub degraded_factor: f64,
}

/// What history and the settings say about one job, as [`assess`] needs it.
#[derive(Debug, Clone)]
pub struct HealthInputs {
    /// Last start, last final status, failure streak.
    pub summary: JobSummary,
    /// The last 24 hours; all zero when nothing ran.
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
    /// The setting `degraded_factor`.
    pub degraded_factor: f64,
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
            degraded_factor: DEFAULT_DEGRADED_FACTOR,
        }
    }
}

/// The health of one job: the element `health` of `slotcron jobs --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub status: HealthStatus,
    pub execution: Execution,
    pub performance: Performance,
    /// `None` before the job has `baseline_runs` successful runs.
    pub baseline: Option<Baseline>,
    /// Why there is no baseline ("4 of 10 successful runs"); `None` when there is one.
    pub baseline_missing: Option<String>,
    pub rolling_24h: Rolling,
    /// The missed scheduled time, while `execution` is `overdue`.
    pub overdue_since: Option<DateTime<Utc>>,
}

/// The health of `job` at `now`: [`evaluate`] with the job's thresholds (its
/// `alerts.consecutive_failures`, `overdue_grace` plus its jitter) and its first fire time
/// after its last start.
pub fn assess(job: &Job, inputs: &HealthInputs, now: DateTime<Utc>) -> Health {
    let thresholds = Thresholds {
        consecutive_failures: job
            .alerts
            .consecutive_failures
            .unwrap_or(DEFAULT_CONSECUTIVE_FAILURES),
        overdue_grace: inputs.overdue_grace + job.jitter.unwrap_or_default(),
        degraded_factor: inputs.degraded_factor,
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
    let status = if summary.consecutive_failures >= thresholds.consecutive_failures.max(1) {
        HealthStatus::Critical
    } else if rolling.failures > 0 || rolling.oom_kills > 0 {
        HealthStatus::Warning
    } else {
        HealthStatus::Healthy
    };
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
    let performance = match &inputs.baseline {
        None => Performance::Unknown,
        Some(baseline) => performance(baseline, &inputs.recent, thresholds.degraded_factor),
    };
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
        performance,
        baseline: inputs.baseline.clone(),
        baseline_missing,
        rolling_24h: rolling.clone(),
        overdue_since: overdue_since.filter(|_| execution == Execution::Overdue),
    }
}

fn performance(baseline: &Baseline, recent: &Recent, factor: f64) -> Performance {
    let above = |recent: Option<f64>, base: Option<f64>| match (recent, base) {
        (Some(r), Some(b)) => r > factor * b,
        _ => false,
    };
    if above(recent.duration_median_ms, Some(baseline.duration_median_ms))
        || above(recent.memory_median_bytes, baseline.memory_median_bytes)
    {
        Performance::Degraded
    } else if baseline.duration_median_ms > 0.0
        && baseline.duration_mad_ms / baseline.duration_median_ms > UNSTABLE_SPREAD
    {
        Performance::Unstable
    } else {
        Performance::Stable
    }
}

/// The statuses that count as a failure: for health, alerts and the circuit breaker (the
/// store's SQL list `FAILURE_STATUSES_SQL` is built from this).
pub fn is_failure(status: RunStatus) -> bool {
    matches!(
        status,
        RunStatus::Failed | RunStatus::Timeout | RunStatus::OomKilled | RunStatus::Lost
    )
}

#[cfg(test)]
mod tests;
