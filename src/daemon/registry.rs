//! The jobs the daemon schedules, each with what history says about it, kept in step with
//! `jobs_dir`. A reload never loses a job to a typo: a file that stops loading keeps its
//! last good version scheduled (and its error shown by `status`); a deleted file
//! unschedules its job.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::{Catalog, Job, Problem};
use crate::scheduler::{BreakerState, Links, job_breaker};
use crate::store::{JobControl, JobRow, JobSummary, Store, StoreError, SyncSummary};

/// One scheduled job.
#[derive(Debug, Clone)]
pub struct JobEntry {
    /// The job as last loaded successfully.
    pub job: Arc<Job>,
    /// Set while the job's file fails to load: the problems, one per line. The job keeps
    /// running in the version in `job`.
    pub broken: Option<String>,
    /// `enable`/`disable` override and breaker reset, from the database.
    pub control: JobControl,
    /// What history says: last runs, failure streak, observed peak memory.
    pub summary: JobSummary,
    /// The next fire time before jitter; `None` for `manual` and `@reboot` jobs and while
    /// the job is disabled.
    pub next_nominal: Option<DateTime<Utc>>,
}

impl JobEntry {
    /// A job just loaded, with its stored state.
    pub fn new(job: Arc<Job>, control: JobControl, summary: JobSummary) -> JobEntry {
        JobEntry {
            job,
            broken: None,
            control,
            summary,
            next_nominal: None,
        }
    }

    /// The file's `enabled:`, unless `slotcron enable/disable` overrides it.
    pub fn enabled(&self) -> bool {
        self.control.enabled(self.job.enabled)
    }

    /// The job's circuit breaker at `now` (always closed without `breaker:`).
    pub fn breaker(&self, now: DateTime<Utc>) -> BreakerState {
        job_breaker(self.job.breaker.as_ref(), &self.summary, now)
    }
}

/// What a reload changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// New jobs, or jobs whose schedule, zone or enabled flag changed: their next fire
    /// time must be computed again.
    pub rescheduled: Vec<String>,
    /// Jobs whose file is gone.
    pub removed: Vec<String>,
    /// Jobs kept in their last good version because their file no longer loads.
    pub broken: Vec<String>,
    /// Jobs new to this daemon (their stored state must be read).
    pub added: Vec<String>,
}

/// All scheduled jobs, and the problems of the files that did not load.
#[derive(Debug, Default)]
pub struct Registry {
    pub jobs: BTreeMap<String, JobEntry>,
    /// Problems of the last load (files that did not load, bad references).
    pub problems: Vec<Problem>,
    /// `after:` chains and `blocks:` between the jobs.
    pub links: Links,
}

impl Registry {
    /// Takes a freshly loaded catalog in. `state` supplies the stored control and summary
    /// of jobs the registry did not have.
    pub fn apply(
        &mut self,
        catalog: Catalog,
        mut state: impl FnMut(&str) -> (JobControl, JobSummary),
    ) -> Changes {
        let mut changes = Changes::default();
        let mut broken_files: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
        for problem in &catalog.problems {
            broken_files
                .entry(problem.file.clone())
                .or_default()
                .push(problem.to_string());
        }
        let loaded: BTreeSet<&String> = catalog.jobs.keys().collect();
        let mut gone = Vec::new();
        for (name, entry) in &mut self.jobs {
            if loaded.contains(name) {
                continue;
            }
            match broken_files.get(&entry.job.file) {
                Some(problems) => {
                    entry.broken = Some(problems.join("\n"));
                    changes.broken.push(name.clone());
                }
                None => gone.push(name.clone()),
            }
        }
        for name in gone {
            self.jobs.remove(&name);
            changes.removed.push(name);
        }
        for (name, job) in catalog.jobs {
            match self.jobs.get_mut(&name) {
                Some(entry) => {
                    let old = &entry.job;
                    if old.schedule_text != job.schedule_text
                        || old.timezone != job.timezone
                        || old.enabled != job.enabled
                        || old.jitter != job.jitter
                    {
                        changes.rescheduled.push(name.clone());
                    }
                    entry.job = job;
                    entry.broken = None;
                }
                None => {
                    let (control, summary) = state(&name);
                    self.jobs
                        .insert(name.clone(), JobEntry::new(job, control, summary));
                    changes.added.push(name.clone());
                    changes.rescheduled.push(name);
                }
            }
        }
        self.problems = catalog.problems;
        self.links = Links::new(self.jobs.values().map(|entry| &*entry.job));
        changes
    }

    /// Whether `a` and `b` may not run at the same time (`blocks:` either way).
    pub fn blocks(&self, a: &str, b: &str) -> bool {
        self.links.blocks(a, b)
    }
}

