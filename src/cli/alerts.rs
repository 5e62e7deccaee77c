//! `slotcron alerts [--all] [--json]` and `slotcron ack ID`: the alerts in the history
//! database, read and acknowledged directly (no daemon needed), like `slotcron history`.
//! The message of an alert judged against the baseline carries its evidence in words;
//! `--json` adds it as figures (`evidence`), as the API does.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::store::AlertRecord;

use super::context;
use super::table::{local_time, render};

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Resolved alerts too (default: open and acknowledged ones).
    #[arg(long)]
    pub all: bool,
    /// Print a JSON array (newest first).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AckArgs {
    /// The alert's id (the ID column of `slotcron alerts`).
    pub id: i64,
}

pub fn alerts(config: Option<&Path>, args: &AlertsArgs) -> Result<ExitCode> {
    let loaded = context::load(config)?;
    let alerts = match context::existing_store(&loaded)? {
        Some(store) => store.alerts(args.all)?,
        None => Vec::new(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&alerts)?);
    } else if alerts.is_empty() {
        println!(
            "{}",
            if args.all {
                "no alerts"
            } else {
                "no open alerts"
            }
        );
    } else {
        let rows: Vec<Vec<String>> = alerts.iter().map(row).collect();
        print!(
            "{}",
            render(
                &[
                    "ID", "JOB", "TYPE", "SEVERITY", "COUNT", "REOPENED", "FIRST", "LAST", "STATE",
                    "MESSAGE"
                ],
                &rows
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn ack(config: Option<&Path>, args: &AckArgs) -> Result<ExitCode> {
    let loaded = context::load(config)?;
    let mut store = context::open_store(&loaded)?;
    store.ack(args.id, chrono::Utc::now())?;
    let state = store
        .alerts(true)?
        .into_iter()
        .find(|a| a.id == args.id)
        .map_or_else(|| "acknowledged".to_owned(), |a| a.state.to_string());
    println!("alert {} {state}", args.id);
    Ok(ExitCode::SUCCESS)
}

fn row(a: &AlertRecord) -> Vec<String> {
    vec![
        a.id.to_string(),
        a.job.clone(),
        a.kind.to_string(),
        a.severity.to_string(),
        a.count.to_string(),
        a.reopened.to_string(),
        local_time(&a.opened_at),
        local_time(&a.last_at),
        a.state.to_string(),
        a.message.clone(),
    ]
}
