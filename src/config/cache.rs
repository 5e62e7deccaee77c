//! Reloading 10,000 job files must not mean parsing 10,000 job files. [`ParseCache`]
//! remembers what each file parsed to, keyed by the file's identity and change stamps
//! (inode, size, modification and status-change times, to the nanosecond), and hands the
//! job back while they are unchanged. Any write, rename over, `touch` or `chmod` changes a
//! stamp, so the file is read again.

use std::collections::{BTreeSet, HashMap};
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::job::Job;

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
    entries: HashMap<PathBuf, (Stamp, Job)>,
    /// Files looked at in the load in progress.
    seen: BTreeSet<PathBuf>,
    /// Files read and parsed in the last load (new, changed, or with problems).
    parsed: Vec<PathBuf>,
    /// Cached files that were gone in the last load.
    vanished: Vec<PathBuf>,
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

    /// Whether the last load saw anything but unchanged, cleanly loading files.
    pub fn changed(&self) -> bool {
        !self.parsed.is_empty() || !self.vanished.is_empty()
    }

    pub(super) fn begin(&mut self) {
        self.seen.clear();
        self.parsed.clear();
        self.vanished.clear();
    }

    /// The cached job of `file` if its stamp is unchanged.
    pub(super) fn get(&mut self, file: &Path, stamp: Stamp) -> Option<Job> {
        self.seen.insert(file.to_owned());
        match self.entries.get(file) {
            Some((cached, job)) if *cached == stamp => Some(job.clone()),
            _ => None,
        }
    }

    /// Records what `file` parsed to; only clean results are kept.
    pub(super) fn put(&mut self, file: &Path, stamp: Stamp, job: Option<&Job>) {
        self.parsed.push(file.to_owned());
        match job {
            Some(job) => {
                self.entries.insert(file.to_owned(), (stamp, job.clone()));
            }
            None => {
                self.entries.remove(file);
            }
        }
    }

    pub(super) fn end(&mut self) {
        let seen = &self.seen;
        let vanished: Vec<PathBuf> = self
            .entries
            .keys()
            .filter(|f| !seen.contains(*f))
            .cloned()
            .collect();
        for file in &vanished {
            self.entries.remove(file);
        }
        self.vanished = vanished;
    }

    /// Drops everything (the folder could not be read).
    pub(super) fn forget_all(&mut self) {
        self.vanished = self.entries.drain().map(|(f, _)| f).collect();
        self.parsed.clear();
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
    }
}
