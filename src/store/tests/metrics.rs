use super::{at, new_run, store_with_jobs, success};
use crate::model::RunStatus;
use crate::store::RunCompletion;

#[test]
fn run_totals_group_by_job_slot_and_status_with_sums_buckets_and_the_newest_peak() {
    let (_dir, mut store) = store_with_jobs(&["a", "b"]);
    let finish = |store: &mut crate::store::Store, job: &str, done: RunCompletion| {
        let id = store.start_run(&new_run(job)).unwrap();
        store.finish_run(id, &done).unwrap();
        id
    };
    let mut first = success(at(11_000), 500);
    first.usage.cpu_usage_usec = Some(1_000);
    first.usage.memory_peak_bytes = Some(10);
    finish(&mut store, "a", first);
    let mut second = success(at(20_000), 90_000);
    second.usage.cpu_usage_usec = Some(2_000);
    second.usage.memory_peak_bytes = Some(20);
    finish(&mut store, "a", second);
    let mut oom = success(at(30_000), 7_000);
    oom.status = RunStatus::OomKilled;
    oom.usage.oom_kills = Some(2);
    oom.usage.memory_peak_bytes = Some(30);
    finish(&mut store, "a", oom);
    store.start_run(&new_run("b")).unwrap(); // still running: not counted
    store.record_skipped(&new_run("b"), "busy").unwrap();

    let totals = store.run_totals(&[1_000, 60_000]).unwrap();
    let got: Vec<(&str, RunStatus, u64)> = totals
        .iter()
        .map(|t| (t.job.as_str(), t.status, t.runs))
        .collect();
    assert_eq!(
        got,
        [
            ("a", RunStatus::OomKilled, 1),
            ("a", RunStatus::Success, 2),
            ("b", RunStatus::Skipped, 1)
        ]
    );
    let ok = &totals[1];
    assert_eq!((ok.cpu_usage_usec, ok.oom_kills), (3_000, 0));
    assert_eq!((ok.durations, ok.duration_ms_sum), (2, 90_500));
    assert_eq!(ok.duration_le, [1, 1]);
    assert_eq!(ok.last_memory_peak, Some(20));
    assert_eq!(ok.last_finished_at, Some(at(20_000)));
    assert_eq!(ok.slot, "batch");
    assert_eq!(
        (totals[0].oom_kills, totals[0].duration_le.clone()),
        (2, vec![0, 1])
    );
    assert_eq!(totals[2].durations, 0);
}
