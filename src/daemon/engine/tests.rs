//! The engine's rules with real (unconfined) processes, an in-memory history and the
//! real clock; each test drives the engine by hand instead of through the event loop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use tokio::sync::mpsc;

use super::*;
use crate::config::load_settings;
use crate::daemon::machine::FixedMemory;
use crate::daemon::reload::{Cause, reload};
use crate::model::RunStatus;
use crate::scheduler::{BreakerState, Readings};
use crate::store::RunFilter;
use crate::store::SuccessPeaks;

const MIB: u64 = 1 << 20;

/// A machine with memory to spare: 4,000,000 KiB available, no memory pressure.
pub(super) const CALM: Readings = Readings {
    some_avg10: Some(0.0),
    full_avg10: Some(0.0),
    mem_available: Some(4_000_000 * 1024),
};

pub(super) struct Harness {
    pub(super) engine: Engine,
    pub(super) events: mpsc::UnboundedReceiver<RunEvent>,
    /// The machine's memory as the engine sees it: calm until a test sets it.
    pub(super) machine: Arc<FixedMemory>,
    pub(super) _dir: tempfile::TempDir,
}

pub(super) async fn harness(slots: &str, jobs: &[(&str, &str)]) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("jobs.d")).unwrap();
    for (name, text) in jobs {
        std::fs::write(dir.path().join("jobs.d").join(format!("{name}.yaml")), text).unwrap();
    }
    let config = dir.path().join("slotcron.yaml");
    std::fs::write(
        &config,
        format!(
            "jobs_dir: jobs.d\nstate_dir: state\nenforcement: off\nkill_grace: 1s\nslots:\n{slots}"
        ),
    )
    .unwrap();
    let settings = Arc::new(load_settings(Some(&config)).unwrap());
    let enforcer = Arc::new(Enforcer::Unconfined {
        reason: "test".into(),
    });
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let (tx, events) = mpsc::unbounded_channel();
    let machine = Arc::new(FixedMemory::new(CALM));
    let mut engine = Engine::new(settings, enforcer, store, machine.clone(), tx);
    reload(&mut engine, Cause::Asked).await;
    assert!(
        engine.registry.problems.is_empty(),
        "{:?}",
        engine.registry.problems
    );
    Harness {
        engine,
        events,
        machine,
        _dir: dir,
    }
}

impl Harness {
    /// Feeds run events to the engine until no run is active.
    pub(super) async fn settle(&mut self) {
        while !self.engine.active.is_empty() {
            let event = tokio::time::timeout(Duration::from_secs(20), self.events.recv())
                .await
                .expect("a run ends")
                .expect("the engine holds a sender");
            match event {
                RunEvent::Recorded { token, id } => self.engine.recorded(token, id),
                RunEvent::Finished { token, result } => self.engine.finished(token, result).await,
            }
        }
    }

    /// Feeds events until the run of `job` has an id.
    pub(super) async fn wait_recorded(&mut self, job: &str) -> i64 {
        loop {
            if let Some(id) = self
                .engine
                .active
                .values()
                .find(|a| a.job == job)
                .and_then(|a| a.run_id)
            {
                return id;
            }
            match self.events.recv().await.unwrap() {
                RunEvent::Recorded { token, id } => self.engine.recorded(token, id),
                RunEvent::Finished { token, result } => self.engine.finished(token, result).await,
            }
        }
    }

    /// The registry's entry of `job`, to set what history would have said.
    pub(super) fn entry(&mut self, job: &str) -> &mut crate::daemon::registry::JobEntry {
        self.engine
            .registry
            .jobs
            .get_mut(job)
            .expect("a loaded job")
    }

    pub(super) async fn manual(&mut self, job: &str) -> Verdict {
        let now = Utc::now();
        self.engine.due(job, Origin::Manual, now, now).await
    }

    pub(super) fn runs(&self, job: &str) -> Vec<RunRecord> {
        let store = self.engine.store.lock().unwrap();
        let mut runs = store
            .runs(&RunFilter {
                job: Some(job.into()),
                limit: None,
            })
            .unwrap();
        runs.reverse();
        runs
    }
}

