//! The HTTP details a careful client relies on: the body limit holds for a chunked body
//! without `Content-Length`, the answers hyper makes itself (414, 431, 400) carry the JSON
//! error shape too, and the `Bearer` scheme is matched whatever its case (RFC 7235).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::{Answer, Schemas, addr, get, request, token};
use crate::helper::Sandbox;

/// Sends `head` (request line and headers, blank line included), then `body` in chunks
/// until it is all sent or the server stops reading, and reads the answer.
fn exchange(addr: &str, head: &str, body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    for chunk in body.chunks(64 * 1024) {
        if stream.write_all(chunk).is_err() {
            break; // refused before the end
        }
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    Answer {
        status: head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// `size` bytes as HTTP/1.1 chunks of 64 KiB, with the last chunk.
fn chunked(size: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(size + size / 1000 + 16);
    let piece = vec![b'x'; 64 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(piece.len());
        body.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        body.extend_from_slice(&piece[..n]);
        body.extend_from_slice(b"\r\n");
        left -= n;
    }
    body.extend_from_slice(b"0\r\n\r\n");
    body
}

#[test]
fn the_body_limit_holds_without_content_length_and_every_error_is_json() {
    let schemas = Schemas::load();
    let sb = Sandbox::new("");
    sb.job("quick.yaml", "command: [\"true\"]\n");
    let _daemon = sb.daemon();
    let a = addr(&sb);
    let t = token(&sb);

    // 10 MB, chunked, with a valid token: refused, not run.
    let head = format!(
        "POST /api/v1/jobs/quick/run HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {t}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let answer = exchange(&a, &head, &chunked(10_000_000));
    schemas.error(&answer, 413, "payload_too_large");
    assert!(
        sb.history(&["quick"]).is_empty(),
        "the refused request ran the job"
    );

    // A URI longer than hyper takes (64 KiB): 414, as JSON.
    let long = format!("/api/v1/jobs/{}", "a".repeat(70_000));
    let answer = get(&a, &long);
    schemas.error(&answer, 414, "uri_too_long");
    assert_eq!(answer.header("content-type"), Some("application/json"));

    // A header section over hyper's buffer: 431, as JSON.
    let big = format!("X-Filler: {}", "b".repeat(500_000));
    let answer = request(&a, "GET", "/api/v1/jobs", &[big], b"");
    schemas.error(&answer, 431, "headers_too_large");

    // A request line that is not HTTP: 400, as JSON.
    let answer = exchange(&a, "NOT HTTP AT ALL\r\n\r\n", b"");
    schemas.error(&answer, 400, "bad_request");
}

#[test]
fn the_bearer_scheme_is_matched_in_any_case() {
    let sb = Sandbox::new("");
    sb.job("quick.yaml", "command: [\"true\"]\n");
    let _daemon = sb.daemon();
    let a = addr(&sb);
    let t = token(&sb);
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let auth = format!("Authorization: {scheme} {t}");
        let answer = request(&a, "POST", "/api/v1/jobs/quick/enable", &[auth], b"");
        assert_eq!(answer.status, 200, "{scheme}: {}", answer.body);
    }
    let auth = format!("Authorization: Basic {t}");
    let answer = request(&a, "POST", "/api/v1/jobs/quick/enable", &[auth], b"");
    assert_eq!(answer.status, 401, "another scheme: {}", answer.body);
}
