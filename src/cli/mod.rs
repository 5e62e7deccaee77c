//! The command line: argument definitions and one function per subcommand. `main` parses,
//! installs tracing and calls [`execute`]; every subcommand returns its exit code.

mod alerts;
mod baselines;
mod check;
mod context;
mod daemon;
mod discover;
mod export;
mod generate;
mod history;
mod import;
mod jobs;
mod next;
mod plan;
mod prune;
mod request;
mod run;
mod signals;
mod slots;
mod status;
pub mod table;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::control::Request;

/// Exit code of slotcron's own failures (bad configuration, unusable history, required
/// enforcement unavailable), kept apart from a job's exit codes as `docker run` and `env` do.
pub const EXIT_SLOTCRON_FAILED: u8 = 125;

/// slotcron: run jobs in cgroup v2 slots with limits the kernel enforces.
#[derive(Debug, Parser)]
#[command(name = "slotcron", version, about, propagate_version = true)]
pub struct Cli {
    /// The configuration file (default: for a user other than root
    /// ~/.config/slotcron/slotcron.yaml if it exists, else /etc/slotcron/slotcron.yaml if it
    /// exists, else built-in defaults with ./jobs.d and state in ./.slotcron).
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "SLOTCRON_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// More log output (-v info, -vv debug); `SLOTCRON_LOG` takes a full filter.
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load the configuration and every job file, print every problem; exit 1 if any.
    Check,
    /// Run one job now in its slot, wait for it, and exit with its status.
    Run(run::RunArgs),
    /// List the jobs.
    Jobs(jobs::JobsArgs),
    /// List the slots, their limits and, where cgroups are live, their usage.
    Slots(slots::SlotsArgs),
    /// Show past runs, newest first.
    History(history::HistoryArgs),
    /// Run the scheduler: every enabled job when due, in its slot (until SIGTERM).
    Daemon(daemon::DaemonArgs),
    /// Prune history past `retention` now (the daemon does it daily).
    Prune(prune::PruneArgs),
    /// Show a job's next fire times, in its zone and in UTC.
    Next(next::NextArgs),
    /// Forecast the next hours (default 24) through the scheduler's own rules: each run's
    /// queue time, start, end and wait, each slot's peaks, and what to look at.
    Plan(plan::PlanArgs),
    /// Ask the running daemon for its slots, runs in progress, jobs and problems.
    Status(status::StatusArgs),
    /// Ask the daemon to queue a run of a job now.
    Trigger(request::JobArg),
    /// Ask the daemon to stop a run in progress.
    Kill(request::KillArgs),
    /// Enable a job in the daemon, overriding its file.
    Enable(request::JobArg),
    /// Disable a job in the daemon, overriding its file (runs in progress continue).
    Disable(request::JobArg),
    /// Ask the daemon to re-read the job files now.
    Reload,
    /// Close a job's tripped circuit breaker so its schedule fires again.
    Reset(request::JobArg),
    /// List the open alerts (with --all, resolved ones too), newest first.
    Alerts(alerts::AlertsArgs),
    /// Acknowledge an alert: it stays open until resolved but no longer notifies.
    Ack(alerts::AckArgs),
    /// Print the HTTP API's bearer token (made by the daemon on its first start).
    Token,
    /// Compute job baselines again from their newest successful runs (no daemon needed).
    RecalculateBaselines(baselines::RecalculateArgs),
    /// Find scripts in folders and propose a disabled job file for each.
    ///
    /// Without --write (or with --dry-run) it prints each job file it would write and
    /// writes nothing; --write writes jobs_dir/auto_<name>.yaml, disabled and marked with
    /// a content hash. Re-runs update only marked files nobody edited; edited or
    /// hand-written files are skipped. -v/--verbose prints why each value was chosen.
    /// Symlinks are followed; loops, binary files and clashing names are skipped.
    ///
    /// Exit status: 0 when every script was handled or deliberately skipped; 1 when a
    /// path could not be read or written (unreadable file, dangling link, missing folder,
    /// failed write); 125 when the configuration is unusable.
    Discover(discover::DiscoverArgs),
    /// Turn a crontab into job files: prints them, or writes them with --write.
    ImportCrontab(import::ImportArgs),
    /// Write the jobs as systemd units or Kubernetes CronJobs.
    Export(export::ExportArgs),
    /// Write the manual pages or print shell completions (a packaging step).
    #[command(hide = true)]
    Generate(generate::GenerateArgs),
}

/// Runs the parsed command.
pub fn execute(cli: Cli) -> ExitCode {
    let config = cli.config.as_deref();
    let result = match cli.command {
        Command::Check => check::check(config),
        Command::Run(args) => run::run(config, &args),
        Command::Jobs(args) => jobs::jobs(config, &args),
        Command::Slots(args) => slots::slots(config, &args),
        Command::History(args) => history::history(config, &args),
        Command::Daemon(args) => daemon::daemon(config, &args),
        Command::Next(args) => next::next(config, &args),
        Command::Plan(args) => plan::plan(config, &args),
        Command::Prune(args) => prune::prune(config, &args),
        Command::Status(args) => status::status(config, &args),
        Command::Trigger(a) => request::send(config, &Request::Trigger { job: a.job }),
        Command::Kill(a) => request::send(config, &Request::Kill { run_id: a.run_id }),
        Command::Enable(a) => request::send(config, &Request::Enable { job: a.job }),
        Command::Disable(a) => request::send(config, &Request::Disable { job: a.job }),
        Command::Reload => request::send(config, &Request::Reload),
        Command::Reset(a) => request::send(config, &Request::Reset { job: a.job }),
        Command::Alerts(args) => alerts::alerts(config, &args),
        Command::Ack(args) => alerts::ack(config, &args),
        Command::RecalculateBaselines(args) => baselines::recalculate(config, &args),
        Command::Discover(args) => discover::discover(config, &args, cli.verbose > 0),
        Command::ImportCrontab(args) => import::import(config, &args),
        Command::Export(args) => export::export(config, &args),
        Command::Token => token::token(config),
        Command::Generate(args) => generate::generate(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("slotcron: {error:#}");
            ExitCode::from(EXIT_SLOTCRON_FAILED)
        }
    }
}