pub(super) const SLOT: &str = "  default: { max_concurrent: 2, memory_max: 1G, queue_limit: 1 }\n";

#[tokio::test]
async fn forbid_skips_a_run_due_while_the_previous_one_runs_and_records_why() {
    let mut h = harness(SLOT, &[("slow", "command: sleep 1\n")]).await;
    assert_eq!(h.manual("slow").await, Verdict::Queued);
    let first = h.wait_recorded("slow").await;
    let Verdict::Skipped(reason) = h.manual("slow").await else {
        panic!("the second run must be skipped");
    };
    assert_eq!(
        reason,
        format!("concurrency forbid: run {first} is still running")
    );
    h.settle().await;
    let runs = h.runs("slow");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].status, RunStatus::Success);
    assert_eq!(runs[1].status, RunStatus::Skipped);
    assert_eq!(runs[1].error.as_deref(), Some(reason.as_str()));
}

#[tokio::test]
async fn replace_stops_the_old_run_before_the_new_one_starts() {
    let mut h = harness(SLOT, &[("r", "command: sleep 30\nconcurrency: replace\n")]).await;
    h.manual("r").await;
    h.wait_recorded("r").await;
    assert_eq!(h.manual("r").await, Verdict::Queued);
    assert_eq!(
        h.engine.active.len(),
        1,
        "the new run waits for the old one"
    );
    // The old run ends `killed`; the new one then starts. Stop it too to finish the test.
    loop {
        match h.events.recv().await.unwrap() {
            RunEvent::Recorded { token, id } => {
                h.engine.recorded(token, id);
                h.engine.kill(id).unwrap();
            }
            RunEvent::Finished { token, result } => h.engine.finished(token, result).await,
        }
        if h.runs("r")
            .iter()
            .filter(|r| r.status == RunStatus::Killed)
            .count()
            == 2
        {
            break;
        }
    }
    let runs = h.runs("r");
    assert!(
        runs[1].started_at >= runs[0].finished_at.unwrap(),
        "no overlap: {runs:?}"
    );
}

#[tokio::test]
async fn a_full_queue_skips_with_the_limit_in_the_reason() {
    let one_seat = "  default: { max_concurrent: 1, memory_max: 1G, queue_limit: 1 }\n";
    let jobs = [
        ("a", "command: sleep 1\n"),
        ("b", "command: 'true'\n"),
        ("c", "command: 'true'\n"),
    ];
    let mut h = harness(one_seat, &jobs).await;
    assert_eq!(h.manual("a").await, Verdict::Queued);
    assert_eq!(h.manual("b").await, Verdict::Queued);
    assert_eq!(
        h.manual("c").await,
        Verdict::Skipped("slot `default` already has 1 runs waiting (queue_limit)".into())
    );
    h.settle().await;
    let b = &h.runs("b")[0];
    assert_eq!(b.status, RunStatus::Success);
    assert!(b.wait_ms.unwrap() > 0, "b waited for a's seat: {b:?}");
    assert!(b.started_at >= h.runs("a")[0].finished_at.unwrap());
}

#[tokio::test]
async fn depends_on_needs_the_latest_run_to_have_succeeded() {
    let jobs = [
        ("a", "command: exit 1\n"),
        ("b", "command: 'true'\ndepends_on: [a]\n"),
    ];
    let mut h = harness(SLOT, &jobs).await;
    assert_eq!(
        h.manual("b").await,
        Verdict::Skipped("depends_on: `a` has not run yet".into())
    );
    h.manual("a").await;
    h.settle().await;
    let a = h.runs("a")[0].id;
    assert_eq!(
        h.manual("b").await,
        Verdict::Skipped(format!("depends_on: `a`'s latest run ({a}) ended failed"))
    );
}

