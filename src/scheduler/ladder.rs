//! The pressure ladder (issue 16, ADR 0036): what to do to runs already going when the
//! machine runs short of memory. Pure: the daemon reads the signals and the runs, asks
//! [`Ladder::decide`], and carries out the [`Action`]s through the cgroup layer.
//!
//! - [`classify`] turns the machine's readings into [`Signal::Act`], [`Signal::Hold`] or
//!   [`Signal::Clear`] with `protect.response`'s bands: any signal past its `act` acts,
//!   all back past `clear` clear, anything in between holds (the hysteresis).
//!   [`classify_slot`] does the same for one slot's own `memory.pressure`, and [`combine`]
//!   makes one signal of them: a slot that acts alone ([`Signal::ActIn`]) climbs the
//!   ladder only on its own runs; coming down needs the machine and every slot clear.
//! - On `Act`, one rung is climbed per period: every run that accepts a step is throttled
//!   before any is frozen, and every one frozen before any is requeued; within a step the
//!   lowest priority goes first, then the largest user of memory, then the oldest run
//!   (lowest token). Critical runs are never acted on.
//! - On `Clear`, one rung is come down per period, the last one climbed first: a run
//!   frozen after it was throttled is thawed before its `memory.high` is lifted.
//! - Requeued runs are gone; the daemon starts them again once [`Ladder::is_calm`].

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::config::{Band, OnPressure, Priority, Response, Step};

/// The fraction of its current usage a throttled run's `memory.high` is set to: low enough
/// that the kernel reclaims at once, high enough that the run still makes progress.
pub const THROTTLE_PERCENT: u64 = 90;
/// The lowest `memory.high` a throttle sets: below this nothing is left to reclaim.
pub const MIN_HIGH: u64 = 1 << 20;

/// The machine's memory signals at one moment; `None` where the kernel gives none.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Readings {
    /// `/proc/pressure/memory` `some avg10`, percent.
    pub some_avg10: Option<f64>,
    /// `/proc/pressure/memory` `full avg10`, percent.
    pub full_avg10: Option<f64>,
    /// `MemAvailable` of `/proc/meminfo`, bytes.
    pub mem_available: Option<u64>,
}

/// One slot's `memory.pressure` (the PSI of its cgroup) at one moment; `None` where the
/// file gives no reading.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SlotReading {
    /// `some avg10`, percent.
    pub some_avg10: Option<f64>,
    /// `full avg10`, percent.
    pub full_avg10: Option<f64>,
}

/// The slots' readings, by slot name: only the slots read this period (those with runs in
/// progress, when `protect.response` has a slot band).
pub type SlotReadings = BTreeMap<String, SlotReading>;

/// What the readings say, through `protect.response`'s bands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// A machine signal is past its `act`: climb one rung, on any run.
    Act,
    /// Only these slots' own `memory.pressure` is past its `act`: climb one rung on a run
    /// of one of them.
    ActIn(Vec<String>),
    /// Between the bands: stay.
    Hold,
    /// Every signal is back past its `clear`: come down one rung.
    Clear,
}

/// Classifies the machine's readings `r` by `response`'s bands. A signal without a reading
/// neither acts nor keeps the ladder from clearing.
pub fn classify(response: &Response, r: &Readings) -> Signal {
    let psi = [
        (response.some_avg10, r.some_avg10),
        (response.full_avg10, r.full_avg10),
    ];
    let available = response
        .mem_available
        .zip(r.mem_available)
        .map(|(band, value)| (band.act.bytes(), band.clear.bytes(), value));
    let (mut act, mut clear) = psi_verdict(&psi);
    if let Some((act_below, clear_above, value)) = available {
        act |= value < act_below;
        clear &= value > clear_above;
    }
    verdict(act, clear)
}

/// Classifies one slot's `memory.pressure` by the slot bands (`slot_some_avg10`,
/// `slot_full_avg10`).
pub fn classify_slot(response: &Response, r: &SlotReading) -> Signal {
    let psi = [
        (response.slot_some_avg10, r.some_avg10),
        (response.slot_full_avg10, r.full_avg10),
    ];
    let (act, clear) = psi_verdict(&psi);
    verdict(act, clear)
}

