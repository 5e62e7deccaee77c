//! A proposal as a job file, and whether (and how) to write it.
//!
//! Every discovered file starts with a mark, `# slotcron-discovered: sha256=<hex>`, the
//! SHA-256 of everything after that first line. A file whose mark matches its body has
//! not been edited since discovery wrote it, so a re-run may replace it; a file without
//! the mark, or whose body no longer matches, belongs to a person and is left alone.
//! Writes are atomic (a hidden temp file in `jobs_dir`, then a rename), never outside
//! `jobs_dir`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Proposal;
use crate::config::format_duration;

/// The start of a discovered file's first line; the hash follows.
pub const MARK_PREFIX: &str = "# slotcron-discovered: sha256=";
/// The tag every discovered job carries.
pub const TAG: &str = "discovered";

/// A YAML double-quoted scalar: JSON's string syntax is a subset of YAML's.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

/// The job file's body (everything after the mark line) for a proposal.
pub fn render(p: &Proposal) -> String {
    let a = &p.analysis;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Discovered in {} by `slotcron discover`.\n\
         # Edit freely: once edited, discover leaves this file alone.\n\
         # Enable it here or with `slotcron enable {}`.",
        p.script.display(),
        p.job_name
    );
    if let Some(d) = &a.description.value {
        let _ = writeln!(out, "description: {}", quoted(d));
    }
    let argv: Vec<String> = a.command.value.iter().map(|w| quoted(w)).collect();
    let _ = writeln!(out, "command: [{}]", argv.join(", "));
    if let Some(dir) = p.script.parent() {
        let _ = writeln!(out, "working_dir: {}", quoted(&dir.to_string_lossy()));
    }
    let _ = writeln!(out, "schedule: {}", quoted(&a.schedule.value));
    out.push_str("enabled: false\n");
    let r = &a.resources.value;
    let _ = writeln!(out, "slot: {}", r.slot);
    let _ = writeln!(out, "priority: {}", priority_name(a.priority.value));
    let _ = writeln!(out, "category: {}", a.category.value.name());
    let _ = writeln!(out, "tags: [{TAG}, {}]", quoted(&a.kind.value.to_string()));
    let _ = writeln!(
        out,
        "limits: {{ memory: {}, timeout: {} }}",
        r.memory,
        format_duration(r.timeout)
    );
    out
}

fn priority_name(p: crate::config::Priority) -> &'static str {
    use crate::config::Priority::*;
    match p {
        Critical => "critical",
        High => "high",
        Medium => "medium",
        Low => "low",
    }
}

/// Lower-case hex SHA-256 of `body`.
pub fn hash(body: &str) -> String {
    Sha256::digest(body.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The whole file: mark line, then body.
pub fn file_text(body: &str) -> String {
    format!("{MARK_PREFIX}{}\n{body}", hash(body))
}

/// What a re-run does with one job file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// No file yet: create it.
    New,
    /// A discovered, unedited file with another body: replace it.
    Update,
    /// A discovered, unedited file with this very body: nothing to do.
    Unchanged,
    /// A file someone wrote or edited: leave it alone, for this reason.
    Skip(String),
}

/// Decides from the existing file's content (`None`: no file) and the new body.
pub fn decide(existing: Option<&[u8]>, body: &str) -> Action {
    let Some(bytes) = existing else {
        return Action::New;
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Action::Skip("hand-written (not UTF-8, no discovery mark)".into());
    };
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Some(recorded) = first.strip_prefix(MARK_PREFIX) else {
        return Action::Skip("hand-written (no discovery mark): left alone".into());
    };
    if recorded.trim() != hash(rest) {
        return Action::Skip(
            "edited since discovery wrote it (content hash differs): left alone".into(),
        );
    }
    if rest == body {
        Action::Unchanged
    } else {
        Action::Update
    }
}

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
        let temp = dir.join(format!(".{name}.discover-{}.tmp", std::process::id()));
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
#[path = "write_tests.rs"]
mod tests;