#[tokio::test]
async fn a_failed_run_schedules_its_retry_after_the_backoff() {
    let mut h = harness(
        SLOT,
        &[("f", "command: exit 3\nretries: 2\nretry_delay: 5s\n")],
    )
    .await;
    h.manual("f").await;
    h.settle().await;
    let first = &h.runs("f")[0];
    assert_eq!(first.status, RunStatus::Failed);
    let (key, (job, origin)) = h.engine.retries.iter().next().expect("a retry waits");
    assert_eq!(job, "f");
    assert_eq!(
        *origin,
        Origin::Retry {
            attempt: 2,
            retry_of: first.id
        }
    );
    let at = h.engine.timeline.get(&Wake::Retry(*key)).unwrap();
    let wait = (at - first.finished_at.unwrap()).num_milliseconds();
    assert!(
        (4_900..6_000).contains(&wait),
        "retry after ~5 s, got {wait} ms"
    );
}

#[tokio::test]
async fn the_breaker_ignores_scheduled_times_once_tripped_but_not_a_trigger() {
    let mut h = harness(
        SLOT,
        &[(
            "f",
            "command: exit 1\nbreaker: { failures: 2, cooldown: 1h }\n",
        )],
    )
    .await;
    for _ in 0..2 {
        h.manual("f").await;
        h.settle().await;
    }
    let now = Utc::now();
    let verdict = h.engine.due("f", Origin::Schedule, now, now).await;
    assert!(
        matches!(&verdict, Verdict::Ignored(r) if r.contains("circuit breaker is open")),
        "{verdict:?}"
    );
    assert!(matches!(
        h.engine.registry.jobs["f"].breaker(now),
        BreakerState::Open { .. }
    ));
    let events = h.engine.store.lock().unwrap().events(10).unwrap();
    assert_eq!(events[0].kind, "breaker_tripped");
    assert_eq!(
        h.manual("f").await,
        Verdict::Queued,
        "a trigger overrides the breaker"
    );
    h.settle().await;
}

#[tokio::test]
async fn expected_memory_prefers_history_then_the_limit_then_a_fair_share() {
    let jobs = [
        (
            "limited",
            "command: 'true'\nlimits: { memory: 100M }\nweights: { memory: 1.5 }\n",
        ),
        ("open", "command: 'true'\n"),
    ];
    let mut h = harness(SLOT, &jobs).await;
    let job = |h: &Harness, n: &str| h.engine.registry.jobs[n].job.clone();
    assert_eq!(h.engine.expected_memory(&job(&h, "limited")), 100 * MIB);
    assert_eq!(
        h.engine.expected_memory(&job(&h, "open")),
        512 * MIB,
        "1G / 2 seats"
    );
    h.entry("limited").summary.success_peaks = SuccessPeaks::newest_first([Some(40 * MIB)]);
    assert_eq!(
        h.engine.expected_memory(&job(&h, "limited")),
        60 * MIB,
        "40M x 1.5"
    );
    h.entry("limited").summary.success_peaks = SuccessPeaks::newest_first([Some(90 * MIB)]);
    assert_eq!(
        h.engine.expected_memory(&job(&h, "limited")),
        100 * MIB,
        "never above the limit"
    );
}

#[tokio::test]
async fn a_disabled_job_ignores_its_schedule_and_has_no_next_fire() {
    let mut h = harness(
        SLOT,
        &[(
            "d",
            "command: 'true'\nschedule: '@hourly'\nenabled: false\n",
        )],
    )
    .await;
    assert_eq!(h.engine.timeline.get(&Wake::Fire("d".into())), None);
    let now = Utc::now();
    assert_eq!(
        h.engine.due("d", Origin::Schedule, now, now).await,
        Verdict::Ignored("`d` is disabled".into())
    );
    h.entry("d").control.enabled_override = Some(true);
    h.engine.schedule_next("d", now);
    let next = h.engine.timeline.get(&Wake::Fire("d".into())).unwrap();
    assert!(next > now && next <= now + chrono::Duration::hours(1));
}

