//! The pressure response in motion (issue 16, ADR 0036): while runs are active and
//! `protect.response` is set, every `period` the machine's memory signals are read, the
//! pure [`Ladder`] decides, and its actions are carried out on the runs' cgroups. Each
//! step is an event in history with the signal values that caused it.
//!
//! Sampling starts when a run starts and stops when no run is active and the ladder is
//! calm. Requeued runs wait in their slot's queue until it is.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing::{debug, info, warn};

use crate::cgroup::{CgroupError, CgroupFs, Hierarchy, RunCgroup};
use crate::config::{ByteSize, OnPressure, Response, Step, format_duration};
use crate::control::live::LiveEvent;
use crate::runner::Enforcer;
use crate::scheduler::ladder::{
    Action, Readings, RunView, Signal, SlotReading, SlotReadings, classify, classify_slot, combine,
};

use super::{Active, Engine, REQUEUE_NOTE, REQUEUE_TRIGGER, Wake};
use crate::model::RunStatus;
use crate::scheduler::Pending;
use crate::store::RunRecord;

/// The readings in words, for events and logs: the machine's, then each slot's read.
fn describe(r: &Readings, slots: &SlotReadings) -> String {
    let percent = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}%"));
    let available = r
        .mem_available
        .map_or("-".to_owned(), |b| ByteSize::new(b).to_string());
    let mut text = format!(
        "PSI memory some avg10 {}, full avg10 {}, MemAvailable {available}",
        percent(r.some_avg10),
        percent(r.full_avg10)
    );
    for (slot, psi) in slots {
        text.push_str(&format!(
            "; slot {slot} memory.pressure some avg10 {}, full avg10 {}",
            percent(psi.some_avg10),
            percent(psi.full_avg10)
        ));
    }
    text
}

/// The signal for this period: the machine's readings and each slot's through their bands.
fn judge(response: &Response, machine: &Readings, slots: &SlotReadings) -> Signal {
    let by_slot = slots
        .iter()
        .map(|(name, r)| (name.clone(), classify_slot(response, r)))
        .collect();
    combine(classify(response, machine), &by_slot)
}

impl Engine {
    /// Puts the next sample on the timeline, unless one is there or the response is off.
    pub(super) fn arm_pressure(&mut self, now: DateTime<Utc>) {
        let Some(response) = self.settings.protect.response else {
            return;
        };
        if self.timeline.get(&Wake::Pressure).is_none() {
            let period = chrono::Duration::from_std(response.period).unwrap_or_default();
            self.timeline.set(Wake::Pressure, now + period);
        }
    }

    /// One period of the response: read, decide, act, record, and sample again later
    /// while runs are active or the ladder is not calm.
    pub async fn pressure_tick(&mut self, now: DateTime<Utc>) {
        let Some(response) = self.settings.protect.response else {
            return;
        };
        let enforcer = Arc::clone(&self.enforcer);
        let Enforcer::Cgroup(tree) = &*enforcer else {
            // Unconfined runs have no cgroup to throttle or freeze.
            return;
        };
        if self.active.is_empty() && self.ladder.is_calm() {
            return;
        }
        let runs = self.pressure_views(tree);
        let readings = self.machine.readings();
        let slots = self.slot_readings(tree, &response);
        let actions = self
            .ladder
            .decide(judge(&response, &readings, &slots), &runs);
        let why = describe(&readings, &slots);
        for action in actions {
            self.carry_out(tree, action, &why, now).await;
        }
        self.arm_pressure(now);
        if self.ladder.is_calm() && self.admission.queued_total() > 0 {
            self.dispatch(now).await;
        }
    }

