//! What slotcron shows of a job, in one place, so `slotcron jobs --json` and
//! `GET /api/v1/jobs` print the same element: the job as loaded (flattened), its override,
//! its breaker, its latest run and its health, all from history ([`Figures`]).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Job;
use crate::scheduler::{BreakerState, breaker_state};
use crate::stats::{Figures, Health, assess};
use crate::store::{JobSummary, RunRecord};

/// One element of `slotcron jobs --json`: the job as loaded (`enabled` is the file's),
/// the override set by `slotcron enable/disable` if any, and its latest run.
#[derive(Debug, Clone, Serialize)]
pub struct JobView<'a> {
    #[serde(flatten)]
    pub job: &'a Job,
    pub enabled_override: Option<bool>,
    /// Until when the circuit breaker holds the job back, if it is tripped now.
    pub tripped_until: Option<DateTime<Utc>>,
    pub last_run: Option<&'a RunRecord>,
    pub health: Health,
}

impl<'a> JobView<'a> {
    /// `job` as history (`figures`) shows it at `now`.
    pub fn new(job: &'a Job, figures: &'a Figures, now: DateTime<Utc>) -> JobView<'a> {
        JobView {
            job,
            enabled_override: figures
                .controls
                .get(&job.name)
                .and_then(|c| c.enabled_override),
            tripped_until: tripped_until(job, figures.summaries.get(&job.name), now),
            last_run: figures.latest.get(&job.name),
            health: assess(job, &figures.inputs(&job.name, job.enabled), now),
        }
    }
}

/// The same breaker rule the daemon applies, from history alone.
pub fn tripped_until(
    job: &Job,
    summary: Option<&JobSummary>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let (breaker, summary) = (job.breaker.as_ref()?, summary?);
    match breaker_state(
        breaker.failures,
        breaker.cooldown,
        summary.consecutive_failures,
        summary.last_failure_at,
        now,
    ) {
        BreakerState::Open { until } => Some(until),
        _ => None,
    }
}
