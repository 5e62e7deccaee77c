//! The `slotcron` binary: parses arguments, installs tracing, dispatches to the library,
//! and turns the outcome into an exit code. Nothing else lives here.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use slotcron::cli::{Cli, execute};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter =
        EnvFilter::try_from_env("SLOTCRON_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    execute(cli)
}