    /// Each slot's own `memory.pressure`, for the slots with runs in progress, when a slot
    /// band is set (else nothing is read). A slot whose file cannot be read has no reading.
    fn slot_readings(&self, tree: &Hierarchy, response: &Response) -> SlotReadings {
        if !response.reads_slots() {
            return SlotReadings::new();
        }
        let slots: BTreeSet<&str> = self.active.values().map(|a| a.slot.as_str()).collect();
        slots
            .into_iter()
            .map(|slot| {
                let psi = tree.slot_memory_pressure(slot).unwrap_or_else(|error| {
                    debug!(slot, %error, "reading the slot's memory.pressure");
                    None
                });
                let reading = SlotReading {
                    some_avg10: psi.map(|p| p.some.avg10),
                    full_avg10: psi.and_then(|p| p.full).map(|f| f.avg10),
                };
                (slot.to_owned(), reading)
            })
            .collect()
    }

    /// The active runs the ladder may act on: recorded ones with a cgroup. A run whose job
    /// has left the registry (its file deleted) or whose `memory.current` cannot be read
    /// stays in view, accepting nothing and using 0 bytes: the ladder would otherwise forget
    /// the rungs it climbed on it and never thaw it.
    fn pressure_views(&self, tree: &Hierarchy) -> Vec<RunView> {
        let mut views: Vec<RunView> = self
            .active
            .iter()
            .filter_map(|(token, active)| {
                let cgroup = run_cgroup(tree, &active.slot, active.run_id?);
                let accepts = self
                    .registry
                    .jobs
                    .get(&active.job)
                    .map_or(OnPressure::NONE, |entry| entry.job.on_pressure);
                Some(RunView {
                    token: *token,
                    priority: active.priority,
                    slot: active.slot.clone(),
                    accepts,
                    memory_current: cgroup.memory_current().unwrap_or(0),
                })
            })
            .collect();
        views.sort_by_key(|v| v.token);
        views
    }

    /// Writes `action` to its run's cgroup and notes it on the run's [`PressureClock`];
    /// then records it (history, live event, `/metrics`), or, if the write failed, forgets
    /// the run's rungs.
    async fn carry_out(&mut self, tree: &Hierarchy, action: Action, why: &str, now: DateTime<Utc>) {
        let token = action.token();
        let Some(active) = self.active.get_mut(&token) else {
            return;
        };
        let Some(run_id) = active.run_id else {
            return;
        };
        let cgroup = run_cgroup(tree, &active.slot, run_id);
        let Some((written, what)) = write_step(&cgroup, active, action, now) else {
            return;
        };
        let job = active.job.clone();
        let message = format!("{what}; {why}");
        match written {
            Ok(()) => {
                info!(%job, run_id, step = action.name(), %message, "pressure");
                self.published_step(token, action.name(), &message, now);
                let kind = format!("pressure_{}", action.name());
                self.event(&kind, Some(&job), Some(run_id), message).await;
            }
            Err(error) => {
                // The run ended in between, most likely: nothing is left to undo.
                warn!(%job, run_id, step = action.name(), %error, "pressure step not applied");
                self.ladder.forget(token);
            }
        }
    }

    /// A step was carried out on run `token`: it is counted for `/metrics` and published
    /// on the live events with the run's state after it.
    fn published_step(
        &mut self,
        token: u64,
        step: &'static str,
        signals: &str,
        now: DateTime<Utc>,
    ) {
        *self.metrics.pressure_steps.entry(step).or_default() += 1;
        let Some(active) = self.active.get(&token) else {
            return;
        };
        let Some(run_id) = active.run_id else {
            return;
        };
        self.publish(LiveEvent::RunPressure {
            run_id,
            job: active.job.clone(),
            slot: active.slot.clone(),
            step,
            pressure: active.pressure.book().view(now),
            message: signals.to_owned(),
        });
    }

