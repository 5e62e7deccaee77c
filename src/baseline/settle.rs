//! When a baseline may follow its job: only to a *settled* window, one whose newest runs
//! (those since the last check) sit at the level of the runs before them. A step change is
//! taken in once the whole window shows the new level; a drift, whose newest runs always lie
//! above the older ones, never is, so it stays judged against the level before it
//! (ADR 0031). Pure; the store applies it (`Store::refresh_baseline`).

use super::effect::{Reference, z_score};
use super::spread::log_spread;
use super::{RECOMPUTE_EVERY, Sample, median};

/// A window whose newest [`RECOMPUTE_EVERY`] runs lie this many standard errors or more
/// from the runs before them is not [`settled`]: a change is under way and the baseline is
/// held. Far lower than the alert threshold on purpose: holding a baseline for another 10
/// runs costs nothing (about 5 % of checks on a steady job), following a drift costs the
/// drift's alert.
pub const SETTLED_Z: f64 = 2.0;

/// Whether `window` (successful runs, newest first, as the store returns them) shows one
/// level: the median of its newest [`RECOMPUTE_EVERY`] runs (the runs since the last check)
/// lies within [`SETTLED_Z`] standard errors of the median of the runs before them (judged
/// against their spread, as [`z_score`] does), for the duration and, when both parts have
/// it, the memory peak. The daemon replaces a baseline only with a settled window, so a
/// change under way never drags the baseline along: a step is taken in once the whole
/// window shows the new level, and a drift, whose newest runs always lie above the older
/// ones, never is.
///
/// ```
/// use slotcron::baseline::Sample;
/// use slotcron::baseline::settle::settled;
///
/// let runs = |all: &[u64]| -> Vec<Sample> {
///     all.iter().enumerate().map(|(i, &ms)| Sample {
///         id: (all.len() - i) as i64, duration_ms: ms, memory_peak_bytes: None, cpu_usage_usec: None,
///     }).collect()
/// };
/// assert!(settled(&runs(&[100, 104, 97, 101, 99, 103, 98, 100])));
/// // Newest first: the newest ran twice as long.
/// assert!(!settled(&runs(&[200, 204, 197, 201, 199, 203, 198, 200, 196, 202, 99, 103, 98, 100])));
/// // A whole window at the new level is settled.
/// assert!(settled(&runs(&[200, 204, 197, 201, 199, 203, 198, 200, 196, 202, 199, 201])));
/// ```
pub fn settled(window: &[Sample]) -> bool {
    let newest = (RECOMPUTE_EVERY as usize).min(window.len() / 2);
    let (newer, older) = window.split_at(newest);
    if newer.len() < 2 {
        return true;
    }
    let duration = |s: &Sample| Some(s.duration_ms as f64);
    let memory = |s: &Sample| s.memory_peak_bytes.map(|m| m as f64);
    [
        same_level(newer, older, duration),
        same_level(newer, older, memory),
    ]
    .into_iter()
    .all(|same| same)
}

fn same_level(newer: &[Sample], older: &[Sample], figure: impl Fn(&Sample) -> Option<f64>) -> bool {
    let new: Vec<f64> = newer.iter().filter_map(&figure).collect();
    let old: Vec<f64> = older.iter().filter_map(&figure).collect();
    let (Some(new_median), Some(old_median), Some(spread)) =
        (median(&new), median(&old), log_spread(&old))
    else {
        return true;
    };
    let reference = Reference {
        median: old_median,
        spread,
        runs: u32::try_from(old.len()).unwrap_or(u32::MAX),
    };
    let runs = u32::try_from(new.len()).unwrap_or(u32::MAX);
    z_score(new_median, runs, &reference).abs() < SETTLED_Z
}
