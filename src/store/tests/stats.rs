//! Baselines, the rolling figures and the newest runs of every job: stored and read back,
//! on hand-made histories with exact figures.

use super::*;
use crate::store::{BaselineChange, Rolling, StoreError};

/// Records a finished run of `job` started at `start` ms, with its duration and figures.
fn finished(
    store: &mut Store,
    job: &str,
    status: RunStatus,
    start: i64,
    duration_ms: u64,
    memory: Option<u64>,
) -> i64 {
    let run = NewRun {
        started_at: at(start),
        ..new_run(job)
    };
    let id = store.start_run(&run).unwrap();
    let done = RunCompletion {
        status,
        usage: RunUsage {
            memory_peak_bytes: memory,
            cpu_usage_usec: Some(duration_ms * 10),
            oom_kills: Some(u64::from(status == RunStatus::OomKilled)),
            ..RunUsage::default()
        },
        ..success(at(start + duration_ms as i64), duration_ms)
    };
    store.finish_run(id, &done).unwrap();
    id
}

#[test]
fn a_baseline_needs_n_successes_and_is_stored_and_read_back() {
    let (_dir, mut store) = store_with_jobs(&["etl", "other"]);
    for i in 0..4 {
        finished(
            &mut store,
            "etl",
            RunStatus::Success,
            i * 1000,
            100 + i as u64 * 10,
            Some(1000),
        );
    }
    finished(&mut store, "etl", RunStatus::Failed, 9_000, 5, None); // never in a window
    assert!(!store.baseline_due("etl", 5, 10).unwrap());
    assert_eq!(store.refresh_baseline("etl", 5, 10, at(0)).unwrap(), None);
    assert_eq!(store.baseline("etl").unwrap(), None);

    let fifth = finished(
        &mut store,
        "etl",
        RunStatus::Success,
        10_000,
        1_000,
        Some(3000),
    );
    assert!(store.baseline_due("etl", 5, 10).unwrap());
    let Some(BaselineChange::Computed(b)) =
        store.refresh_baseline("etl", 5, 10, at(20_000)).unwrap()
    else {
        panic!("the fifth success computes the baseline");
    };
    // 100 110 120 130 1000
    assert_eq!(b.duration_median_ms, 120.0);
    assert_eq!(b.duration_mad_ms, 10.0);
    assert_eq!(b.memory_max_bytes, Some(3000));
    assert_eq!(b.memory_median_bytes, Some(1000.0));
    assert_eq!(b.cpu_median_usec, Some(1200.0));
    assert_eq!(
        (b.runs, b.newest_run_id, b.computed_at),
        (5, fifth, at(20_000))
    );
    assert_eq!(store.baseline("etl").unwrap().as_ref(), Some(&b));
    assert_eq!(
        store.baselines().unwrap(),
        [("etl".to_owned(), b.clone())].into()
    );

    // Due again after 10 more successes, or at once when the window size changes.
    assert!(!store.baseline_due("etl", 5, 10).unwrap());
    assert!(store.baseline_due("etl", 4, 10).unwrap());
    for i in 0..9 {
        finished(
            &mut store,
            "etl",
            RunStatus::Success,
            30_000 + i * 1000,
            50,
            None,
        );
    }
    assert!(!store.baseline_due("etl", 5, 10).unwrap());
    finished(&mut store, "etl", RunStatus::Success, 50_000, 50, None);
    assert!(store.baseline_due("etl", 5, 10).unwrap());

    // Too few successes for a larger window: the stored baseline goes.
    assert_eq!(
        store.recompute_baseline("etl", 1000, at(60_000)).unwrap(),
        None
    );
    assert_eq!(store.baseline("etl").unwrap(), None);
    let err = store.save_baseline("nope", Some(&b)).unwrap_err();
    assert!(matches!(err, StoreError::UnknownJob { .. }), "{err:?}");
}

#[test]
fn rolling_sums_the_runs_started_since_a_time_per_job() {
    use RunStatus::*;
    let (_dir, mut store) = store_with_jobs(&["a", "b", "idle"]);
    finished(&mut store, "a", Failed, 1_000, 9_999, Some(9_999)); // before `since`
    finished(&mut store, "a", Success, 10_000, 100, Some(500));
    finished(&mut store, "a", Timeout, 11_000, 300, None);
    finished(&mut store, "a", OomKilled, 12_000, 200, Some(800));
    let skipped = NewRun {
        started_at: at(13_000),
        ..new_run("a")
    };
    store.record_skipped(&skipped, "overlap").unwrap();
    let running = NewRun {
        started_at: at(14_000),
        ..new_run("b")
    };
    store.start_run(&running).unwrap();
    let rolling = store.rolling(at(10_000)).unwrap();
    assert_eq!(
        rolling["a"],
        Rolling {
            runs: 3,
            failures: 2,
            oom_kills: 1,
            duration_avg_ms: Some(200.0),
            duration_max_ms: Some(300),
            memory_peak_max_bytes: Some(800),
        }
    );
    assert_eq!(
        rolling["b"],
        Rolling {
            runs: 1,
            ..Rolling::default()
        }
    );
    assert!(!rolling.contains_key("idle"));
}

