//! One HTTP connection's bytes, watched on their way out ([`Wire`]):
//! - a write or flush that makes no progress for the stall timeout fails, so a client
//!   that stops reading cannot hold its connection (and its answer's buffers) forever;
//! - the bare answers hyper writes itself for a request it cannot parse (400, 414 URI too
//!   long, 431 header section too large: a status line, `content-length: 0`, no body) are
//!   replaced by the same status with the API's JSON error body ([`bare_answer`]), so
//!   every error a client gets has one shape. The router's own answers always have a body
//!   and are never touched.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::error::ApiError;

/// A connection's stream with the stall timeout and the bare-answer rewrite.
pub struct Wire<S> {
    inner: S,
    stall: Duration,
    /// Armed while a write or flush is pending; its end fails the connection.
    stalled: Option<Pin<Box<Sleep>>>,
    /// The JSON answer going out in place of hyper's bare one.
    replacing: Option<Replacement>,
}

/// A JSON answer written instead of hyper's bytes.
struct Replacement {
    bytes: Vec<u8>,
    /// How much of `bytes` is out.
    written: usize,
    /// The length of hyper's buffer, reported written once `bytes` all are.
    replaces: usize,
}

impl<S> Wire<S> {
    pub fn new(inner: S, stall: Duration) -> Wire<S> {
        Wire {
            inner,
            stall,
            stalled: None,
            replacing: None,
        }
    }

    /// `polled` as it is, the stall timer disarmed; or, while pending, an error once the
    /// timer ends.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let stall = self.stall;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the client read nothing for {}s", stall.as_secs()),
        )))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Wire<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Wire<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none()
            && let Some(bytes) = bare_answer(buf)
        {
            this.replacing = Some(Replacement {
                bytes,
                written: 0,
                replaces: buf.len(),
            });
        }
        let Some(replacement) = this.replacing.as_mut() else {
            let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
            return this.watch(cx, polled);
        };
        while replacement.written < replacement.bytes.len() {
            let rest = &replacement.bytes[replacement.written..];
            match Pin::new(&mut this.inner).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    replacement.written += n;
                    this.stalled = None;
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => {
                    return this.watch(cx, Poll::Pending);
                }
            }
        }
        let replaced = replacement.replaces;
        this.replacing = None;
        Poll::Ready(Ok(replaced))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.watch(cx, polled)
    }

    /// No: hyper then writes each message through one buffer, so an answer's head
    /// arrives in one piece for [`bare_answer`] to recognize.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The JSON answer replacing `buf` when `buf` is one of hyper's bare answers to a request
/// it could not parse: a whole head, status 400, 414 or 431, `content-length: 0`.
pub fn bare_answer(buf: &[u8]) -> Option<Vec<u8>> {
    let status: u16 = buf
        .strip_prefix(b"HTTP/1.1 ")?
        .get(..3)
        .and_then(|s| std::str::from_utf8(s).ok()?.parse().ok())?;
    let message = match status {
        400 => "the request is not valid HTTP/1.1",
        414 => "the request's URI is longer than 65,534 bytes",
        431 => "the request's header section is too large",
        _ => return None,
    };
    let head = std::str::from_utf8(buf).ok()?.to_ascii_lowercase();
    if !head.ends_with("\r\n\r\n") || !head.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let status = StatusCode::from_u16(status).ok()?;
    Some(ApiError::new(status, message).to_http1(&[]))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// What hyper's HTTP/1 server, through a [`Wire`], answers to `request`.
    async fn served(request: Vec<u8>) -> String {
        let (client, server) = tokio::io::duplex(1 << 20);
        let service = hyper::service::service_fn(|_req| async {
            Ok::<_, std::convert::Infallible>(hyper::Response::new(String::from("fine")))
        });
        let io = hyper_util::rt::TokioIo::new(Wire::new(server, Duration::from_secs(5)));
        let task = tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .max_buf_size(super::super::server::MAX_HEAD)
                .serve_connection(io, service)
                .await;
        });
        let (mut read, mut write) = tokio::io::split(client);
        write.write_all(&request).await.unwrap();
        let mut answer = Vec::new();
        read.read_to_end(&mut answer).await.unwrap();
        task.await.unwrap();
        String::from_utf8(answer).unwrap()
    }

    #[tokio::test]
    async fn hypers_bare_answers_get_the_json_error_body() {
        let uri = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(70_000));
        let answer = served(uri.into_bytes()).await;
        assert!(
            answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"),
            "{answer}"
        );
        assert!(answer.contains("\r\ncontent-type: application/json\r\n"));
        assert!(answer.ends_with(
            "\r\n\r\n{\"error\":{\"code\":\"uri_too_long\",\"message\":\"the request's URI is longer than 65,534 bytes\"}}"
        ), "{answer}");
        let answer = served(b"BLAH\x01 / HTTP/1.1\r\n\r\n".to_vec()).await;
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
        assert!(answer.contains("\"code\":\"bad_request\""), "{answer}");
        let fine = served(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".to_vec()).await;
        assert!(
            fine.starts_with("HTTP/1.1 200 OK\r\n") && fine.ends_with("fine"),
            "{fine}"
        );
    }

    #[test]
    fn only_bodiless_parse_errors_are_rewritten() {
        let bare =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert!(bare_answer(bare).is_some());
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n{\"error\":{}}";
        assert!(bare_answer(ours).is_none(), "an answer with a body is ours");
        let other = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        assert!(bare_answer(other).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_stalls_fails() {
        let (_client, server) = tokio::io::duplex(16);
        let mut wire = Wire::new(server, Duration::from_secs(30));
        let error = wire.write_all(&[0u8; 64]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
    }
}
