//! 2,000 idle connections to the HTTP port of a daemon limited to 256 descriptors: every
//! run still succeeds, a normal request is still answered, and every idle connection is
//! closed once the header-read timeout has passed.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::limit_descriptors;
use crate::api::{addr, get};
use crate::helper::{PATIENCE, Sandbox, text};

/// Idle connections held open by the test.
const FLOOD: usize = 2000;

/// The daemon's descriptor limit (soft and hard) in this test.
const NOFILE: u64 = 256;

/// Opens up to `n` connections to `addr` (20 threads at once) and returns those that
/// connected; none of them sends a byte.
fn hold(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..20)
            .map(|_| {
                scope.spawn(move || {
                    (0..n / 20)
                        .filter_map(|_| {
                            TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    })
}

/// Whether the daemon closed `stream` before `deadline` (end of stream or reset; a
/// refusal's answer is read first).
fn closed_by(mut stream: &TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return false;
        }
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn idle_http_connections_never_make_runs_fail_and_are_closed() {
    let sb = Sandbox::new("slots:\n  default: { max_concurrent: 2, memory_max: 1G }\n");
    sb.job(
        "tick.yaml",
        "schedule: '*/1 * * * * *'\ncommand: [\"sh\", \"-c\", \"echo tick\"]\n",
    );
    let mut daemon = sb.daemon_with(|cmd| limit_descriptors(cmd, NOFILE, NOFILE));
    let a = addr(&sb);
    let finished = |d: &crate::helper::Daemon<'_>| {
        d.history("tick")
            .into_iter()
            .filter(|r| r["status"] != "running")
            .collect::<Vec<_>>()
    };
    let before = finished(&daemon).len();

    let held = hold(a.parse().unwrap(), FLOOD);
    let flooded = Instant::now();
    let runs = daemon.wait_for("5 runs during the flood", PATIENCE, |d| {
        let done = finished(d);
        (done.len() >= before + 5).then_some(done)
    });
    let failed: Vec<String> = runs[before..]
        .iter()
        .filter(|r| r["status"] != "success")
        .map(|r| format!("{} {}", text(r, "status"), text(r, "error")))
        .collect();
    assert!(
        failed.is_empty(),
        "runs failed while {} connections were held: {failed:?}",
        held.len()
    );
    let health = get(&a, "/healthz");
    assert_eq!(
        health.status, 200,
        "a normal request during the flood: {health:?}"
    );
    assert!(
        held.len() > FLOOD * 9 / 10,
        "only {} of {FLOOD} connections could be opened",
        held.len()
    );
    let log = sb.daemon_log_text();
    assert!(!log.contains("os error 24"), "descriptors ran out:\n{log}");

    // The header-read timeout (10 s) closes what eviction left open.
    let deadline = flooded + Duration::from_secs(10) + PATIENCE;
    let open = held.iter().filter(|s| !closed_by(s, deadline)).count();
    assert_eq!(
        open,
        0,
        "idle connections still open {:?} after the flood",
        flooded.elapsed()
    );
}

/// Opens `GET /api/v1/events` and reads its head; the stream stays open.
fn event_stream(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(b"GET /api/v1/events HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the stream ended");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}

#[test]
fn open_event_streams_give_way_to_a_request() {
    let sb = Sandbox::new("slots:\n  default: { max_concurrent: 2, memory_max: 1G }\n");
    let _daemon = sb.daemon_with(|cmd| limit_descriptors(cmd, NOFILE, NOFILE));
    let a = addr(&sb);
    // 256 descriptors, 2 seats: 95 HTTP connections, 47 from one address. Every one of
    // them streaming events: none idle.
    let streams: Vec<TcpStream> = (0..47).map(|_| event_stream(&a)).collect();
    let health = get(&a, "/healthz");
    assert_eq!(health.status, 200, "{health:?}");
    let deadline = Instant::now() + PATIENCE;
    assert!(
        closed_by(&streams[0], deadline),
        "the oldest stream made room"
    );
}
