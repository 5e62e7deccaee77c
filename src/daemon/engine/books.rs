//! The engine's books as the rest of the daemon reads them: its configuration and the
//! world it was given, the runs holding seats, the queues, the timeline and the counters.
//! Only reads here (and the few changes named for what they do); the fields themselves
//! stay private to `engine/`, so every change of state is one of its methods.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::metrics::Counters;
use crate::model::Performance;
use crate::runner::Enforcer;
use crate::scheduler::SlotBook;
use crate::store::Store;

use super::{Active, Engine, Wake};

impl Engine {
    /// The configuration the engine schedules by.
    pub fn settings(&self) -> &Arc<Settings> {
        &self.settings
    }

    /// How runs are confined (cgroups, or unconfined and why).
    pub fn enforcer(&self) -> &Arc<Enforcer> {
        &self.enforcer
    }

    /// The history the engine records to, for readers of their own (the HTTP server).
    pub fn store(&self) -> &Arc<Mutex<Store>> {
        &self.store
    }

    /// The runs' history writes waiting for the database, as the runner keeps them.
    pub fn backlog(&self) -> &crate::store::SharedBacklog {
        self.runner.backlog()
    }

    /// Where the gate and the ladder read the machine's memory (the forecast of
    /// `GET /api/v1/plan` too).
    pub fn machine(&self) -> &Arc<dyn crate::daemon::machine::MemorySignals> {
        &self.machine
    }

    /// Where the engine reads the time (ADR 0038).
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// When this daemon started.
    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    /// The stream of runs and alerts as they happen (`GET /api/v1/events` subscribes).
    pub fn live(&self) -> &tokio::sync::broadcast::Sender<crate::control::live::LiveEvent> {
        &self.live
    }

    /// The runs holding a seat now, in no order.
    pub fn active_runs(&self) -> impl Iterator<Item = &Active> {
        self.active.values()
    }

    /// How many runs hold a seat now.
    pub fn running_count(&self) -> usize {
        self.active.len()
    }

    /// Why new runs are held back (`protect`), while they are.
    pub fn paused(&self) -> Option<&str> {
        self.paused.as_deref()
    }

    /// Whether the daemon is stopping (no new runs, no actions).
    pub fn is_stopping(&self) -> bool {
        self.stopping
    }

    /// Whether a run of `job` waits in its slot's queue.
    pub fn is_queued(&self, job: &str) -> bool {
        self.admission.is_queued(job)
    }

    /// The slots' books (seats, queue, memory reserved), in configuration order.
    pub fn slot_books(&self) -> impl Iterator<Item = &SlotBook> {
        self.admission.slots()
    }

    /// `job`'s next fire time on the timeline (after jitter); `None` when it has none.
    pub fn next_fire(&self, job: &str) -> Option<DateTime<Utc>> {
        self.timeline.get(&Wake::Fire(job.to_owned()))
    }

    /// The earliest deadline on the timeline, for the event loop to sleep until.
    pub fn next_deadline(&mut self) -> Option<DateTime<Utc>> {
        self.timeline.next_deadline()
    }

    /// Takes every deadline that has come by `now` off the timeline, earliest first.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<Wake> {
        self.timeline
            .pop_due(now)
            .into_iter()
            .map(|(wake, _)| wake)
            .collect()
    }

    /// Per-job totals for `/metrics`.
    pub fn metrics(&self) -> &Counters {
        &self.metrics
    }

    /// The counters continue from `counters` (history's totals, at start).
    pub fn count_from(&mut self, counters: Counters) {
        self.metrics = counters;
    }

    /// `job`'s performance verdict for `/metrics`, until its next run judges again.
    pub fn note_performance(&mut self, job: String, performance: Performance) {
        self.metrics.jobs.entry(job).or_default().performance = Some(performance);
    }
}
