//! The `slotcron` binary: parses arguments, installs tracing, dispatches to the library,
//! and turns the outcome into an exit code. Nothing else lives here.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use slotcron::cli::{Cli, Command, execute};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A daemon's log is its record of what it did: info by default; commands stay quiet.
    let daemon = matches!(cli.command, Command::Daemon(_));
    let default = match cli.verbose {
        0 if daemon => "info",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter =
        EnvFilter::try_from_env("SLOTCRON_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        // A log that cannot be written (a full disk, a file past RLIMIT_FSIZE) loses lines;
        // the crate's default reports that with `eprintln!`, which panics when stderr
        // itself is what fails, and took the daemon down with it.
        .log_internal_errors(false)
        .init();
    execute(cli)
}