/// Mirrors a loaded catalog into the history's jobs table. A job whose file still exists
/// but no longer loads keeps its last good row (it is not marked removed for a typo); a
/// job whose file is gone is marked removed.
///
/// # Errors
/// The database cannot be read or written.
pub fn sync_history(
    store: &mut Store,
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> Result<SyncSummary, StoreError> {
    let mut rows: Vec<JobRow> = catalog.jobs.values().map(|job| job_row(job)).collect();
    let broken: BTreeSet<&std::path::Path> =
        catalog.problems.iter().map(|p| p.file.as_path()).collect();
    // Only a file that fails to load can have a last good row to keep.
    let stored = if broken.is_empty() {
        Vec::new()
    } else {
        store.jobs()?
    };
    for kept in stored {
        let still_there = kept.removed_at.is_none()
            && broken.contains(std::path::Path::new(&kept.file))
            && !catalog.jobs.contains_key(&kept.name);
        if still_there {
            rows.push(JobRow {
                name: kept.name,
                file: kept.file,
                slot: kept.slot,
                schedule: kept.schedule,
                enabled: kept.enabled,
                definition: kept.definition.to_string(),
            });
        }
    }
    store.sync_jobs(&rows, now)
}

/// The history row of a loaded job.
pub fn job_row(job: &Job) -> JobRow {
    JobRow {
        name: job.name.clone(),
        file: job.file.display().to_string(),
        slot: job.slot.clone(),
        schedule: job.schedule_text.clone(),
        enabled: job.enabled,
        definition: definition(job),
    }
}

/// The job as stored with its row: its fields, and its `env` names with the values
/// withheld (the job file keeps them; history never holds a secret).
fn definition(job: &Job) -> String {
    // A Job serializes infallibly: plain fields, strings and numbers.
    let mut value = serde_json::to_value(job).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        let env = crate::views::shown_env(&job.env, crate::views::Secrets::Withheld);
        fields.insert("env".to_owned(), serde_json::json!(env));
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Settings, parse_job};

    fn catalog(files: &[(&str, &str)]) -> Catalog {
        let settings = Settings::builtin();
        let mut catalog = Catalog::default();
        for (file, text) in files {
            let path = Path::new("/jobs.d").join(file);
            match parse_job(&path, text, &settings) {
                Ok(job) => {
                    catalog.jobs.insert(job.name.clone(), Arc::new(job));
                }
                Err(problems) => catalog.problems.extend(problems),
            }
        }
        catalog
    }

    fn no_state(_: &str) -> (JobControl, JobSummary) {
        Default::default()
    }

    #[test]
    fn a_broken_file_keeps_its_last_good_version_and_a_deleted_one_unschedules() {
        let mut reg = Registry::default();
        let first = reg.apply(
            catalog(&[
                ("a.yaml", "command: 'true'\nschedule: '@hourly'\n"),
                (
                    "b.yaml",
                    "command: 'true'\nschedule: '@daily'\nafter: [a]\n",
                ),
            ]),
            no_state,
        );
        assert_eq!(first.added, ["a", "b"]);
        assert_eq!(reg.links.followers("a"), ["b"]);

        let second = reg.apply(
            catalog(&[
                ("a.yaml", "command: 'true'\nschedule: 'not cron'\n"),
                (
                    "b.yaml",
                    "command: 'true'\nschedule: '@daily'\nafter: [a]\n",
                ),
            ]),
            no_state,
        );
        assert_eq!(second.broken, ["a"]);
        assert!(second.removed.is_empty() && second.rescheduled.is_empty());
        let a = &reg.jobs["a"];
        assert_eq!(a.job.schedule_text, "@hourly", "last good version kept");
        assert!(
            a.broken.as_deref().unwrap().contains("schedule"),
            "{:?}",
            a.broken
        );
        assert_eq!(reg.problems.len(), 1);

        let third = reg.apply(
            catalog(&[("a.yaml", "command: 'true'\nschedule: '@weekly'\n")]),
            no_state,
        );
        assert_eq!(third.removed, ["b"]);
        assert_eq!(third.rescheduled, ["a"], "the schedule changed");
        assert!(reg.jobs["a"].broken.is_none());
        assert!(reg.links.followers("a").is_empty());
    }

    #[test]
    fn blocks_works_both_ways_and_the_override_wins_over_the_file() {
        let mut reg = Registry::default();
        reg.apply(
            catalog(&[
                ("a.yaml", "command: 'true'\nblocks: [b]\nenabled: false\n"),
                ("b.yaml", "command: 'true'\n"),
            ]),
            |name| {
                let control = JobControl {
                    enabled_override: (name == "a").then_some(true),
                    breaker_reset_at: None,
                    baseline_since_run_id: None,
                };
                (control, JobSummary::default())
            },
        );
        assert!(reg.blocks("a", "b") && reg.blocks("b", "a"));
        assert!(!reg.blocks("a", "a"));
        assert!(
            reg.jobs["a"].enabled(),
            "override true beats enabled: false"
        );
    }
}
