//! `slotcron jobs`: the jobs that loaded, with their slot, schedule, limits, whether they
//! are enabled (the file's `enabled:` unless `slotcron enable/disable` overrode it) and
//! their last run and health (see [`crate::stats`]), each as [`JobView`] (which the HTTP API
//! prints too). History is read in a fixed number of
//! queries whatever the number of jobs ([`Figures::load`]).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use chrono::Utc;
use clap::Args;
use serde::Serialize;

use crate::config::format_duration;
use crate::runner::job_memory;
use crate::stats::{Figures, Health, Performance};
use crate::views::{JobView, Secrets};

use super::context;
use super::table::{bytes, render};

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Print a JSON array.
    #[arg(long)]
    pub json: bool,
    /// Show the values of each job's `env` (withheld, `null`, unless asked: they may be
    /// secrets).
    #[arg(long)]
    pub reveal_env: bool,
}

pub fn jobs(config: Option<&Path>, args: &JobsArgs) -> Result<ExitCode> {
    let loaded = context::load(config)?;
    let now = Utc::now();
    let figures = match context::existing_store(&loaded)? {
        Some(store) => Figures::load(&store, loaded.settings.health, now)?,
        None => Figures {
            settings: loaded.settings.health,
            ..Figures::default()
        },
    };
    let secrets = if args.reveal_env {
        Secrets::Revealed
    } else {
        Secrets::Withheld
    };
    let views: Vec<JobView<'_>> = loaded
        .catalog
        .jobs
        .values()
        .map(|job| {
            let peak = figures
                .summaries
                .get(&job.name)
                .and_then(|s| s.peak_memory());
            let memory = job_memory(job, &loaded.settings, peak);
            JobView::new(job, &figures, now, secrets, memory)
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&views)?);
    } else {
        let rows: Vec<Vec<String>> = views.iter().map(row).collect();
        print!(
            "{}",
            render(
                &[
                    "NAME",
                    "SLOT",
                    "SCHEDULE",
                    "PRIORITY",
                    "ENABLED",
                    "MEMORY",
                    "TIMEOUT",
                    "LAST RUN",
                    "HEALTH",
                    "EXECUTION",
                    "PERFORMANCE",
                ],
                &rows
            )
        );
    }
    for problem in &loaded.catalog.problems {
        eprintln!("warning: {problem}");
    }
    Ok(ExitCode::SUCCESS)
}

fn row(view: &JobView<'_>) -> Vec<String> {
    let job = view.job;
    vec![
        job.name.clone(),
        job.slot.clone(),
        job.schedule_text.clone(),
        format!("{:?}", job.priority).to_lowercase(),
        match view.tripped_until {
            Some(until) => format!(
                "{}, tripped until {}",
                enabled_cell(job.enabled, view.enabled_override),
                until.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M")
            ),
            None => enabled_cell(job.enabled, view.enabled_override),
        },
        job.limits.memory.map_or("-".into(), |m| bytes(m.bytes())),
        job.limits.timeout.map_or("-".into(), format_duration),
        view.last_run.map_or("never".into(), |r| {
            format!("{} {}", r.status, r.started_at.format("%Y-%m-%d %H:%M"))
        }),
        word(&view.health.status),
        word(&view.health.execution),
        performance_cell(&view.health),
    ]
}

/// An enum's JSON name (`never_run`), for a table cell.
fn word(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The PERFORMANCE cell: the word, or why there is no baseline yet.
fn performance_cell(health: &Health) -> String {
    match (health.performance, &health.baseline_missing) {
        (Performance::Unknown, Some(missing)) => {
            format!("no baseline ({})", missing.replace(" successful", ""))
        }
        (performance, _) => word(&performance),
    }
}

/// The ENABLED cell: the effective state, marked when an override decides it.
fn enabled_cell(file: bool, enabled_override: Option<bool>) -> String {
    let word = |on: bool| if on { "yes" } else { "no" };
    match enabled_override {
        Some(on) => format!("{} (override)", word(on)),
        None => word(file).to_owned(),
    }
}