/// The one signal for this period: the machine's `Act` acts everywhere; else the slots
/// that act are where the ladder climbs; it comes down only when the machine and every
/// slot read clear; anything else holds.
///
/// ```
/// use std::collections::BTreeMap;
/// use slotcron::scheduler::ladder::{Signal, combine};
/// let slots = BTreeMap::from([("a".to_owned(), Signal::Act), ("b".to_owned(), Signal::Clear)]);
/// assert_eq!(combine(Signal::Clear, &slots), Signal::ActIn(vec!["a".to_owned()]));
/// assert_eq!(combine(Signal::Act, &slots), Signal::Act);
/// assert_eq!(combine(Signal::Clear, &BTreeMap::new()), Signal::Clear);
/// ```
pub fn combine(machine: Signal, slots: &BTreeMap<String, Signal>) -> Signal {
    if machine == Signal::Act {
        return Signal::Act;
    }
    let acting: Vec<String> = slots
        .iter()
        .filter(|(_, s)| **s == Signal::Act)
        .map(|(name, _)| name.clone())
        .collect();
    if !acting.is_empty() {
        Signal::ActIn(acting)
    } else if machine == Signal::Clear && slots.values().all(|s| *s == Signal::Clear) {
        Signal::Clear
    } else {
        Signal::Hold
    }
}

/// Whether any PSI reading is above its band's `act`, and whether all are below `clear`
/// (readings or bands missing are skipped).
fn psi_verdict(psi: &[(Option<Band<f64>>, Option<f64>)]) -> (bool, bool) {
    let (mut act, mut clear) = (false, true);
    for (band, value) in psi.iter().filter_map(|(b, v)| Some(((*b)?, (*v)?))) {
        act |= value > band.act;
        clear &= value < band.clear;
    }
    (act, clear)
}

fn verdict(act: bool, clear: bool) -> Signal {
    match (act, clear) {
        (true, _) => Signal::Act,
        (false, true) => Signal::Clear,
        (false, false) => Signal::Hold,
    }
}

/// A run the ladder may act on, as the daemon sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunView {
    /// The daemon's key for the run.
    pub token: u64,
    pub priority: Priority,
    pub slot: String,
    /// The steps its job accepts.
    pub accepts: OnPressure,
    /// `memory.current` of its cgroup, bytes.
    pub memory_current: u64,
}

/// One thing to do to one run's cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Write `high` bytes to the run's `memory.high`.
    Throttle { token: u64, high: u64 },
    /// Write `1` to its `cgroup.freeze`.
    Freeze { token: u64 },
    /// Stop it and put it back in its slot's queue; its row says `requeued`.
    Requeue { token: u64 },
    /// Write `0` to its `cgroup.freeze`.
    Thaw { token: u64 },
    /// Write `max` to its `memory.high` (its own limit, if it has one, is the daemon's to
    /// restore).
    Lift { token: u64 },
}

impl Action {
    /// Every action's [`Action::name`], in ladder order (up, then down).
    pub const NAMES: [&'static str; 5] = ["throttle", "freeze", "requeue", "thaw", "lift"];

    /// The run it acts on.
    pub fn token(self) -> u64 {
        match self {
            Action::Throttle { token, .. }
            | Action::Freeze { token }
            | Action::Requeue { token }
            | Action::Thaw { token }
            | Action::Lift { token } => token,
        }
    }

    /// Its name in history and on the event streams.
    pub fn name(self) -> &'static str {
        match self {
            Action::Throttle { .. } => "throttle",
            Action::Freeze { .. } => "freeze",
            Action::Requeue { .. } => "requeue",
            Action::Thaw { .. } => "thaw",
            Action::Lift { .. } => "lift",
        }
    }
}

