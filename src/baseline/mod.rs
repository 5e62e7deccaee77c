//! A job's baseline: what its normal successful run costs (duration, memory, CPU), from its
//! newest N successful runs, with robust statistics (median and MAD) so that one runaway
//! run moves the baseline by one rank instead of dragging a mean with it.
//!
//! The alert rules judge a figure by its median and its *spread* (the robust standard
//! deviation of its logarithm, [`spread`]); the MAD is kept for the dashboard's band
//! and the `unstable` verdict.
//!
//! A baseline adapts, but is not dragged along by a change under way: it is only replaced
//! when the newest window is *settled* ([`settle`]). A step change is taken in once
//! a whole window shows it; a drift never settles, so it is judged against the level before
//! it (ADR 0031).
//!
//! Pure functions on plain figures; the store reads the window and keeps the result
//! (`Store::refresh_baseline`). With the baseline live the rest of the arithmetic of
//! judging a job against it, which configuration, history and alerts all use and which
//! therefore sits below them (ADR 0033):
//! - [`effect`]: the effect-size rule, [`effect::judge`], and its thresholds.
//! - [`spread`]: how widely runs vary, on the log scale.
//! - [`settle`]: when a baseline may follow its job.
//! - [`performance`]: the `performance` word of health from the newest runs.
//! - [`units`]: figures in words with the precision that shows a difference.

use chrono::{DateTime, Utc};
use serde::Serialize;

pub mod effect;
pub mod performance;
pub mod settle;
pub mod spread;
pub mod units;

pub use crate::model::Sample;
use effect::Reference;
use spread::log_spread;

/// `baseline_runs` when `slotcron.yaml` does not set it: a month of a daily job. Fewer
/// runs make the spread too uncertain to judge 1,000 runs without a false alarm (ADR 0031).
pub const DEFAULT_BASELINE_RUNS: u32 = 30;
/// The smallest and largest `baseline_runs`: fewer than 3 runs make no median worth the
/// name; more than 1,000 would make a recomputation read more than a bounded window.
pub const BASELINE_RUNS_RANGE: std::ops::RangeInclusive<u64> = 3..=1000;
/// The daemon checks a job's baseline again after this many successful runs since the
/// last check, and replaces it when the newest window is settled
/// ([`settle::settled`]).
pub const RECOMPUTE_EVERY: u32 = 10;
/// The scale factor that makes a MAD comparable to a standard deviation of normal data
/// (Iglewicz and Hoaglin): `z = 0.6745 * (x - median) / MAD`.
pub const MAD_SCALE: f64 = 0.6745;
/// Iglewicz and Hoaglin's cut-off: a robust z-score above 3.5 marks an outlier.
pub const OUTLIER_Z: f64 = 3.5;
/// When the MAD is 0 (at least half the runs had the very same figure), a z-score is
/// undefined; [`is_outlier`] then calls a value an outlier when it is more than this
/// fraction away from the median.
pub const ZERO_MAD_RELATIVE: f64 = 0.5;

/// A job's normal successful run. Medians of an even count are the mean of the two middle
/// values; the p95 interpolates linearly between ranks (numpy's default, rounded to 6
/// decimals). Memory and CPU figures are over the runs that recorded one, `None` when none
/// did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// Median wall time, ms.
    pub duration_median_ms: f64,
    /// 95th percentile of wall time, ms.
    pub duration_p95_ms: f64,
    /// Median absolute deviation of wall time from its median, ms.
    pub duration_mad_ms: f64,
    /// Median memory peak, bytes.
    pub memory_median_bytes: Option<f64>,
    /// Highest memory peak, bytes.
    pub memory_max_bytes: Option<u64>,
    /// Median absolute deviation of the memory peak, bytes.
    pub memory_mad_bytes: Option<f64>,
    /// The spread of the duration: robust standard deviation of its logarithm
    /// ([`spread::log_spread`]). `None` only in a baseline stored by a slotcron
    /// before 0.x (then it is due for recomputation and judges nothing until then).
    pub duration_spread: Option<f64>,
    /// The spread of the memory peak, as `duration_spread`; `None` without memory figures.
    pub memory_spread: Option<f64>,
    /// Median CPU time (`usage_usec`), microseconds.
    pub cpu_median_usec: Option<f64>,
    /// How many successful runs it was computed from (the setting `baseline_runs`).
    pub runs: u32,
    /// The id of the newest run in the window.
    pub newest_run_id: i64,
    /// The newest success when the daemon last checked the window (at least
    /// `newest_run_id`): it counts successes after this one.
    pub checked_run_id: i64,
    /// Whether the last check kept this baseline because the newest window was not
    /// settled (a change under way).
    pub held: bool,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
}

