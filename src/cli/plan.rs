//! `slotcron plan`: the next hours forecast through the scheduler's own rules
//! ([`crate::plan`], ADR 0042), from the job files and what history says; no daemon
//! needed. Prints the findings, the slots' peaks, each job's figures and every run, or with
//! `--json` the [`Plan`] that `GET /api/v1/plan` answers too.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Local, Utc};
use clap::Args;

use crate::config::{Job, Zone, parse_duration};
use crate::daemon::machine::{MemorySignals, ProcMemory};
use crate::plan::{Fate, MAX_HOURS, Options, Percentile, Plan, Series, Source, forecast};

use super::context;
use super::next::{From, parse_from};
use super::table::{bytes, millis, render};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Start of the window: RFC 3339 (`2026-12-06T00:00:00Z`), or `YYYY-MM-DD HH:MM[:SS]` on
    /// this machine's wall clock (default: now).
    #[arg(long, value_name = "TIME", value_parser = parse_from)]
    pub from: Option<From>,
    /// Hours to forecast (1 to 168).
    #[arg(long, default_value_t = crate::plan::DEFAULT_HOURS,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_HOURS)))]
    pub hours: u32,
    /// Print the plan as JSON (what `GET /api/v1/plan` answers).
    #[arg(long)]
    pub json: bool,
    /// Runs last their baseline's p95 and use its highest memory peak, not its median.
    #[arg(long)]
    pub pessimistic: bool,
    /// `catch_up: once` jobs make up a fire time missed since their last run at the start,
    /// as a daemon started then would.
    #[arg(long)]
    pub catch_up: bool,
    /// Flag runs that wait longer than this for a seat (default:
    /// `alerting.queue_wait_threshold`, which raises `slot_saturated`).
    #[arg(long, value_name = "DURATION", value_parser = parse_wait)]
    pub wait_over: Option<Duration>,
    /// Leave out the table of every run.
    #[arg(long)]
    pub summary: bool,
}

pub fn plan(config: Option<&Path>, args: &PlanArgs) -> Result<ExitCode> {
    let loaded = context::load(config)?;
    let settings = &loaded.settings;
    let from = match &args.from {
        None => Utc::now(),
        Some(From::Instant(at)) => *at,
        Some(From::Wall(wall)) => Zone::Local
            .instant_of(*wall)
            .with_context(|| format!("--from `{wall}` does not exist here: the clock skips it"))?,
    };
    let mut options = Options::new(from, settings);
    options.window = chrono::Duration::hours(i64::from(args.hours));
    options.catch_up = args.catch_up;
    if args.pessimistic {
        options.percentile = Percentile::P95;
    }
    if let Some(wait) = args.wait_over {
        options.wait_over = wait;
    }
    let jobs: Vec<&Job> = loaded.catalog.jobs.values().map(|j| &**j).collect();
    let store = context::existing_store(&loaded)?;
    // A machine that cannot be read plays no reserve.
    let mem_available = || {
        let state = ProcMemory::default().machine_state().ok()?;
        state.mem_available
    };
    let plan = forecast(&jobs, settings, store.as_ref(), &options, mem_available)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", text(&plan, !args.summary));
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_wait(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|e| format!("`{text}`: {e}"))
}

/// The zone this machine's clock shows.
fn zone_name() -> String {
    let tz = jiff::tz::TimeZone::system();
    tz.iana_name()
        .map_or_else(|| Local::now().format("UTC%:z").to_string(), str::to_owned)
}

/// An instant on this machine's clock, to the second.
fn at(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%m-%d %H:%M:%S").to_string()
}

/// A peak figure and when it is first reached (none before anything ran).
fn peak(value: String, t: Option<DateTime<Utc>>) -> String {
    match t {
        Some(t) => format!("{value} at {}", at(t)),
        None => value,
    }
}

/// The plan as text: a header, the findings, the slots, the jobs and (with `runs`) every
/// run.
pub fn text(plan: &Plan, runs: bool) -> String {
    let mut out = header(plan);
    out.push_str(&format!("\nFINDINGS ({})\n", plan.findings.len()));
    if plan.findings.is_empty() {
        out.push_str("none\n");
    } else {
        let rows: Vec<Vec<String>> = (plan.findings.iter())
            .map(|f| vec![at(f.at), word(&f.kind), f.message.clone()])
            .collect();
        out.push_str(&render(&["AT", "KIND", "WHAT"], &rows));
    }
    out.push_str("\nSLOTS\n");
    let rows: Vec<Vec<String>> = plan
        .slots
        .iter()
        .chain([&plan.machine])
        .map(slot_row)
        .collect();
    out.push_str(&render(
        &[
            "SLOT",
            "SEATS",
            "PEAK RUNNING",
            "PEAK QUEUED",
            "PEAK RESERVED",
            "PEAK MEMORY",
            "CAP",
        ],
        &rows,
    ));
    out.push_str("\nJOBS\n");
    out.push_str(&jobs_table(plan));
    if runs {
        out.push_str(&format!("\nRUNS ({})\n", plan.runs.len()));
        out.push_str(&runs_table(plan));
    }
    out
}