#[test]
fn latest_runs_recent_successes_and_counts_cover_every_job_at_once() {
    use RunStatus::*;
    let (_dir, mut store) = store_with_jobs(&["a", "b", "idle"]);
    let mut a_ok = Vec::new();
    for i in 0..7 {
        a_ok.push(finished(
            &mut store,
            "a",
            Success,
            i * 1000,
            10 * (i as u64 + 1),
            None,
        ));
    }
    let last_a = finished(&mut store, "a", Failed, 9_000, 1, None);
    let b_ok = finished(&mut store, "b", Success, 9_500, 42, Some(7));
    let latest = store.latest_runs().unwrap();
    assert_eq!(latest.len(), 2);
    assert_eq!((latest["a"].id, latest["a"].status), (last_a, Failed));
    assert_eq!(latest["b"].id, b_ok);

    let recent = store.recent_successes(5).unwrap();
    let ids: Vec<i64> = recent["a"].iter().map(|s| s.id).collect();
    let newest_five: Vec<i64> = a_ok.iter().rev().take(5).copied().collect();
    assert_eq!(ids, newest_five);
    assert_eq!(recent["b"][0].memory_peak_bytes, Some(7));
    assert!(!recent.contains_key("idle"));

    store.recompute_baseline("a", 5, at(0)).unwrap().unwrap();
    let counts = store.successes_toward_baseline(5).unwrap();
    assert_eq!(counts, [("b".to_owned(), 1), ("idle".to_owned(), 0)].into());
    let counts = store.successes_toward_baseline(6).unwrap();
    assert_eq!(counts["a"], 6, "counted up to the window, not all 7");
}

#[test]
fn a_baseline_is_held_while_its_newest_runs_disagree_and_taken_in_once_settled() {
    let (_dir, mut store) = store_with_jobs(&["etl"]);
    let mut t = 0;
    let mut run = |store: &mut Store, ms: u64| {
        t += 100_000;
        finished(store, "etl", RunStatus::Success, t, ms, Some(1_000))
    };
    for i in 0..20 {
        run(&mut store, 100 + i % 3);
    }
    let first = store.refresh_baseline("etl", 20, 10, at(0)).unwrap();
    assert!(
        matches!(first, Some(BaselineChange::Computed(_))),
        "{first:?}"
    );
    // Ten runs at three times the level: not settled, held (median kept, checked moved on).
    let mut newest = 0;
    for _ in 0..10 {
        newest = run(&mut store, 300);
    }
    assert_eq!(
        store.refresh_baseline("etl", 20, 10, at(1)).unwrap(),
        Some(BaselineChange::Held)
    );
    let held = store.baseline("etl").unwrap().unwrap();
    assert_eq!((held.duration_median_ms, held.held), (101.0, true));
    assert_eq!(held.checked_run_id, newest);
    assert!(held.newest_run_id < newest);
    assert!(
        !store.baseline_due("etl", 20, 10).unwrap(),
        "counted from the check"
    );
    for _ in 0..9 {
        run(&mut store, 300);
    }
    assert_eq!(store.refresh_baseline("etl", 20, 10, at(2)).unwrap(), None);
    run(&mut store, 300);
    // The whole window of 20 at the new level: settled, taken in.
    let Some(BaselineChange::Computed(b)) = store.refresh_baseline("etl", 20, 10, at(3)).unwrap()
    else {
        panic!("settled window");
    };
    assert_eq!((b.duration_median_ms, b.held), (300.0, false));
    assert!(b.duration_spread.unwrap() < 0.01, "{b:?}");
}

#[test]
fn a_restarted_baseline_counts_only_the_runs_from_its_start() {
    let (_dir, mut store) = store_with_jobs(&["etl"]);
    let ids: Vec<i64> = (0..5)
        .map(|i| finished(&mut store, "etl", RunStatus::Success, i * 1000, 100, None))
        .collect();
    assert!(store.recompute_baseline("etl", 3, at(0)).unwrap().is_some());
    store.set_baseline_since("etl", ids[3], at(0)).unwrap();
    assert_eq!(store.baseline_since("etl").unwrap(), ids[3]);
    assert_eq!(
        store.recompute_baseline("etl", 3, at(1)).unwrap(),
        None,
        "2 of 3"
    );
    assert_eq!(store.successes_toward_baseline(3).unwrap()["etl"], 2);
    assert!(!store.baseline_due("etl", 3, 10).unwrap());
    finished(&mut store, "etl", RunStatus::Success, 9_000, 400, None);
    assert!(store.baseline_due("etl", 3, 10).unwrap());
    let Some(BaselineChange::Computed(b)) = store.refresh_baseline("etl", 3, 10, at(2)).unwrap()
    else {
        panic!("three runs since the start");
    };
    assert_eq!((b.duration_median_ms, b.runs), (100.0, 3));
    assert_eq!(
        store.job_controls().unwrap()["etl"].baseline_since_run_id,
        Some(ids[3])
    );
    // Clearing the other controls keeps the row while the restart point is set.
    store.set_enabled_override("etl", None, at(3)).unwrap();
    assert_eq!(store.baseline_since("etl").unwrap(), ids[3]);
}
