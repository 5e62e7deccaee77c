//! The server and client through a real socket in a temp dir, with a fake handler task.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot};

use super::protocol::{Request, Response, decode_response};
use super::{ControlError, SOCKET_FILE, bind, call, server};

/// A served socket whose handler answers `Ok { message: "<request as Debug>" }` and
/// records every request; shut down (and the server awaited) by [`Served::stop`].
struct Served {
    _dir: tempfile::TempDir,
    path: PathBuf,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
    seen: tokio::task::JoinHandle<Vec<Request>>,
}

impl Served {
    async fn start(read_timeout: Duration) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join(SOCKET_FILE);
        let listener = bind(&path).unwrap();
        let (handler, mut requests) = mpsc::channel::<(Request, oneshot::Sender<Response>)>(8);
        let seen = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some((request, reply)) = requests.recv().await {
                let _ = reply.send(Response::ok(format!("{request:?}")));
                seen.push(request);
            }
            seen
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(server::serve_with_timeout(
            listener,
            handler,
            async {
                let _ = stopped.await;
            },
            read_timeout,
        ));
        Served {
            _dir: dir,
            path,
            stop,
            server,
            seen,
        }
    }

    /// Stops the server; the requests the handler saw.
    async fn stop(self) -> Vec<Request> {
        self.stop.send(()).unwrap();
        self.server.await.unwrap();
        assert!(!self.path.exists(), "serve left its socket file behind");
        self.seen.await.unwrap()
    }
}

/// Writes `bytes` on a raw connection, closes the write side if `close`, and reads the one
/// response line.
async fn raw(path: &Path, bytes: &[u8], close: bool) -> Response {
    let mut stream = UnixStream::connect(path).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    if close {
        stream.shutdown().await.unwrap();
    }
    let mut line = Vec::new();
    BufReader::new(stream)
        .read_until(b'\n', &mut line)
        .await
        .unwrap();
    assert_eq!(line.last(), Some(&b'\n'), "no full response line: {line:?}");
    decode_response(&line).unwrap()
}

fn error_message(response: Response) -> String {
    match response {
        Response::Error { message } => message,
        other => panic!("expected an error response, got {other:?}"),
    }
}

/// The blocking client, off the runtime's thread.
async fn call_blocking(path: &Path, request: Request) -> Result<Response, ControlError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || call(&path, &request, Duration::from_secs(5)))
        .await
        .unwrap()
}

#[tokio::test]
async fn requests_reach_the_handler_and_its_answers_come_back() {
    let served = Served::start(Duration::from_secs(5)).await;
    let answer = call_blocking(&served.path, Request::Trigger { job: "x".into() })
        .await
        .unwrap();
    assert_eq!(answer, Response::ok("Trigger { job: \"x\" }"));
    let answer = call_blocking(&served.path, Request::Kill { run_id: 12 })
        .await
        .unwrap();
    assert_eq!(answer, Response::ok("Kill { run_id: 12 }"));
    // A request without a trailing newline, the client having closed its side, counts.
    let answer = raw(&served.path, br#"{"request":"reload"}"#, true).await;
    assert_eq!(answer, Response::ok("Reload"));
    assert_eq!(
        served.stop().await,
        [
            Request::Trigger { job: "x".into() },
            Request::Kill { run_id: 12 },
            Request::Reload
        ]
    );
}

#[tokio::test]
async fn malformed_lines_get_an_error_naming_the_fault() {
    let served = Served::start(Duration::from_secs(5)).await;
    let message = error_message(raw(&served.path, b"garbage\n", false).await);
    assert!(
        message.starts_with("malformed request: expected value"),
        "{message}"
    );
    let message = error_message(raw(&served.path, b"{\"request\":\"explode\"}\n", false).await);
    assert!(message.contains("unknown variant `explode`"), "{message}");
    let message = error_message(raw(&served.path, b"\n", false).await);
    assert!(message.starts_with("empty request"), "{message}");
    let mut oversize = vec![b'a'; super::protocol::MAX_REQUEST_LINE + 10];
    oversize.push(b'\n');
    let message = error_message(raw(&served.path, &oversize, false).await);
    assert_eq!(message, "request line longer than 65536 bytes");
    // A line of exactly the limit is still read and judged on its content.
    let mut at_limit = vec![b' '; super::protocol::MAX_REQUEST_LINE - 20];
    at_limit.extend_from_slice(b"{\"request\":\"reload\"}\n");
    assert_eq!(
        raw(&served.path, &at_limit, false).await,
        Response::ok("Reload")
    );
    // None of the bad lines reached the handler.
    assert_eq!(served.stop().await, [Request::Reload]);
}

#[tokio::test]
async fn a_silent_client_gets_a_timeout_error() {
    let served = Served::start(Duration::from_millis(100)).await;
    let message = error_message(raw(&served.path, b"{\"request\":", false).await);
    assert_eq!(message, "no request line within 0.1s");
    assert!(served.stop().await.is_empty());
}

#[tokio::test]
async fn requests_after_the_handler_is_gone_get_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SOCKET_FILE);
    let listener = bind(&path).unwrap();
    let (handler, requests) = mpsc::channel(1);
    drop(requests);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(listener, handler, async {
        let _ = stopped.await;
    }));
    let answer = call_blocking(&path, Request::Status).await.unwrap();
    assert_eq!(
        error_message(answer),
        "the daemon is shutting down and no longer takes requests"
    );
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn the_socket_is_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new").join(SOCKET_FILE);
    let _listener = bind(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}