fn header(plan: &Plan) -> String {
    let figures = match plan.percentile {
        Percentile::P50 => "median durations and memory",
        Percentile::P95 => "p95 durations, highest memory peaks",
    };
    let count = |f: fn(&Fate) -> bool| plan.runs.iter().filter(|r| f(&r.fate)).count();
    let started = count(|f| matches!(f, Fate::Runs { .. }));
    let skipped = count(|f| matches!(f, Fate::Skipped { .. }));
    let longest = (plan.runs.iter())
        .filter_map(|r| match r.fate {
            Fate::Runs { wait_ms, .. } => Some((wait_ms, r.job.as_str())),
            _ => None,
        })
        .max();
    let longest = match longest {
        Some((ms, job)) if ms > 0 => format!("longest wait {} (`{job}`)", millis(ms)),
        _ => "no run waits".to_owned(),
    };
    format!(
        "Forecast {} to {} ({}; {figures}): {} jobs, {} runs start, {skipped} skipped, {longest}\n",
        at(plan.from),
        at(plan.until),
        zone_name(),
        plan.jobs.iter().filter(|j| j.runs > 0).count(),
        started,
    )
}

/// A serialized enum's word (`still_running`).
fn word<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn slot_row(series: &Series) -> Vec<String> {
    let top = &series.peak;
    let seats = series
        .seats
        .map_or_else(|| "-".to_owned(), |s| s.to_string());
    vec![
        series.name.clone(),
        seats,
        peak(top.running.to_string(), top.running_at),
        peak(top.queued.to_string(), top.queued_at),
        peak(bytes(top.reserved_bytes), top.reserved_at),
        peak(bytes(top.memory_bytes), top.memory_at),
        series
            .memory_max_bytes
            .map_or_else(|| "-".to_owned(), bytes),
    ]
}

fn jobs_table(plan: &Plan) -> String {
    let from = |s: Source| match s {
        Source::Baseline => "baseline",
        Source::Timeout => "guess: timeout",
        Source::Assumed => "guess: assumed",
        Source::Reservation => "guess: reservation",
    };
    let rows: Vec<Vec<String>> = (plan.jobs.iter())
        .filter(|j| j.runs > 0)
        .map(|j| {
            let e = &j.estimate;
            let basis = match e.baseline_runs {
                Some(n) => format!("{n} runs"),
                None => "no runs".to_owned(),
            };
            vec![
                j.name.clone(),
                j.slot.clone(),
                j.schedule.clone(),
                j.runs.to_string(),
                format!("{} ({})", millis(e.duration_ms), from(e.duration_from)),
                format!("{} ({})", bytes(e.memory_bytes), from(e.memory_from)),
                bytes(e.reserved_bytes),
                basis,
            ]
        })
        .collect();
    render(
        &[
            "JOB", "SLOT", "SCHEDULE", "RUNS", "DURATION", "MEMORY", "RESERVED", "BASELINE",
        ],
        &rows,
    )
}

fn runs_table(plan: &Plan) -> String {
    let rows: Vec<Vec<String>> = (plan.runs.iter())
        .map(|r| {
            let (queued, start, end, wait, status) = match &r.fate {
                Fate::Runs {
                    queued_at,
                    started_at,
                    ended_at,
                    wait_ms,
                    replaced,
                    ..
                } => {
                    let status = if *replaced { "replaced" } else { "runs" };
                    (
                        at(*queued_at),
                        at(*started_at),
                        at(*ended_at),
                        millis(*wait_ms),
                        status.to_owned(),
                    )
                }
                Fate::Waits { queued_at } => (
                    at(*queued_at),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "never starts".into(),
                ),
                Fate::Dropped {
                    queued_at,
                    at: when,
                } => (
                    at(*queued_at),
                    "-".into(),
                    at(*when),
                    "-".into(),
                    "dropped".into(),
                ),
                Fate::Skipped { reason } => (
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    format!("skipped: {reason}"),
                ),
                Fate::Ignored { reason } => (
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    format!("ignored: {reason}"),
                ),
            };
            vec![
                r.id.to_string(),
                at(r.due),
                queued,
                start,
                end,
                wait,
                r.slot.clone(),
                r.job.clone(),
                r.trigger.clone(),
                status,
            ]
        })
        .collect();
    render(
        &[
            "RUN", "DUE", "QUEUED", "START", "END", "WAIT", "SLOT", "JOB", "TRIGGER", "STATUS",
        ],
        &rows,
    )
}
