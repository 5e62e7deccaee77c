//! `slotcron jobs`: the jobs that loaded, with their slot, schedule, limits, whether they
//! are enabled (the file's `enabled:` unless `slotcron enable/disable` overrode it) and
//! their last run and health (see [`crate::stats`]). History is read in a fixed number of
//! queries whatever the number of jobs ([`Figures::load`]).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::Args;
use serde::Serialize;

use crate::config::{Job, format_duration};
use crate::scheduler::{BreakerState, breaker_state};
use crate::stats::{Figures, Health, Performance, assess};
use crate::store::{JobSummary, RunRecord};

use super::context;
use super::table::{bytes, render};

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Print a JSON array.
    #[arg(long)]
    pub json: bool,
}

/// One element of `slotcron jobs --json`: the job as loaded (`enabled` is the file's),
/// the override set by `slotcron enable/disable` if any, and its latest run.
#[derive(Serialize)]
struct JobView<'a> {
    #[serde(flatten)]
    job: &'a Job,
    enabled_override: Option<bool>,
    /// Until when the circuit breaker holds the job back, if it is tripped now.
    tripped_until: Option<DateTime<Utc>>,
    last_run: Option<&'a RunRecord>,
    health: Health,
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
    let views: Vec<JobView<'_>> = loaded
        .catalog
        .jobs
        .values()
        .map(|job| JobView {
            job,
            enabled_override: figures
                .controls
                .get(&job.name)
                .and_then(|c| c.enabled_override),
            tripped_until: tripped_until(job, figures.summaries.get(&job.name)),
            last_run: figures.latest.get(&job.name),
            health: assess(job, &figures.inputs(&job.name, job.enabled), now),
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

/// The same breaker rule the daemon applies, from history alone.
fn tripped_until(job: &Job, summary: Option<&JobSummary>) -> Option<DateTime<Utc>> {
    let (breaker, summary) = (job.breaker.as_ref()?, summary?);
    match breaker_state(
        breaker.failures,
        breaker.cooldown,
        summary.consecutive_failures,
        summary.last_failure_at,
        Utc::now(),
    ) {
        BreakerState::Open { until } => Some(until),
        _ => None,
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