impl Baseline {
    /// The duration as the effect-size rule reads it; `None` without a spread.
    pub fn duration_reference(&self) -> Option<Reference> {
        Some(Reference {
            median: self.duration_median_ms,
            spread: self.duration_spread?,
            runs: self.runs,
        })
    }

    /// The memory peak as the effect-size rule reads it; `None` without figures or spread.
    pub fn memory_reference(&self) -> Option<Reference> {
        Some(Reference {
            median: self.memory_median_bytes?,
            spread: self.memory_spread?,
            runs: self.runs,
        })
    }
}

/// The baseline of the first `n` of `successes` (newest first, as the store returns them),
/// or `None` when there are fewer than `n` (or `n` is 0).
///
/// ```
/// use chrono::{DateTime, Utc};
/// use slotcron::baseline::{Sample, compute};
///
/// let now = DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap();
/// let runs: Vec<Sample> = [100, 110, 90, 120, 1000]
///     .iter()
///     .enumerate()
///     .map(|(i, &ms)| Sample {
///         id: 5 - i as i64,
///         duration_ms: ms,
///         memory_peak_bytes: Some(ms * 1000),
///         cpu_usage_usec: None,
///     })
///     .collect();
/// assert!(compute(&runs, 6, now).is_none(), "5 runs are not enough for 6");
/// let b = compute(&runs, 5, now).unwrap();
/// assert_eq!(b.duration_median_ms, 110.0); // 90 100 [110] 120 1000: the outlier is one rank
/// assert_eq!(b.duration_mad_ms, 10.0); // deviations 0 10 10 20 890
/// assert_eq!(b.duration_p95_ms, 824.0); // 120 + 0.8 * (1000 - 120)
/// assert_eq!(b.memory_median_bytes, Some(110_000.0));
/// assert_eq!(b.memory_max_bytes, Some(1_000_000));
/// assert_eq!(b.cpu_median_usec, None);
/// assert_eq!((b.runs, b.newest_run_id), (5, 5));
/// ```
pub fn compute(successes: &[Sample], n: usize, now: DateTime<Utc>) -> Option<Baseline> {
    if n == 0 || successes.len() < n {
        return None;
    }
    let window = &successes[..n];
    let mut durations: Vec<f64> = window.iter().map(|s| s.duration_ms as f64).collect();
    let mut memory: Vec<f64> = window
        .iter()
        .filter_map(|s| s.memory_peak_bytes.map(|m| m as f64))
        .collect();
    let mut cpu: Vec<f64> = window
        .iter()
        .filter_map(|s| s.cpu_usage_usec.map(|c| c as f64))
        .collect();
    sort(&mut durations);
    sort(&mut memory);
    sort(&mut cpu);
    let duration_median_ms = median_sorted(&durations)?;
    let memory_median_bytes = median_sorted(&memory);
    let newest_run_id = window.iter().map(|s| s.id).max().unwrap_or(0);
    Some(Baseline {
        duration_median_ms,
        duration_p95_ms: quantile_sorted(&durations, 0.95)?,
        duration_mad_ms: mad(&durations, duration_median_ms),
        memory_median_bytes,
        memory_max_bytes: window.iter().filter_map(|s| s.memory_peak_bytes).max(),
        memory_mad_bytes: memory_median_bytes.map(|m| mad(&memory, m)),
        duration_spread: Some(log_spread(&durations).unwrap_or(0.0)),
        memory_spread: memory_median_bytes.map(|_| log_spread(&memory).unwrap_or(0.0)),
        cpu_median_usec: median_sorted(&cpu),
        runs: u32::try_from(n).unwrap_or(u32::MAX),
        newest_run_id,
        checked_run_id: newest_run_id,
        held: false,
        computed_at: now,
    })
}

/// The robust z-score of `value`: `0.6745 * (value - median) / mad`. `None` when `mad` is
/// 0 (or not a finite positive number): at least half the runs had the same figure, the
/// spread is unknown and any difference would be infinitely many MADs. Callers then fall
/// back to a relative threshold, as [`is_outlier`] does.
///
/// ```
/// use slotcron::baseline::robust_z;
///
/// assert_eq!(robust_z(150.0, 100.0, 6.745), Some(5.0));
/// assert_eq!(robust_z(90.0, 100.0, 13.49), Some(-0.5));
/// assert_eq!(robust_z(150.0, 100.0, 0.0), None);
/// ```
pub fn robust_z(value: f64, median: f64, mad: f64) -> Option<f64> {
    (mad.is_finite() && mad > 0.0).then(|| MAD_SCALE * (value - median) / mad)
}

