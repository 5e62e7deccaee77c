//! `slotcron history [JOB]`: past runs, newest first, with what the kernel measured.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::store::{RunFilter, RunRecord};

use super::context;
use super::table::{bytes, local_time, millis, pressure, render};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this job's runs.
    pub job: Option<String>,
    /// At most this many runs.
    #[arg(long, short = 'n', default_value_t = 20)]
    pub limit: usize,
    /// Print a JSON array (newest first).
    #[arg(long)]
    pub json: bool,
}

pub fn history(config: Option<&Path>, args: &HistoryArgs) -> Result<ExitCode> {
    // The runs are in the history: no job file is read, whatever their number (ADR 0035).
    let settings = context::load_settings(config)?;
    let runs = match context::existing_store_at(&settings.state_dir)? {
        Some(store) => store.runs(&RunFilter {
            job: args.job.clone(),
            limit: Some(args.limit),
        })?,
        None => Vec::new(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
    } else if runs.is_empty() {
        println!("no runs recorded");
    } else {
        let rows: Vec<Vec<String>> = runs.iter().map(row).collect();
        print!(
            "{}",
            render(
                &[
                    "ID", "JOB", "SLOT", "STATUS", "EXIT", "STARTED", "WAIT", "DURATION",
                    "PEAK MEM", "CPU", "OOM", "PRESSURE"
                ],
                &rows
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn row(r: &RunRecord) -> Vec<String> {
    let exit = match (r.exit_code, r.signal) {
        (Some(code), _) => code.to_string(),
        (None, Some(sig)) => format!("sig {sig}"),
        (None, None) => "-".into(),
    };
    vec![
        r.id.to_string(),
        r.job.clone(),
        r.slot.clone(),
        r.status.to_string(),
        exit,
        local_time(&r.started_at),
        r.wait_ms.map_or("-".into(), millis),
        r.duration_ms.map_or("-".into(), millis),
        r.usage.memory_peak_bytes.map_or("-".into(), bytes),
        r.usage
            .cpu_usage_usec
            .map_or("-".into(), |u| millis(u / 1000)),
        r.usage.oom_kills.map_or("-".into(), |n| n.to_string()),
        pressure(r.pressure.as_ref()),
    ]
}
