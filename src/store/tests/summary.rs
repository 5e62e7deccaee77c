//! Job summaries: each rule of the failure streak on hand-made histories, the scan bound,
//! and the one-query summary of 2,000 pseudo-random runs against a plain Rust model.

use super::*;
use crate::store::{
    JobSummary, LastRun, PEAK_MEMORY_RUNS, RunFilter, RunRecord, STREAK_SCAN_LIMIT, StoreError,
    SuccessPeaks,
};

/// Records a run of `job` started at `start` ms: left running, skipped, or ended with
/// `status` 100 ms later with `memory` as its peak. Returns its id.
fn ran(store: &mut Store, job: &str, status: RunStatus, start: i64, memory: Option<u64>) -> i64 {
    let run = NewRun {
        started_at: at(start),
        ..new_run(job)
    };
    match status {
        RunStatus::Skipped => store.record_skipped(&run, "overlap").unwrap(),
        RunStatus::Running => store.start_run(&run).unwrap(),
        _ => {
            let id = store.start_run(&run).unwrap();
            let done = RunCompletion {
                status,
                exit_code: (status == RunStatus::Success).then_some(0),
                usage: RunUsage {
                    memory_peak_bytes: memory,
                    ..RunUsage::default()
                },
                ..success(at(start + 100), 100)
            };
            store.finish_run(id, &done).unwrap();
            id
        }
    }
}

#[test]
fn a_job_that_never_ran_has_an_empty_summary_and_an_unknown_one_is_refused() {
    let (_dir, store) = store_with_jobs(&["idle"]);
    assert_eq!(store.job_summary("idle").unwrap(), JobSummary::default());
    assert_eq!(
        store.job_summaries().unwrap(),
        [("idle".to_owned(), JobSummary::default())].into()
    );
    let err = store.job_summary("nope").unwrap_err();
    assert!(
        matches!(&err, StoreError::UnknownJob { job } if job == "nope"),
        "{err:?}"
    );
}

#[test]
fn killed_skipped_and_running_runs_neither_count_nor_end_the_streak() {
    use RunStatus::*;
    let (_dir, mut store) = store_with_jobs(&["etl", "other"]);
    ran(&mut store, "etl", Failed, 10_000, None); // before the success: not counted
    ran(&mut store, "etl", Success, 20_000, Some(300));
    ran(&mut store, "etl", Failed, 30_000, None);
    ran(&mut store, "etl", Killed, 40_000, None);
    ran(&mut store, "other", Failed, 45_000, None);
    ran(&mut store, "etl", OomKilled, 50_000, Some(900));
    let lost = ran(&mut store, "etl", Lost, 60_000, None);
    ran(&mut store, "etl", Skipped, 70_000, None);
    ran(&mut store, "etl", Running, 80_000, None);
    ran(&mut store, "etl", Skipped, 90_000, None);

    let summary = store.job_summary("etl").unwrap();
    assert_eq!(
        summary,
        JobSummary {
            last_started_at: Some(at(80_000)),
            last_final: Some(LastRun {
                id: lost,
                status: Lost,
                finished_at: at(60_100),
            }),
            consecutive_failures: 3,
            last_failure_at: Some(at(60_100)),
            last_trouble_at: Some(at(60_100)),
            success_peaks: SuccessPeaks::newest_first([Some(300)]),
        }
    );
    assert_eq!(store.job_summaries().unwrap()["etl"], summary);
    assert_eq!(store.job_summary("other").unwrap().consecutive_failures, 1);

    let timeout = ran(&mut store, "etl", Timeout, 100_000, None);
    assert_eq!(store.job_summary("etl").unwrap().consecutive_failures, 4);
    ran(&mut store, "etl", Success, 110_000, Some(200));
    let summary = store.job_summary("etl").unwrap();
    assert_eq!(
        (summary.consecutive_failures, summary.last_failure_at),
        (0, None)
    );
    assert_eq!(summary.peak_memory(), Some(300));
    assert_eq!(
        summary.last_trouble_at,
        Some(at(100_100)),
        "the timeout's end"
    );
    assert_ne!(summary.last_final.map(|r| r.id), Some(timeout));
}

