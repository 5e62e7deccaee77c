//! A proposal as a job file, and whether (and how) to write it.
//!
//! Every discovered file starts with a mark, `# slotcron-discovered: sha256=<hex>`, the
//! SHA-256 of everything after that first line. A file whose mark matches its body has
//! not been edited since discovery wrote it, so a re-run may replace it; a file without
//! the mark, or whose body no longer matches, belongs to a person and is left alone.
//! Writing itself (atomic, never outside `jobs_dir`) is [`crate::jobfiles`]'.

use std::fmt::Write as _;

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

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
