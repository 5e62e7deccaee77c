//! Loads every job file of `jobs_dir`. Each file is parsed on its own: one broken file
//! becomes a [`Problem`] and never stops the others from loading.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cache::{ParseCache, Stamp, is_job_file};
use super::graph::{self, Edge};
use super::job::Job;
use super::job_parse::ParsedJob;
use super::problem::Problem;
use super::readable;
use super::resolve::System;
use super::settings::Settings;

/// The jobs that loaded, and a problem for each file (or reference) that did not.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Valid jobs by name; shared with the parse cache and the daemon's registry (a job
    /// that did not change is the same allocation from one reload to the next).
    pub jobs: BTreeMap<String, Arc<Job>>,
    /// Problems in file order; a file with problems contributes no job.
    pub problems: Vec<Problem>,
    /// Job files looked at (valid or not).
    pub files: usize,
}

impl Catalog {
    /// Loads `*.yaml`/`*.yml` in `dir` (not hidden files, not subfolders), sorted by name.
    pub fn load_dir(dir: &Path, settings: &Settings) -> Catalog {
        Catalog::load_dir_cached(dir, settings, &mut ParseCache::default())
    }

    /// As [`Catalog::load_dir`], but a file whose size, inode and times are unchanged since
    /// it last loaded cleanly is not read again: its cached job is used. Files with
    /// problems are always read again (a missing user may have been created since).
    pub fn load_dir_cached(dir: &Path, settings: &Settings, cache: &mut ParseCache) -> Catalog {
        let mut catalog = Catalog::default();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                catalog
                    .problems
                    .push(Problem::file(dir, format!("cannot read jobs_dir: {e}")));
                cache.forget_all();
                return catalog;
            }
        };
        // Every entry named like a job file is looked at; what cannot be read as one is
        // reported in its place (file order), never skipped.
        let mut entries: Vec<(PathBuf, Result<Stamp, Problem>)> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|path| is_job_file(path))
            .map(|path| {
                let stamp = readable::stamp(&path);
                (path, stamp)
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let files: Vec<(&PathBuf, Stamp)> = entries
            .iter()
            .filter_map(|(path, stamp)| Some((path, *stamp.as_ref().ok()?)))
            .collect();
        cache.begin();
        // Look up every file first, then parse the misses on all cores at once: parsing
        // is independent per file, and at start all 10,000 files are misses.
        let cached: Vec<Option<Arc<Job>>> = files
            .iter()
            .map(|(f, stamp)| cache.get(f, *stamp))
            .collect();
        let misses: Vec<&PathBuf> = files
            .iter()
            .zip(&cached)
            .filter(|(_, hit)| hit.is_none())
            .map(|((f, _), _)| *f)
            .collect();
        let mut parsed = parse_files(&misses, settings).into_iter();
        let mut cached = cached.into_iter();
        for (file, stamp) in &entries {
            catalog.files += 1;
            let stamp = match stamp {
                Ok(stamp) => *stamp,
                Err(problem) => {
                    cache.unreadable(file);
                    catalog.problems.push(problem.clone());
                    continue;
                }
            };
            let hit = cached.next().expect("one lookup per file");
            let was_hit = hit.is_some();
            let loaded = match hit {
                Some(job) => Ok(job),
                None => parsed.next().expect("one result per miss").map(Arc::new),
            }
            .and_then(|job| on_this_machine(job).map_err(|p| vec![p]));
            // A job refused for its folder is cached as broken, so it is read again.
            if !was_hit || loaded.is_err() {
                cache.put(file, stamp, loaded.as_ref().ok());
            }
            match loaded {
                Ok(job) => catalog.add(job),
                Err(problems) => catalog.problems.extend(problems),
            }
        }
        cache.end();
        catalog.check_references();
        catalog
    }

    fn add(&mut self, job: Arc<Job>) {
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

    /// `depends_on`, `blocks` and `after` must name loaded jobs, and the `depends_on` and
    /// `after` edges must not form a cycle. A job that breaks either rule is removed, with a
    /// problem naming its file and field; as removing a job can leave others naming it,
    /// the name check repeats until nothing changes. The other jobs keep loading.
    pub(super) fn check_references(&mut self) {
        let mut removed = BTreeSet::new();
        self.remove_dangling(&mut removed);
        let edges: BTreeMap<&str, Vec<Edge<'_>>> = self
            .jobs
            .values()
            .map(|job| {
                let out = waits_on(job)
                    .flat_map(|(field, names)| names.iter().map(move |to| Edge { field, to }))
                    .collect();
                (job.name.as_str(), out)
            })
            .collect();
        let on_cycles = graph::cycles(&edges);
        for cycle in on_cycles {
            if let Some(job) = self.jobs.remove(&cycle.job) {
                let message = format!(
                    "dependency cycle {}; a job on a cycle would never start",
                    cycle.path.join(" -> ")
                );
                self.problems.push(Problem::field(
                    &job.file,
                    cycle.field,
                    &cycle.path[1],
                    message,
                ));
                removed.insert(cycle.job);
            }
        }
        self.remove_dangling(&mut removed);
    }

    /// Removes jobs that name a job that is not loaded, until none does. `removed`: names
    /// this check took out, so a problem can say the job exists but does not load.
    fn remove_dangling(&mut self, removed: &mut BTreeSet<String>) {
        loop {
            let mut dangling = Vec::new();
            for job in self.jobs.values() {
                let fields = waits_on(job).chain([("blocks", &job.blocks)]);
                for (field, names) in fields {
                    for name in names.iter().filter(|n| !self.jobs.contains_key(*n)) {
                        let message = if removed.contains(name) {
                            "this job is not loaded: it has problems of its own"
                        } else {
                            "no job with this name is loaded"
                        };
                        dangling.push((
                            job.name.clone(),
                            Problem::field(&job.file, field, name, message),
                        ));
                    }
                }
            }
            if dangling.is_empty() {
                return;
            }
            for (name, problem) in dangling {
                self.jobs.remove(&name);
                removed.insert(name);
                self.problems.push(problem);
            }
        }
    }
}

/// `job`, if what it names on this machine is there: its `working_dir` is a folder, its
/// `env_file` an owner-only file that parses (the values are not kept). Checked on every
/// load, cached jobs included (a folder can go away while the job file stays the same).
fn on_this_machine(job: Arc<Job>) -> Result<Arc<Job>, Problem> {
    if let Some(dir) = &job.working_dir
        && let Some(why) = why_not_a_folder(dir)
    {
        return Err(Problem::field(&job.file, "working_dir", dir.display(), why));
    }
    if let Some(path) = &job.env_file
        && let Err(why) = super::env_file::read(path)
    {
        return Err(Problem::field(&job.file, "env_file", path.display(), why));
    }
    Ok(job)
}

/// Why `path` cannot be a run's working folder (`None`: it can): missing, not a folder,
/// or not reachable. Asked at load and again when a run starts.
pub fn why_not_a_folder(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => None,
        Ok(_) => Some("not a folder".to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("no such folder".to_owned()),
        Err(e) => Some(format!("cannot be used: {e}")),
    }
}

/// The fields whose names a job waits on, in the order problems name them.
fn waits_on(job: &Job) -> impl Iterator<Item = (&'static str, &Vec<String>)> {
    [("depends_on", &job.depends_on), ("after", &job.after)].into_iter()
}

/// Fewer files than this are parsed on the calling thread: threads cost more than they save.
const PARALLEL_PARSE_MIN: usize = 256;

/// Reads and parses `files`, results in the same order, on up to one thread per core.
fn parse_files(files: &[&PathBuf], settings: &Settings) -> Vec<Result<Job, Vec<Problem>>> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = cores.min(files.len() / PARALLEL_PARSE_MIN).max(1);
    if threads == 1 {
        return files.iter().map(|f| read_and_parse(f, settings)).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|f| read_and_parse(f, settings))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a job-file parser thread panicked"))
            .collect()
    })
}

