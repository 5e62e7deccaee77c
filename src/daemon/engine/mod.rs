//! The daemon's state and its rules in motion: a job comes due, passes its policies
//! (breaker, `depends_on`, `concurrency`), waits in its slot's queue, is admitted and run;
//! when the run ends, its seat is released and retries, breakers and `after:` chains
//! follow. Every method runs on the daemon's one event-loop task, so the state needs no
//! locks; history writes go to a blocking thread.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use crate::alerts::AlertNotice;
use crate::clock::SharedClock;
use crate::config::Priority;
use crate::config::{ParseCache, Settings};
use crate::model::Enforcement;
use crate::runner::{Enforcer, PressureClock, Runner};
use crate::scheduler::{Admission, Ladder, ProtectGate, Timeline, firing};
use crate::store::{NewEvent, RunRecord, Store, StoreError};

use super::machine::MemorySignals;
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
    /// Prune history past `retention` (daily).
    Prune,
    /// A queued run of this job reaches `alerting.overdue_grace` past its due time.
    Overdue(String),
    /// Offer the runs history could not take to it again (see [`history`]).
    History,
    /// Copy the history to `<state_dir>/backups` (daily).
    Backup,
    /// Read the memory signals for the pressure response (`protect.response.period`).
    Pressure,
}

/// How often the machine is looked at again while `protect` defers runs. PSI `avg10` moves
/// on a 2 s period, so a second is as fast as anything can change.
pub const PROTECT_RECHECK: chrono::Duration = chrono::Duration::seconds(1);

pub use crate::scheduler::REQUEUE_TRIGGER;

/// What a requeued run's history row says in its `error`.
pub const REQUEUE_NOTE: &str = "stopped under memory pressure and queued again in its slot";

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
    /// What started it (`schedule`, `manual`, ...), for the `run_started` event.
    pub trigger: String,
    /// Memory reserved by admission for it.
    pub memory: u64,
    /// Resolving it stops the run (`kill`, `replace`, shutdown); taken when used.
    pub cancel: Option<oneshot::Sender<()>>,
    /// Its job's priority when it started (the pressure ladder acts on the lowest first).
    pub priority: Priority,
    /// What the pressure response did to it and when: shown live, recorded when it ends,
    /// and its timeout does not count the time it was frozen.
    pub pressure: PressureClock,
    /// The first attempt's run id, for retries (queued again with it when requeued).
    pub retry_of: Option<i64>,
    /// Set when the pressure response stopped it to queue it again.
    pub requeue: bool,
}

pub use crate::scheduler::Origin;

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
    settings: Arc<Settings>,
    enforcer: Arc<Enforcer>,
    store: Arc<Mutex<Store>>,
    runner: Runner,
    registry: Registry,
    admission: Admission,
    timeline: Timeline<Wake>,
    /// Retries waiting for their backoff, by the key in [`Wake::Retry`].
    retries: HashMap<u64, (String, Origin)>,
    /// Runs holding a seat, by token.
    active: HashMap<u64, Active>,
    /// Why new runs are held back (`protect`), while they are.
    paused: Option<String>,
    gate: ProtectGate,
    /// The pressure response's rungs climbed on running runs (`protect.response`).
    ladder: Ladder,
    /// Where the gate and the ladder read the machine's memory (`/proc`, or a test's
    /// fixed values).
    machine: Arc<dyn MemorySignals>,
    /// No new runs once set: the daemon is stopping.
    stopping: bool,
    events: mpsc::UnboundedSender<RunEvent>,
    /// When this daemon started.
    started_at: DateTime<Utc>,
    /// What each job file parsed to, so a reload reads only changed files.
    parse_cache: ParseCache,
    /// Whether the first load has written the jobs table in full.
    synced: bool,
    /// Where alerts that were opened or escalated after a run go (to the notification
    /// channels); `None` (the default): they are only stored.
    alert_sink: Option<mpsc::UnboundedSender<AlertNotice>>,
    /// Per-job totals for `/metrics`: from history at start, then every run that ends.
    metrics: crate::metrics::Counters,
    /// Runs and alerts as they happen, for `GET /api/v1/events` (see [`super::live`]).
    live: tokio::sync::broadcast::Sender<super::live::LiveEvent>,
    /// Whether history was writable when last reported (see [`history`]); starts `true`.
    history_writable: bool,
    /// Where a fault of the daemon itself (history not writable) goes to the notification
    /// channels, which need no database; `None`: no channels.
    fault_sink: Option<mpsc::UnboundedSender<crate::channels::AlertMessage>>,
    /// The history file the store has open (see `store::identity`); `None` for a store
    /// in memory, or one never checked.
    db_identity: Option<(PathBuf, crate::store::identity::FileId)>,
    /// Tells systemd (`STATUS=`) about such faults; disabled unless the daemon sets it.
    notifier: super::notify::Notifier,
    /// Where every time the engine and its runs read comes from (ADR 0038).
    clock: SharedClock,
    next_token: u64,
}

