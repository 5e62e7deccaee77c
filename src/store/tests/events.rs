//! Events: recorded with or without a job or run, listed newest first, refused when they
//! name no kind or a run that does not exist.

use super::*;
use crate::store::{EventRecord, NewEvent, StoreError};

fn event(kind: &str, job: Option<&str>, run_id: Option<i64>, at_ms: i64) -> NewEvent {
    NewEvent {
        at: at(at_ms),
        kind: kind.to_owned(),
        job: job.map(str::to_owned),
        run_id,
        message: format!("{kind} at {at_ms}"),
    }
}

#[test]
fn events_are_listed_newest_first_with_a_limit() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let run = store.start_run(&new_run("backup")).unwrap();
    let deferred = event("deferred", Some("backup"), None, 2_000);
    let ids = [
        store.record_event(&deferred).unwrap(),
        store
            .record_event(&event("recovered", Some("backup"), Some(run), 3_000))
            .unwrap(),
        // A job file that never loaded has no row in `jobs`; the event still names it.
        store
            .record_event(&event("reload_error", Some("broken"), None, 4_000))
            .unwrap(),
        store
            .record_event(&event("resumed", None, None, 5_000))
            .unwrap(),
    ];
    let listed = store.events(10).unwrap();
    let listed_ids: Vec<i64> = listed.iter().map(|e| e.id).collect();
    assert_eq!(listed_ids, [ids[3], ids[2], ids[1], ids[0]]);
    assert_eq!(
        listed[2],
        EventRecord {
            id: ids[1],
            at: at(3_000),
            kind: "recovered".to_owned(),
            job: Some("backup".to_owned()),
            run_id: Some(run),
            message: "recovered at 3000".to_owned(),
        }
    );
    assert_eq!(listed[1].job.as_deref(), Some("broken"));
    assert_eq!((listed[0].job.as_deref(), listed[0].run_id), (None, None));
    let two: Vec<i64> = store.events(2).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(two, [ids[3], ids[2]]);
    assert!(store.events(0).unwrap().is_empty());
}

#[test]
fn event_json_has_rfc3339_times() {
    let (_dir, mut store) = file_store();
    store
        .record_event(&event("breaker_tripped", Some("x"), None, 1_500))
        .unwrap();
    let json = serde_json::to_value(&store.events(1).unwrap()[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "id": 1,
            "at": "2026-01-01T00:00:01.500Z",
            "kind": "breaker_tripped",
            "job": "x",
            "run_id": null,
            "message": "breaker_tripped at 1500",
        })
    );
}

#[test]
fn an_empty_kind_or_an_unknown_run_is_refused_and_nothing_is_written() {
    let (_dir, mut store) = file_store();
    let err = store
        .record_event(&event(" ", None, None, 1_000))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "event kind",
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .record_event(&event("recovered", None, Some(42), 1_000))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field: "run_id", reason } if reason.contains("42")),
        "{err:?}"
    );
    assert!(store.events(10).unwrap().is_empty());
}
