//! The jobs the engine schedules, changed only here: a reload's catalog taken in (and the
//! timeline brought in step with it), an `enable`/`disable` override, a breaker reset.
//! Reading them is [`Engine::registry`].

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::config::{Catalog, ParseCache};
use crate::scheduler::BreakerState;
use crate::store::{JobControl, JobSummary};

use super::super::registry::{Changes, Registry};
use super::Engine;

impl Engine {
    /// The scheduled jobs and the problems of the files that did not load.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Whether a first load has taken the jobs in (and written history's jobs table in
    /// full).
    pub fn has_loaded_jobs(&self) -> bool {
        self.synced
    }

    /// Whether no job file's stamp changed since the last load.
    pub fn job_files_unchanged(&self) -> bool {
        self.parse_cache.is_current(&self.settings.jobs_dir)
    }

    /// Takes the parse cache out for a load to use (it is put back with
    /// [`Engine::keep_parse_cache`]; a load that fails loses it, and the next one parses
    /// everything).
    pub fn take_parse_cache(&mut self) -> ParseCache {
        std::mem::take(&mut self.parse_cache)
    }

    /// Keeps `cache`, the parse cache after a load, for the next one.
    pub fn keep_parse_cache(&mut self, cache: ParseCache) {
        self.parse_cache = cache;
    }

    /// Takes a freshly loaded catalog into the registry; `stored` supplies the stored
    /// control and summary of jobs the registry did not have. The timeline follows with
    /// [`Engine::reschedule`].
    pub fn take_in(
        &mut self,
        catalog: Catalog,
        stored: impl FnMut(&str) -> (JobControl, JobSummary),
    ) -> Changes {
        self.registry.apply(catalog, stored)
    }

    /// After [`Engine::take_in`]: unschedules removed jobs (dropping their queued runs) and
    /// computes the next fire time of new and changed ones. The jobs are loaded from now on.
    pub fn reschedule(&mut self, changes: &Changes) {
        self.synced = true;
        let now = self.now();
        for name in &changes.removed {
            let dropped = self.unschedule(name);
            info!(job = %name, queued_dropped = dropped, "job file removed; unscheduled");
        }
        for name in &changes.rescheduled {
            self.schedule_next(name, now);
        }
        for name in &changes.broken {
            warn!(job = %name, "job file no longer loads; its last good version stays scheduled");
        }
    }

    /// `enable`/`disable` by hand: overrides `job`'s file and schedules it accordingly.
    /// Returns what the file says (`enabled:`); `None` for an unknown job.
    pub fn override_enabled(
        &mut self,
        job: &str,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Option<bool> {
        let entry = self.registry.jobs.get_mut(job)?;
        entry.control.enabled_override = Some(enabled);
        let file_says = entry.job.enabled;
        self.schedule_next(job, now);
        Some(file_says)
    }

    /// `reset` by hand: closes `job`'s circuit breaker and forgets its failure streak.
    /// Returns the breaker's state before; `None` for an unknown job.
    pub fn reset_breaker(&mut self, job: &str, now: DateTime<Utc>) -> Option<BreakerState> {
        let entry = self.registry.jobs.get_mut(job)?;
        let was = entry.breaker(now);
        entry.control.breaker_reset_at = Some(now);
        entry.summary.consecutive_failures = 0;
        entry.summary.last_failure_at = None;
        Some(was)
    }
}