#[test]
fn a_breaker_reset_forgets_failures_started_before_it() {
    use RunStatus::*;
    let (_dir, mut store) = store_with_jobs(&["etl"]);
    for start in [10_000, 20_000, 30_000] {
        ran(&mut store, "etl", Failed, start, None);
    }
    store.reset_breaker("etl", at(20_000)).unwrap();
    let summary = store.job_summary("etl").unwrap();
    assert_eq!(
        (summary.consecutive_failures, summary.last_failure_at),
        (2, Some(at(30_100))),
        "a run started at the reset instant counts"
    );

    store.reset_breaker("etl", at(35_000)).unwrap();
    let summary = store.job_summary("etl").unwrap();
    assert_eq!(
        (summary.consecutive_failures, summary.last_failure_at),
        (0, None)
    );
    assert_eq!(
        summary.last_final.map(|r| r.status),
        Some(Failed),
        "the reset hides nothing else"
    );
    ran(&mut store, "etl", Timeout, 40_000, None);
    assert_eq!(
        store.job_summaries().unwrap()["etl"].consecutive_failures,
        1
    );
}

#[test]
fn peak_memory_covers_only_the_newest_successes() {
    let (_dir, mut store) = store_with_jobs(&["etl"]);
    let n = i64::from(PEAK_MEMORY_RUNS);
    // Two old successes with the biggest peaks, then PEAK_MEMORY_RUNS newer ones.
    ran(&mut store, "etl", RunStatus::Success, 1_000, Some(9_000));
    ran(&mut store, "etl", RunStatus::Success, 2_000, Some(8_000));
    for i in 0..n {
        let memory = (i == 3).then_some(700).or(Some(100));
        ran(
            &mut store,
            "etl",
            RunStatus::Success,
            10_000 + i * 1_000,
            memory,
        );
    }
    ran(
        &mut store,
        "etl",
        RunStatus::OomKilled,
        99_000,
        Some(50_000),
    );
    assert_eq!(store.job_summary("etl").unwrap().peak_memory(), Some(700));
}

#[test]
fn the_failure_count_stops_at_the_scan_limit() {
    let (_dir, mut store) = store_with_jobs(&["flaky"]);
    ran(&mut store, "flaky", RunStatus::Success, 0, None);
    let total = STREAK_SCAN_LIMIT + 500;
    store
        .conn
        .execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) \
             INSERT INTO runs (job, slot, status, trigger, started_at, finished_at, enforcement) \
             SELECT 'flaky', 'batch', 'failed', 'schedule', i, i + 1, 'none' FROM n",
            [total],
        )
        .unwrap();
    let summary = store.job_summary("flaky").unwrap();
    assert_eq!(summary.consecutive_failures, STREAK_SCAN_LIMIT);
    assert_eq!(
        summary.last_failure_at,
        DateTime::from_timestamp_millis(i64::from(total) + 1)
    );
}

/// What a summary should be, computed the plain way from a job's runs (newest first).
fn model(runs: &[RunRecord], reset: Option<DateTime<Utc>>) -> JobSummary {
    use RunStatus::*;
    let is_final = |r: &&RunRecord| !matches!(r.status, Running | Skipped);
    let counted: Vec<&RunRecord> = runs
        .iter()
        .take_while(|r| r.status != Success)
        .take(STREAK_SCAN_LIMIT as usize)
        .filter(|r| matches!(r.status, Failed | Timeout | OomKilled | Lost))
        .filter(|r| reset.is_none_or(|t| r.started_at >= t))
        .collect();
    JobSummary {
        last_started_at: runs
            .iter()
            .find(|r| r.status != Skipped)
            .map(|r| r.started_at),
        last_final: runs.iter().find(is_final).map(|r| LastRun {
            id: r.id,
            status: r.status,
            finished_at: r.finished_at.unwrap(),
        }),
        consecutive_failures: counted.len() as u32,
        last_failure_at: counted.first().and_then(|r| r.finished_at),
        last_trouble_at: runs
            .iter()
            .filter(|r| matches!(r.status, Failed | Timeout | OomKilled | Lost))
            .filter_map(|r| r.finished_at)
            .max(),
        success_peaks: SuccessPeaks::newest_first(
            runs.iter()
                .filter(|r| r.status == Success)
                .map(|r| r.usage.memory_peak_bytes),
        ),
    }
}

