//! Alerts: one open alert per job and kind, counted, escalated, acknowledged, resolved;
//! refused for unknown jobs, runs and ids.

use super::*;
use crate::alerts::{AlertKind, Finding, Severity};
use crate::store::{AlertChange, AlertState, StoreError};

fn finding(kind: AlertKind, severity: Severity, message: &str) -> Finding {
    Finding {
        kind,
        severity,
        message: message.to_owned(),
    }
}

fn failure(message: &str) -> Finding {
    finding(AlertKind::Failure, Severity::Error, message)
}

#[test]
fn a_finding_opens_an_alert_and_a_repeat_counts_on_it() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let r1 = store.start_run(&new_run("backup")).unwrap();
    let r2 = store.start_run(&new_run("backup")).unwrap();
    let opened = store
        .raise("backup", Some(r1), &failure("run 1 failed"), at(20_000))
        .unwrap();
    let AlertChange::Opened(id) = opened else {
        panic!("{opened:?}")
    };
    assert!(opened.notifies());
    let repeat = store
        .raise("backup", Some(r2), &failure("run 2 failed"), at(30_000))
        .unwrap();
    assert_eq!(repeat, AlertChange::Repeated(id));
    assert!(!repeat.notifies());
    let alerts = store.alerts(false).unwrap();
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(
        (a.id, a.job.as_str(), a.kind, a.severity, a.state),
        (
            id,
            "backup",
            AlertKind::Failure,
            Severity::Error,
            AlertState::Open
        )
    );
    assert_eq!(
        (a.count, a.first_run_id, a.last_run_id),
        (2, Some(r1), Some(r2))
    );
    assert_eq!((a.opened_at, a.last_at), (at(20_000), at(30_000)));
    assert_eq!(a.message, "run 2 failed");
    assert_eq!(
        (a.escalated_at, a.acknowledged_at, a.resolved_at),
        (None, None, None)
    );
}

#[test]
fn a_worse_finding_escalates_and_a_milder_one_does_not_lower() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let warn = finding(AlertKind::HighMemory, Severity::Warning, "90 %");
    let id = store.raise("backup", None, &warn, at(1_000)).unwrap().id();
    let worse = finding(AlertKind::HighMemory, Severity::Critical, "99 %");
    assert_eq!(
        store.raise("backup", None, &worse, at(2_000)).unwrap(),
        AlertChange::Escalated(id)
    );
    assert_eq!(
        store.raise("backup", None, &warn, at(3_000)).unwrap(),
        AlertChange::Repeated(id)
    );
    let a = &store.alerts(false).unwrap()[0];
    assert_eq!((a.severity, a.count), (Severity::Critical, 3));
    assert_eq!(a.escalated_at, Some(at(2_000)));
}

#[test]
fn kinds_and_jobs_have_separate_alerts() {
    let (_dir, mut store) = store_with_jobs(&["a", "b"]);
    let ids = [
        store.raise("a", None, &failure("x"), at(1)).unwrap(),
        store
            .raise(
                "a",
                None,
                &finding(AlertKind::Timeout, Severity::Error, "t"),
                at(2),
            )
            .unwrap(),
        store.raise("b", None, &failure("y"), at(3)).unwrap(),
    ];
    assert!(
        ids.iter().all(|c| matches!(c, AlertChange::Opened(_))),
        "{ids:?}"
    );
    let listed: Vec<i64> = store.alerts(false).unwrap().iter().map(|a| a.id).collect();
    assert_eq!(listed, [ids[2].id(), ids[1].id(), ids[0].id()]);
}

#[test]
fn ack_keeps_the_alert_open_and_silences_escalation() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let warn = finding(AlertKind::Anomaly, Severity::Warning, "odd");
    let id = store.raise("backup", None, &warn, at(1_000)).unwrap().id();
    store.ack(id, at(2_000)).unwrap();
    store.ack(id, at(3_000)).unwrap();
    let a = &store.alerts(false).unwrap()[0];
    assert_eq!(
        (a.state, a.acknowledged_at),
        (AlertState::Acknowledged, Some(at(2_000)))
    );
    let worse = finding(AlertKind::Anomaly, Severity::Error, "very odd");
    assert_eq!(
        store.raise("backup", None, &worse, at(4_000)).unwrap(),
        AlertChange::Repeated(id)
    );
    let a = &store.alerts(false).unwrap()[0];
    assert_eq!(
        (a.severity, a.escalated_at),
        (Severity::Error, Some(at(4_000)))
    );
}

