//! The control socket under a flood of silent connections, and a status answer larger
//! than the protocol's 16 MiB frame.

use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::slotcron_within;
use crate::helper::{PATIENCE, Sandbox, stderr, wait_until};

/// Silent connections the test opens.
const SILENT: usize = 1000;

/// How long `slotcron status` may take while the flood is on (it takes milliseconds
/// without one; the CLI itself gives up after 10 s).
const STATUS_DEADLINE: Duration = Duration::from_secs(5);

/// `slotcron status --json` within [`STATUS_DEADLINE`], as JSON.
fn status_in_time(sb: &Sandbox, when: &str) -> Value {
    let out = slotcron_within(sb, &["status", "--json"], STATUS_DEADLINE)
        .unwrap_or_else(|| panic!("`slotcron status` took over {STATUS_DEADLINE:?} {when}"));
    assert!(out.status.success(), "status {when}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn status_gets_through_a_thousand_silent_control_connections() {
    let sb = Sandbox::new("");
    let _daemon = sb.daemon();
    let socket = sb.path().join("state").join("slotcron.sock");
    let opened = Arc::new(AtomicUsize::new(0));
    let count = opened.clone();
    // Connects block while the daemon's backlog is full, so a thread opens them.
    let flood = std::thread::spawn(move || {
        let mut held = Vec::new();
        for _ in 0..SILENT {
            if let Ok(stream) = UnixStream::connect(&socket) {
                held.push(stream);
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        held
    });
    assert!(
        wait_until(PATIENCE, || opened.load(Ordering::Relaxed) >= 150),
        "the flood could not open 150 connections"
    );
    let status = status_in_time(&sb, "with 150 silent connections open");
    assert!(status["pid"].is_u64(), "{status}");
    assert!(
        wait_until(PATIENCE, || flood.is_finished()),
        "the flood stalled at {} connections",
        opened.load(Ordering::Relaxed)
    );
    let held = flood.join().unwrap();
    assert_eq!(held.len(), SILENT);
    status_in_time(&sb, &format!("with {SILENT} silent connections made"));
}

#[test]
fn a_status_answer_over_the_frame_still_answers() {
    let sb = Sandbox::new("");
    sb.job("fine.yaml", "command: [\"true\"]\n");
    // One line of 17 MiB: its problem message once quoted it whole.
    let huge = format!("command: [\"true\"]\nbogus: \"{}\"\n", "x".repeat(17 << 20));
    sb.job("huge.yaml", &huge);
    let mut daemon = sb.daemon_unwaited();
    let out = daemon.wait_for("an answer to `status`", PATIENCE, |d| {
        let out = d.slotcron(&["status", "--json"]);
        let err = stderr(&out);
        assert!(!err.contains("longer than"), "{err}");
        out.status.success().then_some(out)
    });
    assert!(out.stdout.len() < 16 << 20, "{} bytes", out.stdout.len());
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["jobs"][0]["name"], "fine", "{status}");
    let problems = status["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].as_str().unwrap().contains("huge.yaml"),
        "the problem names the file"
    );
}
