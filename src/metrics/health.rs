//! A job's health as `/metrics` shows it, by the rules of `stats::health` and
//! `stats::performance` (one rule, whoever asks), from what the engine holds in memory, so a
//! scrape reads no history: `slotcron_job_health` is [`job_health`] (critical after the
//! job's failure threshold in a row, warning after a failure or an OOM kill in the last 24
//! hours), `slotcron_job_degraded` the performance verdict after the job's newest run.

use chrono::{DateTime, Utc};

use crate::stats::health::status;
use crate::stats::{HealthStatus, Performance};
use crate::store::JobSummary;

pub use crate::stats::health::DEFAULT_CONSECUTIVE_FAILURES;

/// The value of `slotcron_job_health`: 0 healthy, 1 warning, 2 critical.
pub fn health_value(status: HealthStatus) -> i64 {
    match status {
        HealthStatus::Healthy => 0,
        HealthStatus::Warning => 1,
        HealthStatus::Critical => 2,
    }
}

/// The value of `slotcron_job_degraded`: 1 degraded, 0 otherwise; `None` (no series) while
/// the job has no baseline or no verdict yet.
pub fn degraded_value(performance: Option<Performance>) -> Option<i64> {
    match performance? {
        Performance::Unknown => None,
        Performance::Degraded => Some(1),
        Performance::Stable | Performance::Unstable => Some(0),
    }
}

/// `stats::health::status` on what the engine holds: the failure streak of `summary`
/// against `threshold` (default [`DEFAULT_CONSECUTIVE_FAILURES`]), and whether the newest
/// failure or OOM kill (the daemon's, or history's failure streak) is within the last 24
/// hours.
///
/// ```
/// use chrono::{Duration, Utc};
/// use slotcron::metrics::job_health;
/// use slotcron::stats::HealthStatus;
/// use slotcron::store::JobSummary;
/// let now = Utc::now();
/// let summary = JobSummary { consecutive_failures: 3, ..JobSummary::default() };
/// assert_eq!(job_health(&summary, None, None, now), HealthStatus::Critical);
/// assert_eq!(job_health(&summary, Some(5), None, now), HealthStatus::Healthy);
/// let earlier = Some(now - Duration::hours(20));
/// assert_eq!(job_health(&JobSummary::default(), None, earlier, now), HealthStatus::Warning);
/// ```
pub fn job_health(
    summary: &JobSummary,
    threshold: Option<u32>,
    last_trouble: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> HealthStatus {
    let last_trouble = last_trouble.max(summary.last_failure_at);
    let recent = last_trouble.is_some_and(|at| now - at < crate::stats::ROLLING_PERIOD);
    status(
        summary.consecutive_failures,
        threshold.unwrap_or(DEFAULT_CONSECUTIVE_FAILURES),
        recent,
    )
}
