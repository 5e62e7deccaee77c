//! A job's health as `/metrics` shows it, by the rules of `stats::health` and
//! `stats::performance` (one rule, whoever asks), from what the engine holds in memory, so a
//! scrape reads no history: `slotcron_job_health` is `stats::health::summary_status` on the
//! engine's summary of the job, `slotcron_job_degraded` the performance verdict after the
//! job's newest run.

use crate::stats::{HealthStatus, Performance};

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
