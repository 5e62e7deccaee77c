//! `slotcron run JOB`: run one job now in its slot, wait, print what the kernel measured,
//! and exit with the job's status.

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use clap::Args;

use crate::runner::{CgroupEnv, Enforcer, RunRequest, Runner, shell_status};
use crate::store::RunRecord;

use super::context;
use super::table::{bytes, millis};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job's name.
    pub job: String,
    /// Print the finished run as JSON (the `history --json` shape) instead of a summary.
    #[arg(long)]
    pub json: bool,
}

pub fn run(config: Option<&Path>, args: &RunArgs) -> Result<ExitCode> {
    let loaded = context::load_for_job(config, &args.job)?;
    let Some(job) = loaded.catalog.jobs.get(&args.job).cloned() else {
        let broken: Vec<String> = loaded
            .catalog
            .problems
            .iter()
            .filter(|p| p.file.file_stem().is_some_and(|s| s == args.job.as_str()))
            .map(ToString::to_string)
            .collect();
        if broken.is_empty() {
            let known: Vec<&str> = loaded.catalog.jobs.keys().map(String::as_str).collect();
            bail!(
                "no job named `{}` in {} (jobs: {})",
                args.job,
                loaded.settings.jobs_dir.display(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            );
        }
        bail!("job `{}` does not load:\n{}", args.job, broken.join("\n"));
    };
    let mut store = context::open_store(&loaded)?;
    context::sync_job(&mut store, &job)?;
    let enforcer = Enforcer::setup(&loaded.settings, &CgroupEnv::kernel())?;
    let settings = Arc::new(loaded.settings);
    let store = Arc::new(Mutex::new(store));
    let runner = Runner::new(settings.clone(), Arc::new(enforcer), store.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let record = runtime.block_on(async {
        let request = RunRequest::manual(&job);
        runner.run(request, super::signals::stop_requested()).await
    })?;
    // As the daemon does after its runs (a run is a run): alerts, then the baseline.
    let notices = {
        let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
        crate::followup::record(&mut store, &job, &record, &settings, Utc::now())
            .alerts
            .notices
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&record)?);
    } else {
        print!("{}", summary(&record));
        for n in &notices {
            println!(
                "  alert:       {} {} {} (alert {}): {}",
                n.change.as_str(),
                n.severity,
                n.kind,
                n.alert_id,
                n.message
            );
        }
    }
    let status = shell_status(record.exit_code, record.signal);
    Ok(ExitCode::from(
        u8::try_from(status.clamp(0, 255)).unwrap_or(1),
    ))
}

/// The human summary of a finished run.
pub fn summary(r: &RunRecord) -> String {
    let mut out = format!(
        "run {} of {} in slot {}: {}\n",
        r.id, r.job, r.slot, r.status
    );
    let ended = match (r.exit_code, r.signal) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => "did not start".to_owned(),
    };
    out.push_str(&format!("  ended:       {ended}\n"));
    if let Some(ms) = r.duration_ms {
        out.push_str(&format!("  duration:    {}\n", millis(ms)));
    }
    let limit = r
        .memory_limit_bytes
        .map_or_else(|| "no limit".to_owned(), |l| format!("limit {}", bytes(l)));
    let peak = r
        .usage
        .memory_peak_bytes
        .map_or_else(|| "unknown".to_owned(), bytes);
    out.push_str(&format!("  peak memory: {peak} ({limit})\n"));
    if let Some(cpu) = r.usage.cpu_usage_usec {
        let throttled = r
            .usage
            .cpu_throttled_usec
            .map(|t| format!(", throttled {}", millis(t / 1000)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  cpu time:    {}{throttled}\n",
            millis(cpu / 1000)
        ));
    }
    out.push_str(&format!(
        "  oom kills:   {}\n",
        r.usage
            .oom_kills
            .map_or("unknown".into(), |n| n.to_string())
    ));
    out.push_str(&format!("  enforcement: {}\n", r.enforcement));
    if let Some(path) = &r.log_path {
        out.push_str(&format!("  log:         {path}\n"));
    }
    if let Some(error) = &r.error {
        out.push_str(&format!("  error:       {error}\n"));
    }
    out
}
