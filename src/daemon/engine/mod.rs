//! The daemon's state and its rules in motion: a job comes due, passes its policies
//! (breaker, `depends_on`, `concurrency`), waits in its slot's queue, is admitted and run;
//! when the run ends, its seat is released and retries, breakers and `after:` chains
//! follow. Every method runs on the daemon's one event-loop task, so the state needs no
//! locks; history writes go to a blocking thread.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::config::{Concurrency, Job, Priority, Schedule, Settings};
use crate::model::{Enforcement, RunStatus};
use crate::runner::{Enforcer, RunRequest, Runner, effective_memory_limit};
use crate::scheduler::{
    Admission, BreakerState, MachineState, Pending, ProtectGate, SlotSpec, Timeline, retry_backoff,
};
use crate::store::{NewEvent, NewRun, RunRecord, Store, StoreError};

use super::registry::Registry;

/// What the daemon's timeline wakes up for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Wake {
    /// A job's next scheduled time (after jitter).
    Fire(String),
    /// A retry whose backoff has passed (key into `Engine::retries`).
    Retry(u64),
    /// Look at the machine's memory again while `protect` holds runs back.
    Recheck,
}

/// How often the machine is looked at again while `protect` defers runs. PSI `avg10` moves
/// on a 2 s period, so a second is as fast as anything can change.
pub const PROTECT_RECHECK: chrono::Duration = chrono::Duration::seconds(1);

/// Messages from run tasks to the event loop.
#[derive(Debug)]
pub enum RunEvent {
    /// The run's history row exists.
    Recorded { token: u64, id: i64 },
    /// The run ended (or could not be recorded at all).
    Finished {
        token: u64,
        result: Result<Box<RunRecord>, String>,
    },
}

/// A run holding a seat.
#[derive(Debug)]
pub struct Active {
    pub job: String,
    pub slot: String,
    /// Its id once recorded.
    pub run_id: Option<i64>,
    pub started_at: DateTime<Utc>,
    pub attempt: u32,
    /// Memory reserved by admission for it.
    pub memory: u64,
    /// Resolving it stops the run (`kill`, `replace`, shutdown); taken when used.
    pub cancel: Option<oneshot::Sender<()>>,
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
    fn trigger(&self) -> String {
        match self {
            Origin::Schedule => "schedule".into(),
            Origin::CatchUp => "catch_up".into(),
            Origin::Reboot => "reboot".into(),
            Origin::Manual => "manual".into(),
            Origin::After(leader) => format!("after:{leader}"),
            Origin::Retry { .. } => "retry".into(),
        }
    }
}

/// What became of a job that came due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It waits in its slot's queue (and may already have started).
    Queued,
    /// It was recorded `skipped` for this reason.
    Skipped(String),
    /// Nothing was done (a disabled or tripped job's scheduled time, an unknown job).
    Ignored(String),
}

/// Everything the daemon knows and decides with.
pub struct Engine {
    pub settings: Arc<Settings>,
    pub enforcer: Arc<Enforcer>,
    pub store: Arc<Mutex<Store>>,
    pub runner: Runner,
    pub registry: Registry,
    pub admission: Admission,
    pub timeline: Timeline<Wake>,
    /// Retries waiting for their backoff, by the key in [`Wake::Retry`].
    pub retries: HashMap<u64, (String, Origin)>,
    /// Runs holding a seat, by token.
    pub active: HashMap<u64, Active>,
    /// Why new runs are held back (`protect`), while they are.
    pub paused: Option<String>,
    pub gate: ProtectGate,
    pub proc_root: PathBuf,
    /// No new runs once set: the daemon is stopping.
    pub stopping: bool,
    pub events: mpsc::UnboundedSender<RunEvent>,
    /// When this daemon started.
    pub started_at: DateTime<Utc>,
    next_token: u64,
}

