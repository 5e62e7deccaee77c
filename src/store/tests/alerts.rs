//! Alerts: one open alert per job and kind, counted, escalated, acknowledged, resolved;
//! refused for unknown jobs, runs and ids.

use std::time::Duration;

use super::*;
use crate::model::{AlertKind, Finding, Severity};
use crate::store::{AlertChange, AlertState, StoreError};

fn finding(kind: AlertKind, severity: Severity, message: &str) -> Finding {
    Finding {
        kind,
        severity,
        message: message.to_owned(),
        evidence: Vec::new(),
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
        .raise(
            "backup",
            Some(r1),
            &failure("run 1 failed"),
            Duration::ZERO,
            at(20_000),
        )
        .unwrap();
    let AlertChange::Opened(id) = opened else {
        panic!("{opened:?}")
    };
    assert!(opened.notifies());
    let repeat = store
        .raise(
            "backup",
            Some(r2),
            &failure("run 2 failed"),
            Duration::ZERO,
            at(30_000),
        )
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
    let id = store
        .raise("backup", None, &warn, Duration::ZERO, at(1_000))
        .unwrap()
        .id();
    let worse = finding(AlertKind::HighMemory, Severity::Critical, "99 %");
    assert_eq!(
        store
            .raise("backup", None, &worse, Duration::ZERO, at(2_000))
            .unwrap(),
        AlertChange::Escalated(id)
    );
    assert_eq!(
        store
            .raise("backup", None, &warn, Duration::ZERO, at(3_000))
            .unwrap(),
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
        store
            .raise("a", None, &failure("x"), Duration::ZERO, at(1))
            .unwrap(),
        store
            .raise(
                "a",
                None,
                &finding(AlertKind::Timeout, Severity::Error, "t"),
                Duration::ZERO,
                at(2),
            )
            .unwrap(),
        store
            .raise("b", None, &failure("y"), Duration::ZERO, at(3))
            .unwrap(),
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
    let id = store
        .raise("backup", None, &warn, Duration::ZERO, at(1_000))
        .unwrap()
        .id();
    store.ack(id, at(2_000)).unwrap();
    store.ack(id, at(3_000)).unwrap();
    let a = &store.alerts(false).unwrap()[0];
    assert_eq!(
        (a.state, a.acknowledged_at),
        (AlertState::Acknowledged, Some(at(2_000)))
    );
    let worse = finding(AlertKind::Anomaly, Severity::Error, "very odd");
    assert_eq!(
        store
            .raise("backup", None, &worse, Duration::ZERO, at(4_000))
            .unwrap(),
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
        .raise("backup", None, &failure("f"), Duration::ZERO, at(1))
        .unwrap()
        .id();
    let streak = finding(
        AlertKind::ConsecutiveFailures,
        Severity::Critical,
        "3 in a row",
    );
    let crit = store
        .raise("backup", None, &streak, Duration::ZERO, at(2))
        .unwrap()
        .id();
    let slow = finding(AlertKind::HighDuration, Severity::Warning, "slow");
    let slow_id = store
        .raise("backup", None, &slow, Duration::ZERO, at(3))
        .unwrap()
        .id();
    let elsewhere = store
        .raise("other", None, &failure("o"), Duration::ZERO, at(4))
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
    let again = store
        .raise("backup", None, &failure("f2"), Duration::ZERO, at(20))
        .unwrap();
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
    let id = store
        .raise("a", None, &failure("x"), Duration::ZERO, at(1))
        .unwrap()
        .id();
    store
        .raise("b", None, &failure("y"), Duration::ZERO, at(1))
        .unwrap();
    let info = finding(AlertKind::SlotSaturated, Severity::Info, "waited");
    store
        .raise("a", None, &info, Duration::ZERO, at(1))
        .unwrap();
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
        .raise("ghost", None, &failure("x"), Duration::ZERO, at(1))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownJob { job } if job == "ghost"),
        "{err:?}"
    );
    let err = store
        .raise("backup", Some(99), &failure("x"), Duration::ZERO, at(1))
        .unwrap_err();
    assert_eq!(err.to_string(), "invalid run_id: run 99 does not exist");
    assert!(store.alerts(true).unwrap().is_empty());
}

#[test]
fn alert_json_names_kind_severity_and_state_in_words() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let streak = finding(AlertKind::ConsecutiveFailures, Severity::Critical, "3");
    store
        .raise("backup", None, &streak, Duration::ZERO, at(0))
        .unwrap();
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

#[test]
fn a_finding_within_the_flap_window_reopens_its_alert_without_notifying() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let window = Duration::from_secs(6 * 3600);
    let hour = 3_600_000;
    let slow = finding(AlertKind::Anomaly, Severity::Warning, "slow");
    let opened = store.raise("backup", None, &slow, window, at(0)).unwrap();
    assert!(opened.notifies());
    store
        .resolve("backup", &[AlertKind::Anomaly], at(hour))
        .unwrap();
    let again = store
        .raise("backup", None, &slow, window, at(2 * hour))
        .unwrap();
    assert_eq!(again, AlertChange::Reopened(opened.id()));
    assert!(!again.notifies());
    assert_eq!(again.as_str(), "reopened");
    let a = store.alert(opened.id()).unwrap().unwrap();
    assert_eq!((a.state, a.count, a.reopened), (AlertState::Open, 2, 1));
    assert_eq!(a.resolved_at, None);
    // A worse finding on reopening escalates, and that notifies.
    store
        .resolve("backup", &[AlertKind::Anomaly], at(3 * hour))
        .unwrap();
    let worse = finding(AlertKind::Anomaly, Severity::Error, "slower");
    let escalated = store
        .raise("backup", None, &worse, window, at(4 * hour))
        .unwrap();
    assert_eq!(escalated, AlertChange::Escalated(opened.id()));
    assert_eq!(store.alert(opened.id()).unwrap().unwrap().reopened, 2);
    // Resolved for longer than the window: the next one is a new episode.
    store
        .resolve("backup", &[AlertKind::Anomaly], at(5 * hour))
        .unwrap();
    let fresh = store
        .raise("backup", None, &slow, window, at(12 * hour))
        .unwrap();
    assert!(
        matches!(fresh, AlertChange::Opened(id) if id != opened.id()),
        "{fresh:?}"
    );
    // A zero window never reopens.
    store
        .resolve("backup", &[AlertKind::Anomaly], at(13 * hour))
        .unwrap();
    let zero = store
        .raise("backup", None, &slow, Duration::ZERO, at(13 * hour + 1))
        .unwrap();
    assert!(matches!(zero, AlertChange::Opened(_)), "{zero:?}");
}

#[test]
fn the_evidence_of_a_finding_is_stored_with_its_alert() {
    use crate::baseline::effect::{Judging, Reference, Rule, judge};
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let usual = Reference {
        median: 10_000.0,
        spread: 0.05,
        runs: 30,
    };
    let evidence = judge(Rule::Slower, 20_000.0, 1, &usual, &Judging::default()).unwrap();
    let slow = Finding::with_evidence(AlertKind::Anomaly, "slow".into(), vec![evidence.clone()]);
    let id = store
        .raise("backup", None, &slow, Duration::ZERO, at(0))
        .unwrap()
        .id();
    assert_eq!(store.alert(id).unwrap().unwrap().evidence, [evidence]);
    let plain = store
        .raise("backup", None, &failure("f"), Duration::ZERO, at(0))
        .unwrap()
        .id();
    let json = serde_json::to_value(store.alert(plain).unwrap().unwrap()).unwrap();
    assert_eq!(
        (json["evidence"].clone(), json["reopened"].clone()),
        (serde_json::json!([]), serde_json::json!(0))
    );
}