/// Whether `value` lies outside what the baseline calls normal: a robust z-score beyond
/// [`OUTLIER_Z`] either way, or, when the MAD is 0, more than [`ZERO_MAD_RELATIVE`] of the
/// median away from it (any difference at all when the median is 0 too).
///
/// ```
/// use slotcron::baseline::is_outlier;
///
/// assert!(is_outlier(140.0, 100.0, 6.745)); // z = 6
/// assert!(!is_outlier(120.0, 100.0, 6.745)); // z = 2
/// assert!(!is_outlier(140.0, 100.0, 0.0)); // MAD 0: 40 % off is within 50 %
/// assert!(is_outlier(151.0, 100.0, 0.0)); // MAD 0: 51 % off
/// ```
pub fn is_outlier(value: f64, median: f64, mad: f64) -> bool {
    match robust_z(value, median, mad) {
        Some(z) => z.abs() > OUTLIER_Z,
        None => (value - median).abs() > ZERO_MAD_RELATIVE * median.abs(),
    }
}

/// The median of `values` (any order); `None` for none.
///
/// ```
/// use slotcron::baseline::median;
///
/// assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
/// assert_eq!(median(&[]), None);
/// ```
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sort(&mut sorted);
    median_sorted(&sorted)
}

fn sort(values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
}

fn median_sorted(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Linear interpolation between closest ranks: rank `q * (n - 1)` from 0.
fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = q * last as f64;
    let (low, frac) = (rank.floor() as usize, rank.fract());
    let high = (low + 1).min(last);
    let value = sorted[low] + frac * (sorted[high] - sorted[low]);
    // `0.95 * 4` is 3.7999...: round off the binary noise (figures are whole ms or bytes),
    // so 824 prints as 824, not 823.9999999999999.
    Some((value * 1e6).round() / 1e6)
}

fn mad(values: &[f64], median: f64) -> f64 {
    let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
    self::median(&deviations).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: i64, duration_ms: u64, memory: Option<u64>, cpu: Option<u64>) -> Sample {
        Sample {
            id,
            duration_ms,
            memory_peak_bytes: memory,
            cpu_usage_usec: cpu,
        }
    }

    #[test]
    fn only_the_newest_n_count_and_even_counts_average_the_middle_pair() {
        let now = DateTime::from_timestamp(0, 0).unwrap();
        // Newest first; the last one (id 1, 99 s) is outside a window of 4.
        let runs = [
            sample(5, 400, Some(40), Some(4)),
            sample(4, 100, None, Some(1)),
            sample(3, 300, Some(30), Some(3)),
            sample(2, 200, Some(10), None),
            sample(1, 99_000, Some(9_999), Some(9)),
        ];
        let b = compute(&runs, 4, now).unwrap();
        assert_eq!(b.duration_median_ms, 250.0);
        assert_eq!(b.duration_mad_ms, 100.0); // deviations 150 50 50 150
        assert_eq!(b.duration_p95_ms, 385.0); // rank 2.85: 300 + 0.85 * 100
        assert_eq!(b.memory_median_bytes, Some(30.0)); // 10 30 40: the run without one is left out
        assert_eq!(b.memory_mad_bytes, Some(10.0)); // 20 0 10
        assert_eq!(b.memory_max_bytes, Some(40));
        assert_eq!(b.cpu_median_usec, Some(3.0)); // 1 3 4
        assert_eq!((b.runs, b.newest_run_id, b.computed_at), (4, 5, now));
        assert!(compute(&runs, 0, now).is_none());
    }

    #[test]
    fn identical_runs_have_a_zero_mad_and_no_z_score() {
        let now = DateTime::from_timestamp(0, 0).unwrap();
        let runs: Vec<Sample> = (0..3).map(|i| sample(i, 500, None, None)).collect();
        let b = compute(&runs, 3, now).unwrap();
        assert_eq!((b.duration_median_ms, b.duration_mad_ms), (500.0, 0.0));
        assert_eq!(b.duration_p95_ms, 500.0);
        assert_eq!(b.memory_median_bytes, None);
        assert_eq!(b.memory_mad_bytes, None);
        assert_eq!(
            robust_z(900.0, b.duration_median_ms, b.duration_mad_ms),
            None
        );
        assert!(is_outlier(900.0, 500.0, 0.0));
        assert!(!is_outlier(0.0, 0.0, 0.0));
        assert!(is_outlier(1.0, 0.0, 0.0));
        assert_eq!(robust_z(1.0, 0.0, f64::NAN), None);
    }
}
