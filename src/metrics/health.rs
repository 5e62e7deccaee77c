//! A job's health as `slotcron_job_health` shows it, and the open alerts. Both are
//! stand-ins: `stats::assess` (baselines) and `Store::open_alert_counts` replace them when
//! those modules land; each is one small function so the swap touches nothing else.

use std::collections::BTreeMap;

use crate::model::RunStatus;
use crate::store::JobSummary;

/// `alerts.consecutive_failures` of a job that does not set it.
pub const DEFAULT_CONSECUTIVE_FAILURES: u32 = 3;

/// How a job is doing; the gauge's value is the discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Health {
    #[default]
    Healthy = 0,
    Warning = 1,
    Critical = 2,
}

/// Critical after `threshold` (default [`DEFAULT_CONSECUTIVE_FAILURES`]) failed runs in
/// a row; warning when the latest run failed; healthy otherwise.
///
/// ```
/// use slotcron::metrics::{Health, job_health};
/// use slotcron::store::JobSummary;
/// let summary = JobSummary { consecutive_failures: 3, ..JobSummary::default() };
/// assert_eq!(job_health(&summary, None), Health::Critical);
/// assert_eq!(job_health(&summary, Some(5)), Health::Healthy);
/// ```
pub fn job_health(summary: &JobSummary, threshold: Option<u32>) -> Health {
    let threshold = threshold.unwrap_or(DEFAULT_CONSECUTIVE_FAILURES).max(1);
    let latest_failed = summary.last_final.is_some_and(|r| {
        matches!(
            r.status,
            RunStatus::Failed | RunStatus::Timeout | RunStatus::OomKilled | RunStatus::Lost
        )
    });
    if summary.consecutive_failures >= threshold {
        Health::Critical
    } else if latest_failed {
        Health::Warning
    } else {
        Health::Healthy
    }
}

/// Open alerts by severity: empty until the `alerts` module provides
/// `Store::open_alert_counts`; `slotcron_alerts_open` then has series.
pub fn open_alert_counts() -> BTreeMap<String, u64> {
    BTreeMap::new()
}
