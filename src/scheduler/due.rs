//! What becomes of a job that has come due, before its slot is asked: its `enabled` flag and
//! circuit breaker ([`policy`](super::policy)), its `depends_on` and its `concurrency`.
//! [`decide`] is a pure function of plain values; the daemon gathers them, then records
//! and carries out the [`Decision`] (a skipped row, a cancelled run, a queued one).

use chrono::{DateTime, Utc};

use crate::config::Concurrency;
use crate::model::RunStatus;

use super::policy::BreakerState;

/// Who asked for the run, as far as the policies care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// Its schedule, a catch-up, `@reboot` or an `after:` leader: every policy applies.
    Schedule,
    /// A retry of a failed run: it goes on if the job was disabled meanwhile, but never
    /// past an open breaker.
    Retry,
    /// `slotcron run` (or the API): the user's word overrides `enabled` and the breaker.
    Manual,
}

/// Why a job came due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Schedule,
    CatchUp,
    Reboot,
    Manual,
    /// `after:` this job succeeded.
    After(String),
    /// Attempt `attempt` of the run `retry_of`.
    Retry {
        attempt: u32,
        retry_of: i64,
    },
}

impl Origin {
    /// What a run started for it records as its trigger (`schedule`, `after:<job>`, ...).
    pub fn trigger(&self) -> String {
        match self {
            Origin::Schedule => "schedule".into(),
            Origin::CatchUp => "catch_up".into(),
            Origin::Reboot => "reboot".into(),
            Origin::Manual => "manual".into(),
            Origin::After(leader) => format!("after:{leader}"),
            Origin::Retry { .. } => "retry".into(),
        }
    }

    /// Who asked, as far as [`decide`] cares.
    pub fn asker(&self) -> Asker {
        match self {
            Origin::Manual => Asker::Manual,
            Origin::Retry { .. } => Asker::Retry,
            _ => Asker::Schedule,
        }
    }

    /// The attempt number and the first attempt's run id of a run started for it.
    pub fn attempt(&self) -> (u32, Option<i64>) {
        match self {
            Origin::Retry { attempt, retry_of } => (*attempt, Some(*retry_of)),
            _ => (1, None),
        }
    }
}

/// A job's newest run that has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastOutcome {
    /// The run's history id.
    pub id: i64,
    pub status: RunStatus,
}

/// Everything [`decide`] looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct DueJob<'a> {
    pub asker: Asker,
    /// The file's `enabled:`, unless `slotcron enable/disable` overrides it.
    pub enabled: bool,
    /// The job's breaker now (always closed without `breaker:`).
    pub breaker: BreakerState,
    pub concurrency: Concurrency,
    /// Each `depends_on` job with its newest ended run, in the job's order; `None`: it has
    /// not run yet.
    pub dependencies: Vec<(&'a str, Option<LastOutcome>)>,
    /// The job's runs holding a seat: their history ids, `None` while still being recorded.
    pub running: Vec<Option<i64>>,
    /// Whether a run of the job already waits in its slot's queue.
    pub queued: bool,
}

/// Why a job's scheduled time passes without a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Off {
    Disabled,
    BreakerOpen { until: DateTime<Utc> },
}

impl Off {
    /// In words, for the job named `job`.
    pub fn describe(&self, job: &str) -> String {
        match self {
            Off::Disabled => format!("`{job}` is disabled"),
            Off::BreakerOpen { until } => {
                format!("`{job}`'s circuit breaker is open until {until}")
            }
        }
    }
}

/// What to do with a job that has come due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing, and nothing recorded: the job is switched off.
    Ignore(Off),
    /// Record a `skipped` run with this reason.
    Skip(String),
    /// Put the run in its slot's queue.
    Queue,
    /// `concurrency: replace` with a run of the job running or queued: stop the running
    /// ones and drop the queued ones, then queue this run (admission starts it once the old
    /// ones are gone, see [`Hold::Replacing`](super::admission::Hold::Replacing)).
    Replace,
}

/// The policies of a job that has come due, in order: `enabled`, the breaker, `depends_on`,
/// `concurrency`. A full queue is [`Admission::enqueue`](super::Admission::enqueue)'s to say.
pub fn decide(due: &DueJob<'_>) -> Decision {
    let manual = due.asker == Asker::Manual;
    if due.asker == Asker::Schedule && !due.enabled {
        return Decision::Ignore(Off::Disabled);
    }
    if !manual && let BreakerState::Open { until } = due.breaker {
        return Decision::Ignore(Off::BreakerOpen { until });
    }
    if let Some(reason) = unmet_dependency(&due.dependencies) {
        return Decision::Skip(reason);
    }
    let busy = !due.running.is_empty() || due.queued;
    match due.concurrency {
        Concurrency::Forbid if busy => Decision::Skip(forbid_reason(due)),
        Concurrency::Replace if busy => Decision::Replace,
        _ => Decision::Queue,
    }
}

/// `depends_on`: the first dependency whose newest ended run did not succeed, in words.
pub fn unmet_dependency(dependencies: &[(&str, Option<LastOutcome>)]) -> Option<String> {
    dependencies.iter().find_map(|(dep, last)| match last {
        Some(run) if run.status == RunStatus::Success => None,
        Some(run) => Some(format!(
            "depends_on: `{dep}`'s latest run ({}) ended {}",
            run.id, run.status
        )),
        None => Some(format!("depends_on: `{dep}` has not run yet")),
    })
}

fn forbid_reason(due: &DueJob<'_>) -> String {
    match due.running.iter().flatten().next() {
        Some(id) => format!("concurrency forbid: run {id} is still running"),
        None if due.queued => "concurrency forbid: a run is already waiting".into(),
        None => "concurrency forbid: the previous run is still starting".into(),
    }
}

#[cfg(test)]
#[path = "due_tests.rs"]
mod tests;
