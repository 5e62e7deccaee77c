//! Per-job controls (enable/disable overrides, breaker resets) and the daemon's key/value
//! state: what is stored, what is refused, and that both survive a reopen.

use super::*;
use crate::store::{JobControl, StoreError};

fn control(enabled_override: Option<bool>, breaker_reset_at: Option<DateTime<Utc>>) -> JobControl {
    JobControl {
        enabled_override,
        breaker_reset_at,
        baseline_since_run_id: None,
    }
}

#[test]
fn overrides_and_resets_are_kept_per_job_and_survive_a_reopen() {
    let (_dir, mut store) = store_with_jobs(&["a", "b", "c"]);
    let path = store.path().to_owned();
    assert!(store.job_controls().unwrap().is_empty());

    store
        .set_enabled_override("a", Some(false), at(2_000))
        .unwrap();
    store
        .set_enabled_override("b", Some(true), at(2_000))
        .unwrap();
    store.reset_breaker("b", at(3_000)).unwrap();
    store.reset_breaker("c", at(4_000)).unwrap();
    store.reset_breaker("c", at(5_000)).unwrap();
    drop(store);

    let store = Store::open(&path).unwrap();
    let controls = store.job_controls().unwrap();
    assert_eq!(controls.len(), 3);
    assert_eq!(controls["a"], control(Some(false), None));
    assert_eq!(controls["b"], control(Some(true), Some(at(3_000))));
    assert_eq!(
        controls["c"],
        control(None, Some(at(5_000))),
        "the later reset replaces the earlier"
    );
}

#[test]
fn clearing_the_last_setting_removes_the_job_from_the_controls() {
    let (_dir, mut store) = store_with_jobs(&["a", "b"]);
    store
        .set_enabled_override("a", Some(false), at(2_000))
        .unwrap();
    store
        .set_enabled_override("b", Some(false), at(2_000))
        .unwrap();
    store.reset_breaker("b", at(3_000)).unwrap();

    store.set_enabled_override("a", None, at(4_000)).unwrap();
    store.set_enabled_override("b", None, at(4_000)).unwrap();
    let controls = store.job_controls().unwrap();
    assert!(!controls.contains_key("a"), "{controls:?}");
    assert_eq!(
        controls["b"],
        control(None, Some(at(3_000))),
        "clearing the override keeps the reset"
    );
    store.set_enabled_override("a", None, at(5_000)).unwrap();
    assert_eq!(store.job_controls().unwrap().len(), 1);
}

#[test]
fn a_removed_job_can_still_be_controlled() {
    let (_dir, mut store) = store_with_jobs(&["gone"]);
    store.sync_jobs(&[], at(2_000)).unwrap();
    store
        .set_enabled_override("gone", Some(false), at(3_000))
        .unwrap();
    assert_eq!(
        store.job_controls().unwrap()["gone"].enabled_override,
        Some(false)
    );
}

#[test]
fn an_unknown_job_is_refused_and_nothing_is_written() {
    let (_dir, mut store) = store_with_jobs(&["a"]);
    let err = store
        .set_enabled_override("nope", Some(true), at(2_000))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownJob { job } if job == "nope"),
        "{err:?}"
    );
    let err = store.reset_breaker("nope", at(2_000)).unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownJob { job } if job == "nope"),
        "{err:?}"
    );
    assert!(store.job_controls().unwrap().is_empty());
}

#[test]
fn meta_values_are_set_replaced_and_kept() {
    let (_dir, mut store) = file_store();
    let path = store.path().to_owned();
    assert_eq!(store.meta("boot_id").unwrap(), None);
    store.set_meta("boot_id", "6f1c-first").unwrap();
    store.set_meta("boot_id", "9a2e-second").unwrap();
    store.set_meta("empty", "").unwrap();
    drop(store);

    let mut store = Store::open(&path).unwrap();
    assert_eq!(
        store.meta("boot_id").unwrap().as_deref(),
        Some("9a2e-second")
    );
    assert_eq!(store.meta("empty").unwrap().as_deref(), Some(""));
    assert_eq!(store.meta("other").unwrap(), None);
    let err = store.set_meta("", "x").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "meta key",
                ..
            }
        ),
        "{err:?}"
    );
}
