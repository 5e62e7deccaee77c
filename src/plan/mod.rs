//! The forecast: what the next hours will look like, before they happen (issue 17). Every
//! fire time of every enabled job over a window is played on a virtual clock through the
//! daemon's own rules — [`decide`](crate::scheduler::decide) for `enabled`, the breaker,
//! `depends_on` and `concurrency`; [`Admission`](crate::scheduler::Admission) and
//! [`hold`](crate::scheduler::hold) for seats, memory budgets, priorities, `blocks:` and
//! `protect`; [`Links`](crate::scheduler::Links) for `after:` chains;
//! [`firing`](crate::scheduler::firing) for jitter and the next fire time — with each run
//! lasting and using what its baseline says ([`estimate`]). ADR 0042 says why it is the
//! same code and not a copy.
//!
//! [`simulate`] is pure: jobs, settings, what history says ([`History`]) and the window in,
//! a [`Plan`] out (per run its queue time, start, end, wait and slot; per slot its seats,
//! queue, reserved and predicted memory over time with their peaks; the [`Finding`]s an
//! admin should read first). [`forecast`] is the one function that reads history and
//! simulates, for `slotcron plan` and `GET /api/v1/plan` alike, so both print the same
//! JSON.

pub mod estimate;
mod findings;
pub mod history;
mod series;
mod sim;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Job, Settings};
use crate::store::{Store, StoreError};

pub use estimate::{Estimate, GUESS_DURATION, Percentile, Source};
pub use history::History;

/// The window when none is asked for: the next day.
pub const DEFAULT_HOURS: u32 = 24;
/// The longest window: a week. Longer forecasts would rest on a week-old baseline anyway.
pub const MAX_HOURS: u32 = 168;

/// What to forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The start of the window; fire times strictly after it count.
    pub from: DateTime<Utc>,
    /// The window's length: fire times before `from + window` are played.
    pub window: chrono::Duration,
    /// Which of each baseline's figures a run lasts and uses.
    pub percentile: Percentile,
    /// Whether `catch_up: once` jobs make up a missed fire time at `from`, as a daemon
    /// started then would.
    pub catch_up: bool,
    /// A run waiting longer than this for its seat is a finding.
    pub wait_over: Duration,
}

impl Options {
    /// The defaults from `from`: [`DEFAULT_HOURS`], p50, no catch-up, and the wait that
    /// raises `slot_saturated` (`alerting.queue_wait_threshold`).
    pub fn new(from: DateTime<Utc>, settings: &Settings) -> Options {
        Options {
            from,
            window: chrono::Duration::hours(i64::from(DEFAULT_HOURS)),
            percentile: Percentile::P50,
            catch_up: false,
            wait_over: settings.alerting.queue_wait_threshold,
        }
    }

    /// The end of the window.
    pub fn until(&self) -> DateTime<Utc> {
        self.from + self.window
    }
}

/// What [`simulate`] plays.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The loaded jobs (any order; the forecast orders them by name).
    pub jobs: &'a [&'a Job],
    pub settings: &'a Settings,
    pub history: &'a History,
    /// `MemAvailable` at `from`, in bytes: with `protect.reserve_memory`, the machine's
    /// available memory is this minus what the runs going are predicted to use. `None`:
    /// `protect`'s reserve is not played.
    pub mem_available: Option<u64>,
}

/// The forecast of a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub percentile: Percentile,
    pub catch_up: bool,
    /// Runs waiting longer than this are findings.
    pub wait_over_ms: u64,
    /// `MemAvailable` the forecast started from (`null`: `protect`'s reserve not played).
    pub mem_available_bytes: Option<u64>,
    /// Every job that was played, by name, with the figures its runs use.
    pub jobs: Vec<JobPlan>,
    /// Every fire time in the window and every run it led to, in the order they came due;
    /// a run's `id` is its index here.
    pub runs: Vec<PlannedRun>,
    /// Each slot over time, by name.
    pub slots: Vec<Series>,
    /// All slots together (`name` is `*`; its cap is `cgroup.memory_max`).
    pub machine: Series,
    /// What to look at, by time.
    pub findings: Vec<Finding>,
}

/// A job as the forecast plays it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobPlan {
    pub name: String,
    pub slot: String,
    pub schedule: String,
    /// The file's `enabled:` with `slotcron enable/disable` applied; a disabled job never
    /// fires.
    pub enabled: bool,
    pub estimate: Estimate,
    /// Its entries in [`Plan::runs`].
    pub runs: u32,
}

/// A fire time (or an `after:` start, a catch-up) and what becomes of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedRun {
    /// Its index in [`Plan::runs`].
    pub id: usize,
    pub job: String,
    pub slot: String,
    /// As history would record it: `schedule`, `after:<job>`, `catch_up`.
    pub trigger: String,
    /// The time it came due (a fire time before jitter; a leader's end for `after:`).
    pub due: DateTime<Utc>,
    #[serde(flatten)]
    pub fate: Fate,
}