#[tokio::test]
async fn an_interval_keeps_its_phase_whatever_the_last_start() {
    let mut h = harness(SLOT, &[("i", "command: 'true'\nschedule: '@every 10m'\n")]).await;
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 10, 3, 0).unwrap();
    let grid = Utc.with_ymd_and_hms(2026, 11, 27, 10, 10, 0).unwrap();
    for last in [
        now - chrono::Duration::minutes(3),
        now - chrono::Duration::hours(5),
    ] {
        h.entry("i").summary.last_started_at = Some(last);
        h.engine.schedule_next("i", now);
        assert_eq!(h.engine.timeline.get(&Wake::Fire("i".into())), Some(grid));
    }
    // Woken 2 s late for 10:10 with a run that started late before: the next is 10:20.
    h.entry("i").summary.last_started_at = Some(grid - chrono::Duration::seconds(598));
    let late = grid + chrono::Duration::seconds(2);
    assert_eq!(h.engine.take_fire("i", late), Some(grid));
    assert_eq!(
        h.engine.timeline.get(&Wake::Fire("i".into())),
        Some(grid + chrono::Duration::minutes(10))
    );
}

#[tokio::test]
async fn protect_holds_back_all_but_critical_runs_until_memory_recovers() {
    let available = |kib: u64| Readings {
        mem_available: Some(kib * 1024),
        ..CALM
    };
    let slots =
        "  default: { max_concurrent: 2, memory_max: 1G }\nprotect: { reserve_memory: 1G }\n";
    let jobs = [
        ("low", "command: 'true'\npriority: low\n"),
        ("crit", "command: 'true'\npriority: critical\n"),
    ];
    let mut h = harness(slots, &jobs).await;
    h.machine.set(available(512 * 1024));

    assert_eq!(h.manual("low").await, Verdict::Queued);
    assert!(
        h.engine.active.is_empty(),
        "held back while MemAvailable < reserve"
    );
    let why = h.engine.paused.clone().expect("paused");
    assert!(why.contains("below protect.reserve_memory 1G"), "{why}");
    assert!(
        h.engine.timeline.get(&Wake::Recheck).is_some(),
        "a re-check is due"
    );
    assert_eq!(h.manual("crit").await, Verdict::Queued);
    assert_eq!(
        h.engine
            .active
            .values()
            .map(|a| a.job.as_str())
            .collect::<Vec<_>>(),
        ["crit"]
    );
    h.settle().await;
    assert!(h.engine.admission.is_queued("low"));

    h.machine.set(available(4 * 1024 * 1024));
    h.engine.dispatch(Utc::now()).await;
    assert!(h.engine.paused.is_none());
    assert!(
        !h.engine.admission.is_queued("low"),
        "started once memory recovered"
    );
    h.settle().await;
    let kinds: Vec<String> = h
        .engine
        .store
        .lock()
        .unwrap()
        .events(10)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["resumed", "deferred"], "newest first");
    assert_eq!(h.runs("low")[0].status, RunStatus::Success);
}

#[tokio::test]
async fn jitter_delays_each_fire_by_up_to_its_bound_and_keeps_the_nominal_time() {
    let mut h = harness(
        SLOT,
        &[(
            "j",
            "command: 'true'\nschedule: '0 3 * * *'\ntimezone: UTC\njitter: 30s\n",
        )],
    )
    .await;
    let now = Utc::now();
    let mut delays = std::collections::BTreeSet::new();
    for _ in 0..50 {
        h.engine.schedule_next("j", now);
        let nominal = h.engine.registry.jobs["j"].next_nominal.unwrap();
        assert_eq!(
            nominal,
            h.engine.registry.jobs["j"].job.next_fire(now).unwrap()
        );
        let at = h.engine.timeline.get(&Wake::Fire("j".into())).unwrap();
        let delay = (at - nominal).num_milliseconds();
        assert!((0..=30_000).contains(&delay), "delay {delay} ms");
        delays.insert(delay);
    }
    assert!(
        delays.len() > 40,
        "a fresh random delay each time: {delays:?}"
    );
}

