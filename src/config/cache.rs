//! Reloading 10,000 job files must not mean parsing 10,000 job files. [`ParseCache`]
//! remembers what each file parsed to, keyed by the file's identity and change stamps
//! (inode, size, modification and status-change times, to the nanosecond), and hands the
//! job back while they are unchanged. Any write, rename over, `touch` or `chmod` changes a
//! stamp, so the file is read again.

use std::collections::{BTreeSet, HashMap};
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::job::Job;

/// A job file by name: `*.yaml` or `*.yml`, not hidden (editors' swap and temp files are).
pub(super) fn is_job_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_none_or(|n| n.starts_with('.'));
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    yaml && !hidden
}

/// What identifies one version of a file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Stamp {
    /// The stamp of a file's metadata.
    pub fn of(meta: &Metadata) -> Stamp {
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// The jobs of the files that last loaded cleanly, and what changed in the last load.
#[derive(Debug, Default)]
pub struct ParseCache {
    entries: HashMap<PathBuf, (Stamp, Arc<Job>)>,
    /// Stamps of the files that had problems when last read: read again every load (a
    /// missing user may exist now), but not counted as a change while they stay broken.
    broken: HashMap<PathBuf, Stamp>,
    /// Files whose result differs from the previous load (new, edited, mended, broken).
    changed: Vec<PathBuf>,
    /// Files looked at in the load in progress.
    seen: BTreeSet<PathBuf>,
    /// Files read and parsed in the last load (new, changed, or with problems).
    parsed: Vec<PathBuf>,
    /// Cached files that were gone in the last load.
    vanished: Vec<PathBuf>,
    /// Entries named like job files that were not regular files (or not reachable) in the
    /// last load, and those found so far in the load in progress.
    unreadable: BTreeSet<PathBuf>,
    unreadable_now: BTreeSet<PathBuf>,
}

impl ParseCache {
    /// Files read and parsed in the last load: new, changed, or with problems.
    pub fn parsed(&self) -> &[PathBuf] {
        &self.parsed
    }

    /// Files that had loaded before and were gone in the last load.
    pub fn vanished(&self) -> &[PathBuf] {
        &self.vanished
    }

    /// Whether the last load found anything different from the load before: a file new,
    /// edited, mended, newly broken, or gone.
    pub fn changed(&self) -> bool {
        !self.changed.is_empty() || !self.vanished.is_empty()
    }

    /// Whether `dir` holds exactly the files of the last load, with the same stamps: then
    /// a load would change nothing (broken files aside, which stay broken unless edited).
    /// Costs one `readdir` and a `stat` per file.
    pub fn is_current(&self, dir: &Path) -> bool {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        let mut count = 0;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if !is_job_file(&path) {
                continue;
            }
            count += 1;
            let meta = std::fs::metadata(&path).ok().filter(|m| m.is_file());
            let Some(meta) = meta else {
                if !self.unreadable.contains(&path) {
                    return false;
                }
                continue;
            };
            let stamp = Stamp::of(&meta);
            let known = match self.entries.get(&path) {
                Some((cached, _)) => *cached == stamp,
                None => self.broken.get(&path) == Some(&stamp),
            };
            if !known {
                return false;
            }
        }
        count == self.entries.len() + self.broken.len() + self.unreadable.len()
    }

    /// Records that `file` is named like a job file but could not be read as one.
    pub(super) fn unreadable(&mut self, file: &Path) {
        self.unreadable_now.insert(file.to_owned());
    }

    pub(super) fn begin(&mut self) {
        self.seen.clear();
        self.parsed.clear();
        self.vanished.clear();
        self.changed.clear();
        self.unreadable_now.clear();
    }

    /// The cached job of `file` if its stamp is unchanged.
    pub(super) fn get(&mut self, file: &Path, stamp: Stamp) -> Option<Arc<Job>> {
        self.seen.insert(file.to_owned());
        match self.entries.get(file) {
            Some((cached, job)) if *cached == stamp => Some(Arc::clone(job)),
            _ => None,
        }
    }

    /// Records what `file` parsed to; only clean results are kept.
    pub(super) fn put(&mut self, file: &Path, stamp: Stamp, job: Option<&Arc<Job>>) {
        self.parsed.push(file.to_owned());
        let same_breakage = job.is_none() && self.broken.get(file) == Some(&stamp);
        if !same_breakage {
            self.changed.push(file.to_owned());
        }
        match job {
            Some(job) => {
                self.broken.remove(file);
                self.entries
                    .insert(file.to_owned(), (stamp, Arc::clone(job)));
            }
            None => {
                self.entries.remove(file);
                self.broken.insert(file.to_owned(), stamp);
            }
        }
    }

    pub(super) fn end(&mut self) {
        let seen = &self.seen;
        let vanished: Vec<PathBuf> = self
            .entries
            .keys()
            .chain(self.broken.keys())
            .filter(|f| !seen.contains(*f))
            .cloned()
            .collect();
        for file in &vanished {
            self.entries.remove(file);
            self.broken.remove(file);
        }
        self.vanished = vanished;
        let unreadable = std::mem::take(&mut self.unreadable_now);
        self.changed
            .extend(unreadable.symmetric_difference(&self.unreadable).cloned());
        self.unreadable = unreadable;
    }

    /// Drops everything (the folder could not be read).
    pub(super) fn forget_all(&mut self) {
        self.vanished = self.entries.drain().map(|(f, _)| f).collect();
        self.vanished.extend(self.broken.drain().map(|(f, _)| f));
        self.unreadable.clear();
        self.parsed.clear();
        self.changed.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Catalog, Settings};

    #[test]
    fn unchanged_files_are_not_parsed_again_and_changes_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("a.yaml", "command: 'true'\n");
        write("b.yaml", "command: 'true'\nschedule: '@hourly'\n");
        write("bad.yaml", "command: 'true'\nschedule: nope\n");
        let settings = Settings::builtin();
        let mut cache = ParseCache::default();

        let first = Catalog::load_dir_cached(dir.path(), &settings, &mut cache);
        assert_eq!(first.jobs.len(), 2);
        assert_eq!(cache.parsed().len(), 3);

        let again = Catalog::load_dir_cached(dir.path(), &settings, &mut cache);
        assert_eq!(again.jobs.len(), 2);
        assert_eq!(again.problems.len(), 1, "problems are reported every time");
        assert_eq!(
            cache.parsed(),
            [dir.path().join("bad.yaml")],
            "only the broken file is read again"
        );

        // Same size, new content: the stamp (mtime/ctime) still changes.
        write("b.yaml", "command: 'true'\nschedule: '@weekly'\n");
        std::fs::remove_file(dir.path().join("a.yaml")).unwrap();
        let third = Catalog::load_dir_cached(dir.path(), &settings, &mut cache);
        assert_eq!(third.jobs["b"].schedule_text, "@weekly");
        assert!(!third.jobs.contains_key("a"));
        assert!(cache.parsed().contains(&dir.path().join("b.yaml")));
        assert_eq!(cache.vanished(), [dir.path().join("a.yaml")]);
        assert!(cache.changed());
        assert!(cache.is_current(dir.path()));
        write("c.yaml", "command: 'true'\n");
        assert!(!cache.is_current(dir.path()), "a new file");
    }

    #[test]
    fn a_job_refused_for_its_folder_loads_once_the_folder_exists() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        let file = format!("command: pwd\nworking_dir: {}\n", work.display());
        std::fs::write(dir.path().join("a.yaml"), file).unwrap();
        let settings = Settings::builtin();
        let mut cache = ParseCache::default();
        let first = Catalog::load_dir_cached(dir.path(), &settings, &mut cache);
        assert!(first.problems[0].to_string().contains("no such folder"));
        std::fs::create_dir(&work).unwrap();
        let again = Catalog::load_dir_cached(dir.path(), &settings, &mut cache);
        assert!(again.jobs.contains_key("a"), "{:?}", again.problems);
        assert!(cache.changed());
        std::fs::remove_dir(&work).unwrap();
        let third = Catalog::load_dir_cached(dir.path(), &settings, &mut cache);
        assert!(third.jobs.is_empty() && cache.changed());
    }

    #[test]
    fn a_special_file_appearing_or_going_is_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::builtin();
        let mut cache = ParseCache::default();
        Catalog::load_dir_cached(dir.path(), &settings, &mut cache);
        let fifo = dir.path().join("p.yaml");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(!cache.is_current(dir.path()));
        let loaded = Catalog::load_dir_cached(dir.path(), &settings, &mut cache);
        assert_eq!(loaded.problems.len(), 1);
        assert!(cache.changed() && cache.is_current(dir.path()));
        std::fs::remove_file(&fifo).unwrap();
        assert!(!cache.is_current(dir.path()));
        Catalog::load_dir_cached(dir.path(), &settings, &mut cache);
        assert!(cache.changed());
    }
}