/// The rungs climbed so far. Invariant: each (token, step) appears at most once, and only
/// `Throttle` and `Freeze` (a requeued run is gone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ladder {
    /// In the order they were climbed; come down from the end.
    climbed: Vec<(u64, Step)>,
    /// Runs being requeued: never acted on again while the daemon stops them.
    requeued: Vec<u64>,
    /// Whether the last signal that was not `Hold` was `Act` (or a rung is still climbed).
    pressed: bool,
}

impl Ladder {
    /// Whether `token` is throttled / frozen now.
    pub fn holds(&self, token: u64, step: Step) -> bool {
        self.climbed.contains(&(token, step))
    }

    /// Whether nothing is climbed and the pressure has cleared: requeued runs may start.
    pub fn is_calm(&self) -> bool {
        !self.pressed && self.climbed.is_empty()
    }

    /// The rungs climbed, oldest first.
    pub fn climbed(&self) -> &[(u64, Step)] {
        &self.climbed
    }

    /// Forgets a run that ended (or was requeued).
    pub fn forget(&mut self, token: u64) {
        self.climbed.retain(|(t, _)| *t != token);
    }

    /// The actions for this period, at most one; the ladder records it as done. Runs no
    /// longer in `runs` are forgotten first.
    pub fn decide(&mut self, signal: Signal, runs: &[RunView]) -> Vec<Action> {
        let present = |t: &u64| runs.iter().any(|r| r.token == *t);
        self.climbed.retain(|(t, _)| present(t));
        self.requeued.retain(present);
        match signal {
            Signal::Act => {
                self.pressed = true;
                self.climb(runs, None).into_iter().collect()
            }
            Signal::ActIn(slots) => {
                self.pressed = true;
                self.climb(runs, Some(&slots)).into_iter().collect()
            }
            Signal::Hold => Vec::new(),
            Signal::Clear => {
                let down = self.climbed.pop().map(|(token, step)| match step {
                    Step::Freeze => Action::Thaw { token },
                    // Requeue is never climbed (see the invariant).
                    Step::Throttle | Step::Requeue => Action::Lift { token },
                });
                self.pressed = !self.climbed.is_empty();
                down.into_iter().collect()
            }
        }
    }

    /// One rung up, on a run of `slots` if given (a slot's own pressure), else on any run.
    fn climb(&mut self, runs: &[RunView], slots: Option<&[String]>) -> Option<Action> {
        let in_scope = |r: &RunView| slots.is_none_or(|s| s.contains(&r.slot));
        for step in Step::ALL {
            let mut candidates: Vec<&RunView> = runs
                .iter()
                .filter(|r| in_scope(r))
                .filter(|r| r.priority != Priority::Critical && r.accepts.accepts(step))
                .filter(|r| !self.holds(r.token, step) && !self.requeued.contains(&r.token))
                .collect();
            candidates.sort_by_key(|r| (Reverse(r.priority), Reverse(r.memory_current), r.token));
            let Some(run) = candidates.first() else {
                continue;
            };
            let token = run.token;
            return Some(match step {
                Step::Throttle => {
                    self.climbed.push((token, step));
                    Action::Throttle {
                        token,
                        high: throttle_high(run.memory_current),
                    }
                }
                Step::Freeze => {
                    self.climbed.push((token, step));
                    Action::Freeze { token }
                }
                Step::Requeue => {
                    self.forget(token);
                    self.requeued.push(token);
                    Action::Requeue { token }
                }
            });
        }
        None
    }
}

/// The `memory.high` that throttles a run using `current` bytes: [`THROTTLE_PERCENT`] of
/// it, page-aligned, at least [`MIN_HIGH`].
///
/// ```
/// use slotcron::scheduler::ladder::throttle_high;
/// assert_eq!(throttle_high(1000 << 20), 900 << 20);
/// assert_eq!(throttle_high(0), 1 << 20);
/// ```
pub fn throttle_high(current: u64) -> u64 {
    let high = current / 100 * THROTTLE_PERCENT;
    (high - high % 4096).max(MIN_HIGH)
}

#[cfg(test)]
#[path = "ladder_tests.rs"]
mod tests;
