//! What a job's history says about it beyond its last run: its baseline, its last 24 hours
//! ([`crate::store::Rolling`]) and its health in three words ([`health`]).
//!
//! The arithmetic (baseline, effect size, spread, settling, the performance verdict) lives
//! in [`crate::baseline`], below configuration and history, and is re-exported here under
//! its old paths (`stats::effect::judge`); this module adds what reads configuration and
//! history. The rules are pure functions on plain values. [`Figures::load`] reads what they
//! need for every job at once, in a handful of queries whose cost follows the number of
//! jobs, not the size of the history, so `slotcron jobs`, the daemon's `status` and a
//! metrics endpoint can all call [`Figures::inputs`] and [`assess`] for 1,000 jobs in well
//! under 100 ms.

pub mod health;

pub use crate::baseline::{self, effect, performance, settle, spread, units};

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::config::HealthSettings;
use crate::store::{JobControl, JobSummary, Rolling, RunRecord, Store, StoreError};

pub use crate::baseline::effect::{Evidence, Judging};
pub use crate::baseline::performance::{Performance, Recent, Verdict, recent_medians, verdict};
pub use crate::baseline::{Baseline, Sample, compute, robust_z};
pub use health::{Execution, Health, HealthInputs, HealthStatus, assess, evaluate};

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
                .map_or(enabled, |c| c.enabled(enabled)),
            overdue_grace: self.settings.overdue_grace,
            judging: self.settings.judging,
        }
    }
}
