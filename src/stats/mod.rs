//! What a job's history says about it beyond its last run: its baseline (what a normal
//! successful run costs, [`baseline`]), its last 24 hours ([`crate::store::Rolling`]) and
//! its health in three words ([`health`]).
//!
//! The rules are pure functions on plain values. [`Figures::load`] reads what they need
//! for every job at once, in a handful of queries whose cost follows the number of jobs,
//! not the size of the history, so `slotcron jobs`, the daemon's `status` and a metrics
//! endpoint can all call [`Figures::inputs`] and [`assess`] for 1,000 jobs in well under
//! 100 ms.

pub mod baseline;
pub mod health;

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::HealthSettings;
use crate::store::{JobControl, JobSummary, Rolling, RunRecord, Store, StoreError};

pub use baseline::{Baseline, Sample, compute, robust_z};
pub use health::{
    Execution, Health, HealthInputs, HealthStatus, Performance, Recent, assess, evaluate,
};

/// The period of the rolling figures.
pub const ROLLING_PERIOD: chrono::Duration = chrono::Duration::hours(24);

/// Everything history says about every job, read at once.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub summaries: HashMap<String, JobSummary>,
    pub controls: HashMap<String, JobControl>,
    /// Each job's newest run (any status).
    pub latest: HashMap<String, RunRecord>,
    pub baselines: HashMap<String, Baseline>,
    /// Runs started in the [`ROLLING_PERIOD`] before `now`.
    pub rolling: HashMap<String, Rolling>,
    /// Each job's newest [`health::RECENT_RUNS`] successful runs, newest first.
    pub recent: HashMap<String, Vec<Sample>>,
    /// Successes so far of the jobs without a baseline, up to `baseline_runs`.
    pub successes: HashMap<String, u32>,
    pub settings: HealthSettings,
}

impl Figures {
    /// Reads the figures of every job from `store`, as of `now`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn load(
        store: &Store,
        settings: HealthSettings,
        now: DateTime<Utc>,
    ) -> Result<Figures, StoreError> {
        Ok(Figures {
            summaries: store.job_summaries()?,
            controls: store.job_controls()?,
            latest: store.latest_runs()?,
            baselines: store.baselines()?,
            rolling: store.rolling(now - ROLLING_PERIOD)?,
            recent: store.recent_successes(health::RECENT_RUNS)?,
            successes: store.successes_toward_baseline(settings.baseline_runs)?,
            settings,
        })
    }

    /// The inputs of [`assess`] for the job `name` whose file says `enabled`. A baseline of
    /// another window size than `baseline_runs` (the setting changed since) is not used.
    pub fn inputs(&self, name: &str, enabled: bool) -> HealthInputs {
        let n = self.settings.baseline_runs;
        let baseline = self.baselines.get(name).filter(|b| b.runs == n).cloned();
        let recent = self.recent.get(name).map(Vec::as_slice).unwrap_or_default();
        HealthInputs {
            summary: self.summaries.get(name).cloned().unwrap_or_default(),
            rolling: self.rolling.get(name).cloned().unwrap_or_default(),
            successes: if baseline.is_some() {
                n
            } else {
                self.successes.get(name).copied().unwrap_or(0)
            },
            baseline,
            baseline_runs: n,
            recent: recent_medians(recent),
            enabled: self
                .controls
                .get(name)
                .and_then(|c| c.enabled_override)
                .unwrap_or(enabled),
            overdue_grace: self.settings.overdue_grace,
            degraded_factor: self.settings.degraded_factor,
        }
    }
}

/// The medians of `runs` (the newest successful runs), as [`Recent`].
///
/// ```
/// use slotcron::stats::{Sample, recent_medians};
///
/// let runs = [(1, 300, Some(10)), (2, 100, None), (3, 200, Some(30))]
///     .map(|(id, ms, mem)| Sample { id, duration_ms: ms, memory_peak_bytes: mem, cpu_usage_usec: None });
/// let recent = recent_medians(&runs);
/// assert_eq!(recent.runs, 3);
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
    }
}
