//! Recording runs: the full life of a run, its guards, and listing.

use super::*;
use crate::model::{IoStat, RunUsage};
use crate::store::{RunFilter, RunRecord, StoreError};

#[test]
fn start_process_finish_round_trips_every_field() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let first = store.start_run(&new_run("backup")).unwrap();
    let run = NewRun {
        trigger: "retry".to_owned(),
        attempt: 2,
        retry_of: Some(first),
        queued_at: Some(at(9_500)),
        started_at: at(10_123),
        ..new_run("backup")
    };
    let id = store.start_run(&run).unwrap();
    store
        .set_run_process(id, None, None, Some("/var/log/slotcron/backup/2.log"))
        .unwrap();
    store
        .set_run_process(
            id,
            Some(4242),
            Some("/sys/fs/cgroup/slotcron.slice/batch/run-2"),
            None,
        )
        .unwrap();

    let running = store.run(id).unwrap().unwrap();
    assert_eq!(running.status, RunStatus::Running);
    assert_eq!((running.finished_at, running.duration_ms), (None, None));
    assert_eq!(
        running.log_path.as_deref(),
        Some("/var/log/slotcron/backup/2.log")
    );

    let done = oom_killed();
    store.finish_run(id, &done).unwrap();

    let expected = recorded(id, first);
    assert_eq!(store.run(id).unwrap(), Some(expected));
    assert_eq!(store.run(id + 1).unwrap(), None);
}

/// The io figures of the round-tripped run.
const IO: IoStat = IoStat {
    rbytes: 4096,
    wbytes: 10 << 20,
    rios: 1,
    wios: 80,
};

/// How the round-tripped run ends: killed at its memory limit, every figure set.
fn oom_killed() -> RunCompletion {
    RunCompletion {
        status: RunStatus::OomKilled,
        exit_code: None,
        signal: Some(9),
        finished_at: at(12_456),
        duration_ms: 2_333,
        usage: RunUsage {
            memory_peak_bytes: Some(536_870_912),
            cpu_usage_usec: Some(1_900_000),
            cpu_user_usec: Some(1_500_000),
            cpu_system_usec: Some(400_000),
            cpu_throttled_usec: Some(250_000),
            oom_kills: Some(1),
            pids_peak: Some(17),
            io: Some(IO),
        },
        error: Some("killed by the OOM killer at memory.max".to_owned()),
        pressure: None,
    }
}

/// The row the round-tripped run (`id`, a retry of `first`) must read back as.
fn recorded(id: i64, first: i64) -> RunRecord {
    RunRecord {
        id,
        job: "backup".to_owned(),
        slot: "batch".to_owned(),
        status: RunStatus::OomKilled,
        exit_code: None,
        signal: Some(9),
        started_at: at(10_123),
        finished_at: Some(at(12_456)),
        duration_ms: Some(2_333),
        usage: RunUsage {
            memory_peak_bytes: Some(536_870_912),
            cpu_usage_usec: Some(1_900_000),
            cpu_user_usec: Some(1_500_000),
            cpu_system_usec: Some(400_000),
            cpu_throttled_usec: Some(250_000),
            oom_kills: Some(1),
            pids_peak: Some(17),
            io: Some(IO),
        },
        memory_limit_bytes: Some(536_870_912),
        enforcement: Enforcement::Cgroup,
        trigger: "retry".to_owned(),
        attempt: 2,
        retry_of: Some(first),
        pid: Some(4242),
        cgroup: Some("/sys/fs/cgroup/slotcron.slice/batch/run-2".to_owned()),
        log_path: Some("/var/log/slotcron/backup/2.log".to_owned()),
        queued_at: Some(at(9_500)),
        wait_ms: Some(623),
        error: Some("killed by the OOM killer at memory.max".to_owned()),
        pressure: None,
    }
}

