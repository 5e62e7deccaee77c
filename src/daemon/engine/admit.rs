//! A job that comes due: its policies (breaker, `depends_on`, `concurrency`), its place
//! in the slot's queue, and admission of whatever may start now (seats, memory budgets,
//! `blocks:`, `protect`).

use chrono::{DateTime, Utc};
use tracing::{debug, info, warn};

use crate::config::{Concurrency, Job, Priority};
use crate::model::RunStatus;
use crate::runner::{JobMemory, job_memory};
use crate::scheduler::{BreakerState, MachineState, Pending};
use crate::store::NewRun;

use super::{Engine, Origin, PROTECT_RECHECK, Verdict, Wake};

impl Engine {
    /// `name` is due for `origin`: apply its policies and queue it (or record why not).
    pub async fn due(
        &mut self,
        name: &str,
        origin: Origin,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Verdict {
        if self.stopping {
            return Verdict::Ignored("the daemon is stopping".into());
        }
        let Some(entry) = self.registry.jobs.get(name) else {
            return Verdict::Ignored(format!("no job named `{name}`"));
        };
        let job = entry.job.clone();
        let by_hand = origin == Origin::Manual;
        if !by_hand && !matches!(origin, Origin::Retry { .. }) && !entry.enabled() {
            return Verdict::Ignored(format!("`{name}` is disabled"));
        }
        if !by_hand && let BreakerState::Open { until } = entry.breaker(now) {
            return Verdict::Ignored(format!("`{name}`'s circuit breaker is open until {until}"));
        }
        if let Some(reason) = self.unmet_dependency(&job) {
            return self.skip(&job, &origin, now, reason).await;
        }
        let running: Vec<u64> = self
            .active
            .iter()
            .filter(|(_, a)| a.job == name)
            .map(|(t, _)| *t)
            .collect();
        let queued = self.admission.is_queued(name);
        match job.concurrency {
            Concurrency::Forbid if !running.is_empty() || queued => {
                let reason = match running.iter().find_map(|t| self.active[t].run_id) {
                    Some(id) => format!("concurrency forbid: run {id} is still running"),
                    None if queued => "concurrency forbid: a run is already waiting".into(),
                    None => "concurrency forbid: the previous run is still starting".into(),
                };
                return self.skip(&job, &origin, now, reason).await;
            }
            Concurrency::Replace => {
                for token in running {
                    if let Some(cancel) = self.active.get_mut(&token).and_then(|a| a.cancel.take())
                    {
                        info!(job = name, "replacing the running run");
                        let _ = cancel.send(());
                    }
                }
                for old in self.admission.remove_queued(|p| p.job == name) {
                    debug!(job = name, trigger = old.trigger, "queued run replaced");
                }
            }
            _ => {}
        }
        let (attempt, retry_of) = match origin {
            Origin::Retry { attempt, retry_of } => (attempt, Some(retry_of)),
            _ => (1, None),
        };
        let pending = Pending {
            job: name.to_owned(),
            slot: job.slot.clone(),
            priority: job.priority,
            due,
            queued_at: now,
            trigger: origin.trigger(),
            attempt,
            retry_of,
            expected_memory: self.expected_memory(&job),
        };
        if let Err(full) = self.admission.enqueue(pending) {
            return self.skip(&job, &origin, now, full.to_string()).await;
        }
        self.dispatch(now).await;
        if self.admission.is_queued(name) {
            // Still waiting: if it still is once the grace has passed, it is overdue.
            let grace = chrono::Duration::from_std(self.settings.alerting.overdue_grace)
                .unwrap_or(chrono::Duration::MAX);
            self.timeline
                .set(Wake::Overdue(name.to_owned()), due + grace);
        }
        Verdict::Queued
    }

    /// `depends_on`: every named job's latest run must have succeeded.
    pub(super) fn unmet_dependency(&self, job: &Job) -> Option<String> {
        job.depends_on.iter().find_map(|dep| {
            let last = self
                .registry
                .jobs
                .get(dep)
                .and_then(|e| e.summary.last_final.as_ref());
            match last {
                Some(run) if run.status == RunStatus::Success => None,
                Some(run) => Some(format!(
                    "depends_on: `{dep}`'s latest run ({}) ended {}",
                    run.id, run.status
                )),
                None => Some(format!("depends_on: `{dep}` has not run yet")),
            }
        })
    }

    /// The memory admission reserves for a run of `job`, and its effective limit:
    /// [`job_memory`] on the peak its summary holds (ADR 0034).
    pub fn job_memory(&self, job: &Job) -> JobMemory {
        let observed = self
            .registry
            .jobs
            .get(&job.name)
            .and_then(|e| e.summary.peak_memory());
        job_memory(job, &self.settings, observed)
    }

    /// The memory admission reserves for a run of `job` ([`Engine::job_memory`]).
    pub fn expected_memory(&self, job: &Job) -> u64 {
        self.job_memory(job).expected_memory_bytes
    }

    pub(super) async fn skip(
        &mut self,
        job: &Job,
        origin: &Origin,
        now: DateTime<Utc>,
        reason: String,
    ) -> Verdict {
        let trigger = origin.trigger();
        self.record_skip(job, origin, &trigger, now, reason).await
    }

    pub(super) async fn record_skip(
        &mut self,
        job: &Job,
        origin: &Origin,
        trigger: &str,
        now: DateTime<Utc>,
        reason: String,
    ) -> Verdict {
        info!(job = %job.name, %reason, "skipped");
        let (attempt, retry_of) = match origin {
            Origin::Retry { attempt, retry_of } => (*attempt, Some(*retry_of)),
            _ => (1, None),
        };
        let new = NewRun {
            job: job.name.clone(),
            slot: job.slot.clone(),
            trigger: trigger.to_owned(),
            attempt,
            retry_of,
            enforcement: self.enforcement(),
            memory_limit_bytes: None,
            queued_at: None,
            started_at: now,
        };
        let text = reason.clone();
        if let Err(error) = self.db(move |s| s.record_skipped(&new, &text)).await {
            warn!(job = %job.name, %error, "recording a skipped run");
        } else {
            self.metrics.observe_skip(&job.name, &job.slot);
        }
        Verdict::Skipped(reason)
    }

    /// Starts every queued run that may start now.
    pub async fn dispatch(&mut self, now: DateTime<Utc>) {
        if self.stopping {
            return;
        }
        if self.admission.queued_total() == 0 {
            // Nothing waits; only keep the paused state honest for `status`.
            if self.paused.is_some() {
                self.look_at_machine(now).await;
            }
            return;
        }
        self.look_at_machine(now).await;
        let paused = self.paused.is_some();
        let registry = &self.registry;
        let active = &self.active;
        let calm = self.ladder.is_calm();
        let admitted = self.admission.admit(|run, so_far| {
            if paused && run.priority != Priority::Critical {
                return false;
            }
            // A run the pressure response stopped waits until the pressure has cleared.
            if !calm && run.trigger == super::REQUEUE_TRIGGER {
                return false;
            }
            // `replace`: the new run starts once the old one is gone, never beside it.
            let overlaps = registry
                .jobs
                .get(&run.job)
                .is_some_and(|e| e.job.concurrency == Concurrency::Replace)
                && active.values().any(|a| a.job == run.job);
            let blocked = registry.blocking.contains(&run.job)
                && (active.values().any(|a| registry.blocks(&run.job, &a.job))
                    || so_far.iter().any(|b| registry.blocks(&run.job, &b.0.job)));
            !overlaps && !blocked
        });
        for run in admitted {
            self.start(run.0);
        }
    }

    /// Opens or closes the `protect` gate; records each change as an event.
    pub(super) async fn look_at_machine(&mut self, now: DateTime<Utc>) {
        if !self.gate.is_active() {
            return;
        }
        let reason = match MachineState::read(&self.proc_root) {
            Ok(state) => self.gate.check(&state),
            Err(error) => {
                warn!(%error, "cannot read the machine's memory state; not holding runs back");
                None
            }
        };
        let (kind, message) = match (&self.paused, &reason) {
            (None, Some(why)) => ("deferred", format!("new runs held back: {why}")),
            (Some(_), None) => ("resumed", "memory recovered; starting held runs".to_owned()),
            _ => {
                if reason.is_some() {
                    self.timeline.set(Wake::Recheck, now + PROTECT_RECHECK);
                }
                return;
            }
        };
        if reason.is_some() {
            warn!(%message, "protect");
            self.timeline.set(Wake::Recheck, now + PROTECT_RECHECK);
        } else {
            info!(%message, "protect");
        }
        self.paused = reason;
        self.event(kind, None, None, message).await;
    }
}
