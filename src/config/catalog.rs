//! Loads every job file of `jobs_dir`. Each file is parsed on its own: one broken file
//! becomes a [`Problem`] and never stops the others from loading.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::job::Job;
use super::problem::Problem;
use super::raw::RawJob;
use super::settings::Settings;

/// The jobs that loaded, and a problem for each file (or reference) that did not.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Valid jobs by name.
    pub jobs: BTreeMap<String, Job>,
    /// Problems in file order; a file with problems contributes no job.
    pub problems: Vec<Problem>,
    /// Job files looked at (valid or not).
    pub files: usize,
}

impl Catalog {
    /// Loads `*.yaml`/`*.yml` in `dir` (not hidden files, not subfolders), sorted by name.
    pub fn load_dir(dir: &Path, settings: &Settings) -> Catalog {
        let mut catalog = Catalog::default();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                catalog
                    .problems
                    .push(Problem::file(dir, format!("cannot read jobs_dir: {e}")));
                return catalog;
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| is_job_file(p))
            .collect();
        files.sort();
        for file in files {
            catalog.files += 1;
            let loaded = std::fs::read_to_string(&file)
                .map_err(|e| vec![Problem::file(&file, format!("cannot read: {e}"))])
                .and_then(|text| parse_job(&file, &text, settings));
            match loaded {
                Ok(job) => catalog.add(job),
                Err(problems) => catalog.problems.extend(problems),
            }
        }
        catalog.check_references();
        catalog
    }

    fn add(&mut self, job: Job) {
        if let Some(first) = self.jobs.get(&job.name) {
            let message = format!(
                "duplicate job name; {} already defines it",
                first.file.display()
            );
            self.problems
                .push(Problem::field(&job.file, "name", &job.name, message));
        } else {
            self.jobs.insert(job.name.clone(), job);
        }
    }

    /// `depends_on` and `blocks` must name loaded jobs; a job with a dangling reference is
    /// removed, with a problem naming its file.
    fn check_references(&mut self) {
        let mut dangling = Vec::new();
        for job in self.jobs.values() {
            for (field, names) in [("depends_on", &job.depends_on), ("blocks", &job.blocks)] {
                for name in names.iter().filter(|n| !self.jobs.contains_key(*n)) {
                    dangling.push((
                        job.name.clone(),
                        Problem::field(&job.file, field, name, "no job with this name is loaded"),
                    ));
                }
            }
        }
        for (name, problem) in dangling {
            self.jobs.remove(&name);
            self.problems.push(problem);
        }
    }
}

fn is_job_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'));
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    yaml && !hidden && path.is_file()
}