/// Reads, parses and validates one job file.
pub(super) fn read_and_parse(file: &Path, settings: &Settings) -> Result<Job, Vec<Problem>> {
    readable::read(file)
        .map_err(|problem| vec![problem])
        .and_then(|text| parse_job(file, &text, settings))
}

/// Parses and validates the text of one job file, then resolves it on this machine
/// ([`ParsedJob::parse`], then [`ParsedJob::resolve`]).
///
/// # Errors
/// Every problem in the file.
pub fn parse_job(file: &Path, text: &str, settings: &Settings) -> Result<Job, Vec<Problem>> {
    ParsedJob::parse(file, text, settings).resolve(System::THIS_MACHINE)
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
            "field `schedule`: never fires: no date matches its day-of-month, month and day-of-week fields (value: `0 0 30 2 *`)",
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
        write("f.yaml", "command: echo f\nafter: [ghost]\n");
        write(".hidden.yaml", "command: nope\n");
        write("notes.txt", "not a job");
        let catalog = Catalog::load_dir(dir.path(), &settings());
        assert_eq!(catalog.jobs.keys().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(catalog.files, 6);
        let text: Vec<String> = catalog.problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 4, "{text:#?}");
        assert!(text[0].contains("b.yaml:1: ") && text[0].contains("unclosed bracket"));
        assert!(text[1].contains("d.yaml") && text[1].contains("a.yaml already defines it"));
        assert!(
            text[2].contains("e.yaml")
                && text[2].contains("field `blocks`")
                && text[2].contains("ghost")
        );
        assert!(
            text[3].ends_with(
                "f.yaml: field `after`: no job with this name is loaded (value: `ghost`)"
            ),
            "{text:#?}"
        );
    }

    #[test]
    fn jobs_on_a_cycle_are_not_loaded_and_each_names_its_cycle() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("extract.yaml", "command: x\nafter: [load]\n");
        write("load.yaml", "command: x\ndepends_on: [transform]\n");
        write("transform.yaml", "command: x\nafter: [extract]\n");
        write("report.yaml", "command: x\nafter: [load]\n");
        write("vacuum.yaml", "command: x\n");
        write(
            "backup.yaml",
            "command: x\ndepends_on: [vacuum]\nafter: [vacuum]\n",
        );
        let catalog = Catalog::load_dir(dir.path(), &settings());
        assert_eq!(
            catalog.jobs.keys().collect::<Vec<_>>(),
            ["backup", "vacuum"]
        );
        let text: Vec<String> = catalog.problems.iter().map(ToString::to_string).collect();
        let at = |file: &str| dir.path().join(file).display().to_string();
        assert_eq!(
            text,
            [
                format!(
                    "{}: field `after`: dependency cycle extract -> load -> transform -> extract; \
                     a job on a cycle would never start (value: `load`)",
                    at("extract.yaml")
                ),
                format!(
                    "{}: field `depends_on`: dependency cycle load -> transform -> extract -> load; \
                     a job on a cycle would never start (value: `transform`)",
                    at("load.yaml")
                ),
                format!(
                    "{}: field `after`: dependency cycle transform -> extract -> load -> transform; \
                     a job on a cycle would never start (value: `extract`)",
                    at("transform.yaml")
                ),
                format!(
                    "{}: field `after`: this job is not loaded: it has problems of its own \
                     (value: `load`)",
                    at("report.yaml")
                ),
            ],
        );
    }

    #[test]
    fn a_job_naming_a_removed_job_is_removed_too() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("a.yaml", "command: x\ndepends_on: [ghost]\n");
        write("b.yaml", "command: x\nafter: [a]\n");
        write("c.yaml", "command: x\nblocks: [b]\n");
        let catalog = Catalog::load_dir(dir.path(), &settings());
        assert!(catalog.jobs.is_empty(), "{:?}", catalog.jobs.keys());
        let fields: Vec<(&str, &str)> = catalog
            .problems
            .iter()
            .map(|p| (p.field.as_deref().unwrap(), p.value.as_deref().unwrap()))
            .collect();
        assert_eq!(
            fields,
            [("depends_on", "ghost"), ("after", "a"), ("blocks", "b")]
        );
    }

    #[test]
    fn many_files_parse_in_parallel_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let n = 3 * PARALLEL_PARSE_MIN;
        for i in 0..n {
            let text = format!("command: 'true'\nschedule: '{} * * * *'\n", i % 60);
            std::fs::write(dir.path().join(format!("j{i:04}.yaml")), text).unwrap();
        }
        // The last file claims the first file's name: the first in file order keeps it.
        std::fs::write(dir.path().join("z.yaml"), "name: j0000\ncommand: 'false'\n").unwrap();
        let catalog = Catalog::load_dir(dir.path(), &settings());
        assert_eq!(catalog.jobs.len(), n);
        assert_eq!(catalog.jobs["j0000"].file, dir.path().join("j0000.yaml"));
        assert_eq!(catalog.jobs["j0123"].schedule_text, "3 * * * *");
        assert_eq!(catalog.problems.len(), 1);
        assert_eq!(catalog.problems[0].file, dir.path().join("z.yaml"));
    }
}
