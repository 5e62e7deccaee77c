//! `slotcron recalculate-baselines [JOB]`: computes baselines again, directly on the
//! history database (no daemon needed), from each job's newest `baseline_runs` successes,
//! settled or not. Given a JOB with an open `anomaly`, `degraded`, `too_fast` or
//! `too_small` alert, it accepts the job's new level: the baseline restarts at the run
//! that opened the oldest of them (earlier successes never count again), those alerts are
//! resolved, and a new baseline forms from the successes since (ADR 0031).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::Utc;
use clap::Args;

use crate::alerts::AlertKind;
use crate::stats::Baseline;
use crate::store::{AlertRecord, Store};

use super::context;
use super::table::{bytes, millis, render};

#[derive(Debug, Args)]
pub struct RecalculateArgs {
    /// Only this job (default: every job in the history, removed ones included).
    pub job: Option<String>,
}

pub fn recalculate(config: Option<&Path>, args: &RecalculateArgs) -> Result<ExitCode> {
    let loaded = context::load(config)?;
    let n = loaded.settings.health.baseline_runs;
    let Some(mut store) = context::existing_store(&loaded)? else {
        bail!("no history yet in {}", loaded.settings.state_dir.display());
    };
    let names: Vec<String> = match &args.job {
        Some(job) => vec![job.clone()],
        None => store.jobs()?.into_iter().map(|j| j.name).collect(),
    };
    let now = Utc::now();
    if let Some(job) = &args.job {
        restart(&mut store, job, now)?;
    }
    let mut rows = Vec::with_capacity(names.len());
    for name in names {
        let baseline = store.recompute_baseline(&name, n, now)?;
        let successes = match baseline {
            Some(_) => n as usize,
            None => {
                let since = store.baseline_since(&name)?;
                store.success_samples_since(&name, since, n)?.len()
            }
        };
        rows.push(row(&name, baseline.as_ref(), successes, n));
    }
    print!(
        "{}",
        render(
            &[
                "JOB",
                "RUNS",
                "MEDIAN",
                "P95",
                "MEMORY MEDIAN",
                "MEMORY MAX"
            ],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// Accepts `job`'s new level if it has an open alert judged against its baseline: the
/// baseline restarts at the run that opened the oldest such alert, and they resolve.
fn restart(store: &mut Store, job: &str, now: chrono::DateTime<Utc>) -> Result<()> {
    let open: Vec<AlertRecord> = store
        .alerts(false)?
        .into_iter()
        .filter(|a| a.job == job && a.kind.against_baseline())
        .collect();
    let Some(since) = open.iter().filter_map(|a| a.first_run_id).min() else {
        return Ok(());
    };
    store.set_baseline_since(job, since, now)?;
    let kinds: Vec<AlertKind> = open.iter().map(|a| a.kind).collect();
    let resolved = store.resolve(job, &kinds, now)?;
    let names: Vec<&str> = resolved.iter().map(|(_, k)| k.as_str()).collect();
    println!(
        "{job}: its baseline restarts at run {since}, where its open {} alert began \
         (resolved now); earlier runs no longer count",
        names.join(" and ")
    );
    Ok(())
}

fn row(job: &str, baseline: Option<&Baseline>, successes: usize, n: u32) -> Vec<String> {
    let Some(b) = baseline else {
        return vec![
            job.to_owned(),
            format!("no baseline ({successes} of {n} runs)"),
        ];
    };
    vec![
        job.to_owned(),
        b.runs.to_string(),
        millis(b.duration_median_ms.round() as u64),
        millis(b.duration_p95_ms.round() as u64),
        b.memory_median_bytes
            .map_or("-".into(), |m| bytes(m.round() as u64)),
        b.memory_max_bytes.map_or("-".into(), bytes),
    ]
}
