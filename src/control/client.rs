//! The client's end: one blocking request/response exchange, for the command line.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::error::ControlError;
use super::protocol::{MAX_RESPONSE_LINE, Request, Response, decode_response, encode};

/// How many more times a request is sent when the daemon closed the connection before it
/// read it: it evicts connections that have sent nothing when others crowd in (ADR 0021),
/// and a client descheduled between `connect` and `write` can look silent.
const RETRIES: u32 = 2;

/// Sends `request` to the daemon listening on `path` and returns its answer.
///
/// `timeout` bounds each read and write on the socket, so a daemon that accepted but hangs
/// cannot block the command line forever. A connection the daemon closed before reading
/// the request (a reset, a broken pipe, no answer at all) is tried again, twice at most.
///
/// # Errors
/// [`ControlError::NotRunning`] when nothing listens on `path` (no file, or a stale one);
/// [`ControlError::Timeout`] when the daemon does not answer in time;
/// [`ControlError::NoAnswer`] / [`ControlError::BadResponse`] when it closes without a
/// response or answers something unreadable; [`ControlError::Io`] for anything else
/// (e.g. permission denied: the socket is owner-only).
pub fn call(path: &Path, request: &Request, timeout: Duration) -> Result<Response, ControlError> {
    let mut tries = 0;
    loop {
        match exchange(path, request, timeout) {
            Err(error) if unheard(&error) && tries < RETRIES => tries += 1,
            answered => return answered,
        }
    }
}

/// Whether the daemon closed the connection without having read the request.
fn unheard(error: &ControlError) -> bool {
    match error {
        ControlError::NoAnswer { .. } => true,
        ControlError::Io { source, .. } => matches!(
            source.kind(),
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
        ),
        _ => false,
    }
}

/// One connection, one request, one answer.
fn exchange(path: &Path, request: &Request, timeout: Duration) -> Result<Response, ControlError> {
    let mut stream = UnixStream::connect(path).map_err(|source| match source.kind() {
        ErrorKind::NotFound | ErrorKind::ConnectionRefused => ControlError::NotRunning {
            path: path.to_path_buf(),
        },
        _ => ControlError::Io {
            op: "connect to the control socket",
            path: path.to_path_buf(),
            source,
        },
    })?;
    let timed_out = |source: std::io::Error, op: &'static str| {
        if matches!(source.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
            ControlError::Timeout {
                path: path.to_path_buf(),
                timeout,
            }
        } else {
            ControlError::Io {
                op,
                path: path.to_path_buf(),
                source,
            }
        }
    };
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(ControlError::io("set timeouts on", path))?;
    stream
        .write_all(&encode(request))
        .map_err(|e| timed_out(e, "send the request to"))?;
    let mut reader = BufReader::new(stream.take(MAX_RESPONSE_LINE as u64 + 1));
    let mut line = Vec::new();
    reader
        .read_until(b'\n', &mut line)
        .map_err(|e| timed_out(e, "read the answer from"))?;
    match line.pop() {
        None => Err(ControlError::NoAnswer {
            path: path.to_path_buf(),
        }),
        Some(b'\n') => decode_response(&line).map_err(|e| ControlError::BadResponse {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
        Some(_) => Err(ControlError::BadResponse {
            path: path.to_path_buf(),
            reason: if line.len() >= MAX_RESPONSE_LINE {
                format!("the answer is longer than {MAX_RESPONSE_LINE} bytes")
            } else {
                "the answer ends without a newline".to_owned()
            },
        }),
    }
}