    /// A run the response stopped has ended: its row becomes `requeued` and it is queued
    /// again in its slot, where it waits until the ladder is calm.
    pub(super) async fn requeue(
        &mut self,
        active: &Active,
        record: &mut RunRecord,
        now: DateTime<Utc>,
    ) {
        let id = record.id;
        match self.db(move |s| s.mark_requeued(id, REQUEUE_NOTE)).await {
            Ok(()) => {
                record.status = RunStatus::Requeued;
                record.error = Some(REQUEUE_NOTE.to_owned());
            }
            Err(error) => warn!(job = %active.job, run_id = id, %error, "noting a requeued run"),
        }
        let pending = Pending {
            job: active.job.clone(),
            slot: active.slot.clone(),
            priority: active.priority,
            due: now,
            queued_at: now,
            trigger: REQUEUE_TRIGGER.to_owned(),
            attempt: active.attempt,
            retry_of: active.retry_of,
            expected_memory: active.memory,
        };
        if let Err(full) = self.admission.enqueue(pending) {
            let message = format!("run {id} could not be queued again: {full}");
            warn!(job = %active.job, %message, "pressure");
            self.event(
                "pressure_requeue_failed",
                Some(&active.job),
                Some(id),
                message,
            )
            .await;
        }
    }

    /// Thaws a run the ladder froze (before stopping it: a frozen process cannot take its
    /// SIGTERM). `slotcron kill` and shutdown call it.
    pub(super) fn thaw_for_stop(&mut self, token: u64) {
        let enforcer = Arc::clone(&self.enforcer);
        let (Enforcer::Cgroup(tree), Some(active)) = (&*enforcer, self.active.get(&token)) else {
            return;
        };
        if !self.ladder.holds(token, Step::Freeze) {
            return;
        }
        if let Some(run_id) = active.run_id {
            let now = self.now();
            let lasted = active.pressure.thaw(now);
            let _ = run_cgroup(tree, &active.slot, run_id).set_frozen(false);
            let message = format!("thawed after {} to be stopped", millis_text(lasted));
            self.published_step(token, "thaw", &message, now);
        }
        self.ladder.forget(token);
    }
}

/// Writes `action` to `cgroup` and notes it on the run's clock; returns the write's result
/// and what was done in words, or `None` when there is nothing to do (a run already being
/// stopped is not requeued).
fn write_step(
    cgroup: &RunCgroup,
    active: &mut Active,
    action: Action,
    now: DateTime<Utc>,
) -> Option<(Result<(), CgroupError>, String)> {
    let clock = &active.pressure;
    Some(match action {
        Action::Throttle { high, .. } => {
            clock.throttle(now);
            (
                cgroup.set_memory_high(Some(high)),
                format!("throttled: memory.high {}", ByteSize::new(high)),
            )
        }
        Action::Lift { .. } => {
            let lasted = clock.lift(now);
            (
                cgroup.set_memory_high(None),
                format!(
                    "throttle lifted after {}: memory.high max",
                    millis_text(lasted)
                ),
            )
        }
        Action::Freeze { .. } => {
            clock.freeze(now);
            (cgroup.set_frozen(true), "frozen".to_owned())
        }
        Action::Thaw { .. } => {
            let lasted = clock.thaw(now);
            (
                cgroup.set_frozen(false),
                format!("thawed after {}", millis_text(lasted)),
            )
        }
        Action::Requeue { .. } => {
            // A run already being stopped (`kill`, `replace`) stays stopped.
            let cancel = active.cancel.take()?;
            active.requeue = true;
            // Thawed first, so the run can take its SIGTERM; then stopped as `kill`.
            active.pressure.thaw(now);
            let thawed = cgroup.set_frozen(false);
            let _ = cancel.send(());
            (thawed, "stopped to be queued again in its slot".to_owned())
        }
    })
}

/// `ms` as slotcron writes a duration (`1m30s`, `250ms`).
fn millis_text(ms: u64) -> String {
    format_duration(std::time::Duration::from_millis(ms))
}

/// The cgroup the runner made for run `run_id` in `slot` (`<slot>/run-<id>`).
fn run_cgroup(tree: &Hierarchy, slot: &str, run_id: i64) -> RunCgroup {
    let fs: Arc<dyn CgroupFs> = Arc::clone(tree.fs());
    RunCgroup::from_parts(
        fs,
        tree.slot_path(slot).join(format!("run-{run_id}")),
        tree.controllers().to_vec(),
    )
}
