//! Seats and queues: a slot's `max_concurrent` holds runs back until a seat frees, and its
//! `queue_limit` turns the run one too many into a `skipped` one.

use super::{finished_runs, state};
use crate::helper::{Sandbox, stderr, text, time};

#[test]
fn a_slot_with_two_seats_runs_two_jobs_and_queues_the_third() {
    let sb = Sandbox::new("slots:\n  default: { max_concurrent: 2, memory_max: 1G }\n");
    for job in ["a", "b", "c"] {
        sb.job(&format!("{job}.yaml"), "command: sleep 1\n");
    }
    let mut d = sb.daemon();
    assert_eq!(d.trigger("a"), "`a` started\n");
    assert_eq!(d.trigger("b"), "`b` started\n");
    assert_eq!(d.trigger("c"), "`c` is queued in its slot\n");

    let [a, b, c] = ["a", "b", "c"].map(|job| finished_runs(&mut d, job, 1).remove(0));
    for run in [&a, &b, &c] {
        assert_eq!(text(run, "status"), "success", "{run}");
    }
    // a and b ran at the same time; c only once one of them had ended.
    let (a_start, a_end) = (time(&a, "started_at"), time(&a, "finished_at"));
    let (b_start, b_end) = (time(&b, "started_at"), time(&b, "finished_at"));
    assert!(
        a_start < b_end && b_start < a_end,
        "a and b overlap: {a} {b}"
    );
    let first_end = a_end.min(b_end);
    assert!(
        time(&c, "started_at") >= first_end,
        "c waited for a seat: {c}\n{a}\n{b}"
    );
    assert!(time(&c, "queued_at") < time(&c, "started_at"), "{c}");
    assert!(c["wait_ms"].as_u64().unwrap() > 0, "{c}");
    assert_eq!(state(&d, "c"), "idle");
}

#[test]
fn a_run_beyond_the_queue_limit_is_skipped_and_trigger_says_so() {
    let sb =
        Sandbox::new("slots:\n  default: { max_concurrent: 1, memory_max: 1G, queue_limit: 1 }\n");
    sb.job("a.yaml", "command: sleep 1\n")
        .job("b.yaml", "command: 'true'\n")
        .job("c.yaml", "command: 'true'\n");
    let mut d = sb.daemon();
    assert_eq!(d.trigger("a"), "`a` started\n");
    assert_eq!(d.trigger("b"), "`b` is queued in its slot\n");
    assert_eq!(state(&d, "b"), "queued");
    let slot = &d.status()["slots"][0];
    assert_eq!(
        (slot["running"].as_u64(), slot["queued"].as_u64()),
        (Some(1), Some(1))
    );

    let out = d.slotcron(&["trigger", "c"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "slotcron: `c` skipped: slot `default` already has 1 runs waiting (queue_limit)\n"
    );
    let c = d.history("c");
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(text(&c[0], "status"), "skipped");
    assert!(text(&c[0], "error").contains("queue_limit"), "{}", c[0]);

    // The queued run still gets its seat when a's ends.
    let a = finished_runs(&mut d, "a", 1).remove(0);
    let b = finished_runs(&mut d, "b", 1).remove(0);
    assert_eq!(text(&b, "status"), "success", "{b}");
    assert!(
        time(&b, "started_at") >= time(&a, "finished_at"),
        "{a}\n{b}"
    );
}