impl Engine {
    /// An engine with empty books; jobs come in through [`Engine::reload_with`].
    pub fn new(
        settings: Arc<Settings>,
        enforcer: Arc<Enforcer>,
        store: Arc<Mutex<Store>>,
        proc_root: PathBuf,
        events: mpsc::UnboundedSender<RunEvent>,
    ) -> Engine {
        let admission = Admission::new(
            settings.slots.values().map(|slot| SlotSpec {
                name: slot.name.clone(),
                max_concurrent: slot.max_concurrent,
                memory_budget: slot.memory_max.bytes(),
                queue_limit: slot.queue_limit,
            }),
            settings.memory_max.map(|m| m.bytes()),
        );
        let gate = ProtectGate {
            reserve_memory: settings.protect.reserve_memory,
            max_memory_pressure: settings.protect.max_memory_pressure,
        };
        let runner = Runner::new(settings.clone(), enforcer.clone(), store.clone());
        Engine {
            settings,
            enforcer,
            store,
            runner,
            registry: Registry::default(),
            admission,
            timeline: Timeline::new(),
            retries: HashMap::new(),
            active: HashMap::new(),
            paused: None,
            gate,
            proc_root,
            stopping: false,
            events,
            started_at: Utc::now(),
            next_token: 0,
        }
    }

    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    /// Takes over a run a previous daemon left going: it holds a seat in its slot until
    /// its cgroup is empty, and is then completed `lost` (see `recovery`). `kill` and
    /// shutdown stop it like any run.
    pub fn adopt(&mut self, adopted: super::recovery::Adopted) {
        let memory = self
            .registry
            .jobs
            .get(&adopted.job)
            .map(|e| self.expected_memory(&e.job.clone()))
            .unwrap_or(0);
        self.admission.occupy(&adopted.slot, memory);
        let token = self.token();
        let (cancel_tx, cancel_rx) = oneshot::channel::<()>();
        self.active.insert(
            token,
            Active {
                job: adopted.job.clone(),
                slot: adopted.slot.clone(),
                run_id: Some(adopted.run_id),
                started_at: adopted.started_at,
                attempt: 1,
                memory,
                cancel: Some(cancel_tx),
            },
        );
        let store = self.store.clone();
        let grace = self.settings.kill_grace;
        let events = self.events.clone();
        tokio::spawn(async move {
            let stop = async {
                if cancel_rx.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let result = super::recovery::watch_adopted(adopted, store, stop, grace)
                .await
                .map(Box::new)
                .map_err(|e| e.to_string());
            let _ = events.send(RunEvent::Finished { token, result });
        });
    }

    /// Computes `name`'s next fire time after `after` and puts it on the timeline (with
    /// jitter), or takes it off for jobs that are disabled or have no fire times.
    pub fn schedule_next(&mut self, name: &str, after: DateTime<Utc>) {
        let key = Wake::Fire(name.to_owned());
        let Some(entry) = self.registry.jobs.get_mut(name) else {
            self.timeline.remove(&key);
            return;
        };
        entry.next_nominal = if !entry.enabled() {
            None
        } else if let (Schedule::Every(_), Some(last)) =
            (&entry.job.schedule, entry.summary.last_started_at)
        {
            // An interval keeps its phase across restarts: one interval after the last
            // start, or one interval from now if that has passed (`catch_up` covers the gap).
            entry
                .job
                .next_fire(last.min(after))
                .filter(|at| *at > after)
                .or_else(|| entry.job.next_fire(after))
        } else {
            entry.job.next_fire(after)
        };
        match entry.next_nominal {
            Some(at) => {
                let jitter = entry.job.jitter.map_or(chrono::Duration::zero(), |max| {
                    let ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
                    chrono::Duration::milliseconds(fastrand::u64(0..=ms) as i64)
                });
                self.timeline.set(key, at + jitter);
            }
            None => {
                self.timeline.remove(&key);
            }
        }
    }

    /// A scheduled time of `name` has come: compute the next one, then handle this one.
    pub async fn fire(&mut self, name: &str, now: DateTime<Utc>) {
        let Some(entry) = self.registry.jobs.get(name) else {
            return;
        };
        let nominal = entry.next_nominal.unwrap_or(now);
        // The next time follows this one (an interval keeps its phase even when we woke a
        // little late). After a suspend several times may have passed: they make this one
        // run, and the next is the first one after now.
        self.schedule_next(name, nominal);
        if self
            .registry
            .jobs
            .get(name)
            .and_then(|e| e.next_nominal)
            .is_some_and(|next| next <= now)
        {
            self.schedule_next(name, now);
        }
        let verdict = self.due(name, Origin::Schedule, nominal, now).await;
        debug!(job = name, ?verdict, "scheduled time");
    }

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
        Verdict::Queued
    }

    /// `depends_on`: every named job's latest run must have succeeded.
    fn unmet_dependency(&self, job: &Job) -> Option<String> {
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

    /// The memory admission reserves for a run of `job`: its observed peak scaled by
    /// `weights.memory` once there is history, else its memory limit, else a fair share
    /// of its slot (`memory_max / max_concurrent`); never above its effective limit.
    pub fn expected_memory(&self, job: &Job) -> u64 {
        let Some(slot) = self.settings.slots.get(&job.slot) else {
            return 0;
        };
        let limit = effective_memory_limit(job, slot);
        let observed = self
            .registry
            .jobs
            .get(&job.name)
            .and_then(|e| e.summary.peak_memory);
        let expected = match (observed, job.limits.memory) {
            (Some(peak), _) => (peak as f64 * job.weights.memory) as u64,
            (None, Some(limit)) => limit.bytes(),
            (None, None) => slot.memory_max.bytes() / u64::from(slot.max_concurrent.max(1)),
        };
        expected.min(limit)
    }

    async fn skip(
        &mut self,
        job: &Job,
        origin: &Origin,
        now: DateTime<Utc>,
        reason: String,
    ) -> Verdict {
        let trigger = origin.trigger();
        self.record_skip(job, origin, &trigger, now, reason).await
    }

    async fn record_skip(
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
        }
        Verdict::Skipped(reason)
    }

