//! Mirroring job files: add, update, remove, reappear.

use super::*;
use crate::store::{JobRecord, StoreError, SyncSummary};

fn summary(added: usize, updated: usize, restored: usize, removed: usize) -> SyncSummary {
    SyncSummary {
        added,
        updated,
        restored,
        removed,
    }
}

#[test]
fn sync_adds_updates_removes_and_restores() {
    let (_dir, mut store) = file_store();
    let jobs = vec![
        job("a", "0 * * * *"),
        job("b", "5 * * * *"),
        job("c", "@daily"),
    ];
    assert_eq!(
        store.sync_jobs(&jobs, at(1_000)).unwrap(),
        summary(3, 0, 0, 0)
    );
    assert_eq!(
        store.sync_jobs(&jobs, at(2_000)).unwrap(),
        summary(0, 0, 0, 0),
        "unchanged jobs are not written"
    );

    // b changes schedule, c's file vanishes, d is new.
    let second = vec![
        job("a", "0 * * * *"),
        job("b", "10 * * * *"),
        job("d", "@hourly"),
    ];
    assert_eq!(
        store.sync_jobs(&second, at(3_000)).unwrap(),
        summary(1, 1, 0, 1)
    );
    after_the_second_sync(&store.jobs().unwrap());

    // Syncing again does not move c's removal time; then c comes back, disabled.
    assert_eq!(
        store.sync_jobs(&second, at(4_000)).unwrap(),
        summary(0, 0, 0, 0)
    );
    let mut third = second.clone();
    third.push(JobRow {
        enabled: false,
        ..job("c", "@daily")
    });
    assert_eq!(
        store.sync_jobs(&third, at(5_000)).unwrap(),
        summary(0, 0, 1, 0)
    );
    let c = store
        .jobs()
        .unwrap()
        .into_iter()
        .find(|j| j.name == "c")
        .unwrap();
    assert_eq!(
        (c.first_seen_at, c.updated_at, c.removed_at, c.enabled),
        (at(1_000), at(5_000), None, false)
    );

    // Everything gone at once.
    assert_eq!(
        store.sync_jobs(&[], at(6_000)).unwrap(),
        summary(0, 0, 0, 4)
    );
    assert!(
        store
            .jobs()
            .unwrap()
            .iter()
            .all(|j| j.removed_at == Some(at(6_000)))
    );
}

/// What the second sync of [`sync_adds_updates_removes_and_restores`] leaves: `a` as it
/// was, `b` updated, `c` removed (its row kept), `d` added.
fn after_the_second_sync(listed: &[JobRecord]) {
    let names: Vec<&str> = listed.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d"], "a removed job keeps its row");
    let [a, b, c, d] = listed else { unreachable!() };
    assert_eq!(
        (a.first_seen_at, a.updated_at, a.removed_at),
        (at(1_000), at(1_000), None)
    );
    assert_eq!(
        (b.first_seen_at, b.updated_at, b.removed_at),
        (at(1_000), at(3_000), None)
    );
    assert_eq!(b.schedule, "10 * * * *");
    assert_eq!(b.definition["schedule"], "10 * * * *");
    assert_eq!((c.updated_at, c.removed_at), (at(1_000), Some(at(3_000))));
    assert_eq!((d.first_seen_at, d.updated_at), (at(3_000), at(3_000)));
}

#[test]
fn runs_of_a_removed_job_stay_in_history() {
    let (_dir, mut store) = store_with_jobs(&["old"]);
    let id = store.start_run(&new_run("old")).unwrap();
    store.finish_run(id, &success(at(11_000), 1_000)).unwrap();
    store.sync_jobs(&[], at(20_000)).unwrap();
    assert_eq!(store.run(id).unwrap().unwrap().job, "old");
    assert_eq!(store.jobs().unwrap()[0].removed_at, Some(at(20_000)));
}

#[test]
fn duplicate_or_empty_names_are_refused_and_nothing_is_written() {
    let (_dir, mut store) = file_store();
    let twice = vec![job("a", "@daily"), job("b", "@daily"), job("a", "@hourly")];
    let err = store.sync_jobs(&twice, at(1)).unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { field: "job name", reason } if reason.contains("`a`")),
        "{err:?}"
    );
    let err = store.sync_jobs(&[job("", "@daily")], at(1)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Invalid {
                field: "job name",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(store.jobs().unwrap().is_empty());
}
