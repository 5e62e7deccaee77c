//! A job's health as `slotcron_job_health` shows it: the rule of `stats::health` (critical
//! after the job's failure threshold in a row, warning after any failure in the last 24
//! hours), from what the engine holds in memory, so a scrape reads no history.

use chrono::{DateTime, Utc};

use crate::store::JobSummary;

pub use crate::stats::health::DEFAULT_CONSECUTIVE_FAILURES;

/// How a job is doing; the gauge's value is the discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Health {
    #[default]
    Healthy = 0,
    Warning = 1,
    Critical = 2,
}

/// Critical after `threshold` (default [`DEFAULT_CONSECUTIVE_FAILURES`]) failed runs in a
/// row; warning when a run failed within the last 24 hours (the newest failure the daemon
/// saw end, or the newest of history's failure streak); healthy otherwise.
///
/// ```
/// use chrono::{Duration, Utc};
/// use slotcron::metrics::{Health, job_health};
/// use slotcron::store::JobSummary;
/// let now = Utc::now();
/// let summary = JobSummary { consecutive_failures: 3, ..JobSummary::default() };
/// assert_eq!(job_health(&summary, None, None, now), Health::Critical);
/// assert_eq!(job_health(&summary, Some(5), None, now), Health::Healthy);
/// let earlier = Some(now - Duration::hours(20));
/// assert_eq!(job_health(&JobSummary::default(), None, earlier, now), Health::Warning);
/// ```
pub fn job_health(
    summary: &JobSummary,
    threshold: Option<u32>,
    last_failure: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Health {
    let threshold = threshold.unwrap_or(DEFAULT_CONSECUTIVE_FAILURES).max(1);
    let last_failure = last_failure.max(summary.last_failure_at);
    if summary.consecutive_failures >= threshold {
        Health::Critical
    } else if last_failure.is_some_and(|at| now - at < crate::stats::ROLLING_PERIOD) {
        Health::Warning
    } else {
        Health::Healthy
    }
}
