//! `GET /metrics` of the real daemon: a plain HTTP/1.1 request over TCP, the counters a
//! finished run leaves, their survival across a restart, 404 elsewhere, and `promtool
//! check metrics` on the text.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::helper::{Daemon, PATIENCE, Sandbox};
use crate::promtool::promtool;

use super::finished_runs;

/// The address the daemon wrote to `state/metrics.addr`.
pub(super) fn metrics_addr(sb: &Sandbox) -> String {
    let path = sb.path().join("state").join("metrics.addr");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_owned()
}

/// `GET path` with `Connection: close`: the status code, the headers (lowercase names)
/// and the body.
pub(super) fn get(addr: &str, path: &str) -> (u16, String, String) {
    get_accepting(addr, path, "*/*")
}

/// [`get`] with this `Accept` header.
fn get_accepting(addr: &str, path: &str, accept: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("a header block");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// The scrape, once the daemon shows `series` with `value`.
fn scrape_until(d: &mut Daemon<'_>, addr: &str, series: &str, value: &str) -> String {
    let line = format!("{series} {value}\n");
    d.wait_for(&format!("`{line}` on /metrics"), PATIENCE, |_| {
        let (status, _, body) = get(addr, "/metrics");
        (status == 200 && body.contains(&line)).then_some(body)
    })
}

#[test]
fn a_finished_run_shows_on_metrics_and_survives_a_restart() {
    let sb = Sandbox::new("");
    sb.job("x.yaml", "command: 'true'\n");
    let runs = r#"slotcron_job_runs_total{job="x",slot="default",status="success"}"#;
    {
        let mut d = sb.daemon();
        let addr = metrics_addr(&sb);
        d.trigger("x");
        finished_runs(&mut d, "x", 1);
        let body = scrape_until(&mut d, &addr, runs, "1");
        assert!(
            body.contains("slotcron_job_duration_seconds_count{job=\"x\"} 1\n"),
            "{body}"
        );
        assert!(
            body.contains("slotcron_job_health{job=\"x\"} 0\n"),
            "{body}"
        );
        assert!(
            body.contains("slotcron_slot_max_concurrent{slot=\"default\"} 5\n"),
            "{body}"
        );
        assert!(
            body.contains("slotcron_job_last_success_timestamp_seconds{job=\"x\"} "),
            "{body}"
        );
        assert!(
            !body.contains("slotcron_slot_memory_current_bytes{"),
            "an unconfined slot has no cgroup figures:\n{body}"
        );
        assert!(body.ends_with("# EOF\n"));

        let (status, head, _) = get(&addr, "/metrics");
        assert_eq!(status, 200);
        assert!(
            head.contains("content-type: application/openmetrics-text; version=1.0.0"),
            "{head}"
        );
        let (status, _, _) = get(&addr, "/nope");
        assert_eq!(status, 404);

        // promtool reads the classic text format only (OpenMetrics names a counter family
        // without `_total`, which it takes for a family with no samples): ask for that.
        let (status, head, classic) = get_accepting(&addr, "/metrics", "text/plain");
        assert_eq!(status, 200);
        assert!(
            head.contains("content-type: text/plain; version=0.0.4"),
            "{head}"
        );
        assert!(classic.contains(&format!("{runs} 1\n")), "{classic}");
        let (ok, out) = promtool(&["check", "metrics"], &classic);
        assert!(ok, "promtool check metrics:\n{out}\non:\n{classic}");
        let (status, head, _) = get_accepting(
            &addr,
            "/metrics",
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3",
        );
        assert_eq!(status, 200);
        assert!(
            head.contains("content-type: application/openmetrics-text"),
            "{head}"
        );
        d.stop(PATIENCE);
    }
    // A new daemon counts on from history.
    let mut d = sb.daemon();
    let addr = metrics_addr(&sb);
    let body = scrape_until(&mut d, &addr, runs, "1");
    assert!(
        body.contains("slotcron_job_duration_seconds_count{job=\"x\"} 1\n"),
        "{body}"
    );
    d.trigger("x");
    finished_runs(&mut d, "x", 2);
    scrape_until(&mut d, &addr, runs, "2");
}

#[test]
fn failures_count_by_status_and_turn_health_critical() {
    let sb = Sandbox::new("");
    sb.job(
        "flaky.yaml",
        "command: 'exit 3'\nalerts: { consecutive_failures: 2 }\n",
    );
    sb.job("broken.yaml", "command: 'true'\nslot: nowhere\n");
    let mut d = sb.daemon();
    let addr = metrics_addr(&sb);
    d.trigger("flaky");
    finished_runs(&mut d, "flaky", 1);
    let body = scrape_until(&mut d, &addr, r#"slotcron_job_health{job="flaky"}"#, "1");
    assert!(body.contains("slotcron_config_errors 1\n"), "{body}");
    d.trigger("flaky");
    finished_runs(&mut d, "flaky", 2);
    scrape_until(
        &mut d,
        &addr,
        r#"slotcron_job_runs_total{job="flaky",slot="default",status="failed"}"#,
        "2",
    );
    scrape_until(&mut d, &addr, r#"slotcron_job_health{job="flaky"}"#, "2");
}
