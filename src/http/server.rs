//! The HTTP server's own accept loop, in place of `axum::serve`, which exposes neither a
//! header-read timeout nor a cap on connections (`docs/adr/0021-connection-limits.md`).
//!
//! Every accepted connection passes the [`Gate`] (evicting the longest-idle one when the
//! budget is full, or refused with a 503 when every connection is busy), then is served by
//! hyper's HTTP/1 connection with [`HEADER_READ_TIMEOUT`] (which is also the keep-alive
//! idle timeout: hyper starts it whenever it waits for a request head), through a
//! [`Wire`] that fails writes stalled for [`WRITE_STALL_TIMEOUT`]. While a request is in
//! progress, until its answer's last byte is written, the connection is busy and is never
//! evicted; an event stream only until it starts.

use std::convert::Infallible;
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::http::{Request, Response, StatusCode};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;
use tracing::{Instrument, debug, debug_span, warn};

use super::error::ApiError;
use super::wire::Wire;
use crate::descriptors::HTTP_MAX;
use crate::gate::{Busy, Gate, Limits, Pass, Refusal, request_waiting};

/// How long a client has to send a request's head (request line and headers), counted
/// from the connection's opening or from the end of the previous answer; so it is also
/// how long a kept-alive connection may sit idle.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a write may make no progress (a client that stopped reading) before the
/// connection is closed.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest request head hyper buffers: above its 64 KiB URI limit, so a long URI is a
/// 414 and a long header section a 431, both bounded per connection.
pub const MAX_HEAD: usize = 96 * 1024;

/// How long requests in progress may go on after shutdown before they are cut.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What one server admits and how long it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Open connections in all and per peer address (the daemon's descriptor budget).
    pub connections: Limits,
    pub header_read_timeout: Duration,
    pub write_stall: Duration,
}

impl Default for ServerLimits {
    fn default() -> ServerLimits {
        ServerLimits {
            connections: Limits {
                total: HTTP_MAX,
                per_peer: HTTP_MAX / 2,
            },
            header_read_timeout: HEADER_READ_TIMEOUT,
            write_stall: WRITE_STALL_TIMEOUT,
        }
    }
}

/// Serves `app` on `listener` until `stopping` turns `true`; then stops accepting, lets
/// requests in progress finish for [`SHUTDOWN_GRACE`] and closes the rest.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    mut stopping: watch::Receiver<bool>,
) {
    let gate = Gate::new("http", limits.connections);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD);
    let http = Arc::new(http);
    let mut connections = JoinSet::new();
    let mut accepted: u64 = 0;
    let told = stopping.clone();
    loop {
        tokio::select! {
            () = stopped(&mut stopping) => break,
            Some(_) = connections.join_next() => {}
            next = accept(&gate, &listener) => match next {
                Ok((stream, peer)) => match gate.admit(Some(peer.ip())) {
                    Ok(pass) => {
                        accepted += 1;
                        let span = debug_span!("http", conn = accepted, %peer);
                        let served = Served { app: app.clone(), http: http.clone(), limits };
                        let task = served.connection(stream, pass, told.clone());
                        connections.spawn(task.instrument(span));
                    }
                    Err(refusal) => refuse(stream, peer.ip(), &refusal),
                },
                Err(error) => accept_failed(&error).await,
            },
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        debug!(
            left = connections.len(),
            "cutting HTTP connections at shutdown"
        );
    }
    connections.shutdown().await;
}

/// The next connection, once evicted ones have closed (so they cannot pile up).
async fn accept(
    gate: &Gate,
    listener: &TcpListener,
) -> io::Result<(TcpStream, std::net::SocketAddr)> {
    gate.settled().await;
    listener.accept().await
}

/// Resolves once `stopping` is `true` (or its sender is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// A failed `accept`: a connection that went away before it was accepted is nothing;
/// anything else (the descriptor limit, memory) waits a little instead of spinning.
async fn accept_failed(error: &io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    warn!(%error, "accepting an HTTP connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Answers a refused connection with a 503 in the API's error shape, as far as the
/// socket takes it without waiting, and closes it.
fn refuse(stream: TcpStream, peer: IpAddr, refusal: &Refusal) {
    debug!(%peer, %refusal, "refusing an HTTP connection");
    // Plain non-blocking syscalls: tokio's `try_*` would wait for a first readiness event.
    let Ok(stream) = stream.into_std() else {
        return;
    };
    // Read what already came, so the close is a FIN the client can read the answer
    // before, not a reset.
    let mut scratch = [0u8; 4096];
    let _ = (&stream).read(&mut scratch);
    let answer = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, refusal.to_string());
    let _ = (&stream).write(&answer.to_http1(&[("retry-after", "1")]));
}

/// What every connection is served with.
struct Served {
    app: Router,
    http: Arc<hyper::server::conn::http1::Builder>,
    limits: ServerLimits,
}

impl Served {
    /// The task serving one admitted connection until it closes, is evicted, or the server
    /// stops. Made before the next accept: a connection whose request head is there
    /// already is marked busy now, until that request reaches the router, so it cannot be
    /// evicted before the task first runs.
    fn connection(
        self,
        stream: TcpStream,
        mut pass: Pass,
        mut stopping: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let asked = request_waiting(&stream, b"\r\n\r\n").then(|| pass.conn().busy());
        let asked = std::sync::Mutex::new(asked);
        let conn = pass.conn();
        let app = self.app;
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let busy = conn.busy();
            asked.lock().unwrap_or_else(PoisonError::into_inner).take();
            answer(app.clone(), busy, request)
        });
        let io = TokioIo::new(Wire::new(stream, self.limits.write_stall));
        let http = self.http;
        async move {
            let connection = http.serve_connection(io, service);
            tokio::pin!(connection);
            let mut shutting_down = false;
            loop {
                tokio::select! {
                    served = connection.as_mut() => {
                        if let Err(error) = served {
                            debug!(%error, "connection ended");
                        }
                        return;
                    }
                    () = pass.evicted() => {
                        debug!("evicted to make room for another connection");
                        return;
                    }
                    () = stopped(&mut stopping), if !shutting_down => {
                        shutting_down = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }
}

/// One request through the router, its connection `busy` until the answer's body is
/// written or dropped; but an event stream, which only waits for news, leaves its
/// connection evictable as soon as it starts (the dashboard's `EventSource` reconnects),
/// so open streams cannot fill the budget.
async fn answer(
    app: Router,
    busy: Busy,
    request: Request<Incoming>,
) -> Result<Response<Tracked>, Infallible> {
    let response = app.oneshot(request.map(Body::new)).await?;
    let waiting = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let busy = (!waiting).then_some(busy);
    Ok(response.map(|body| Tracked { body, _busy: busy }))
}

/// An answer's body that keeps its connection busy while it lives (unless `None`).
struct Tracked {
    body: Body,
    _busy: Option<Busy>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
