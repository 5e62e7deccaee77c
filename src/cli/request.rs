//! `slotcron trigger|kill|enable|disable|reload|reset`: one request to the running daemon,
//! its message printed. Exit 0 when the daemon did it, 1 when it refused (its reason on
//! stderr), 125 when it cannot be reached.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;

use super::context;
use crate::control::{Request, Response, call, socket_path};

/// How long the command line waits for each read and write on the socket.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A command that names one job.
#[derive(Debug, Args)]
pub struct JobArg {
    /// The job's name.
    pub job: String,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// The run's id (as in `slotcron status` or `slotcron history`).
    pub run_id: i64,
}

/// The socket of the daemon these settings describe (only the settings are loaded; the
/// job files are the daemon's business).
pub fn daemon_socket(config: Option<&Path>) -> Result<PathBuf> {
    let settings = context::load_settings(config)?;
    Ok(socket_path(&settings))
}

/// Sends `request` and prints the daemon's message.
///
/// # Errors
/// The settings do not load, the daemon cannot be reached, or it answers with something
/// other than a message (exit 125).
pub fn send(config: Option<&Path>, request: &Request) -> Result<ExitCode> {
    let socket = daemon_socket(config)?;
    match call(&socket, request, CALL_TIMEOUT)? {
        Response::Ok { message } => {
            println!("{message}");
            Ok(ExitCode::SUCCESS)
        }
        Response::Error { message } => Ok(refused(&message)),
        Response::Status(_) => bail!(
            "the daemon on {} answered a status report to {request:?}",
            socket.display()
        ),
    }
}

/// Prints the daemon's refusal; exit code 1.
pub fn refused(message: &str) -> ExitCode {
    eprintln!("slotcron: {message}");
    ExitCode::from(1)
}
