//! Generated job files written into `jobs_dir` (by `slotcron discover` and
//! `slotcron import-crontab`): never outside it, never through a link, and atomically (a
//! hidden temp file beside the target, which the catalog ignores, then a rename).

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Where a job file goes: `jobs_dir/<job_name>.yaml`.
///
/// # Errors
/// A name that would put the file anywhere but directly in `jobs_dir`.
pub fn target(jobs_dir: &Path, job_name: &str) -> Result<PathBuf, String> {
    let file = format!("{job_name}.yaml");
    let target = jobs_dir.join(&file);
    let plain = !file.contains('/')
        && !job_name.starts_with('.')
        && crate::config::valid_job_name(job_name);
    if !plain || target.parent() != Some(jobs_dir) {
        return Err(format!(
            "refusing to write {}: not directly in jobs_dir",
            target.display()
        ));
    }
    Ok(target)
}

/// The current content of `target`, or the reason it is off-limits.
///
/// # Errors
/// `Ok(Err(reason))` for something that is not a regular file (a link, a folder); `Err`
/// for a file that exists but cannot be read.
pub fn existing(target: &Path) -> std::io::Result<Result<Option<Vec<u8>>, String>> {
    match std::fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ok(None)),
        Err(e) => Err(e),
        Ok(m) if !m.file_type().is_file() => Ok(Err(
            "not a regular file (a link or folder someone put there): left alone".into(),
        )),
        Ok(_) => std::fs::read(target).map(|b| Ok(Some(b))),
    }
}

/// Job files written together: each is staged as a hidden temp file beside its target
/// (the catalog ignores hidden files), then [`Batch::commit`] flushes them all to disk
/// with one `syncfs` and renames each over its target. One flush for the batch, not one
/// `fsync` per file: 10,000 of those take tens of seconds.
#[derive(Debug, Default)]
pub struct Batch {
    /// (temp file, target), both directly in `jobs_dir`.
    staged: Vec<(PathBuf, PathBuf)>,
}

impl Batch {
    /// Writes `text` to a temp file beside `target`.
    ///
    /// # Errors
    /// The I/O error; the temp file is removed.
    pub fn stage(&mut self, target: &Path, text: &str) -> std::io::Result<()> {
        let dir = target.parent().expect("target() gives a file in jobs_dir");
        let name = target.file_name().expect("a file name").to_string_lossy();
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .and_then(|mut file| file.write_all(text.as_bytes()));
        match written {
            Ok(()) => {
                self.staged.push((temp, target.to_path_buf()));
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                Err(e)
            }
        }
    }

    /// Flushes every staged file, renames each over its target, and syncs the folders.
    /// Returns each target with the outcome of its rename (a failed flush fails all,
    /// and no temp file is left behind).
    pub fn commit(self) -> Vec<(PathBuf, std::io::Result<()>)> {
        let Some((first, _)) = self.staged.first() else {
            return Vec::new();
        };
        let dir = first.parent().expect("in jobs_dir").to_path_buf();
        let flushed =
            std::fs::File::open(&dir).and_then(|d| nix::unistd::syncfs(&d).map_err(Into::into));
        let results = self
            .staged
            .into_iter()
            .map(|(temp, target)| {
                let result = match &flushed {
                    Ok(()) => std::fs::rename(&temp, &target),
                    Err(e) => Err(std::io::Error::new(
                        e.kind(),
                        format!("flushing jobs_dir: {e}"),
                    )),
                };
                if result.is_err() {
                    let _ = std::fs::remove_file(&temp);
                }
                (target, result)
            })
            .collect();
        // The renames themselves reach the disk with the folder.
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        results
    }
}

/// Writes one file atomically (a [`Batch`] of one).
///
/// # Errors
/// The failed step's I/O error.
pub fn write_atomic(target: &Path, text: &str) -> std::io::Result<()> {
    let mut batch = Batch::default();
    batch.stage(target, text)?;
    batch.commit().pop().expect("one staged file").1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_stay_directly_in_jobs_dir() {
        let dir = Path::new("/etc/slotcron/jobs.d");
        assert_eq!(target(dir, "auto_x").unwrap(), dir.join("auto_x.yaml"));
        for bad in ["../x", "a/b", ".hidden", "", "x y"] {
            assert!(target(dir, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file_and_links_are_off_limits() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("auto_a.yaml");
        write_atomic(&t, "one\n").unwrap();
        write_atomic(&t, "two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&t).unwrap(), "two\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["auto_a.yaml"]);
        assert_eq!(existing(&dir.path().join("none.yaml")).unwrap(), Ok(None));
        let link = dir.path().join("auto_l.yaml");
        std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
        assert!(existing(&link).unwrap().is_err());
    }
}
