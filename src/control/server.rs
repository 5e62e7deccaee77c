//! The daemon's end: [`bind`] the socket owner-only, then [`serve`] it until shutdown,
//! forwarding every request to the daemon's [`Handler`] and writing back its answer.
//!
//! The server never interprets a request; it only frames, bounds and times them. Every
//! connection that sends something gets exactly one response line, an
//! [`Response::Error`] when the line is oversize, malformed or late, or when the handler
//! is gone, and never longer than a client reads (`super::fit`).
//!
//! At most [`MAX_CONNECTIONS`] are open at once (`crate::gate`): a newcomer evicts the
//! connection that has waited longest without sending its request, so silent
//! connections, however many, cannot keep `slotcron status` out; only when every
//! connection is busy with a request is the newcomer refused, with an error line.

use std::future::Future;
use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::stat::{Mode, umask};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tracing::{Instrument, debug, info_span, warn};

use super::error::ControlError;
use super::fit::encode_for_client;
use super::protocol::{MAX_REQUEST_LINE, Request, Response, decode_request};
use crate::gate::{Busy, Gate, Limits, Pass, request_waiting};

/// Where the server sends each request, with the channel for its answer. The daemon owns
/// the receiving end; dropping it makes the server answer every request with an error.
pub type Handler = mpsc::Sender<(Request, oneshot::Sender<Response>)>;

/// How long a connection may take to send its request line.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections open at once; a newcomer evicts the one silent longest, or is refused when
/// all are busy with a request.
pub const MAX_CONNECTIONS: usize = 64;

/// How long [`serve`] lets connections in progress finish after shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Binds the control socket at `path`, readable and writable by the owner only (0600).
///
/// A socket file left by a daemon that died is replaced; one on which a daemon still
/// answers is not. The probe-then-remove is not atomic: two daemons starting at the same
/// moment on one state dir must be kept apart by a lock of their own.
///
/// # Errors
/// [`ControlError::AlreadyRunning`] if a daemon answers on `path`,
/// [`ControlError::NotASocket`] if another kind of file is there, and I/O errors (with
/// their path) creating the directory, removing the stale socket, binding or chmod.
///
/// # Panics
/// Outside a tokio runtime (the listener registers with its reactor).
pub fn bind(path: &Path) -> Result<UnixListener, ControlError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::owner_only::create_dir_all(dir).map_err(|source| ControlError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    remove_stale(path)?;
    let listener = {
        // Owner-only from the first instant: with 0177 the kernel creates the socket file
        // 0600, so there is no window in which another user could connect. The umask is
        // process-wide; for this instant it can only make a file created elsewhere
        // stricter, never looser.
        let old = umask(Mode::from_bits_truncate(0o177));
        let bound = std::os::unix::net::UnixListener::bind(path);
        umask(old);
        bound.map_err(ControlError::io("bind the control socket", path))?
    };
    // Exactly 0600 whatever the umask allowed; a failure here must not leave a socket
    // that others may use.
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        let _ = std::fs::remove_file(path);
        return Err(ControlError::io("chmod 0600", path)(e));
    }
    listener
        .set_nonblocking(true)
        .map_err(ControlError::io("set non-blocking", path))?;
    UnixListener::from_std(listener).map_err(ControlError::io("register the listener", path))
}

