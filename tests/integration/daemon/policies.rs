//! The per-job policies: `concurrency`, `limits.timeout`, `retries`, `breaker`,
//! `depends_on`, `after` and `blocks`.

use std::time::Duration;

use serde_json::Value;

use super::{EVERY_SECOND, finished_runs, running_id, state};
use crate::helper::{Sandbox, stderr, stdout, text, time};

#[test]
fn concurrency_forbid_skips_a_second_run_while_the_first_goes() {
    let sb = Sandbox::new("");
    sb.job("slow.yaml", "command: sleep 2\n");
    let d = sb.daemon();
    d.trigger("slow");
    let out = d.slotcron(&["trigger", "slow"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("concurrency forbid"),
        "{}",
        stderr(&out)
    );
    let runs = d.history("slow");
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(text(&runs[0], "status"), "running", "{}", runs[0]);
    assert_eq!(text(&runs[1], "status"), "skipped", "{}", runs[1]);
    assert!(
        text(&runs[1], "error").contains("concurrency forbid"),
        "{}",
        runs[1]
    );
}

#[test]
fn concurrency_replace_kills_the_running_run_and_starts_the_new_one() {
    let sb = Sandbox::new("");
    sb.job("swap.yaml", "command: sleep 1\nconcurrency: replace\n");
    let mut d = sb.daemon();
    d.trigger("swap");
    let first = running_id(&mut d, "swap");
    d.trigger("swap");
    let runs = finished_runs(&mut d, "swap", 2);
    assert_eq!(runs[0]["id"].as_i64(), Some(first));
    assert_eq!(text(&runs[0], "status"), "killed", "{}", runs[0]);
    assert_eq!(
        (text(&runs[1], "status"), text(&runs[1], "trigger")),
        ("success", "manual"),
        "{}",
        runs[1]
    );
}

#[test]
fn a_run_over_its_timeout_is_stopped_and_recorded_timeout() {
    let sb = Sandbox::new("");
    sb.job("slow.yaml", "command: sleep 30\nlimits: { timeout: 1s }\n")
        // Ignores SIGTERM (and so does its sleep): only the SIGKILL after kill_grace (1s
        // in the sandbox) ends it.
        .job(
            "stubborn.yaml",
            "command: trap '' TERM; sleep 30\nlimits: { timeout: 1s }\n",
        );
    let mut d = sb.daemon();
    d.trigger("slow");
    d.trigger("stubborn");
    for job in ["slow", "stubborn"] {
        let run = finished_runs(&mut d, job, 1).remove(0);
        assert_eq!(text(&run, "status"), "timeout", "{run}");
        let ms = run["duration_ms"].as_u64().unwrap();
        assert!((1000..5000).contains(&ms), "{run}");
    }
}

#[test]
fn a_failing_job_is_retried_with_doubling_backoff() {
    let sb = Sandbox::new("");
    sb.job(
        "flaky.yaml",
        "command: exit 3\nretries: 2\nretry_delay: 1s\n",
    );
    let mut d = sb.daemon();
    d.trigger("flaky");
    let runs = finished_runs(&mut d, "flaky", 3);
    assert_eq!(runs.len(), 3, "{runs:?}");
    let first = runs[0]["id"].clone();
    let seen: Vec<(u64, &str, &str, i64, Value)> = runs
        .iter()
        .map(|r| {
            (
                r["attempt"].as_u64().unwrap(),
                text(r, "trigger"),
                text(r, "status"),
                r["exit_code"].as_i64().unwrap(),
                r["retry_of"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, "manual", "failed", 3, Value::Null),
            (2, "retry", "failed", 3, first.clone()),
            (3, "retry", "failed", 3, first),
        ]
    );
    let start = |i: usize| time(&runs[i], "started_at");
    assert!(
        start(1) - start(0) >= chrono::Duration::seconds(1),
        "{runs:?}"
    );
    assert!(
        start(2) - start(1) >= chrono::Duration::seconds(2),
        "{runs:?}"
    );
    d.holds_for("no fourth attempt", Duration::from_millis(500), |d| {
        d.history("flaky").len() == 3
    });
}

#[test]
fn a_tripped_breaker_stops_the_schedule_until_reset() {
    let sb = Sandbox::new("");
    sb.job(
        "broken.yaml",
        &format!("command: exit 1\n{EVERY_SECOND}breaker: {{ failures: 2, cooldown: 1h }}\n"),
    );
    let mut d = sb.daemon();
    let runs = finished_runs(&mut d, "broken", 2);
    assert!(runs.iter().all(|r| r["status"] == "failed"), "{runs:?}");
    d.holds_for(
        "no run after the breaker tripped",
        Duration::from_secs(3),
        |d| d.history("broken").len() == 2,
    );
    let job = d.job_status("broken").unwrap();
    assert_eq!(text(&job["state"], "kind"), "tripped", "{job}");
    // Closed again an hour (the cooldown) after the last failure.
    let until = time(&job["state"], "until");
    let last_failure = time(&runs[1], "finished_at");
    assert!(
        (until - last_failure - chrono::Duration::hours(1))
            .num_seconds()
            .abs()
            <= 1,
        "{job}\n{}",
        runs[1]
    );
    assert_eq!(job["consecutive_failures"], 2, "{job}");

    let out = d.slotcron(&["reset", "broken"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "`broken`'s circuit breaker reset; it is scheduled again\n"
    );
    let runs = finished_runs(&mut d, "broken", 3);
    assert_eq!(text(&runs[2], "trigger"), "schedule", "{}", runs[2]);
}

#[test]
fn depends_on_skips_without_a_success_and_after_follows_one() {
    let sb = Sandbox::new("");
    sb.job("a.yaml", "command: 'true'\n")
        .job("b.yaml", "command: 'true'\ndepends_on: [a]\n")
        .job("c.yaml", "command: 'true'\nafter: [a]\n");
    let mut d = sb.daemon();
    let out = d.slotcron(&["trigger", "b"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(
        stderr(&out),
        "slotcron: `b` skipped: depends_on: `a` has not run yet\n"
    );
    let b = d.history("b");
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(text(&b[0], "status"), "skipped");
    assert!(text(&b[0], "error").contains("depends_on"), "{}", b[0]);

    d.trigger("a");
    let a = finished_runs(&mut d, "a", 1).remove(0);
    let c = finished_runs(&mut d, "c", 1).remove(0);
    assert_eq!(text(&a, "status"), "success", "{a}");
    assert_eq!(
        (text(&c, "trigger"), text(&c, "status")),
        ("after:a", "success"),
        "{c}"
    );
    assert!(
        time(&c, "started_at") >= time(&a, "finished_at"),
        "{a}\n{c}"
    );
    // With a's success on record, b may run.
    d.trigger("b");
    let b = finished_runs(&mut d, "b", 2);
    assert_eq!(text(&b[1], "status"), "success", "{}", b[1]);
}

#[test]
fn blocks_holds_either_job_back_while_the_other_runs() {
    let sb = Sandbox::new("");
    sb.job("a.yaml", "command: sleep 1\nblocks: [b]\n")
        .job("b.yaml", "command: sleep 1\n");
    let mut d = sb.daemon();
    for (first, second) in [("a", "b"), ("b", "a")] {
        assert_eq!(d.trigger(first), format!("`{first}` started\n"));
        assert_eq!(
            d.trigger(second),
            format!("`{second}` is queued in its slot\n")
        );
        assert_eq!(state(&d, second), "queued");
        let n = d.history(second).len() + 1;
        let waited = finished_runs(&mut d, second, n).pop().unwrap();
        let blocker = d.history(first).pop().unwrap();
        assert_eq!(text(&waited, "status"), "success", "{waited}");
        assert!(
            time(&waited, "started_at") >= time(&blocker, "finished_at"),
            "{blocker}\n{waited}"
        );
        assert!(waited["wait_ms"].as_u64().unwrap() > 0, "{waited}");
    }
}
