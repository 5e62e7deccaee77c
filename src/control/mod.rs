//! How the daemon is asked: its control socket, how `slotcron status`, `trigger`, `kill`, `enable`,
//! `disable`, `reload` and `reset` reach the running daemon.
//!
//! A Unix stream socket `slotcron.sock` in `state_dir`, owner-only (0600), carrying one
//! newline-delimited JSON request and one response per connection.
//! - [`protocol`]: the request and response types and their line encoding.
//! - [`fit`]: every answer shortened, saying so, to the frame a client reads.
//! - [`server`]: [`server::bind`] and [`server::serve`], which forward each request to the
//!   daemon's [`server::Handler`] channel; the daemon decides what a request does.
//! - [`client`]: [`client::call`], the blocking exchange the command line uses.
//! - [`outcome`]: what a request came to, for the socket and the HTTP API alike.
//! - [`handle`]: how the HTTP server, in the daemon's process, asks the event loop the same
//!   requests and its own questions ([`handle::EngineHandle`]).
//! - [`live`]: the runs and alerts the engine publishes as they happen, for
//!   `GET /api/v1/events`.
//!
//! The daemon decides and the HTTP server asks; both import these types and neither
//! imports the other's, so the server sits below the daemon that starts it (ADR 0033).
//!
//! See `docs/adr/0009-control-socket.md` for why a socket, why NDJSON and why file
//! permissions are the only access control.

pub mod client;
mod error;
pub mod fit;
pub mod handle;
pub mod live;
pub mod outcome;
pub mod protocol;
pub mod server;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use crate::config::Settings;

pub use client::call;
pub use error::ControlError;
pub use protocol::{JobState, JobStatus, Request, Response, RunningRun, SlotStatus, StatusReport};
pub use server::{Handler, bind, serve};

/// The socket's file name inside `state_dir`.
pub const SOCKET_FILE: &str = "slotcron.sock";

/// Where the daemon of these settings listens: `<state_dir>/slotcron.sock`.
pub fn socket_path(settings: &Settings) -> PathBuf {
    settings.state_dir.join(SOCKET_FILE)
}
