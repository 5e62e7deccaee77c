//! Pages of runs: filters, keyset pagination, the last page, and the limits.

use super::*;
use crate::store::{RunQuery, StoreError};

/// Runs of `a` and `b`, alternating, started one second apart; every third fails.
fn history(n: i64) -> (TempDir, Store, Vec<i64>) {
    let (dir, mut store) = store_with_jobs(&["a", "b"]);
    let mut ids = Vec::new();
    for i in 0..n {
        let job = if i % 2 == 0 { "a" } else { "b" };
        let start = 10_000 + i * 1_000;
        let id = store
            .start_run(&NewRun {
                started_at: at(start),
                ..new_run(job)
            })
            .unwrap();
        let status = if i % 3 == 0 {
            RunStatus::Failed
        } else {
            RunStatus::Success
        };
        let done = RunCompletion {
            status,
            ..success(at(start + 10), 10)
        };
        store.finish_run(id, &done).unwrap();
        ids.push(id);
    }
    (dir, store, ids)
}

fn query(limit: u32) -> RunQuery {
    RunQuery {
        job: None,
        status: None,
        since: None,
        before: None,
        limit,
    }
}

#[test]
fn pages_walk_the_whole_history_newest_first_without_overlap() {
    let (_dir, store, ids) = history(7);
    let first = store.run_page(&query(3)).unwrap();
    let got: Vec<i64> = first.runs.iter().map(|r| r.id).collect();
    assert_eq!(got, vec![ids[6], ids[5], ids[4]]);
    assert_eq!(first.next_before, Some(ids[4]));
    let second = store
        .run_page(&RunQuery {
            before: first.next_before,
            ..query(3)
        })
        .unwrap();
    let got: Vec<i64> = second.runs.iter().map(|r| r.id).collect();
    assert_eq!(got, vec![ids[3], ids[2], ids[1]]);
    let last = store
        .run_page(&RunQuery {
            before: second.next_before,
            ..query(3)
        })
        .unwrap();
    assert_eq!(last.runs.len(), 1);
    assert_eq!(last.next_before, None, "nothing after the last page");
    // A page that ends exactly at the last run says so too.
    let exact = store.run_page(&query(7)).unwrap();
    assert_eq!((exact.runs.len(), exact.next_before), (7, None));
}

#[test]
fn filters_combine() {
    let (_dir, store, ids) = history(12);
    let page = store
        .run_page(&RunQuery {
            job: Some("a".into()),
            status: Some(RunStatus::Failed),
            ..query(100)
        })
        .unwrap();
    // a: even i; failed: i % 3 == 0 -> i in {0, 6}.
    let got: Vec<i64> = page.runs.iter().map(|r| r.id).collect();
    assert_eq!(got, vec![ids[6], ids[0]]);
    let page = store
        .run_page(&RunQuery {
            since: Some(at(10_000 + 9 * 1_000)),
            ..query(100)
        })
        .unwrap();
    let got: Vec<i64> = page.runs.iter().map(|r| r.id).collect();
    assert_eq!(got, vec![ids[11], ids[10], ids[9]]);
    let none = store
        .run_page(&RunQuery {
            job: Some("nobody".into()),
            ..query(5)
        })
        .unwrap();
    assert!(none.runs.is_empty() && none.next_before.is_none());
}

#[test]
fn a_limit_outside_one_to_max_is_refused() {
    let (_dir, store, _) = history(1);
    for limit in [0, crate::store::MAX_PAGE + 1] {
        let err = store.run_page(&query(limit)).unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid { field: "limit", .. }),
            "{err}"
        );
    }
}

#[test]
fn known_jobs_include_removed_ones_and_runs_come_by_id() {
    let (_dir, mut store, ids) = history(3);
    store.sync_jobs(&[job("a", "@daily")], at(50_000)).unwrap();
    assert!(store.job_known("b").unwrap(), "removed but in history");
    assert!(!store.job_known("c").unwrap());
    let mut found: Vec<i64> = store
        .runs_by_id(&[ids[2], 999, ids[0]])
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    found.sort_unstable();
    assert_eq!(found, vec![ids[0], ids[2]]);
}