/// Parses and validates the text of one job file.
///
/// # Errors
/// Every problem in the file.
pub fn parse_job(file: &Path, text: &str, settings: &Settings) -> Result<Job, Vec<Problem>> {
    if text.trim().is_empty() {
        return Err(vec![Problem::file(
            file,
            "the file is empty; a job needs at least `command:`",
        )]);
    }
    let raw: RawJob =
        serde_saphyr::from_str(text).map_err(|e| vec![Problem::yaml(file, text, &e)])?;
    Job::from_raw(file, raw, settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ByteSize;
    use std::time::Duration;

    fn settings() -> Settings {
        Settings::builtin()
    }

    fn job(text: &str) -> Result<Job, Vec<Problem>> {
        parse_job(Path::new("/jobs.d/daily_backup.yaml"), text, &settings())
    }

    #[test]
    fn full_job_file() {
        let j = job(
            "description: Nightly dump\ncommand: /usr/local/bin/backup.sh --full\nschedule: \"0 2 * * *\"\n\
             timezone: Pacific/Auckland\nslot: heavy\npriority: high\ncategory: backup\ntags: [db, nightly]\n\
             enabled: false\nuser: root\nworking_dir: work\nenv: { PGHOST: localhost, PGPORT: 5432 }\n\
             limits: { memory: 1500M, cpu: 1.5, pids: 256, timeout: 30m }\nweights: { cpu: 1.5, memory: 2.0 }\n\
             retries: 2\nretry_delay: 1m\nconcurrency: replace\nalerts: { max_duration: 45m, max_memory: 1200M, consecutive_failures: 3 }\n",
        )
        .unwrap();
        assert_eq!(j.name, "daily_backup");
        assert_eq!(
            j.command.argv(),
            ["/bin/sh", "-c", "/usr/local/bin/backup.sh --full"]
        );
        assert_eq!(j.timezone.unwrap().name(), "Pacific/Auckland");
        assert_eq!(
            (j.slot.as_str(), j.priority, j.enabled),
            ("heavy", super::super::Priority::High, false)
        );
        assert_eq!(j.working_dir.unwrap(), PathBuf::from("/jobs.d/work"));
        assert_eq!(j.env["PGPORT"], "5432");
        assert_eq!(j.limits.memory, Some(ByteSize::new(1500 << 20)));
        assert_eq!((j.limits.cpu, j.limits.pids), (Some(1.5), Some(256)));
        assert_eq!(j.limits.timeout, Some(Duration::from_secs(1800)));
        assert_eq!((j.weights.cpu, j.weights.memory), (1.5, 2.0));
        assert_eq!((j.retries, j.retry_delay), (2, Duration::from_secs(60)));
        assert_eq!(j.alerts.consecutive_failures, Some(3));
    }

    #[test]
    fn minimal_job_gets_defaults() {
        let j = job("command: [echo, hi]\n").unwrap();
        assert_eq!(j.command.argv(), ["echo", "hi"]);
        assert_eq!(
            (j.slot.as_str(), j.schedule_text.as_str(), j.enabled),
            ("default", "manual", true)
        );
        assert_eq!(j.concurrency, super::super::Concurrency::Forbid);
    }

    #[test]
    fn each_bad_field_names_field_and_value() {
        let problems = job(
            "command: x\nschedule: \"0 0 30 2 *\"\ntimezone: Mars/Olympus\nslot: huge\npriority: urgent\n\
             limits: { memory: 5G, cpu: 0, timeout: 10 }\nweights: { cpu: 3 }\nuser: no-such-user-xyz\n",
        )
        .unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let all = text.join("\n");
        for needle in [
            "field `schedule`: this cron expression never fires (value: `0 0 30 2 *`)",
            "field `timezone`",
            "Mars/Olympus",
            "field `slot`: no such slot; known slots: default, heavy, light (value: `huge`)",
            "field `priority`",
            "field `limits.cpu`",
            "field `limits.timeout`: a duration needs a unit",
            "field `weights.cpu`: must be a number from 0.1 to 2 (value: `3`)",
            "field `user`: no such user on this machine (value: `no-such-user-xyz`)",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
        }
        assert!(all.starts_with("/jobs.d/daily_backup.yaml: "));
    }

    #[test]
    fn memory_above_the_slot_is_rejected() {
        let problems = job("command: x\nslot: light\nlimits: { memory: 2G }\n").unwrap_err();
        assert_eq!(problems[0].field.as_deref(), Some("limits.memory"));
        assert_eq!(problems[0].value.as_deref(), Some("2G"));
        assert!(problems[0].message.contains("slot `light`'s memory_max 1G"));
    }

    #[test]
    fn a_command_of_the_wrong_type_says_what_it_must_be() {
        let problems = job("command: { run: x }\n").unwrap_err();
        assert!(
            problems[0].message.contains("`command` must be a string"),
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_field_names_the_line() {
        let problems = job("command: x\nlimits:\n  memroy: 1G\n").unwrap_err();
        assert_eq!(problems[0].line, Some(3));
        assert!(problems[0].message.contains("unknown field `memroy`"));
    }

    #[test]
    fn one_broken_file_never_stops_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("a.yaml", "command: echo a\n");
        write("b.yaml", "command: [unclosed\n");
        write("c.yml", "command: echo c\ndepends_on: [a]\n");
        write("d.yaml", "name: a\ncommand: echo dup\n");
        write("e.yaml", "command: echo e\nblocks: [ghost]\n");
        write(".hidden.yaml", "command: nope\n");
        write("notes.txt", "not a job");
        let catalog = Catalog::load_dir(dir.path(), &settings());
        assert_eq!(catalog.jobs.keys().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(catalog.files, 5);
        let text: Vec<String> = catalog.problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:#?}");
        assert!(text[0].contains("b.yaml:1: ") && text[0].contains("unclosed bracket"));
        assert!(text[1].contains("d.yaml") && text[1].contains("a.yaml already defines it"));
        assert!(
            text[2].contains("e.yaml")
                && text[2].contains("field `blocks`")
                && text[2].contains("ghost")
        );
    }
}
