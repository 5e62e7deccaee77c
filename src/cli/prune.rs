//! `slotcron prune [--dry-run]`: apply `retention` now, as the daemon does once a day.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use chrono::Utc;
use clap::Args;
use serde_json::json;

use crate::model::RetentionMode;
use crate::retention;

use super::context;

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Count what would be pruned; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print a JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn prune(config: Option<&Path>, args: &PruneArgs) -> Result<ExitCode> {
    let settings = context::load_settings(config)?;
    let now = Utc::now();
    let Some(cutoff) = retention::cutoff(&settings, now) else {
        println!("retention is off: every run is kept");
        return Ok(ExitCode::SUCCESS);
    };
    let verb = match settings.retention_mode {
        RetentionMode::Delete => "deleted",
        RetentionMode::Archive => "archived",
    };
    let Some(mut store) = context::existing_store_at(&settings.state_dir)? else {
        println!("no history yet");
        return Ok(ExitCode::SUCCESS);
    };
    let (runs, events, logs) = if args.dry_run {
        let (runs, events) = store.prunable(cutoff)?;
        (runs, events, None)
    } else {
        let pruned =
            retention::prune(&mut store, &settings, now)?.expect("retention is on: checked above");
        (
            pruned.report.runs,
            pruned.report.events,
            Some(pruned.logs_removed),
        )
    };
    if args.json {
        let out = json!({
            "cutoff": cutoff,
            "dry_run": args.dry_run,
            "mode": settings.retention_mode,
            "runs": runs,
            "events": events,
            "logs": logs,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let would = if args.dry_run { "would be " } else { "" };
        println!(
            "runs started before {}: {runs} {would}{verb}, {events} events {would}deleted{}",
            cutoff.format("%Y-%m-%d %H:%M:%S UTC"),
            logs.map(|n| format!(", {n} run logs deleted"))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