#[test]
fn summaries_of_2000_pseudo_random_runs_match_the_model() {
    const JOBS: usize = 20;
    const RUNS: usize = 2_000;
    let names: Vec<String> = (0..JOBS).map(|j| format!("job-{j:02}")).collect();
    let mut store = Store::open_in_memory().unwrap();
    let rows: Vec<JobRow> = names.iter().map(|n| job(n, "@hourly")).collect();
    store.sync_jobs(&rows, at(0)).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    // Success is rare enough that many jobs end in a streak of some length.
    let statuses = [
        RunStatus::Success,
        RunStatus::Success,
        RunStatus::Failed,
        RunStatus::Failed,
        RunStatus::Timeout,
        RunStatus::OomKilled,
        RunStatus::Lost,
        RunStatus::Killed,
        RunStatus::Skipped,
        RunStatus::Running,
    ];
    for i in 0..RUNS {
        let job = &names[next(JOBS as u64) as usize];
        let status = statuses[next(statuses.len() as u64) as usize];
        // Start times jitter around the recording order, so they do not follow the ids.
        let start = i as i64 * 1_000 + next(5_000) as i64;
        let memory = (next(4) > 0).then(|| next(1 << 30));
        ran(&mut store, job, status, start, memory);
    }
    // Resets at the start of one of the job's newest runs, so they cut into streaks.
    for name in names.iter().step_by(2) {
        let newest = store
            .runs(&RunFilter {
                job: Some(name.clone()),
                limit: Some(6),
            })
            .unwrap();
        let reset = newest[next(newest.len() as u64) as usize].started_at;
        store.reset_breaker(name, reset).unwrap();
    }
    let controls = store.job_controls().unwrap();

    let summaries = store.job_summaries().unwrap();
    assert_eq!(summaries.len(), JOBS);
    let mut streaks = 0;
    for name in &names {
        let filter = RunFilter {
            job: Some(name.clone()),
            limit: None,
        };
        let runs = store.runs(&filter).unwrap();
        let reset = controls.get(name).and_then(|c| c.breaker_reset_at);
        let expected = model(&runs, reset);
        assert_eq!(summaries[name], expected, "{name}");
        assert_eq!(store.job_summary(name).unwrap(), expected, "{name}");
        streaks += usize::from(expected.consecutive_failures > 0);
    }
    assert!(
        streaks >= 5,
        "only {streaks} jobs end in failures; the test proves little"
    );
}

/// The daemon's incremental update (`JobSummary::learn`, run by run) and the store's
/// loader (`job_summary`) agree after every run of a sequence of more than
/// [`PEAK_MEMORY_RUNS`] in which the oldest, biggest peak ages out, with a failure, an OOM
/// kill inside a successful run and an OOM-killed run along the way (ADR 0034).
#[test]
fn the_daemon_learns_what_the_store_would_say_as_the_old_peak_ages_out() {
    use RunStatus::*;
    let (_dir, mut store) = store_with_jobs(&["etl"]);
    let mut learned = JobSummary::default();
    let mut start = 0;
    let mut run = |store: &mut Store, status: RunStatus, peak: u64, oom_kills: u64| {
        start += 1_000;
        let id = store
            .start_run(&NewRun {
                started_at: at(start),
                ..new_run("etl")
            })
            .unwrap();
        let done = RunCompletion {
            status,
            exit_code: Some(i32::from(status != Success)),
            usage: RunUsage {
                memory_peak_bytes: Some(peak),
                oom_kills: Some(oom_kills),
                ..RunUsage::default()
            },
            ..success(at(start + 100), 100)
        };
        store.finish_run(id, &done).unwrap();
        let record = store.run(id).unwrap().unwrap();
        learned.learn(&record);
        let stored = store.job_summary("etl").unwrap();
        assert_eq!(learned, stored, "after run {id} ({status})");
        stored
    };
    let first = run(&mut store, Success, 500, 0);
    assert_eq!(first.peak_memory(), Some(500));
    let failed = run(&mut store, Failed, 900, 0);
    assert_eq!(
        (failed.consecutive_failures, failed.last_trouble_at),
        (1, Some(at(2_100)))
    );
    for i in 0..8 {
        run(&mut store, Success, 10 + i, u64::from(i == 4));
    }
    let oomed = run(&mut store, OomKilled, 2_000, 1);
    assert_eq!(oomed.last_trouble_at, Some(at(11_100)));
    // The tenth success since the 500: still counted.
    let tenth = run(&mut store, Success, 20, 0);
    assert_eq!(tenth.peak_memory(), Some(500));
    // The eleventh: the 500 ages out; failures' peaks never counted.
    let aged = run(&mut store, Success, 30, 0);
    assert_eq!(aged.peak_memory(), Some(30));
    assert_eq!(aged.consecutive_failures, 0);
}

#[test]
fn the_newest_trouble_is_read_from_its_index() {
    let (_dir, store) = store_with_jobs(&["etl"]);
    let sql = format!(
        "EXPLAIN QUERY PLAN {}",
        crate::store::summary::summary_sql("")
    );
    let mut stmt = store.conn.prepare(&sql).unwrap();
    let plan: Vec<String> = stmt
        .query_map([], |row| row.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter()
            .any(|step| step == "SEARCH t USING INDEX runs_job_trouble (job=?)"),
        "{plan:#?}"
    );
}