#[test]
fn run_record_json_has_the_history_field_names_and_rfc3339_times() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let id = store.start_run(&new_run("backup")).unwrap();
    store.finish_run(id, &success(at(10_250), 250)).unwrap();
    let json = serde_json::to_value(store.run(id).unwrap().unwrap()).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "id",
        "job",
        "slot",
        "status",
        "exit_code",
        "signal",
        "started_at",
        "finished_at",
        "duration_ms",
        "memory_peak_bytes",
        "memory_limit_bytes",
        "cpu_usage_usec",
        "cpu_user_usec",
        "cpu_system_usec",
        "cpu_throttled_usec",
        "oom_kills",
        "pids_peak",
        "io",
        "enforcement",
        "trigger",
        "attempt",
        "retry_of",
        "pid",
        "cgroup",
        "log_path",
        "queued_at",
        "wait_ms",
        "error",
        "pressure",
    ];
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted, expected);
    assert_eq!(json["started_at"], "2026-01-01T00:00:10Z");
    assert_eq!(json["finished_at"], "2026-01-01T00:00:10.250Z");
    assert_eq!(json["status"], "success");
    assert_eq!(json["enforcement"], "cgroup");
    assert_eq!(json["queued_at"], serde_json::Value::Null);
    assert_eq!(json["wait_ms"], serde_json::Value::Null);
    assert_eq!(json["pressure"], serde_json::Value::Null, "never acted on");
}

#[test]
fn a_run_records_how_long_it_was_throttled_and_frozen() {
    use crate::model::{PressureTimes, PressureView};
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let id = store.start_run(&new_run("backup")).unwrap();
    let times = PressureTimes {
        throttled_ms: 42_000,
        frozen_ms: 30_500,
    };
    let done = RunCompletion {
        pressure: Some(times),
        ..success(at(90_000), 80_000)
    };
    store.finish_run(id, &done).unwrap();
    let run = store.run(id).unwrap().unwrap();
    assert_eq!(run.pressure, Some(PressureView::ended(times)));
    let json = serde_json::to_value(&run).unwrap();
    assert_eq!(json["pressure"]["throttled_ms"], 42_000);
    assert_eq!(json["pressure"]["frozen_ms"], 30_500);
    assert_eq!(json["pressure"]["state"], serde_json::Value::Null);
}

#[test]
fn wait_is_the_time_from_queued_to_started() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let queued = NewRun {
        queued_at: Some(at(7_750)),
        ..new_run("backup")
    };
    let id = store.start_run(&queued).unwrap();
    let json = serde_json::to_value(store.run(id).unwrap().unwrap()).unwrap();
    assert_eq!(json["wait_ms"], 2_250);
    assert_eq!(json["queued_at"], "2026-01-01T00:00:07.750Z");

    // A clock stepped back between queueing and starting reads as no wait, not a panic.
    let stepped = NewRun {
        queued_at: Some(at(10_900)),
        ..new_run("backup")
    };
    let id = store.start_run(&stepped).unwrap();
    assert_eq!(store.run(id).unwrap().unwrap().wait_ms, Some(0));
}

#[test]
fn a_run_is_completed_once() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let id = store.start_run(&new_run("backup")).unwrap();
    store.finish_run(id, &success(at(11_000), 1_000)).unwrap();

    let failed = RunCompletion {
        status: RunStatus::Failed,
        exit_code: Some(1),
        ..success(at(12_000), 2_000)
    };
    let err = store.finish_run(id, &failed).unwrap_err();
    assert!(
        matches!(err, StoreError::NotRunning { id: e, status: RunStatus::Success } if e == id),
        "{err:?}"
    );
    let err = store.set_run_process(id, Some(1), None, None).unwrap_err();
    assert!(matches!(err, StoreError::NotRunning { .. }), "{err:?}");
    let kept = store.run(id).unwrap().unwrap();
    assert_eq!(
        (kept.status, kept.exit_code, kept.duration_ms, kept.pid),
        (RunStatus::Success, Some(0), Some(1_000), None)
    );

    let err = store
        .finish_run(9_999, &success(at(11_000), 1))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NoSuchRun { id: 9_999 }),
        "{err:?}"
    );
}

