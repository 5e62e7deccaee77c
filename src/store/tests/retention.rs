//! Pruning: what goes, what stays, and what happens to the links between them.

use super::*;
use crate::alerts::{AlertKind, Finding};
use crate::model::RetentionMode;
use crate::store::{NewEvent, RunFilter};

const DAY: i64 = 24 * 3600 * 1000;

/// A finished run of `job` started at `at(start)`, with a log path; returns its id.
fn finished(store: &mut Store, job: &str, start: i64, retry_of: Option<i64>) -> i64 {
    let run = NewRun {
        started_at: at(start),
        retry_of,
        attempt: if retry_of.is_some() { 2 } else { 1 },
        ..new_run(job)
    };
    let id = store.start_run(&run).unwrap();
    store
        .set_run_process(
            id,
            Some(1),
            None,
            Some(&format!("/state/logs/{job}/{id}.log")),
        )
        .unwrap();
    store
        .finish_run(id, &success(at(start + 1_000), 1_000))
        .unwrap();
    id
}

fn ids(store: &Store) -> Vec<i64> {
    let mut ids: Vec<i64> = store
        .runs(&RunFilter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn old_finished_runs_go_with_their_logs_and_everything_else_stays() {
    let (_dir, mut store) = store_with_jobs(&["a"]);
    let old = finished(&mut store, "a", 0, None);
    // An old first attempt whose retry is recent stays: the retry points at it.
    let kept_first = finished(&mut store, "a", DAY, None);
    let recent_retry = finished(&mut store, "a", 30 * DAY, Some(kept_first));
    // An old first attempt with an old retry: both go.
    let old_first = finished(&mut store, "a", 2 * DAY, None);
    let old_retry = finished(&mut store, "a", 2 * DAY + 5_000, Some(old_first));
    // Old but still running: stays.
    let running = store
        .start_run(&NewRun {
            started_at: at(3 * DAY),
            ..new_run("a")
        })
        .unwrap();
    let recent = finished(&mut store, "a", 31 * DAY, None);
    let event = |run_id, at_ms| NewEvent {
        at: at(at_ms),
        kind: "breaker_tripped".into(),
        job: Some("a".into()),
        run_id,
        message: "x".into(),
    };
    store.record_event(&event(Some(old), 0)).unwrap();
    let keeps_text = store
        .record_event(&event(Some(old_retry), 31 * DAY))
        .unwrap();
    let finding = Finding::new(AlertKind::Failure, "exit code 3".into());
    let open_alert = store
        .raise("a", Some(old), &finding, std::time::Duration::ZERO, at(0))
        .unwrap()
        .id();

    assert_eq!(store.prunable(at(20 * DAY)).unwrap(), (3, 1));
    let report = store
        .prune(at(20 * DAY), RetentionMode::Delete, at(32 * DAY))
        .unwrap();
    assert_eq!(report.runs, 3);
    assert_eq!(report.events, 1);
    let mut logs: Vec<String> = report
        .logs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    logs.sort();
    let mut expected: Vec<String> = [old, old_first, old_retry]
        .iter()
        .map(|id| format!("/state/logs/a/{id}.log"))
        .collect();
    expected.sort();
    assert_eq!(logs, expected);
    assert_eq!(ids(&store), [kept_first, recent_retry, running, recent]);
    let events = store.events(10).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].id, events[0].run_id),
        (keeps_text, None),
        "link dropped, text kept"
    );
    assert_eq!(
        store.prunable(at(20 * DAY)).unwrap(),
        (0, 0),
        "nothing left to prune"
    );
    let alerts = store.alerts(false).unwrap();
    assert_eq!(alerts.len(), 1, "an open alert stays, however old");
    assert_eq!((alerts[0].id, alerts[0].first_run_id), (open_alert, None));
}

#[test]
fn archive_mode_moves_the_rows_instead() {
    let (_dir, mut store) = store_with_jobs(&["a"]);
    let old = finished(&mut store, "a", 0, None);
    let recent = finished(&mut store, "a", 30 * DAY, None);
    let report = store
        .prune(at(20 * DAY), RetentionMode::Archive, at(31 * DAY))
        .unwrap();
    assert_eq!(report.runs, 1);
    assert_eq!(ids(&store), [recent]);
    let (archived_id, archived_at, duration, frozen): (i64, i64, i64, Option<i64>) = store
        .conn
        .query_row(
            "SELECT id, archived_at, duration_ms, frozen_ms FROM runs_archive",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((archived_id, duration), (old, 1_000));
    assert_eq!(
        frozen, None,
        "the column is archived; this run was never frozen"
    );
    assert_eq!(archived_at, at(31 * DAY).timestamp_millis());
}

#[test]
fn pruning_works_in_batches_across_many_runs() {
    let (_dir, mut store) = store_with_jobs(&["a"]);
    let n = crate::store::PRUNE_BATCH * 2 + 7;
    for i in 0..n {
        finished(&mut store, "a", i as i64, None);
    }
    let report = store
        .prune(at(DAY), RetentionMode::Delete, at(2 * DAY))
        .unwrap();
    assert_eq!(report.runs, n as u64);
    assert!(ids(&store).is_empty());
}
