//! How long a forecast run lasts and how much memory it uses: its job's baseline (the
//! median, or with `--pessimistic` the p95 of the duration and the highest memory peak of
//! the window), else guesses, flagged as such: `limits.timeout` (else
//! [`GUESS_DURATION`]) and the memory admission reserves. What admission reserves is
//! always the daemon's own figure ([`job_memory`], ADR 0034), whatever the baseline says.

use std::time::Duration;

use serde::Serialize;

use crate::baseline::Baseline;
use crate::config::{Job, Settings};
use crate::runner::job_memory;

use super::History;

/// A run's duration when its job has neither a successful run nor `limits.timeout`.
pub const GUESS_DURATION: Duration = Duration::from_secs(10 * 60);

/// Which figures of a baseline a forecast run takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Percentile {
    /// The median duration and the median memory peak: a typical day.
    P50,
    /// The p95 duration and the highest memory peak of the baseline's window (history keeps
    /// no memory p95): a bad day.
    P95,
}

/// Where a figure of an [`Estimate`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The job's baseline.
    Baseline,
    /// A guess: `limits.timeout` (the longest the daemon lets a run go).
    Timeout,
    /// A guess: [`GUESS_DURATION`], for a job with neither history nor timeout.
    Assumed,
    /// A guess: what admission reserves for the run.
    Reservation,
}

impl Source {
    /// Whether the figure is a guess rather than a measurement.
    pub fn is_guess(self) -> bool {
        self != Source::Baseline
    }
}

/// What each run of a job is predicted to cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Estimate {
    pub duration_ms: u64,
    pub duration_from: Source,
    /// The memory a run is predicted to use (its `memory.peak`).
    pub memory_bytes: u64,
    pub memory_from: Source,
    /// What admission reserves for a run (`expected_memory_bytes` of `slotcron jobs`).
    pub reserved_bytes: u64,
    /// The successful runs the baseline was computed from; `null` without one.
    pub baseline_runs: Option<u32>,
}

impl Estimate {
    /// Whether either figure is a guess.
    pub fn is_guess(&self) -> bool {
        self.duration_from.is_guess() || self.memory_from.is_guess()
    }

    /// The duration as a `chrono` span.
    pub fn duration(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(i64::try_from(self.duration_ms).unwrap_or(i64::MAX))
    }
}

/// The estimate of `job`'s runs from what `history` says, at `percentile`.
pub fn estimate(
    job: &Job,
    settings: &Settings,
    history: &History,
    percentile: Percentile,
) -> Estimate {
    let peak = history
        .summaries
        .get(&job.name)
        .and_then(|s| s.peak_memory());
    let reserved = job_memory(job, settings, peak).expected_memory_bytes;
    let baseline = history.baselines.get(&job.name);
    let (duration_ms, duration_from) = match baseline {
        Some(b) => (duration_of(b, percentile), Source::Baseline),
        None => match job.limits.timeout {
            Some(timeout) => (millis(timeout), Source::Timeout),
            None => (millis(GUESS_DURATION), Source::Assumed),
        },
    };
    let (memory_bytes, memory_from) = match baseline.and_then(|b| memory_of(b, percentile)) {
        Some(bytes) => (bytes, Source::Baseline),
        None => (reserved, Source::Reservation),
    };
    Estimate {
        duration_ms,
        duration_from,
        memory_bytes,
        memory_from,
        reserved_bytes: reserved,
        baseline_runs: baseline.map(|b| b.runs),
    }
}

fn duration_of(baseline: &Baseline, percentile: Percentile) -> u64 {
    let ms = match percentile {
        Percentile::P50 => baseline.duration_median_ms,
        Percentile::P95 => baseline.duration_p95_ms,
    };
    ms.round().max(0.0) as u64
}

fn memory_of(baseline: &Baseline, percentile: Percentile) -> Option<u64> {
    match percentile {
        Percentile::P50 => baseline
            .memory_median_bytes
            .map(|m| m.round().max(0.0) as u64),
        Percentile::P95 => baseline.memory_max_bytes,
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
