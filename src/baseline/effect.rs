//! The effect-size rule: when a figure (a run's, or the median of a job's newest runs) is
//! different enough from its baseline to deserve a human's attention. It must be both
//! *statistically unusual* (its z-score on the log scale, against the baseline's spread,
//! beyond `alerting.anomaly_z`) and *materially* different (beyond a relative change and
//! an absolute floor, per direction: [`Rule`]). One function, [`judge`], serves the
//! `anomaly`, `too_fast` and `too_small` alerts (one run) and `degraded` (the recent
//! window), so a figure means the same everywhere it is shown. See ADR 0031.

use serde::Serialize;

use super::spread::{LOG_FLOOR, spread_percent};
use super::units::{amount, ratio_text, signed};
pub use crate::model::evidence::{Evidence, Figure, Rule};

/// `alerting.anomaly_z` when not set: how many spreads (on the log scale) a figure must be
/// from the baseline's median.
pub const DEFAULT_Z: f64 = 5.0;
/// A spread below this (most runs measured identical) counts as this, so a z-score stays
/// finite and the effect floors decide.
pub const MIN_SPREAD: f64 = 0.01;
/// Qn's efficiency: its estimate from `n` runs varies like a standard deviation's from
/// `0.82 n`, which gives the degrees of freedom of [`z_limit`].
pub const QN_EFFICIENCY: f64 = 0.82;

/// What counts as a material change in one direction: more than `relative` of the median
/// (0.5: 50 %) *and* more than `absolute` (ms or bytes) away from it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Effect {
    /// A fraction of the median; below 1 for [`Rule::Faster`] and [`Rule::Smaller`].
    pub relative: f64,
    /// Milliseconds for duration rules, bytes for memory rules; at least 0.
    pub absolute: f64,
}

/// Everything a job's figures are judged by: the machine's `alerting:` with the job's
/// `alerts:` laid over it (`AlertThresholds::judging`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Judging {
    /// How many spreads away counts as unusual (`alerting.anomaly_z`), 1 to 100.
    pub z: f64,
    pub slower: Effect,
    pub bigger: Effect,
    pub faster: Effect,
    pub smaller: Effect,
    /// Whether [`Rule::Faster`] raises `too_fast` (a job's `alerts.too_fast`).
    pub too_fast: bool,
    /// Whether [`Rule::Smaller`] raises `too_small` (a job's `alerts.too_small`).
    pub too_small: bool,
}

impl Default for Judging {
    /// The defaults of ADR 0031: slower by 50 % and 5 s; bigger by 25 % and 32 MiB; faster
    /// and smaller by 80 % (a fifth of the median) and 10 s or 32 MiB, both off.
    fn default() -> Judging {
        const MIB: f64 = 1024.0 * 1024.0;
        Judging {
            z: DEFAULT_Z,
            slower: Effect {
                relative: 0.5,
                absolute: 5_000.0,
            },
            bigger: Effect {
                relative: 0.25,
                absolute: 32.0 * MIB,
            },
            faster: Effect {
                relative: 0.8,
                absolute: 10_000.0,
            },
            smaller: Effect {
                relative: 0.8,
                absolute: 32.0 * MIB,
            },
            too_fast: false,
            too_small: false,
        }
    }
}

impl Judging {
    /// The thresholds of `rule`.
    pub fn effect(&self, rule: Rule) -> &Effect {
        match rule {
            Rule::Slower => &self.slower,
            Rule::Bigger => &self.bigger,
            Rule::Faster => &self.faster,
            Rule::Smaller => &self.smaller,
        }
    }

    /// Whether `rule` is judged at all: slower and bigger always, the other two when on.
    pub fn enabled(&self, rule: Rule) -> bool {
        match rule {
            Rule::Slower | Rule::Bigger => true,
            Rule::Faster => self.too_fast,
            Rule::Smaller => self.too_small,
        }
    }
}

/// One figure of a baseline: its median (ms or bytes), its spread (see
/// [`super::spread`]) and how many runs it is over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reference {
    pub median: f64,
    pub spread: f64,
    pub runs: u32,
}