/// What becomes of a run that came due; each state carries its own figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Fate {
    /// It gets a seat at `started_at` and ends at `ended_at`.
    Runs {
        /// When it entered its slot's queue (after jitter).
        queued_at: DateTime<Utc>,
        started_at: DateTime<Utc>,
        ended_at: DateTime<Utc>,
        /// `started_at - queued_at`, as history records `wait_ms`.
        wait_ms: u64,
        /// The memory it is predicted to use (its estimate).
        memory_bytes: u64,
        /// The memory admission reserves for it.
        reserved_bytes: u64,
        /// A newer run of the job stopped it at `ended_at` (`concurrency: replace`).
        replaced: bool,
    },
    /// Still waiting for a seat when the forecast ends.
    Waits { queued_at: DateTime<Utc> },
    /// Taken out of the queue by a newer run of its job (`concurrency: replace`).
    Dropped {
        queued_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// Recorded `skipped`, for this reason (the daemon's words).
    Skipped { reason: String },
    /// Passes without a trace (a tripped breaker).
    Ignored { reason: String },
}

/// One slot (or all of them) over the window: a point wherever a figure changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    /// `max_concurrent` (`null` for all slots together).
    pub seats: Option<u32>,
    /// The slot's `memory_max`, or `cgroup.memory_max` for all slots (`null`: none).
    pub memory_max_bytes: Option<u64>,
    pub points: Vec<Point>,
    pub peak: Peak,
}

/// A slot's figures from `at` until the next point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Point {
    pub at: DateTime<Utc>,
    /// Runs holding a seat.
    pub running: u32,
    /// Runs waiting for one.
    pub queued: u32,
    /// Memory admission has reserved for the runs holding a seat.
    pub reserved_bytes: u64,
    /// Memory those runs are predicted to use.
    pub memory_bytes: u64,
}

/// The highest of each figure of a [`Series`] and its first time (`null` before anything
/// ran).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Peak {
    pub running: u32,
    pub running_at: Option<DateTime<Utc>>,
    pub queued: u32,
    pub queued_at: Option<DateTime<Utc>>,
    pub reserved_bytes: u64,
    pub reserved_at: Option<DateTime<Utc>>,
    pub memory_bytes: u64,
    pub memory_at: Option<DateTime<Utc>>,
}

/// Something the forecast says an admin should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// When it happens.
    pub at: DateTime<Utc>,
    pub job: Option<String>,
    pub slot: Option<String>,
    /// The run it is about, an index into [`Plan::runs`].
    pub run: Option<usize>,
    pub message: String,
}

/// The kinds of [`Finding`], in the order findings of one instant are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A run of the job is still going (or waiting) at its next fire time: skipped under
    /// `forbid`, stopped under `replace`, run alongside under `allow`.
    StillRunning,
    /// A run is skipped for another reason (`depends_on`, a full queue).
    Skipped,
    /// `protect` holds new runs back: the machine's available memory, less what the runs
    /// going use, falls below `protect.reserve_memory`.
    ProtectHolds,
    /// A run waits longer than [`Options::wait_over`] for its seat.
    LongWait,
    /// An `overdue` alert will be raised.
    Overdue,
    /// A slot's predicted memory peak exceeds its `memory_max`.
    OverSlotMemory,
    /// All slots' predicted memory exceeds `cgroup.memory_max`.
    OverGlobalMemory,
    /// The machine's available memory, less what runs use, falls below
    /// `protect.reserve_memory`.
    BelowReserve,
    /// A run still waits when the forecast ends.
    NeverStarts,
    /// A job's figures are guesses (no successful run in history).
    Guess,
}

/// Plays `options`' window through the daemon's rules (see the module docs).
pub fn simulate(inputs: &Inputs<'_>, options: &Options) -> Plan {
    sim::Sim::new(inputs, options).run()
}

/// Reads what history says about `jobs` from `store` and plays the window: the one way the
/// command line and the API build a forecast. `mem_available` reads the machine's
/// `MemAvailable`; it is asked only when `protect.reserve_memory` is set.
///
/// # Errors
/// History cannot be read.
pub fn forecast(
    jobs: &[&Job],
    settings: &Settings,
    store: Option<&Store>,
    options: &Options,
    mem_available: impl FnOnce() -> Option<u64>,
) -> Result<Plan, StoreError> {
    let mem_available = settings
        .protect
        .reserve_memory
        .and_then(|_| mem_available());
    let history = match store {
        Some(store) => History::load(store, settings.health.baseline_runs, options.from)?,
        None => History::default(),
    };
    let inputs = Inputs {
        jobs,
        settings,
        history: &history,
        mem_available,
    };
    Ok(simulate(&inputs, options))
}

#[cfg(test)]
mod tests;
