//! `slotcron discover [DIR...] [--dry-run | --write]`: proposes a disabled job file for
//! every script found, prints it (default) or writes it into `jobs_dir`, and ends with a
//! one-line summary. The work is in [`crate::discover`]; this prints and counts.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::config::Settings;
use crate::discover::write::{self, Action};
use crate::discover::{self as disc, Issue, Proposal, Severity, scan};
use crate::jobfiles::{self, Batch};

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
    let (roots, mut issues) = roots(args, &settings)?;
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
    // 10,000 job files are printed: one buffer, not a write per line.
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut batch = Batch::default();
    let mut staged = Vec::new();
    for p in &found.proposals {
        match handle(p, &settings, args.write, verbose, &mut out, &mut batch)? {
            Outcome::Counted(action) => count(&action, &mut summary),
            Outcome::Staged(action) => staged.push((action, p.script.clone())),
            Outcome::Issue(issue) => issues.push(issue),
        }
    }
    for ((action, script), (target, result)) in staged.into_iter().zip(batch.commit()) {
        match result {
            Ok(()) => count(&action, &mut summary),
            Err(e) => issues.push(Issue {
                path: script,
                reason: format!("cannot write {}: {e}", target.display()),
                severity: Severity::Error,
            }),
        }
    }
    if verbose {
        for path in &found.ignored {
            writeln!(out, "# ignored {}: not a script", path.display())?;
        }
    }
    out.flush()?;
    report_issues(&issues, &mut summary);
    let mode = if args.write {
        format!("written to {}", settings.jobs_dir.display())
    } else {
        "dry run: nothing written; --write writes".to_owned()
    };
    writeln!(
        out,
        "discover: {} found, {} new, {} updated, {} unchanged, {} skipped, {} errors ({mode})",
        summary.found,
        summary.new,
        summary.updated,
        summary.unchanged,
        summary.skipped,
        summary.errors
    )?;
    out.flush()?;
    Ok(if summary.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The folders to scan: those named, else `discover.paths` expanded (with what could not
/// be expanded as issues).
fn roots(args: &DiscoverArgs, settings: &Settings) -> Result<(Vec<PathBuf>, Vec<Issue>)> {
    Ok(if args.dirs.is_empty() {
        if settings.discover_paths.is_empty() {
            anyhow::bail!(
                "nothing to scan: name folders (`slotcron discover DIR...`) or set \
                 `discover: {{ paths: [...] }}` in {}",
                crate::config::describe_source(settings)
            );
        }
        scan::expand(&settings.discover_paths)
    } else {
        (args.dirs.clone(), Vec::new())
    })
}

/// Prints each issue to stderr and counts it as skipped or as an error.
fn report_issues(issues: &[Issue], summary: &mut Summary) {
    for issue in issues {
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
}

/// How one proposal ended, before the batch is committed.
enum Outcome {
    /// Nothing to write (dry run, or unchanged): counted now.
    Counted(Action),
    /// Staged in the batch: counted when its rename succeeds.
    Staged(Action),
    /// Not written, and why.
    Issue(Issue),
}

/// Decides, prints and (with `write`) stages one proposal.
fn handle(
    p: &Proposal,
    settings: &Settings,
    write: bool,
    verbose: bool,
    out: &mut impl Write,
    batch: &mut Batch,
) -> std::io::Result<Outcome> {
    let issue = |reason: String, severity| {
        Outcome::Issue(Issue {
            path: p.script.clone(),
            reason,
            severity,
        })
    };
    let target = match jobfiles::target(&settings.jobs_dir, &p.job_name) {
        Ok(t) => t,
        Err(reason) => return Ok(issue(reason, Severity::Error)),
    };
    let action = match jobfiles::existing(&target) {
        Ok(Ok(current)) => write::decide(current.as_deref(), &p.body),
        Ok(Err(reason)) => Action::Skip(reason),
        Err(e) => {
            let reason = format!("cannot read {}: {e}", target.display());
            return Ok(issue(reason, Severity::Error));
        }
    };
    let verb = match &action {
        Action::New => "new",
        Action::Update => "update",
        Action::Unchanged => "unchanged",
        Action::Skip(_) => "skip",
    };
    writeln!(
        out,
        "--- {} ({verb}) from {}",
        target.display(),
        p.script.display()
    )?;
    if verbose {
        print_reasons(p, out)?;
    }
    let text = write::file_text(&p.body);
    // A dry run shows what the file would hold; a write names the file it wrote.
    if !write && !matches!(action, Action::Skip(_)) {
        out.write_all(text.as_bytes())?;
    }
    Ok(match action {
        Action::Skip(reason) => issue(format!("{}: {reason}", target.display()), Severity::Skipped),
        Action::New | Action::Update if write => match batch.stage(&target, &text) {
            Ok(()) => Outcome::Staged(action),
            Err(e) => issue(
                format!("cannot write {}: {e}", target.display()),
                Severity::Error,
            ),
        },
        action => Outcome::Counted(action),
    })
}

fn count(action: &Action, summary: &mut Summary) {
    match action {
        Action::New => summary.new += 1,
        Action::Update => summary.updated += 1,
        Action::Unchanged => summary.unchanged += 1,
        Action::Skip(_) => summary.skipped += 1,
    }
}

fn print_reasons(p: &Proposal, out: &mut impl Write) -> std::io::Result<()> {
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
            writeln!(out, "# why {field}: {reason}")?;
        }
    }
    Ok(())
}
