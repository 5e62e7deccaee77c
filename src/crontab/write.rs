//! `--write`: imported job files into `jobs_dir`, atomically and never outside it
//! ([`crate::jobfiles`]), and never over a file someone edited: a file is replaced only when
//! its hash marker still matches its content, i.e. it is exactly what an import wrote.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::convert::{HASH_MARKER, Imported, content_hash};
use crate::jobfiles;

/// What happened to one imported job's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The file did not exist.
    New,
    /// An earlier import's file, unedited, replaced by a different one.
    Updated,
    /// An earlier import's file with the same content: left as it is.
    Unchanged,
    /// Left alone, with the reason (edited by hand, not an import's file, a symlink).
    Skipped(String),
}

/// An I/O failure, with the path it happened on.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Writes one imported job into `jobs_dir`.
///
/// # Errors
/// Reading the existing file, or writing and renaming the new one, failed.
pub fn write_job(jobs_dir: &Path, job: &Imported) -> Result<Written, WriteError> {
    // The name is built from `[a-z0-9_-]` by the import; checked again since the path's
    // staying in `jobs_dir` rests on it.
    let stem = job
        .file_name
        .strip_suffix(".yaml")
        .unwrap_or(&job.file_name);
    let path = jobfiles::target(jobs_dir, stem).expect("an imported file name is a plain name");
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    let existed = match fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Ok(Written::Skipped("a symlink, never written through".into()));
        }
        Ok(_) => {
            let old = fs::read_to_string(&path).map_err(err(&path))?;
            if !is_unedited_import(&old) {
                return Ok(Written::Skipped(
                    "changed since it was imported (or not written by an import)".into(),
                ));
            }
            if old == job.text {
                return Ok(Written::Unchanged);
            }
            true
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(err(&path)(e)),
    };
    jobfiles::write_atomic(&path, &job.text).map_err(err(&path))?;
    Ok(if existed {
        Written::Updated
    } else {
        Written::New
    })
}

/// Whether `text` is an import's file as written: its marker's hash matches what follows.
pub fn is_unedited_import(text: &str) -> bool {
    let Some(start) = text.find(HASH_MARKER) else {
        return false;
    };
    let rest = &text[start + HASH_MARKER.len()..];
    let Some((hash, body)) = rest.split_once('\n') else {
        return false;
    };
    hash == content_hash(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(text: &str) -> Imported {
        let body = format!("command: {text}\n");
        Imported {
            source: "crontab:1".into(),
            file_name: "cron_x.yaml".into(),
            text: format!("# header\n{HASH_MARKER}{}\n{body}", content_hash(&body)),
        }
    }

    #[test]
    fn new_unchanged_updated_and_edited_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cron_x.yaml");
        assert_eq!(write_job(dir.path(), &job("a")).unwrap(), Written::New);
        assert_eq!(
            write_job(dir.path(), &job("a")).unwrap(),
            Written::Unchanged
        );
        assert_eq!(write_job(dir.path(), &job("b")).unwrap(), Written::Updated);
        assert!(fs::read_to_string(&path).unwrap().contains("command: b"));
        let edited = fs::read_to_string(&path)
            .unwrap()
            .replace("b\n", "b --edited\n");
        fs::write(&path, &edited).unwrap();
        assert!(matches!(
            write_job(dir.path(), &job("c")).unwrap(),
            Written::Skipped(_)
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), edited);
        fs::write(&path, "command: hand written\n").unwrap();
        assert!(matches!(
            write_job(dir.path(), &job("c")).unwrap(),
            Written::Skipped(_)
        ));
        // No temp files are left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_symlink_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.yaml");
        fs::write(&outside, "x").unwrap();
        let jobs = dir.path().join("jobs.d");
        fs::create_dir(&jobs).unwrap();
        std::os::unix::fs::symlink(&outside, jobs.join("cron_x.yaml")).unwrap();
        assert!(matches!(
            write_job(&jobs, &job("a")).unwrap(),
            Written::Skipped(_)
        ));
        assert_eq!(fs::read_to_string(&outside).unwrap(), "x");
    }
}
