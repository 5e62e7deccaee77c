//! Loading for commands that concern one job (`run`, `next`): read the job's own file and
//! the files it names, not all 10,000 (ADR 0035). The result is the catalog the full load
//! would give for that job whenever the shortcut can be sure; otherwise it is the full load.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cache::is_job_file;
use super::catalog::{Catalog, read_and_parse};
use super::job::valid_name;
use super::settings::Settings;

impl Catalog {
    /// The jobs `name` reaches through `depends_on`, `after` and `blocks` (itself first),
    /// each read from the file named after it, validated as [`Catalog::load_dir`] would.
    /// Falls back to [`Catalog::load_dir`] (every file) whenever the shortcut cannot be
    /// sure: a name with no file or two files of that stem, a file whose `name:` is not its
    /// stem, any problem (so problems are worded exactly as `check` words them).
    ///
    /// What it does not see: a file outside those the job reaches that claims one of
    /// their names with `name:` (a duplicate, which `check` and the daemon report).
    pub fn load_for_job(dir: &Path, settings: &Settings, name: &str) -> Catalog {
        match Catalog::reach(dir, settings, name) {
            Some(catalog) => catalog,
            None => Catalog::load_dir(dir, settings),
        }
    }

    /// The shortcut of [`Catalog::load_for_job`]; `None` when it cannot be sure.
    fn reach(dir: &Path, settings: &Settings, name: &str) -> Option<Catalog> {
        let mut catalog = Catalog::default();
        let mut queue = vec![name.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(next) = queue.pop() {
            if !seen.insert(next.clone()) {
                continue;
            }
            let file = only_file(dir, &next)?;
            let job = read_and_parse(&file, settings).ok()?;
            if job.name != next {
                return None;
            }
            let named = job.depends_on.iter().chain(&job.after).chain(&job.blocks);
            queue.extend(named.cloned());
            catalog.files += 1;
            catalog.jobs.insert(next, Arc::new(job));
        }
        catalog.check_references();
        catalog.problems.is_empty().then_some(catalog)
    }
}

/// The one job file named after `name` (`name.yaml` or `name.yml`, a regular file or a
/// link to one, as the full load takes them): two `stat`s, no `readdir`. `None` for no
/// such file, both, or a name that is not a job name (`../x` reads nothing).
fn only_file(dir: &Path, name: &str) -> Option<PathBuf> {
    if !valid_name(name) {
        return None;
    }
    let mut files = ["yaml", "yml"]
        .into_iter()
        .map(|ext| dir.join(format!("{name}.{ext}")))
        .filter(|f| is_job_file(f) && std::fs::metadata(f).is_ok_and(|m| m.is_file()));
    match (files.next(), files.next()) {
        (Some(file), None) => Some(file),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    /// The jobs and problem texts of a catalog, to compare two loads.
    fn shape(c: &Catalog) -> (Vec<String>, Vec<String>) {
        let jobs = c.jobs.keys().cloned().collect();
        (jobs, c.problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn reads_only_the_job_and_the_jobs_it_names() {
        let dir = dir_with(&[
            ("t.yaml", "command: 'true'\nafter: [a]\n"),
            ("a.yaml", "command: 'true'\nblocks: [b]\n"),
            ("b.yml", "command: 'true'\n"),
            ("other.yaml", "command: 'true'\n"),
            ("broken.yaml", "command: [unclosed\n"),
        ]);
        let c = Catalog::load_for_job(dir.path(), &Settings::builtin(), "t");
        assert_eq!(shape(&c).0, ["a", "b", "t"]);
        assert_eq!((c.files, c.problems.len()), (3, 0));
    }

    #[test]
    fn falls_back_to_every_file_when_it_cannot_be_sure() {
        let settings = Settings::builtin();
        for (why, files) in [
            ("no such file", vec![("x.yaml", "command: 'true'\n")]),
            ("broken", vec![("t.yaml", "command: [unclosed\n")]),
            ("renamed", vec![("t.yaml", "name: u\ncommand: 'true'\n")]),
            (
                "claimed by name",
                vec![("z.yaml", "name: t\ncommand: 'true'\n")],
            ),
            (
                "two files",
                vec![("t.yaml", "command: a\n"), ("t.yml", "command: b\n")],
            ),
            (
                "names a broken job",
                vec![
                    ("t.yaml", "command: 'true'\nafter: [a]\n"),
                    ("a.yaml", "command: 'true'\nslot: nope\n"),
                ],
            ),
            (
                "names a ghost",
                vec![("t.yaml", "command: 'true'\ndepends_on: [ghost]\n")],
            ),
            (
                "on a cycle",
                vec![
                    ("t.yaml", "command: 'true'\nafter: [a]\n"),
                    ("a.yaml", "command: 'true'\ndepends_on: [t]\n"),
                ],
            ),
        ] {
            let dir = dir_with(&files);
            let one = Catalog::load_for_job(dir.path(), &settings, "t");
            let all = Catalog::load_dir(dir.path(), &settings);
            assert_eq!(shape(&one), shape(&all), "{why}");
            assert_eq!(one.files, all.files, "{why}: the full load");
        }
    }

    #[test]
    fn a_name_that_is_a_path_reads_nothing_outside_jobs_dir() {
        let outer = dir_with(&[("x.yaml", "command: 'true'\n")]);
        std::fs::create_dir(outer.path().join("jobs.d")).unwrap();
        let jobs = outer.path().join("jobs.d");
        std::fs::write(jobs.join("a.yaml"), "command: 'true'\n").unwrap();
        let c = Catalog::load_for_job(&jobs, &Settings::builtin(), "../x");
        assert_eq!(shape(&c).0, ["a"], "the full load of jobs.d, not ../x.yaml");
    }
}
