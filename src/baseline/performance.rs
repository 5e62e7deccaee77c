//! Whether a job's runs still cost what its baseline says: the `performance` word of its
//! health, and the `degraded` alert. A trend, not a run: the median of the job's newest
//! [`RECENT_RUNS`] successful runs is judged against the baseline with the effect-size rule
//! ([`super::effect::judge`]), for the duration and the memory peak alike, so one slow run
//! neither raises nor clears it. `slotcron jobs`, the API, the dashboard, `/metrics` and
//! the alert all take it from [`verdict`].

use serde::Serialize;

use super::effect::{Evidence, Judging, Rule, judge};
use super::{self as baseline, Baseline, Sample};
pub use crate::model::health::Performance;

/// How many of the newest successful runs make the recent window.
pub const RECENT_RUNS: u32 = 5;
/// The fewest recent runs whose median is judged: fewer would be one run's word.
pub const MIN_RECENT_RUNS: u32 = 3;
/// A duration MAD above this fraction of the median duration makes a job `unstable`.
pub const UNSTABLE_SPREAD: f64 = 0.5;

/// The medians of a job's newest [`RECENT_RUNS`] successful runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Recent {
    /// How many runs the medians are over (at most [`RECENT_RUNS`]).
    pub runs: u32,
    pub duration_median_ms: Option<f64>,
    /// Over the runs that recorded a peak.
    pub memory_median_bytes: Option<f64>,
    /// How many of the runs recorded a memory peak.
    pub memory_runs: u32,
}

/// The performance word and, when `degraded`, the evidence for it (one item per figure).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub performance: Performance,
    pub evidence: Vec<Evidence>,
}

/// The medians of `runs` (the newest successful runs), as [`Recent`].
///
/// ```
/// use slotcron::baseline::{Sample, performance::recent_medians};
///
/// let runs = [(1, 300, Some(10)), (2, 100, None), (3, 200, Some(30))]
///     .map(|(id, ms, mem)| Sample { id, duration_ms: ms, memory_peak_bytes: mem, cpu_usage_usec: None });
/// let recent = recent_medians(&runs);
/// assert_eq!((recent.runs, recent.memory_runs), (3, 2));
/// assert_eq!(recent.duration_median_ms, Some(200.0));
/// assert_eq!(recent.memory_median_bytes, Some(20.0));
/// ```
pub fn recent_medians(runs: &[Sample]) -> Recent {
    let durations: Vec<f64> = runs.iter().map(|s| s.duration_ms as f64).collect();
    let memory: Vec<f64> = runs
        .iter()
        .filter_map(|s| s.memory_peak_bytes.map(|m| m as f64))
        .collect();
    Recent {
        runs: u32::try_from(runs.len()).unwrap_or(u32::MAX),
        duration_median_ms: baseline::median(&durations),
        memory_median_bytes: baseline::median(&memory),
        memory_runs: u32::try_from(memory.len()).unwrap_or(u32::MAX),
    }
}

/// The performance of a job with `baseline` (`None`: `unknown`) whose newest successful
/// runs are `recent`, judged by `judging`: `degraded` when the `slower` rule fires on the
/// recent median duration or the `bigger` rule on the recent median memory peak (each
/// over at least [`MIN_RECENT_RUNS`] runs), else `unstable` when the baseline's duration
/// MAD is above [`UNSTABLE_SPREAD`] of its median, else `stable`.
pub fn verdict(baseline: Option<&Baseline>, recent: &Recent, judging: &Judging) -> Verdict {
    let Some(baseline) = baseline else {
        return Verdict {
            performance: Performance::Unknown,
            evidence: Vec::new(),
        };
    };
    let duration = baseline
        .duration_reference()
        .zip(recent.duration_median_ms)
        .filter(|_| recent.runs >= MIN_RECENT_RUNS)
        .and_then(|(usual, now)| judge(Rule::Slower, now, recent.runs, &usual, judging));
    let memory = baseline
        .memory_reference()
        .zip(recent.memory_median_bytes)
        .filter(|_| recent.memory_runs >= MIN_RECENT_RUNS)
        .and_then(|(usual, now)| judge(Rule::Bigger, now, recent.memory_runs, &usual, judging));
    let evidence: Vec<Evidence> = duration.into_iter().chain(memory).collect();
    let performance = if !evidence.is_empty() {
        Performance::Degraded
    } else if baseline.duration_median_ms > 0.0
        && baseline.duration_mad_ms / baseline.duration_median_ms > UNSTABLE_SPREAD
    {
        Performance::Unstable
    } else {
        Performance::Stable
    };
    Verdict {
        performance,
        evidence,
    }
}
