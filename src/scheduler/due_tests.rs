use chrono::TimeZone;

use super::*;

fn until() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 5, 12, 10, 0).unwrap()
}

/// A scheduled, enabled job with `concurrency: forbid`, nothing running, no dependencies.
fn quiet() -> DueJob<'static> {
    DueJob {
        asker: Asker::Schedule,
        enabled: true,
        breaker: BreakerState::Closed,
        concurrency: Concurrency::Forbid,
        dependencies: Vec::new(),
        running: Vec::new(),
        queued: false,
    }
}

fn ended(id: i64, status: RunStatus) -> Option<LastOutcome> {
    Some(LastOutcome { id, status })
}

#[test]
fn a_quiet_job_is_queued() {
    assert_eq!(decide(&quiet()), Decision::Queue);
}

#[test]
fn disabled_stops_the_schedule_but_not_a_retry_or_a_manual_run() {
    let off = DueJob {
        enabled: false,
        ..quiet()
    };
    assert_eq!(decide(&off), Decision::Ignore(Off::Disabled));
    for asker in [Asker::Retry, Asker::Manual] {
        assert_eq!(
            decide(&DueJob {
                asker,
                ..off.clone()
            }),
            Decision::Queue
        );
    }
    assert_eq!(Off::Disabled.describe("d"), "`d` is disabled");
}

#[test]
fn an_open_breaker_stops_all_but_a_manual_run() {
    let open = DueJob {
        breaker: BreakerState::Open { until: until() },
        ..quiet()
    };
    let off = Decision::Ignore(Off::BreakerOpen { until: until() });
    assert_eq!(decide(&open), off);
    let retry = DueJob {
        asker: Asker::Retry,
        ..open.clone()
    };
    assert_eq!(decide(&retry), off);
    let manual = DueJob {
        asker: Asker::Manual,
        ..open.clone()
    };
    assert_eq!(decide(&manual), Decision::Queue);
    let trial = DueJob {
        breaker: BreakerState::Trial,
        ..quiet()
    };
    assert_eq!(decide(&trial), Decision::Queue, "the trial run goes ahead");
    assert_eq!(
        Off::BreakerOpen { until: until() }.describe("flaky"),
        "`flaky`'s circuit breaker is open until 2026-12-05 12:10:00 UTC"
    );
}

#[test]
fn depends_on_skips_until_every_dependency_last_succeeded() {
    let never = DueJob {
        dependencies: vec![("a", ended(1, RunStatus::Success)), ("b", None)],
        ..quiet()
    };
    assert_eq!(
        decide(&never),
        Decision::Skip("depends_on: `b` has not run yet".into())
    );
    let failed = DueJob {
        dependencies: vec![("a", ended(7, RunStatus::Failed)), ("b", None)],
        ..quiet()
    };
    assert_eq!(
        decide(&failed),
        Decision::Skip("depends_on: `a`'s latest run (7) ended failed".into()),
        "the first unmet dependency is named"
    );
    let met = DueJob {
        dependencies: vec![("a", ended(7, RunStatus::Success))],
        ..quiet()
    };
    assert_eq!(decide(&met), Decision::Queue);
    let manual = DueJob {
        asker: Asker::Manual,
        ..never
    };
    assert!(
        matches!(decide(&manual), Decision::Skip(_)),
        "a manual run waits for its dependencies too"
    );
}

#[test]
fn forbid_skips_beside_a_running_starting_or_waiting_run() {
    let running = DueJob {
        running: vec![None, Some(41)],
        ..quiet()
    };
    assert_eq!(
        decide(&running),
        Decision::Skip("concurrency forbid: run 41 is still running".into())
    );
    let waiting = DueJob {
        queued: true,
        ..quiet()
    };
    assert_eq!(
        decide(&waiting),
        Decision::Skip("concurrency forbid: a run is already waiting".into())
    );
    let starting = DueJob {
        running: vec![None],
        ..quiet()
    };
    assert_eq!(
        decide(&starting),
        Decision::Skip("concurrency forbid: the previous run is still starting".into())
    );
}

#[test]
fn replace_replaces_only_what_is_there_and_allow_always_queues() {
    let replace = DueJob {
        concurrency: Concurrency::Replace,
        ..quiet()
    };
    assert_eq!(decide(&replace), Decision::Queue);
    let busy = DueJob {
        running: vec![Some(3)],
        ..replace.clone()
    };
    assert_eq!(decide(&busy), Decision::Replace);
    let waiting = DueJob {
        queued: true,
        ..replace
    };
    assert_eq!(decide(&waiting), Decision::Replace);
    let allow = DueJob {
        concurrency: Concurrency::Allow,
        running: vec![Some(3)],
        queued: true,
        ..quiet()
    };
    assert_eq!(decide(&allow), Decision::Queue);
}

#[test]
fn policies_apply_in_order() {
    // Disabled and tripped and unmet and busy: the first rule answers.
    let all = DueJob {
        enabled: false,
        breaker: BreakerState::Open { until: until() },
        dependencies: vec![("a", None)],
        running: vec![Some(1)],
        ..quiet()
    };
    assert_eq!(decide(&all), Decision::Ignore(Off::Disabled));
    let retry = DueJob {
        asker: Asker::Retry,
        ..all.clone()
    };
    assert_eq!(
        decide(&retry),
        Decision::Ignore(Off::BreakerOpen { until: until() })
    );
    let manual = DueJob {
        asker: Asker::Manual,
        ..all
    };
    assert_eq!(
        decide(&manual),
        Decision::Skip("depends_on: `a` has not run yet".into())
    );
}
