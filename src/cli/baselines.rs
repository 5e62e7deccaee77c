//! `slotcron recalculate-baselines [JOB]`: computes baselines again, directly on the
//! history database (no daemon needed), from each job's newest `baseline_runs` successes.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::Utc;
use clap::Args;

use crate::stats::Baseline;

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
    let mut rows = Vec::with_capacity(names.len());
    for name in names {
        let baseline = store.recompute_baseline(&name, n, now)?;
        let successes = match baseline {
            Some(_) => n as usize,
            None => store.success_samples(&name, n)?.len(),
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