/// Removes a socket file nobody answers on; refuses a live socket and non-sockets.
fn remove_stale(path: &Path) -> Result<(), ControlError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(ControlError::io("inspect", path)(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(ControlError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(ControlError::AlreadyRunning {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
            debug!(path = %path.display(), "removing stale control socket");
            std::fs::remove_file(path).map_err(ControlError::io("remove stale socket", path))
        }
        Err(e) => Err(ControlError::io("probe the existing socket", path)(e)),
    }
}

/// Serves `listener` until `shutdown` resolves: one task per connection (at most
/// [`MAX_CONNECTIONS`] open at once, the longest silent evicted for a newcomer), each
/// reading one request within [`READ_TIMEOUT`], forwarding it to `handler` and writing back
/// the answer. After shutdown it stops accepting, gives connections in progress
/// [`SHUTDOWN_GRACE`] to finish, and removes the socket file so clients see at once that
/// no daemon is listening.
pub async fn serve(listener: UnixListener, handler: Handler, shutdown: impl Future<Output = ()>) {
    serve_with_timeout(listener, handler, shutdown, READ_TIMEOUT).await;
}

/// [`serve`] with another read timeout (tests use a short one).
pub async fn serve_with_timeout(
    listener: UnixListener,
    handler: Handler,
    shutdown: impl Future<Output = ()>,
    read_timeout: Duration,
) {
    let path: Option<PathBuf> = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(Path::to_path_buf));
    let gate = Gate::new(
        "control",
        Limits {
            total: MAX_CONNECTIONS,
            per_peer: MAX_CONNECTIONS,
        },
    );
    let mut connections = JoinSet::new();
    let mut accepted_total: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next() => {}
            // Once evicted connections have closed, so they cannot pile up.
            accepted = async { gate.settled().await; listener.accept().await } => match accepted {
                Ok((stream, _)) => match gate.admit(None) {
                    Ok(pass) => {
                        accepted_total += 1;
                        let span = info_span!("control", conn = accepted_total);
                        // A client whose request is there already is never evicted.
                        let asked = request_waiting(&stream, b"\n").then(|| pass.conn().busy());
                        let served = connection(stream, pass, asked, handler.clone(), read_timeout);
                        connections.spawn(served.instrument(span));
                    }
                    Err(refusal) => refuse(stream, &refusal),
                },
                Err(error) => {
                    // EMFILE and the like: wait a little instead of spinning.
                    warn!(%error, "accepting a control connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        debug!(
            left = connections.len(),
            "aborting control connections at shutdown"
        );
    }
    connections.shutdown().await;
    if let Some(path) = path {
        let _ = std::fs::remove_file(path);
    }
}

/// Tells a refused client why, as far as the socket takes it now, and closes it.
fn refuse(stream: UnixStream, refusal: &crate::gate::Refusal) {
    debug!(%refusal, "refusing a control connection");
    let busy = encode_for_client(Response::error(format!("the daemon is busy: {refusal}")));
    // A plain non-blocking write: tokio's `try_write` would wait for a readiness event.
    if let Ok(stream) = stream.into_std() {
        let _ = std::io::Write::write(&mut &stream, &busy);
    }
}

/// One connection: read one bounded line (unless evicted first), answer it, close.
async fn connection(
    stream: UnixStream,
    mut pass: Pass,
    _asked: Option<Busy>,
    handler: Handler,
    read_timeout: Duration,
) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read.take(MAX_REQUEST_LINE as u64 + 1));
    let mut line = Vec::new();
    let read = tokio::select! {
        read = tokio::time::timeout(read_timeout, reader.read_until(b'\n', &mut line)) => read,
        () = pass.evicted() => {
            debug!("evicted before sending a request");
            return;
        }
    };
    // From here on the connection is busy: never evicted while its request is handled.
    let _busy = pass.conn().busy();
    let response = match read {
        Err(_) => Response::error(format!(
            "no request line within {}s",
            read_timeout.as_secs_f64()
        )),
        Ok(Err(error)) => {
            debug!(%error, "reading a control request failed");
            Response::error(format!("cannot read the request: {error}"))
        }
        Ok(Ok(0)) => return, // connected and closed without a word: nobody to answer
        Ok(Ok(_)) => {
            if line.last() == Some(&b'\n') {
                line.pop();
                answer(&line, &handler).await
            } else if line.len() > MAX_REQUEST_LINE {
                Response::error(format!("request line longer than {MAX_REQUEST_LINE} bytes"))
            } else {
                // The client closed its side after the request without a newline.
                answer(&line, &handler).await
            }
        }
    };
    if let Response::Error { message } = &response {
        debug!(%message, "control request refused");
    }
    if let Err(error) = write.write_all(&encode_for_client(response)).await {
        debug!(%error, "the control client left before the answer");
    }
    let _ = write.shutdown().await;
}

/// Decodes the line and asks the handler.
async fn answer(line: &[u8], handler: &Handler) -> Response {
    let request = match decode_request(line) {
        Ok(request) => request,
        Err(message) => return Response::error(message),
    };
    debug!(?request, "control request");
    let (reply, answered) = oneshot::channel();
    if handler.send((request, reply)).await.is_err() {
        return Response::error("the daemon is shutting down and no longer takes requests");
    }
    answered
        .await
        .unwrap_or_else(|_| Response::error("the daemon dropped the request without answering"))
}
