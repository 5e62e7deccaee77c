//! The one error type of the control socket, for both ends. Every variant names the socket
//! path; the ones a user can act on say how.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Why binding, serving or calling the control socket failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Nothing listens on the socket: the file is missing, or left over and refusing.
    #[error("no slotcron daemon is listening on {path}; start it with `slotcron daemon`")]
    NotRunning { path: PathBuf },

    /// Another daemon answers on the socket this one wanted to bind.
    #[error("another slotcron daemon is already listening on {path}")]
    AlreadyRunning { path: PathBuf },

    /// Something other than a socket sits where the socket should be; it is left alone.
    #[error("{path} exists and is not a socket; remove it or choose another state_dir")]
    NotASocket { path: PathBuf },

    /// The directory that should hold the socket could not be created.
    #[error("cannot create directory {path} for the control socket: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A file-system or socket operation failed; `op` says which.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done, e.g. `"bind the control socket"`.
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The daemon did not answer in time.
    #[error("the slotcron daemon on {path} did not answer within {}s", timeout.as_secs_f64())]
    Timeout { path: PathBuf, timeout: Duration },

    /// The daemon closed the connection without a response line.
    #[error("the slotcron daemon on {path} closed the connection without answering")]
    NoAnswer { path: PathBuf },

    /// The answer is not a response this slotcron understands (another version, or not
    /// slotcron at all).
    #[error(
        "cannot read the answer of the daemon on {path} (is it another slotcron version?): \
         {reason}"
    )]
    BadResponse { path: PathBuf, reason: String },
}

impl ControlError {
    /// A closure for `map_err` that wraps an I/O error with what was done and where.
    pub(crate) fn io(op: &'static str, path: &std::path::Path) -> impl FnOnce(io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| ControlError::Io { op, path, source }
    }
}