    fn enforcement(&self) -> Enforcement {
        match *self.enforcer {
            Enforcer::Cgroup(_) => Enforcement::Cgroup,
            Enforcer::Unconfined { .. } => Enforcement::None,
        }
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
        let admitted = self.admission.admit(|run, so_far| {
            if paused && run.priority != Priority::Critical {
                return false;
            }
            // `replace`: the new run starts once the old one is gone, never beside it.
            let overlaps = registry
                .jobs
                .get(&run.job)
                .is_some_and(|e| e.job.concurrency != Concurrency::Allow)
                && active.values().any(|a| a.job == run.job);
            let blocked = active.values().any(|a| registry.blocks(&run.job, &a.job))
                || so_far.iter().any(|b| registry.blocks(&run.job, &b.0.job));
            !overlaps && !blocked
        });
        for run in admitted {
            self.start(run.0);
        }
    }

    /// Opens or closes the `protect` gate; records each change as an event.
    async fn look_at_machine(&mut self, now: DateTime<Utc>) {
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

    /// Records something that is not a run (a deferral, a breaker trip, a reload error).
    pub async fn event(&self, kind: &str, job: Option<&str>, run_id: Option<i64>, message: String) {
        let event = NewEvent {
            at: Utc::now(),
            kind: kind.to_owned(),
            job: job.map(str::to_owned),
            run_id,
            message,
        };
        if let Err(error) = self.db(move |s| s.record_event(&event).map(drop)).await {
            warn!(%error, "recording an event");
        }
    }

    fn start(&mut self, run: Pending) {
        let Some(entry) = self.registry.jobs.get(&run.job) else {
            self.admission.release(&run.slot, run.expected_memory);
            return;
        };
        let job = entry.job.clone();
        let token = self.token();
        let (cancel_tx, cancel_rx) = oneshot::channel::<()>();
        self.active.insert(
            token,
            Active {
                job: run.job.clone(),
                slot: run.slot.clone(),
                run_id: None,
                started_at: Utc::now(),
                attempt: run.attempt,
                memory: run.expected_memory,
                cancel: Some(cancel_tx),
            },
        );
        let runner = self.runner.clone();
        let events = self.events.clone();
        // A run that waited (or did not) is recorded with when it was queued: wait time is
        // `started_at - queued_at`.
        let queued_at = Some(run.queued_at);
        tokio::spawn(async move {
            let (id_tx, id_rx) = oneshot::channel();
            let request = RunRequest {
                job: &job,
                trigger: &run.trigger,
                attempt: run.attempt,
                retry_of: run.retry_of,
                queued_at,
                on_recorded: Some(id_tx),
            };
            let cancel = async {
                // A dropped sender (the engine gone) must not stop the run.
                if cancel_rx.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let forward_id = {
                let events = events.clone();
                async move {
                    if let Ok(id) = id_rx.await {
                        let _ = events.send(RunEvent::Recorded { token, id });
                    }
                    std::future::pending::<()>().await
                }
            };
            let result = tokio::select! {
                result = runner.run(request, cancel) => result,
                () = forward_id => unreachable!("forward_id never completes"),
            };
            let result = result.map(Box::new).map_err(|e| e.to_string());
            let _ = events.send(RunEvent::Finished { token, result });
        });
    }

    /// A run task reported its row id.
    pub fn recorded(&mut self, token: u64, id: i64) {
        if let Some(active) = self.active.get_mut(&token) {
            active.run_id = Some(id);
        }
    }

    /// A run ended: free its seat, update the job's state, then retries, breaker and
    /// `after:` chains, and start whatever may start now.
    pub async fn finished(&mut self, token: u64, result: Result<Box<RunRecord>, String>) {
        let Some(active) = self.active.remove(&token) else {
            return;
        };
        self.admission.release(&active.slot, active.memory);
        let now = Utc::now();
        let record = match result {
            Ok(record) => record,
            Err(error) => {
                warn!(job = %active.job, %error, "a run could not be recorded");
                self.dispatch(now).await;
                return;
            }
        };
        self.learn(&record);
        if !self.stopping {
            self.after_run(&record, now).await;
        }
        self.dispatch(now).await;
    }

    /// Updates the job's summary with a finished run, as the store would compute it.
    pub fn learn(&mut self, record: &RunRecord) {
        let Some(entry) = self.registry.jobs.get_mut(&record.job) else {
            return;
        };
        let summary = &mut entry.summary;
        summary.last_started_at = Some(
            summary
                .last_started_at
                .map_or(record.started_at, |t| t.max(record.started_at)),
        );
        if let Some(finished_at) = record.finished_at {
            summary.last_final = Some(crate::store::LastRun {
                id: record.id,
                status: record.status,
                finished_at,
            });
        }
        match record.status {
            RunStatus::Success => {
                summary.consecutive_failures = 0;
                if let Some(peak) = record.memory_peak_bytes {
                    summary.peak_memory = Some(summary.peak_memory.map_or(peak, |p| p.max(peak)));
                }
            }
            RunStatus::Failed | RunStatus::Timeout | RunStatus::OomKilled | RunStatus::Lost => {
                summary.consecutive_failures += 1;
                summary.last_failure_at = record.finished_at;
            }
            _ => {}
        }
    }

    async fn after_run(&mut self, record: &RunRecord, now: DateTime<Utc>) {
        let Some(entry) = self.registry.jobs.get(&record.job) else {
            return;
        };
        let job = entry.job.clone();
        let breaker = entry.breaker(now);
        let streak = entry.summary.consecutive_failures;
        let failed = matches!(
            record.status,
            RunStatus::Failed | RunStatus::Timeout | RunStatus::OomKilled
        );
        if failed && record.attempt <= job.retries {
            let next = record.attempt + 1;
            let wait = retry_backoff(job.retry_delay, next);
            let key = self.token();
            let origin = Origin::Retry {
                attempt: next,
                retry_of: record.retry_of.unwrap_or(record.id),
            };
            info!(job = %job.name, attempt = next, ?wait, "retrying after backoff");
            self.retries.insert(key, (job.name.clone(), origin));
            self.timeline.set(
                Wake::Retry(key),
                now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
            );
        }
        if let BreakerState::Open { until } = breaker
            && failed
        {
            let message = format!(
                "{streak} consecutive failed runs; not scheduled until {until} or `slotcron reset {}`",
                job.name
            );
            warn!(job = %job.name, %message, "circuit breaker tripped");
            self.event("breaker_tripped", Some(&job.name), Some(record.id), message)
                .await;
        }
        if record.status == RunStatus::Success {
            let followers = self
                .registry
                .followers
                .get(&record.job)
                .cloned()
                .unwrap_or_default();
            for follower in followers {
                let verdict = self
                    .due(&follower, Origin::After(record.job.clone()), now, now)
                    .await;
                debug!(job = %follower, ?verdict, "after chain");
            }
        }
    }

    /// A retry's backoff has passed.
    pub async fn retry(&mut self, key: u64, now: DateTime<Utc>) {
        if let Some((job, origin)) = self.retries.remove(&key) {
            let verdict = self.due(&job, origin, now, now).await;
            debug!(%job, ?verdict, "retry");
        }
    }

    /// Stops the run with this id (`slotcron kill`).
    ///
    /// # Errors
    /// No running run has this id.
    pub fn kill(&mut self, run_id: i64) -> Result<String, String> {
        let active = self
            .active
            .values_mut()
            .find(|a| a.run_id == Some(run_id))
            .ok_or_else(|| format!("run {run_id} is not running"))?;
        match active.cancel.take() {
            Some(cancel) => {
                let _ = cancel.send(());
                Ok(format!(
                    "stopping run {run_id} of `{}` (SIGTERM, then SIGKILL after {:?})",
                    active.job, self.settings.kill_grace
                ))
            }
            None => Ok(format!("run {run_id} is already being stopped")),
        }
    }

    /// Stop admitting; stop every run (each gets the kill grace). Runs still waiting for a
    /// seat are recorded `skipped`, so history shows what the shutdown cost.
    pub async fn begin_shutdown(&mut self) {
        self.stopping = true;
        let now = Utc::now();
        for run in self.admission.remove_queued(|_| true) {
            let Some(job) = self.registry.jobs.get(&run.job).map(|e| e.job.clone()) else {
                continue;
            };
            let origin = match run.retry_of {
                Some(retry_of) => Origin::Retry {
                    attempt: run.attempt,
                    retry_of,
                },
                None => Origin::Schedule,
            };
            let reason = format!(
                "the daemon stopped while this run waited for a seat (queued {})",
                run.queued_at.format("%H:%M:%S")
            );
            self.record_skip(&job, &origin, &run.trigger, now, reason)
                .await;
        }
        for active in self.active.values_mut() {
            if let Some(cancel) = active.cancel.take() {
                let _ = cancel.send(());
            }
        }
    }

    /// Runs `work` on the history from a blocking thread.
    pub async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut store)
        })
        .await
        .expect("history task panicked")
    }
}

#[cfg(test)]
mod tests;
