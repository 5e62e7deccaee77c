//! A job that comes due: its policies (breaker, `depends_on`, `concurrency`), its place
//! in the slot's queue, and admission of whatever may start now (seats, memory budgets,
//! `blocks:`, `protect`). The rules are `crate::scheduler`'s pure functions ([`decide`],
//! [`hold`]); this file gathers their inputs and carries out what they decide.

use chrono::{DateTime, Utc};
use tracing::{debug, info, warn};

use crate::config::{Concurrency, Job};
use crate::runner::{JobMemory, job_memory};
use crate::scheduler::{Decision, DueJob, Floor, LastOutcome, Look, Pending, decide};
use crate::store::NewRun;

use super::{Engine, Origin, PROTECT_RECHECK, Verdict, Wake};

impl Engine {
    /// `name` is due for `origin`: apply its policies ([`decide`]) and queue it (or record
    /// why not).
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
        let Some(facts) = self.due_job(name, &origin, now) else {
            return Verdict::Ignored(format!("no job named `{name}`"));
        };
        let job = self.registry.jobs[name].job.clone();
        match decide(&facts) {
            Decision::Ignore(off) => return Verdict::Ignored(off.describe(name)),
            Decision::Skip(reason) => return self.skip(&job, &origin, now, reason).await,
            Decision::Replace => self.replace(name),
            Decision::Queue => {}
        }
        let (attempt, retry_of) = origin.attempt();
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

    /// What [`decide`] needs to know about `name` coming due for `origin`; `None` for a job
    /// the registry does not have.
    fn due_job(&self, name: &str, origin: &Origin, now: DateTime<Utc>) -> Option<DueJob<'_>> {
        let entry = self.registry.jobs.get(name)?;
        let last = |dep: &str| {
            let summary = &self.registry.jobs.get(dep)?.summary;
            let run = summary.last_final.as_ref()?;
            Some(LastOutcome {
                id: run.id,
                status: run.status,
            })
        };
        Some(DueJob {
            asker: origin.asker(),
            enabled: entry.enabled(),
            breaker: entry.breaker(now),
            concurrency: entry.job.concurrency,
            dependencies: (entry.job.depends_on.iter())
                .map(|dep| (dep.as_str(), last(dep)))
                .collect(),
            running: (self.active.values())
                .filter(|a| a.job == name)
                .map(|a| a.run_id)
                .collect(),
            queued: self.admission.is_queued(name),
        })
    }

    /// `concurrency: replace`: stops `name`'s running runs and drops its queued ones.
    fn replace(&mut self, name: &str) {
        for active in self.active.values_mut().filter(|a| a.job == name) {
            if let Some(cancel) = active.cancel.take() {
                info!(job = name, "replacing the running run");
                let _ = cancel.send(());
            }
        }
        for old in self.admission.remove_queued(|p| p.job == name) {
            debug!(job = name, trigger = old.trigger, "queued run replaced");
        }
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
        let (attempt, retry_of) = origin.attempt();
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
        let registry = &self.registry;
        let running: Vec<&str> = self.active.values().map(|a| a.job.as_str()).collect();
        let floor = Floor {
            paused: self.paused.is_some(),
            calm: self.ladder.is_calm(),
            running: &running,
        };
        let replaces = |job: &str| {
            (registry.jobs.get(job)).is_some_and(|e| e.job.concurrency == Concurrency::Replace)
        };
        let admitted =
            (self.admission).admit_on(&floor, replaces, |a, b| registry.links.blocks(a, b));
        for run in admitted {
            self.start(run.0);
        }
    }

    /// Opens or closes the `protect` gate; records each change as an event.
    pub(super) async fn look_at_machine(&mut self, now: DateTime<Utc>) {
        if !self.gate.is_active() {
            return;
        }
        let state = match self.machine.machine_state() {
            Ok(state) => Some(state),
            Err(error) => {
                warn!(%error, "cannot read the machine's memory state; not holding runs back");
                None
            }
        };
        match self.gate.look(state.as_ref(), self.paused.is_some()) {
            Look::StaysOpen => {}
            Look::StaysClosed => self.timeline.set(Wake::Recheck, now + PROTECT_RECHECK),
            Look::Closes(why) => {
                let message = format!("new runs held back: {why}");
                warn!(%message, "protect");
                self.timeline.set(Wake::Recheck, now + PROTECT_RECHECK);
                self.paused = Some(why);
                self.event("deferred", None, None, message).await;
            }
            Look::Opens => {
                let message = "memory recovered; starting held runs".to_owned();
                info!(%message, "protect");
                self.paused = None;
                self.event("resumed", None, None, message).await;
            }
        }
    }
}
