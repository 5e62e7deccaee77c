//! Crontab entries -> job files: the YAML each entry becomes, checked by the same parser
//! `slotcron check` uses, so an entry either becomes a job that loads or a reported line.
//!
//! The mapping (`docs/adr/0020-crontab-import-and-export.md`): fields as written (job
//! files read cron fields as cronie does, ADR 0025);
//! `CRON_TZ` -> `timezone`; `SHELL` other than `/bin/sh` -> an argv through that shell;
//! other environment lines -> `env`; stdin after `%` -> `printf '%s' '...' | { cmd; }`, with
//! the bytes cron would feed (final newline included);
//! `MAILTO` -> a line in the description; `concurrency: allow`, as cron overlaps runs.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::name::{Names, name_from_command};
use super::parse::{Entry, LineError, Parsed, When, stdin_bytes};
use crate::config::{Settings, parse_job};

/// The marker line that records the hash of what the import wrote below it.
pub const HASH_MARKER: &str = "# slotcron-import-hash: ";

/// One entry turned into a job file.
#[derive(Debug, Clone)]
pub struct Imported {
    /// Where it came from: `FILE:LINE`.
    pub source: String,
    /// The file's name in `jobs_dir`: `cron_<name>.yaml`; the job's name is its stem.
    pub file_name: String,
    /// The whole file: header comment, hash line, YAML.
    pub text: String,
}

/// A line of one input file that did not become a job.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// The crontab it is in.
    pub file: String,
    pub error: LineError,
}

/// The job file as YAML, in the order a reader wants it.
#[derive(Serialize)]
struct JobFile<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    command: CommandOut,
    schedule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    timezone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    concurrency: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<&'a str, &'a str>,
    tags: [&'static str; 1],
}

#[derive(Serialize)]
#[serde(untagged)]
enum CommandOut {
    Shell(String),
    Argv([String; 3]),
}

/// Converts the entries of one crontab (`label` names it in messages). `names` is shared
/// by every crontab of one import so names stay unique across them.
pub fn convert(
    label: &str,
    parsed: Parsed,
    names: &mut Names,
    jobs_dir: &Path,
    settings: &Settings,
) -> (Vec<Imported>, Vec<Rejected>) {
    let mut rejected: Vec<Rejected> = parsed
        .errors
        .into_iter()
        .map(|error| Rejected {
            file: label.to_owned(),
            error,
        })
        .collect();
    let mut imported = Vec::new();
    for entry in parsed.entries {
        let file_name = format!(
            "cron_{}.yaml",
            names.unique(&name_from_command(&entry.command))
        );
        let text = render(label, &entry);
        match parse_job(&jobs_dir.join(&file_name), &text, settings) {
            Ok(_) => imported.push(Imported {
                source: format!("{label}:{}", entry.line),
                file_name,
                text,
            }),
            Err(problems) => rejected.push(Rejected {
                file: label.to_owned(),
                error: LineError {
                    line: entry.line,
                    text: entry.command.clone(),
                    reason: problems
                        .iter()
                        .map(problem_text)
                        .collect::<Vec<_>>()
                        .join("; "),
                },
            }),
        }
    }
    rejected.sort_by_key(|r| r.error.line);
    (imported, rejected)
}

/// A problem of the would-be job file, without the file (which does not exist yet).
fn problem_text(p: &crate::config::Problem) -> String {
    match (&p.field, &p.value) {
        (Some(field), Some(value)) => format!("{field} `{value}`: {}", p.message),
        _ => p.message.clone(),
    }
}

/// The schedule as written: slotcron reads cron fields as cron does (ADR 0025).
pub fn schedule_text(when: &When) -> String {
    match when {
        When::Nickname(nick) => nick.clone(),
        When::Fields { fields } => fields.join(" "),
    }
}

/// The whole job file of one entry.
pub fn render(label: &str, entry: &Entry) -> String {
    let mut script = entry.command.trim_end().to_owned();
    if let Some(input) = &entry.stdin {
        script = format!(
            "printf '%s' {} | {{ {script}\n}}",
            sh_quote(&stdin_bytes(input))
        );
    }
    let command = match entry.shell.as_deref() {
        Some(shell) if shell != "/bin/sh" => {
            CommandOut::Argv([shell.to_owned(), "-c".to_owned(), script])
        }
        _ => CommandOut::Shell(script),
    };
    let mut description: Vec<String> = entry.comment.clone();
    if let Some(to) = entry.mailto.as_deref().filter(|m| !m.is_empty()) {
        description.push(format!(
            "cron mailed this job's output to {to} (MAILTO); slotcron keeps it in \
             `slotcron history`: use `notifications:` to hear of failures"
        ));
    }
    let mut env: BTreeMap<&str, &str> = entry
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Some(shell) = entry.shell.as_deref().filter(|s| *s != "/bin/sh") {
        env.insert("SHELL", shell);
    }
    let file = JobFile {
        description: Some(description.join("\n")).filter(|d| !d.is_empty()),
        command,
        schedule: schedule_text(&entry.when),
        timezone: entry.timezone.as_deref(),
        enabled: entry.disabled.then_some(false),
        user: entry.user.as_deref(),
        concurrency: "allow",
        env,
        tags: ["crontab"],
    };
    let yaml = serde_saphyr::to_string(&file).expect("a job file always serializes");
    let disabled = if entry.disabled {
        " (commented out there)"
    } else {
        ""
    };
    format!(
        "# Imported by `slotcron import-crontab` from {label} line {}{disabled}.\n\
         # Edit freely: a re-import never overwrites a file changed after it was written.\n\
         {HASH_MARKER}{}\n{yaml}",
        entry.line,
        content_hash(&yaml),
    )
}

/// A file's content hash as the marker records it (FNV-1a, 64 bits: a change detector,
/// not a defence against forgery).
pub fn content_hash(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// `text` as one single-quoted shell word.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