#[tokio::test]
async fn a_stale_socket_is_replaced_and_a_live_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SOCKET_FILE);
    // A daemon that died: its socket file stays, nobody accepts.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let live = bind(&path).unwrap();
    match bind(&path) {
        Err(ControlError::AlreadyRunning { path: p }) => assert_eq!(p, path),
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }
    // The refused attempt left the live socket in place.
    drop(live);
    assert!(path.exists());
    assert!(bind(&path).is_ok());
}

#[tokio::test]
async fn a_file_that_is_not_a_socket_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SOCKET_FILE);
    std::fs::write(&path, "precious").unwrap();
    assert!(matches!(bind(&path), Err(ControlError::NotASocket { .. })));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
}

#[test]
fn calling_without_a_daemon_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SOCKET_FILE);
    let expected = format!(
        "no slotcron daemon is listening on {}; start it with `slotcron daemon`",
        path.display()
    );
    // No file at all.
    let err = call(&path, &Request::Status, Duration::from_secs(1)).unwrap_err();
    assert_eq!(err.to_string(), expected);
    // A stale file nobody accepts on.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let err = call(&path, &Request::Status, Duration::from_secs(1)).unwrap_err();
    assert!(matches!(err, ControlError::NotRunning { .. }), "{err:?}");
}

#[test]
fn a_daemon_that_never_answers_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SOCKET_FILE);
    // Bound and in the backlog, but nobody ever accepts or answers.
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let err = call(&path, &Request::Status, Duration::from_millis(100)).unwrap_err();
    assert!(matches!(err, ControlError::Timeout { .. }), "{err:?}");
    assert!(
        err.to_string().ends_with("did not answer within 0.1s"),
        "{err}"
    );
}

/// Connects, yielding to the server while its backlog is full.
async fn connect(path: &Path) -> UnixStream {
    loop {
        match UnixStream::connect(path).await {
            Ok(stream) => return stream,
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

#[tokio::test]
async fn silent_connections_make_room_for_a_client_that_asks() {
    let served = Served::start(Duration::from_secs(60)).await;
    let mut silent = Vec::new();
    for _ in 0..server::MAX_CONNECTIONS * 3 {
        silent.push(connect(&served.path).await);
    }
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        call_blocking(&served.path, Request::Reload),
    )
    .await
    .expect("answered while the silent connections are open");
    assert_eq!(answer.unwrap(), Response::ok("Reload"));
    // The oldest silent connection was closed to make room, without an answer.
    let mut first = BufReader::new(silent.remove(0));
    let mut line = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), first.read_until(b'\n', &mut line));
    assert_eq!(read.await.expect("closed").unwrap(), 0);
    assert_eq!(served.stop().await, [Request::Reload]);
}

#[tokio::test]
async fn an_answer_over_the_frame_arrives_shortened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SOCKET_FILE);
    let listener = bind(&path).unwrap();
    let (handler, mut requests) = mpsc::channel::<(Request, oneshot::Sender<Response>)>(1);
    tokio::spawn(async move {
        while let Some((_, reply)) = requests.recv().await {
            let huge = format!("jobs.d/huge.yaml:2: {}", "x".repeat(17 << 20));
            let report = super::protocol::StatusReport {
                pid: 1,
                started_at: chrono::Utc::now(),
                enforcement: "none".into(),
                paused: None,
                history: Default::default(),
                slots: vec![],
                jobs: vec![],
                running: vec![],
                problems: vec![huge],
                problems_omitted: 0,
                jobs_omitted: 0,
                cgroup_root: None,
            };
            let _ = reply.send(Response::Status(Box::new(report)));
        }
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(listener, handler, async {
        let _ = stopped.await;
    }));
    let answer = call_blocking(&path, Request::Status).await.unwrap();
    let Response::Status(report) = answer else {
        panic!("{answer:?}")
    };
    assert!(report.problems[0].starts_with("jobs.d/huge.yaml:2: xxx"));
    assert!(report.problems[0].len() < 2 * super::fit::PROBLEM_EXCERPT);
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[test]
fn a_connection_closed_before_it_was_read_is_tried_again() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SOCKET_FILE);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let daemon = std::thread::spawn(move || {
        // Evicted twice without a word, then heard.
        drop(listener.accept().unwrap());
        drop(listener.accept().unwrap());
        let (stream, _) = listener.accept().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(&stream)
            .read_line(&mut line)
            .unwrap();
        (&stream)
            .write_all(b"{\"response\":\"ok\",\"message\":\"heard\"}\n")
            .unwrap();
        line
    });
    let answer = call(&path, &Request::Reload, Duration::from_secs(5)).unwrap();
    assert_eq!(answer, Response::ok("heard"));
    assert_eq!(daemon.join().unwrap(), "{\"request\":\"reload\"}\n");
}
