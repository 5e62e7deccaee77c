//! `slotcron discover [DIR...] [--dry-run | --write]`: proposes a disabled job file for
//! every script found, prints it (default) or writes it into `jobs_dir`, and ends with a
//! one-line summary. The work is in [`crate::discover`]; this prints and counts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::config::{Settings, parse_job};
use crate::discover::write::{self, Action};
use crate::discover::{self as disc, Issue, Proposal, Severity, scan};

use super::context;

/// The flags of `slotcron discover` (its help text, exit status included, is on
/// `Command::Discover`).
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Folders (or single scripts) to scan; default: `discover.paths` of slotcron.yaml.
    pub dirs: Vec<PathBuf>,
    /// Print each job file it would write, and write nothing (the default).
    #[arg(long, conflicts_with = "write")]
    pub dry_run: bool,
    /// Write `jobs_dir/auto_<name>.yaml` (disabled) for every new or updatable job.
    #[arg(long)]
    pub write: bool,
}

/// How each script and path ended.
#[derive(Debug, Default)]
struct Summary {
    found: usize,
    new: usize,
    updated: usize,
    unchanged: usize,
    skipped: usize,
    errors: usize,
}

pub fn discover(config: Option<&Path>, args: &DiscoverArgs, verbose: bool) -> Result<ExitCode> {
    let settings = context::load_settings(config)?;
    let (roots, mut issues) = if args.dirs.is_empty() {
        if settings.discover_paths.is_empty() {
            anyhow::bail!(
                "nothing to scan: name folders (`slotcron discover DIR...`) or set \
                 `discover: {{ paths: [...] }}` in {}",
                crate::config::describe_source(&settings)
            );
        }
        scan::expand(&settings.discover_paths)
    } else {
        (args.dirs.clone(), Vec::new())
    };
    let found = disc::discover(&roots, &settings);
    issues.extend(found.issues);
    if args.write && !found.proposals.is_empty() {
        std::fs::create_dir_all(&settings.jobs_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create jobs_dir {}: {e}",
                settings.jobs_dir.display()
            )
        })?;
    }
    let mut summary = Summary {
        found: found.proposals.len(),
        ..Summary::default()
    };
    for proposal in &found.proposals {
        if let Some(issue) = handle(proposal, &settings, args.write, verbose, &mut summary) {
            issues.push(issue);
        }
    }
    if verbose {
        for path in &found.ignored {
            println!("# ignored {}: not a script", path.display());
        }
    }
    for issue in &issues {
        let label = match issue.severity {
            Severity::Skipped => {
                summary.skipped += 1;
                "skipped"
            }
            Severity::Error => {
                summary.errors += 1;
                "error"
            }
        };
        eprintln!("{label}: {}: {}", issue.path.display(), issue.reason);
    }
    let mode = if args.write {
        format!("written to {}", settings.jobs_dir.display())
    } else {
        "dry run: nothing written; --write writes".to_owned()
    };
    println!(
        "discover: {} found, {} new, {} updated, {} unchanged, {} skipped, {} errors ({mode})",
        summary.found,
        summary.new,
        summary.updated,
        summary.unchanged,
        summary.skipped,
        summary.errors
    );
    Ok(if summary.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Decides, prints and (with `write`) writes one proposal; an issue if it is not written.
fn handle(
    p: &Proposal,
    settings: &Settings,
    write: bool,
    verbose: bool,
    summary: &mut Summary,
) -> Option<Issue> {
    let issue = |reason: String, severity| {
        Some(Issue {
            path: p.script.clone(),
            reason,
            severity,
        })
    };
    let target = match write::target(&settings.jobs_dir, &p.job_name) {
        Ok(t) => t,
        Err(reason) => return issue(reason, Severity::Error),
    };
    let body = write::render(p);
    let text = write::file_text(&body);
    // A safety net: what is written must load as `slotcron check` loads it.
    if let Err(problems) = parse_job(&target, &text, settings) {
        let first = problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        return issue(
            format!("the generated job does not load: {first}"),
            Severity::Error,
        );
    }
    let action = match write::existing(&target) {
        Ok(Ok(current)) => write::decide(current.as_deref(), &body),
        Ok(Err(reason)) => Action::Skip(reason),
        Err(e) => {
            let reason = format!("cannot read {}: {e}", target.display());
            return issue(reason, Severity::Error);
        }
    };
    let verb = match &action {
        Action::New => "new",
        Action::Update => "update",
        Action::Unchanged => "unchanged",
        Action::Skip(_) => "skip",
    };
    println!(
        "--- {} ({verb}) from {}",
        target.display(),
        p.script.display()
    );
    if verbose {
        print_reasons(p);
    }
    // A dry run shows what the file would hold; a write names the file it wrote.
    if !write && !matches!(action, Action::Skip(_)) {
        print!("{text}");
    }
    match action {
        Action::Skip(reason) => {
            return issue(format!("{}: {reason}", target.display()), Severity::Skipped);
        }
        Action::Unchanged => summary.unchanged += 1,
        Action::New | Action::Update if write => {
            if let Err(e) = write::write_atomic(&target, &text) {
                let reason = format!("cannot write {}: {e}", target.display());
                return issue(reason, Severity::Error);
            }
            count(&action, summary);
        }
        _ => count(&action, summary),
    }
    None
}

fn count(action: &Action, summary: &mut Summary) {
    match action {
        Action::New => summary.new += 1,
        Action::Update => summary.updated += 1,
        _ => {}
    }
}

fn print_reasons(p: &Proposal) {
    let a = &p.analysis;
    let fields: [(&str, &[String]); 7] = [
        ("type", &a.kind.reasons),
        ("command", &a.command.reasons),
        ("description", &a.description.reasons),
        ("schedule", &a.schedule.reasons),
        ("category", &a.category.reasons),
        ("priority", &a.priority.reasons),
        ("resources", &a.resources.reasons),
    ];
    for (field, reasons) in fields {
        for reason in reasons {
            println!("# why {field}: {reason}");
        }
    }
}
