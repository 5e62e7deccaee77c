//! What the forecast needs of history, read at once for every job: each job's controls
//! (`enable`/`disable`), summary (last outcome for `depends_on`, failure streak for the
//! breaker, last start for `overdue` and catch-up, recent peaks for admission) and
//! baseline. A job still gathering its first baseline gets one computed from the
//! successes it has (by [`baseline::compute`], the same arithmetic), so three good runs
//! are used rather than a guess.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::baseline::{self, Baseline};
use crate::store::{JobControl, JobSummary, Store, StoreError};

/// What history says about every job, as the forecast reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub controls: HashMap<String, JobControl>,
    pub summaries: HashMap<String, JobSummary>,
    /// Each job's baseline: the stored one, else one from the successes it has so far.
    pub baselines: HashMap<String, Baseline>,
}

impl History {
    /// Reads every job's controls, summary and baseline from `store` (four queries whatever
    /// the number of jobs); `baseline_runs` bounds the successes read for jobs without a
    /// stored baseline.
    ///
    /// # Errors
    /// [`StoreError::Sql`] if SQLite fails or a stored row does not convert.
    pub fn load(
        store: &Store,
        baseline_runs: u32,
        now: DateTime<Utc>,
    ) -> Result<History, StoreError> {
        let mut baselines = store.baselines()?;
        for (job, samples) in store.recent_successes(baseline_runs)? {
            if !baselines.contains_key(&job)
                && let Some(b) = baseline::compute(&samples, samples.len(), now)
            {
                baselines.insert(job, b);
            }
        }
        Ok(History {
            controls: store.job_controls()?,
            summaries: store.job_summaries()?,
            baselines,
        })
    }

    /// Whether `job` is enabled: the file's `enabled:` unless `slotcron enable/disable`
    /// overrode it.
    pub fn enabled(&self, job: &str, file_enabled: bool) -> bool {
        self.controls
            .get(job)
            .map_or(file_enabled, |c| c.enabled(file_enabled))
    }
}
