//! Why a figure was judged unusual: which figure ([`Figure`]), in which direction
//! ([`Rule`]), and every number the judgement used ([`Evidence`]). The judging itself
//! (`baseline::effect::judge`) and the evidence in words (`Evidence::summary`) live in
//! `baseline::effect`; an alert, a health verdict and a notification carry these types.

use serde::{Deserialize, Serialize};

/// Which figure a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// Wall time, in milliseconds.
    Duration,
    /// Memory peak, in bytes.
    Memory,
}

/// A direction of change on a figure, each with its own thresholds (its thresholds:
/// `baseline::effect::Effect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Duration above the baseline: `anomaly`, `degraded`.
    Slower,
    /// Memory peak above the baseline: `anomaly`, `degraded`.
    Bigger,
    /// Duration below the baseline: `too_fast`, off unless the job turns it on.
    Faster,
    /// Memory peak below the baseline: `too_small`, off unless the job turns it on.
    Smaller,
}

impl Rule {
    /// The name in `alerting:` and a job's `alerts:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Slower => "slower",
            Rule::Bigger => "bigger",
            Rule::Faster => "faster",
            Rule::Smaller => "smaller",
        }
    }

    pub fn figure(self) -> Figure {
        match self {
            Rule::Slower | Rule::Faster => Figure::Duration,
            Rule::Bigger | Rule::Smaller => Figure::Memory,
        }
    }

    /// Whether the rule looks for an increase.
    pub fn up(self) -> bool {
        matches!(self, Rule::Slower | Rule::Bigger)
    }
}

/// Why a rule fired, with every figure it used: what an alert carries to the API, the CLI,
/// the notifications and the dashboard. Stored with the alert as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub rule: Rule,
    pub figure: Figure,
    /// The figure judged: a run's, or the median of the newest `runs` successful runs
    /// (ms or bytes).
    pub value: f64,
    /// 1 for one run; more for the median of a job's newest successful runs (`degraded`).
    pub runs: u32,
    pub baseline_median: f64,
    /// Runs of the baseline typically lie within ± this percentage of its median.
    pub baseline_spread_pct: f64,
    /// How many successful runs the baseline is computed from.
    pub baseline_runs: u32,
    /// `value / baseline_median` (on figures of at least 1).
    pub ratio: f64,
    /// `value - baseline_median`, signed (ms or bytes).
    pub change: f64,
    /// How many spreads (log scale) `value` is from the median, signed, two decimals.
    pub z: f64,
    /// The thresholds that were passed: `z` beyond this, ...
    pub z_limit: f64,
    /// ... and a change beyond this percentage of the median ...
    pub percent_limit: f64,
    /// ... and beyond this amount (ms or bytes).
    pub at_least: f64,
    /// The above in one line of words (`Evidence::summary`, written by `baseline::effect`).
    pub summary: String,
}