#[test]
fn runs_are_listed_newest_first_by_job_with_a_limit() {
    let (_dir, mut store) = store_with_jobs(&["a", "b"]);
    let ids: Vec<(i64, &str)> = ["a", "b", "a", "a", "b"]
        .into_iter()
        .map(|job| (store.start_run(&new_run(job)).unwrap(), job))
        .collect();
    let listed = |store: &Store, job: Option<&str>, limit| -> Vec<i64> {
        let filter = RunFilter {
            job: job.map(str::to_owned),
            limit,
        };
        store
            .runs(&filter)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    let of = |job: &str| -> Vec<i64> {
        ids.iter()
            .rev()
            .filter(|(_, j)| *j == job)
            .map(|(id, _)| *id)
            .collect()
    };

    let all: Vec<i64> = ids.iter().rev().map(|(id, _)| *id).collect();
    assert_eq!(listed(&store, None, None), all);
    assert_eq!(listed(&store, Some("a"), None), of("a"));
    assert_eq!(listed(&store, Some("a"), Some(2)), of("a")[..2].to_vec());
    assert_eq!(listed(&store, None, Some(1)), vec![ids[4].0]);
    assert_eq!(listed(&store, Some("gone"), None), Vec::<i64>::new());
}

#[test]
fn a_skipped_run_is_final_with_its_reason() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let id = store
        .record_skipped(&new_run("backup"), "previous run still going")
        .unwrap();
    let run = store.run(id).unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Skipped);
    assert_eq!(run.error.as_deref(), Some("previous run still going"));
    assert_eq!((run.finished_at, run.duration_ms), (Some(at(10_000)), None));
    assert!(store.running_runs().unwrap().is_empty());
    assert!(matches!(
        store.finish_run(id, &success(at(1), 1)),
        Err(StoreError::NotRunning { .. })
    ));
    assert!(matches!(
        store.record_skipped(&new_run("backup"), " "),
        Err(StoreError::Invalid {
            field: "skip reason",
            ..
        })
    ));
}

#[test]
fn bad_runs_are_refused_with_the_field_at_fault() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let field = |r: Result<i64, StoreError>| match r {
        Err(StoreError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    };
    assert_eq!(
        field(store.start_run(&NewRun {
            trigger: String::new(),
            ..new_run("backup")
        })),
        "trigger"
    );
    assert_eq!(
        field(store.start_run(&NewRun {
            attempt: 0,
            ..new_run("backup")
        })),
        "attempt"
    );
    assert_eq!(
        field(store.start_run(&NewRun {
            retry_of: Some(77),
            ..new_run("backup")
        })),
        "retry_of"
    );
    let huge = NewRun {
        memory_limit_bytes: Some(u64::MAX),
        ..new_run("backup")
    };
    assert_eq!(field(store.start_run(&huge)), "memory_limit_bytes");
    let err = store.start_run(&new_run("nope")).unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownJob { job } if job == "nope"),
        "{err:?}"
    );

    let id = store.start_run(&new_run("backup")).unwrap();
    let still = RunCompletion {
        status: RunStatus::Running,
        ..success(at(1), 1)
    };
    assert!(matches!(
        store.finish_run(id, &still),
        Err(StoreError::Invalid {
            field: "completion status",
            ..
        })
    ));
    assert_eq!(
        store.runs(&RunFilter::default()).unwrap().len(),
        1,
        "only the valid run was written"
    );
}

#[test]
fn a_killed_run_with_events_can_become_requeued_and_nothing_else_can() {
    let (_dir, mut store) = store_with_jobs(&["batch"]);
    let id = store.start_run(&new_run("batch")).unwrap();
    let event = crate::store::NewEvent {
        at: at(1_500),
        kind: "pressure_requeue".into(),
        job: Some("batch".into()),
        run_id: Some(id),
        message: "stopped".into(),
    };
    store.record_event(&event).unwrap();
    let killed = RunCompletion {
        status: RunStatus::Killed,
        ..success(at(2_000), 1_000)
    };
    store.finish_run(id, &killed).unwrap();
    store.mark_requeued(id, "queued again").unwrap();
    let row = store.run(id).unwrap().unwrap();
    assert_eq!(row.status, RunStatus::Requeued);
    assert_eq!(row.error.as_deref(), Some("queued again"));
    let ok = store.start_run(&new_run("batch")).unwrap();
    store.finish_run(ok, &success(at(3_000), 10)).unwrap();
    let err = store.mark_requeued(ok, "no").unwrap_err();
    assert!(err.to_string().contains("is not killed"), "{err}");
    assert_eq!(store.run(ok).unwrap().unwrap().status, RunStatus::Success);
}
