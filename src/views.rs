//! What slotcron shows of a job, in one place, so `slotcron jobs --json` and
//! `GET /api/v1/jobs` print the same element: the job as loaded (flattened), its `env`
//! (values withheld unless asked for: [`shown_env`]), its override, its breaker, its
//! latest run and its health, all from history ([`Figures`]), and its expected memory and
//! effective limit (`runner::job_memory`, given by the caller).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Job;
use crate::model::JobMemory;
use crate::scheduler::{BreakerState, breaker_state};
use crate::stats::{Figures, Health, assess};
use crate::store::{JobSummary, RunRecord};

/// Whether job `env` values are shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Secrets {
    /// Names only, each value `null` (the default everywhere).
    #[default]
    Withheld,
    /// The values too: `slotcron jobs --reveal-env`, or `?reveal_env=true` with the token.
    Revealed,
}

/// A job's `env` as shown: every name, with its value only when `secrets` is
/// [`Secrets::Revealed`] and `None` (JSON `null`) otherwise. Values may be passwords and
/// the API is open to every local user on loopback, so nothing else decides this.
pub fn shown_env(env: &BTreeMap<String, String>, secrets: Secrets) -> BTreeMap<&str, Option<&str>> {
    env.iter()
        .map(|(name, value)| {
            let value = (secrets == Secrets::Revealed).then_some(value.as_str());
            (name.as_str(), value)
        })
        .collect()
}

/// One element of `slotcron jobs --json`: the job as loaded (`enabled` is the file's),
/// its `env` ([`shown_env`]), the override set by `slotcron enable/disable` if any, and
/// its latest run.
#[derive(Debug, Clone, Serialize)]
pub struct JobView<'a> {
    #[serde(flatten)]
    pub job: &'a Job,
    pub env: BTreeMap<&'a str, Option<&'a str>>,
    pub enabled_override: Option<bool>,
    /// Until when the circuit breaker holds the job back, if it is tripped now.
    pub tripped_until: Option<DateTime<Utc>>,
    pub last_run: Option<&'a RunRecord>,
    pub health: Health,
    /// `expected_memory_bytes` and `memory_limit_bytes`.
    #[serde(flatten)]
    pub memory: JobMemory,
}

impl<'a> JobView<'a> {
    /// `job` as history (`figures`) shows it at `now`, its `env` values as `secrets` says,
    /// with its `memory`.
    pub fn new(
        job: &'a Job,
        figures: &'a Figures,
        now: DateTime<Utc>,
        secrets: Secrets,
        memory: JobMemory,
    ) -> JobView<'a> {
        JobView {
            job,
            env: shown_env(&job.env, secrets),
            enabled_override: figures
                .controls
                .get(&job.name)
                .and_then(|c| c.enabled_override),
            tripped_until: tripped_until(job, figures.summaries.get(&job.name), now),
            last_run: figures.latest.get(&job.name),
            health: assess(job, &figures.inputs(&job.name, job.enabled), now),
            memory,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_are_shown_only_when_revealed() {
        let env: BTreeMap<String, String> = [("PGPASSWORD", "hunter2"), ("PGHOST", "db")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let withheld = serde_json::to_string(&shown_env(&env, Secrets::Withheld)).unwrap();
        assert_eq!(withheld, r#"{"PGHOST":null,"PGPASSWORD":null}"#);
        let revealed = serde_json::to_string(&shown_env(&env, Secrets::Revealed)).unwrap();
        assert_eq!(revealed, r#"{"PGHOST":"db","PGPASSWORD":"hunter2"}"#);
    }
}