#[test]
fn resolving_closes_the_named_kinds_and_a_new_finding_opens_a_new_alert() {
    let (_dir, mut store) = store_with_jobs(&["backup", "other"]);
    let fail = store
        .raise("backup", None, &failure("f"), at(1))
        .unwrap()
        .id();
    let streak = finding(
        AlertKind::ConsecutiveFailures,
        Severity::Critical,
        "3 in a row",
    );
    let crit = store.raise("backup", None, &streak, at(2)).unwrap().id();
    let slow = finding(AlertKind::HighDuration, Severity::Warning, "slow");
    let slow_id = store.raise("backup", None, &slow, at(3)).unwrap().id();
    let elsewhere = store
        .raise("other", None, &failure("o"), at(4))
        .unwrap()
        .id();
    store.ack(fail, at(5)).unwrap();
    let kinds = [
        AlertKind::Failure,
        AlertKind::Timeout,
        AlertKind::OomKill,
        AlertKind::ConsecutiveFailures,
    ];
    assert_eq!(
        store.resolve("backup", &kinds, at(10)).unwrap(),
        [
            (fail, AlertKind::Failure),
            (crit, AlertKind::ConsecutiveFailures)
        ]
    );
    assert_eq!(store.resolve("backup", &kinds, at(11)).unwrap(), []);
    assert_eq!(store.resolve("backup", &[], at(11)).unwrap(), []);
    let open: Vec<i64> = store.alerts(false).unwrap().iter().map(|a| a.id).collect();
    assert_eq!(open, [elsewhere, slow_id]);
    let all = store.alerts(true).unwrap();
    assert_eq!(all.len(), 4);
    let resolved = all.iter().find(|a| a.id == fail).unwrap();
    assert_eq!(
        (resolved.state, resolved.resolved_at),
        (AlertState::Resolved, Some(at(10)))
    );
    let again = store.raise("backup", None, &failure("f2"), at(20)).unwrap();
    assert!(
        matches!(again, AlertChange::Opened(id) if id > elsewhere),
        "{again:?}"
    );
}

#[test]
fn open_counts_by_severity_include_acknowledged_and_skip_resolved() {
    let (_dir, mut store) = store_with_jobs(&["a", "b"]);
    let zero: Vec<u64> = store.open_alert_counts().unwrap().into_values().collect();
    assert_eq!(zero, [0, 0, 0, 0]);
    let id = store.raise("a", None, &failure("x"), at(1)).unwrap().id();
    store.raise("b", None, &failure("y"), at(1)).unwrap();
    let info = finding(AlertKind::SlotSaturated, Severity::Info, "waited");
    store.raise("a", None, &info, at(1)).unwrap();
    store.ack(id, at(2)).unwrap();
    let counts = store.open_alert_counts().unwrap();
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        [
            (Severity::Info, 1),
            (Severity::Warning, 0),
            (Severity::Error, 2),
            (Severity::Critical, 0)
        ]
    );
    store
        .resolve("a", &[AlertKind::SlotSaturated], at(3))
        .unwrap();
    assert_eq!(store.open_alert_counts().unwrap()[&Severity::Info], 0);
}

#[test]
fn unknown_ids_jobs_and_runs_are_refused_by_name() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let err = store.ack(42, at(1)).unwrap_err();
    assert!(matches!(err, StoreError::NoSuchAlert { id: 42 }), "{err:?}");
    assert_eq!(err.to_string(), "alert 42 does not exist");
    let err = store
        .raise("ghost", None, &failure("x"), at(1))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownJob { job } if job == "ghost"),
        "{err:?}"
    );
    let err = store
        .raise("backup", Some(99), &failure("x"), at(1))
        .unwrap_err();
    assert_eq!(err.to_string(), "invalid run_id: run 99 does not exist");
    assert!(store.alerts(true).unwrap().is_empty());
}

#[test]
fn alert_json_names_kind_severity_and_state_in_words() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let streak = finding(AlertKind::ConsecutiveFailures, Severity::Critical, "3");
    store.raise("backup", None, &streak, at(0)).unwrap();
    let json = serde_json::to_value(&store.alerts(false).unwrap()[0]).unwrap();
    assert_eq!(json["kind"], "consecutive_failures");
    assert_eq!(json["severity"], "critical");
    assert_eq!(json["state"], "open");
    assert_eq!(json["opened_at"], "2026-01-01T00:00:00Z");
    assert_eq!(
        serde_json::to_value(AlertChange::Escalated(1)).unwrap(),
        "escalated"
    );
}