/// The verdict of `rule` on `value` (ms or bytes; one run's figure when `runs` is 1, else
/// the median of the newest `runs` successful runs) against `reference`: `Some` with the
/// evidence when the rule is on and the figure is both unusual (its z-score beyond
/// [`z_limit`] of `judging.z` for the baseline's size) and material.
///
/// The z-score is `ln(value / median) / se`, where `se` is the spread times the standard
/// error of what is compared: `sqrt(1 + pi / 2N)` for one run against a median of `N` runs,
/// `sqrt(pi / 2K + pi / 2N)` for a median of `K` runs (a median's variance is `pi / 2`
/// times a mean's).
///
/// ```
/// use slotcron::baseline::effect::{Judging, Reference, Rule, judge};
///
/// let usual = Reference { median: 10_000.0, spread: 0.05, runs: 30 };
/// let rules = Judging::default();
/// let slow = judge(Rule::Slower, 20_000.0, 1, &usual, &rules).unwrap();
/// assert_eq!((slow.ratio, slow.change, slow.z), (2.0, 10_000.0, 13.51));
/// assert!(judge(Rule::Slower, 14_000.0, 1, &usual, &rules).is_none(), "+40 % is within 50 %");
/// let tiny = Reference { median: 5.0, spread: 0.2, runs: 30 };
/// assert!(judge(Rule::Slower, 50.0, 1, &tiny, &rules).is_none(), "10x, but only 45 ms");
/// assert!(judge(Rule::Faster, 10.0, 1, &usual, &rules).is_none(), "too_fast is off");
/// ```
pub fn judge(
    rule: Rule,
    value: f64,
    runs: u32,
    reference: &Reference,
    judging: &Judging,
) -> Option<Evidence> {
    if !judging.enabled(rule) || !value.is_finite() || !reference.median.is_finite() {
        return None;
    }
    let effect = judging.effect(rule);
    let z = z_score(value, runs, reference);
    let limit = z_limit(judging.z, reference.runs);
    let ratio = log_ratio(value, reference.median).exp();
    let change = value - reference.median;
    let fired = if rule.up() {
        z > limit && ratio > 1.0 + effect.relative && change > effect.absolute
    } else {
        z < -limit && ratio < 1.0 - effect.relative && -change > effect.absolute
    };
    fired.then(|| {
        let mut evidence = Evidence {
            rule,
            figure: rule.figure(),
            value,
            runs,
            baseline_median: reference.median,
            baseline_spread_pct: spread_percent(reference.spread),
            baseline_runs: reference.runs,
            ratio: significant(ratio, 4),
            change,
            z: (z * 100.0).round() / 100.0,
            z_limit: (limit * 100.0).round() / 100.0,
            percent_limit: (effect.relative * 1000.0).round() / 10.0,
            at_least: effect.absolute,
            summary: String::new(),
        };
        evidence.summary = evidence.summary();
        evidence
    })
}

/// The threshold a z-score must pass for a baseline of `runs` runs: `z` is a quantile of
/// the normal distribution (`alerting.anomaly_z`), but the spread is itself estimated from
/// a few runs, and one estimated too small makes ordinary runs look unusual; so `z` is
/// turned into the same quantile of Student's t with `0.82 runs` degrees of freedom
/// (Cornish-Fisher, Abramowitz and Stegun 26.7.5). The fewer runs, the higher the bar.
///
/// ```
/// use slotcron::baseline::effect::z_limit;
///
/// assert_eq!((z_limit(5.0, 30) * 100.0).round() / 100.0, 6.62);
/// assert!((z_limit(5.0, 10) - 11.7).abs() < 0.01);
/// assert!((z_limit(5.0, 1000) - 5.04).abs() < 0.01);
/// ```
pub fn z_limit(z: f64, runs: u32) -> f64 {
    let nu = QN_EFFICIENCY * f64::from(runs.max(2));
    let (z3, z5) = (z.powi(3), z.powi(5));
    z + (z3 + z) / (4.0 * nu) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * nu * nu)
}

/// How many standard errors `value` (one run's figure when `runs` is 1, else the median
/// of `runs` runs) lies from `reference`'s median on the log scale; see [`judge`].
///
/// ```
/// use slotcron::baseline::effect::{Reference, z_score};
///
/// let usual = Reference { median: 100.0, spread: 0.1, runs: 30 };
/// assert_eq!(z_score(100.0, 1, &usual), 0.0);
/// let z = z_score(50.0, 1, &usual);
/// assert!((z + 6.757).abs() < 0.001, "{z}");
/// ```
pub fn z_score(value: f64, runs: u32, reference: &Reference) -> f64 {
    let se = reference.spread.max(MIN_SPREAD)
        * (sample_variance(runs) + median_variance(reference.runs)).sqrt();
    log_ratio(value, reference.median) / se
}

fn log_ratio(value: f64, median: f64) -> f64 {
    value.max(LOG_FLOOR).ln() - median.max(LOG_FLOOR).ln()
}

/// `x` rounded to `digits` significant digits (so a ratio of 1/600 keeps its 600).
fn significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// The variance of what is compared, in squared spreads: one run, or a median of `runs`.
fn sample_variance(runs: u32) -> f64 {
    if runs <= 1 {
        1.0
    } else {
        median_variance(runs)
    }
}

fn median_variance(runs: u32) -> f64 {
    std::f64::consts::FRAC_PI_2 / f64::from(runs.max(1))
}

/// The words of [`Evidence`] live here, beside the units they are written in.
impl Evidence {
    /// The evidence in words, every figure with the precision that shows the difference:
    /// `duration 20.0 s is 2.00x the baseline median 10.0 s (+10.0 s); its runs vary ±5.1 %
    /// (30 runs); z = 13.5, beyond +6.6; rule slower: +50 % and +5.0 s`.
    pub fn summary(&self) -> String {
        let figure = match (self.figure, self.runs) {
            (Figure::Duration, 1) => "duration".to_owned(),
            (Figure::Memory, 1) => "memory peak".to_owned(),
            (Figure::Duration, k) => format!("median duration of the newest {k} successful runs"),
            (Figure::Memory, k) => format!("median memory peak of the newest {k} successful runs"),
        };
        let sign = if self.rule.up() { "+" } else { "-" };
        format!(
            "{figure} {} is {} the baseline median {} ({}); its runs vary ±{} % ({} runs); \
             z = {:.1}, beyond {sign}{:.1}; rule {}: {sign}{} % and {sign}{}",
            amount(self.figure, self.value),
            ratio_text(self.ratio),
            amount(self.figure, self.baseline_median),
            signed(self.figure, self.change),
            self.baseline_spread_pct,
            self.baseline_runs,
            self.z,
            self.z_limit,
            self.rule.as_str(),
            self.percent_limit,
            amount(self.figure, self.at_least),
        )
    }
}

#[cfg(test)]
#[path = "effect_tests.rs"]
mod tests;