#[tokio::test]
async fn a_finished_run_raises_alerts_notifies_new_ones_and_a_success_resolves_them() {
    use crate::alerts::{AlertKind, Severity};
    use crate::store::AlertChange;
    let mut h = harness(
        SLOT,
        &[(
            "f",
            "command: exit 3\nalerts: { consecutive_failures: 2 }\n",
        )],
    )
    .await;
    let (sink, mut notices) = mpsc::unbounded_channel();
    h.engine.alert_sink = Some(sink);
    h.manual("f").await;
    h.settle().await;
    let first = notices.try_recv().expect("a failure notice");
    assert_eq!(
        (first.job.as_str(), first.kind, first.severity),
        ("f", AlertKind::Failure, Severity::Error)
    );
    assert!(matches!(first.change, AlertChange::Opened(id) if id == first.alert_id));
    assert!(notices.try_recv().is_err(), "one failure: no streak yet");
    h.manual("f").await;
    h.settle().await;
    // The failure repeats silently; the streak of 2 opens its own alert.
    let streak = notices.try_recv().expect("a streak notice");
    assert_eq!(
        (streak.kind, streak.severity, streak.message.as_str()),
        (
            AlertKind::ConsecutiveFailures,
            Severity::Critical,
            "2 consecutive failed runs (alert at 2)"
        )
    );
    assert!(notices.try_recv().is_err());
    let open = h.engine.store.lock().unwrap().alerts(false).unwrap();
    let counts: Vec<(AlertKind, u64)> = open.iter().map(|a| (a.kind, a.count)).collect();
    assert_eq!(
        counts,
        [(AlertKind::ConsecutiveFailures, 1), (AlertKind::Failure, 2)]
    );

    std::fs::write(
        h.engine.settings.jobs_dir.join("f.yaml"),
        "command: 'true'\n",
    )
    .unwrap();
    reload(&mut h.engine, Cause::Asked).await;
    h.manual("f").await;
    h.settle().await;
    assert!(
        h.engine
            .store
            .lock()
            .unwrap()
            .alerts(false)
            .unwrap()
            .is_empty()
    );
    assert!(notices.try_recv().is_err(), "resolving notifies nobody");
}

#[tokio::test]
async fn the_engine_keeps_each_job_s_performance_for_metrics() {
    use crate::stats::{Baseline, Performance};
    let mut h = harness(
        SLOT,
        &[(
            "nap",
            "command: sleep 0.05\nalerts: { slower: { by: 0%, at_least: 0s } }\n",
        )],
    )
    .await;
    // A baseline of 10 ms against which 50 ms runs are degraded once three of them are in.
    let baseline = Baseline {
        duration_median_ms: 10.0,
        duration_p95_ms: 11.0,
        duration_mad_ms: 0.5,
        memory_median_bytes: None,
        memory_max_bytes: None,
        memory_mad_bytes: None,
        duration_spread: Some(0.05),
        memory_spread: None,
        cpu_median_usec: None,
        runs: h.engine.settings.health.baseline_runs,
        newest_run_id: 0,
        checked_run_id: 1_000_000,
        held: false,
        computed_at: Utc::now(),
    };
    h.engine
        .store
        .lock()
        .unwrap()
        .save_baseline("nap", Some(&baseline))
        .unwrap();
    let performance = |h: &Harness| h.engine.metrics.jobs.get("nap").and_then(|c| c.performance);
    h.manual("nap").await;
    h.settle().await;
    assert_eq!(
        performance(&h),
        Some(Performance::Stable),
        "one run is no trend"
    );
    for _ in 0..2 {
        h.manual("nap").await;
        h.settle().await;
    }
    assert_eq!(performance(&h), Some(Performance::Degraded));
    let text = crate::metrics::encode(crate::daemon::query::snapshot(&h.engine));
    assert!(
        text.contains("slotcron_job_degraded{job=\"nap\"} 1\n"),
        "{text}"
    );
}