impl Engine {
    /// An engine with empty books; jobs come in through [`Engine::reload_with`].
    pub fn new(
        settings: Arc<Settings>,
        enforcer: Arc<Enforcer>,
        store: Arc<Mutex<Store>>,
        machine: Arc<dyn MemorySignals>,
        events: mpsc::UnboundedSender<RunEvent>,
    ) -> Engine {
        let admission = Admission::for_settings(&settings);
        let gate = ProtectGate::from(&settings.protect);
        let runner = Runner::new(settings.clone(), enforcer.clone(), store.clone());
        let clock = crate::clock::system();
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
            ladder: Ladder::default(),
            machine,
            stopping: false,
            events,
            started_at: clock.now(),
            parse_cache: ParseCache::default(),
            synced: false,
            alert_sink: None,
            metrics: crate::metrics::Counters::default(),
            live: super::live::channel(),
            history_writable: true,
            fault_sink: None,
            db_identity: None,
            notifier: super::notify::Notifier::disabled(),
            clock,
            next_token: 0,
        }
    }

    /// The same engine on `clock` (and its runner with it), started now by that clock.
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Engine {
        self.runner = self.runner.with_clock(clock.clone());
        self.started_at = clock.now();
        self.clock = clock;
        self
    }

    /// The same engine telling systemd (`STATUS=`) about its own faults.
    #[must_use]
    pub fn with_notifier(mut self, notifier: super::notify::Notifier) -> Engine {
        self.notifier = notifier;
        self
    }

    /// From now on, alerts opened or escalated after a run go to `alerts`, and faults of
    /// the daemon itself (history not writable) to `faults` (both: the notification
    /// channels' dispatcher).
    pub fn send_alerts_to(
        &mut self,
        alerts: mpsc::UnboundedSender<AlertNotice>,
        faults: mpsc::UnboundedSender<crate::channels::AlertMessage>,
    ) {
        self.alert_sink = Some(alerts);
        self.fault_sink = Some(faults);
    }

    /// The time now, by the engine's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Tells the event streams, if any listen.
    pub fn publish(&self, event: super::live::LiveEvent) {
        // An error only means nobody listens now.
        let _ = self.live.send(event);
    }

    pub(super) fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    /// Computes `name`'s next fire time after `after` and puts it on the timeline (with
    /// jitter), or takes it off for jobs that are disabled or have no fire times.
    pub fn schedule_next(&mut self, name: &str, after: DateTime<Utc>) {
        let next = (self.registry.jobs.get(name)).and_then(|entry| entry.job.next_fire(after));
        self.schedule_at(name, next);
    }

    /// Puts `name`'s fire time `next` on the timeline (with jitter), or takes the job off
    /// for `None` and while it is disabled.
    fn schedule_at(&mut self, name: &str, next: Option<DateTime<Utc>>) {
        let key = Wake::Fire(name.to_owned());
        let Some(entry) = self.registry.jobs.get_mut(name) else {
            self.timeline.remove(&key);
            return;
        };
        entry.next_nominal = next.filter(|_| entry.enabled());
        match entry.next_nominal {
            Some(at) => {
                let deadline = firing::jittered(at, entry.job.jitter, firing::random_jitter);
                self.timeline.set(key, deadline);
            }
            None => {
                self.timeline.remove(&key);
            }
        }
    }

    /// Takes `name` off the timeline and drops its queued runs (its file is gone);
    /// returns how many were queued.
    pub fn unschedule(&mut self, name: &str) -> usize {
        self.timeline.remove(&Wake::Fire(name.to_owned()));
        self.admission.remove_queued(|p| p.job == name).len()
    }

    /// A scheduled time of `name` has come: compute the next one, then handle this one.
    pub async fn fire(&mut self, name: &str, now: DateTime<Utc>) {
        let Some(nominal) = self.take_fire(name, now) else {
            return;
        };
        let verdict = self.due(name, Origin::Schedule, nominal, now).await;
        debug!(job = name, ?verdict, "scheduled time");
    }

    /// The bookkeeping half of [`Engine::fire`]: returns the due time that has come (the
    /// job's nominal time) and puts the next one on the timeline.
    pub(super) fn take_fire(&mut self, name: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let entry = self.registry.jobs.get(name)?;
        let nominal = entry.next_nominal.unwrap_or(now);
        // Never from the last start: a run that started late would move the next fire to
        // just after the one already planned (`@every` fired twice). An interval's phase
        // is its schedule's, fixed to the epoch (ADR 0025).
        let next = firing::next_after_due(&entry.job, nominal, now);
        self.schedule_at(name, next);
        Some(nominal)
    }

    pub(super) fn enforcement(&self) -> Enforcement {
        match *self.enforcer {
            Enforcer::Cgroup(_) => Enforcement::Cgroup,
            Enforcer::Unconfined { .. } => Enforcement::None,
        }
    }

    /// Records something that is not a run (a deferral, a breaker trip, a reload error).
    pub async fn event(&self, kind: &str, job: Option<&str>, run_id: Option<i64>, message: String) {
        let event = NewEvent {
            at: self.now(),
            kind: kind.to_owned(),
            job: job.map(str::to_owned),
            run_id,
            message,
        };
        if let Err(error) = self.db(move |s| s.record_event(&event).map(drop)).await {
            warn!(%error, "recording an event");
        }
    }

    /// Prunes history past `retention` on a blocking thread, then sets the next prune.
    pub async fn prune(&mut self, now: DateTime<Utc>) {
        let settings = self.settings.clone();
        if let Err(error) = self
            .db(move |store| crate::retention::prune(store, &settings, now))
            .await
        {
            warn!(%error, "pruning history; trying again in a day");
        }
        self.timeline
            .set(Wake::Prune, now + crate::retention::PRUNE_EVERY);
    }

    /// Runs `work` on the history from a blocking thread ([`crate::store::handle::with`]).
    pub async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        crate::store::handle::with(&self.store, work)
            .await
            .expect("history task panicked")
    }
}

mod admit;
mod books;
#[cfg(test)]
mod firing_tests;
pub mod history;
mod jobs;
mod pressure;
#[cfg(test)]
mod pressure_tests;
mod runs;
#[cfg(test)]
mod tests;
