//! The rules with plain values: each kind's exact finding, its thresholds' edges, and
//! what a run resolves.

use std::path::Path;
use std::time::Duration;

use chrono::DateTime;

use super::*;
use crate::alerts::Severity;
use crate::config::{Settings, parse_job};
use crate::model::Enforcement;

const MIB: u64 = 1024 * 1024;

fn job(text: &str) -> Job {
    parse_job(Path::new("/jobs.d/backup.yaml"), text, &Settings::builtin()).unwrap()
}

fn plain_job() -> Job {
    job("command: 'true'\n")
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_767_225_600_000 + ms).unwrap()
}

/// A finished successful run 7 of `backup`: 10 s, 100 MiB of a 1 GiB limit, not queued.
fn run(status: RunStatus) -> RunRecord {
    RunRecord {
        id: 7,
        job: "backup".into(),
        slot: "default".into(),
        status,
        exit_code: Some(if status == RunStatus::Success { 0 } else { 1 }),
        signal: None,
        started_at: at(0),
        finished_at: Some(at(10_000)),
        duration_ms: Some(10_000),
        memory_peak_bytes: Some(100 * MIB),
        memory_limit_bytes: Some(1024 * MIB),
        cpu_usage_usec: None,
        cpu_user_usec: None,
        cpu_system_usec: None,
        cpu_throttled_usec: None,
        oom_kills: Some(0),
        pids_peak: None,
        enforcement: Enforcement::Cgroup,
        trigger: "schedule".into(),
        attempt: 1,
        retry_of: None,
        pid: Some(100),
        cgroup: None,
        log_path: None,
        queued_at: None,
        wait_ms: None,
        error: None,
    }
}

fn settings() -> AlertSettings {
    AlertSettings::default()
}

fn finding(kind: AlertKind, severity: Severity, message: &str) -> Finding {
    Finding {
        kind,
        severity,
        message: message.to_owned(),
    }
}

fn eval(run: &RunRecord, job: &Job, streak: u32) -> Vec<Finding> {
    evaluate(run, job, streak, None, &settings())
}

#[test]
fn a_plain_success_has_no_findings() {
    assert_eq!(eval(&run(RunStatus::Success), &plain_job(), 0), []);
}

#[test]
fn running_skipped_and_killed_runs_raise_nothing_from_their_status() {
    for status in [RunStatus::Running, RunStatus::Skipped, RunStatus::Killed] {
        assert_eq!(eval(&run(status), &plain_job(), 5), [], "{status}");
    }
}

#[test]
fn failure_names_the_exit_code_signal_or_error() {
    let mut r = run(RunStatus::Failed);
    assert_eq!(
        eval(&r, &plain_job(), 1),
        [finding(
            AlertKind::Failure,
            Severity::Error,
            "run 7 failed with exit code 1"
        )]
    );
    r.exit_code = None;
    r.signal = Some(9);
    assert_eq!(
        eval(&r, &plain_job(), 1)[0].message,
        "run 7 failed: killed by signal 9"
    );
    r.signal = None;
    r.error = Some("cannot execute `nope`".into());
    assert_eq!(
        eval(&r, &plain_job(), 1)[0].message,
        "run 7 failed: cannot execute `nope`"
    );
    let lost = run(RunStatus::Lost);
    assert_eq!(
        eval(&lost, &plain_job(), 1),
        [finding(
            AlertKind::Failure,
            Severity::Error,
            "run 7 was lost: its supervisor died before it ended"
        )]
    );
}

#[test]
fn timeout_and_oom_kill() {
    assert_eq!(
        eval(&run(RunStatus::Timeout), &plain_job(), 1),
        [finding(
            AlertKind::Timeout,
            Severity::Error,
            "run 7 was stopped at its timeout after 10s"
        )]
    );
    let mut oom = run(RunStatus::OomKilled);
    // At its cap: the peak equals the limit, which `oom_kill` already says.
    oom.memory_peak_bytes = Some(1024 * MIB);
    assert_eq!(
        eval(&oom, &plain_job(), 1),
        [finding(
            AlertKind::OomKill,
            Severity::Error,
            "run 7 was killed by the kernel at its memory limit of 1024.0 MiB"
        )]
    );
}

#[test]
fn high_memory_over_max_memory_or_over_90_percent_of_the_limit() {
    let capped = job("command: 'true'\nalerts: { max_memory: 50M }\n");
    assert_eq!(
        eval(&run(RunStatus::Success), &capped, 0),
        [finding(
            AlertKind::HighMemory,
            Severity::Warning,
            "run 7 peaked at 100.0 MiB of memory, above alerts.max_memory 50.0 MiB"
        )]
    );
    let mut r = run(RunStatus::Success);
    r.memory_peak_bytes = Some(950 * MIB);
    assert_eq!(
        eval(&r, &plain_job(), 0),
        [finding(
            AlertKind::HighMemory,
            Severity::Warning,
            "run 7 peaked at 950.0 MiB of memory, 93 % of its limit 1024.0 MiB"
        )]
    );
    // 90 % exactly is not above it; without a limit only max_memory counts.
    r.memory_peak_bytes = Some(1024 * MIB * 9 / 10);
    assert_eq!(eval(&r, &plain_job(), 0), []);
    r.memory_limit_bytes = None;
    r.memory_peak_bytes = Some(4096 * MIB);
    assert_eq!(eval(&r, &plain_job(), 0), []);
}

#[test]
fn high_duration_over_max_duration() {
    let slow = job("command: 'true'\nalerts: { max_duration: 5s }\n");
    assert_eq!(
        eval(&run(RunStatus::Success), &slow, 0),
        [finding(
            AlertKind::HighDuration,
            Severity::Warning,
            "run 7 took 10s, above alerts.max_duration 5s"
        )]
    );
    let exact = job("command: 'true'\nalerts: { max_duration: 10s }\n");
    assert_eq!(eval(&run(RunStatus::Success), &exact, 0), []);
}

#[test]
fn consecutive_failures_at_the_default_threshold_of_3_and_a_set_one() {
    let failed = run(RunStatus::Failed);
    assert_eq!(eval(&failed, &plain_job(), 2).len(), 1);
    assert_eq!(
        eval(&failed, &plain_job(), 3)[1],
        finding(
            AlertKind::ConsecutiveFailures,
            Severity::Critical,
            "3 consecutive failed runs (alert at 3)"
        )
    );
    let touchy = job("command: 'true'\nalerts: { consecutive_failures: 1 }\n");
    assert_eq!(
        eval(&failed, &touchy, 1)[1].message,
        "1 consecutive failed runs (alert at 1)"
    );
    // A killed run neither counts nor ends a streak: it raises nothing.
    assert_eq!(eval(&run(RunStatus::Killed), &plain_job(), 3), []);
}

#[test]
fn anomaly_by_robust_z_score_and_never_with_a_zero_mad() {
    let baseline = BaselineRef {
        duration_median_ms: 4_000.0,
        duration_mad_ms: 500.0,
        memory_median_bytes: (100 * MIB) as f64,
        memory_mad_bytes: (10 * MIB) as f64,
    };
    let r = run(RunStatus::Success);
    // z = 0.6745 * (10000 - 4000) / 500 = 8.1; memory is at its median.
    assert_eq!(
        evaluate(&r, &plain_job(), 0, Some(&baseline), &settings()),
        [finding(
            AlertKind::Anomaly,
            Severity::Warning,
            "run 7: duration 10s against a usual 4s (z = 8.1)"
        )]
    );
    let mut small = r.clone();
    small.memory_peak_bytes = Some(20 * MIB);
    small.duration_ms = Some(4_000);
    assert_eq!(
        evaluate(&small, &plain_job(), 0, Some(&baseline), &settings())[0].message,
        "run 7: memory peak 20.0 MiB against a usual 100.0 MiB (z = -5.4)"
    );
    let lenient = AlertSettings {
        anomaly_z: 10.0,
        ..settings()
    };
    assert_eq!(evaluate(&r, &plain_job(), 0, Some(&baseline), &lenient), []);
    let flat = BaselineRef {
        duration_mad_ms: 0.0,
        memory_mad_bytes: 0.0,
        ..baseline
    };
    assert_eq!(evaluate(&r, &plain_job(), 0, Some(&flat), &settings()), []);
    // A failed run is not judged against the baseline.
    let failed = run(RunStatus::Failed);
    let kinds: Vec<AlertKind> = evaluate(&failed, &plain_job(), 1, Some(&baseline), &settings())
        .iter()
        .map(|f| f.kind)
        .collect();
    assert_eq!(kinds, [AlertKind::Failure]);
    assert_eq!(robust_z(1.0, 1.0, 0.0), None);
    assert_eq!(robust_z(1.0, 1.0, f64::NAN), None);
}

#[test]
fn slot_saturated_after_the_queue_wait_threshold() {
    let mut r = run(RunStatus::Success);
    r.wait_ms = Some(300_000);
    assert_eq!(eval(&r, &plain_job(), 0), []);
    r.wait_ms = Some(301_000);
    assert_eq!(
        eval(&r, &plain_job(), 0),
        [finding(
            AlertKind::SlotSaturated,
            Severity::Info,
            "run 7 waited 5m1s for a seat in slot `default` (alert above 5m)"
        )]
    );
}

#[test]
fn overdue_after_the_grace_without_a_start() {
    let s = AlertSettings {
        overdue_grace: Duration::from_secs(60),
        ..settings()
    };
    let due = at(0);
    assert_eq!(overdue(due, None, at(59_999), &s), None);
    assert_eq!(
        overdue(due, Some(at(-86_400_000)), at(90_500), &s),
        Some(finding(
            AlertKind::Overdue,
            Severity::Warning,
            "no run started since the scheduled time 2026-01-01 00:00:00 UTC (1m30s late)"
        ))
    );
    assert_eq!(overdue(due, Some(at(1_000)), at(600_000), &s), None);
    // Not yet due.
    assert_eq!(overdue(due, None, at(-1), &s), None);
}

#[test]
fn findings_of_several_kinds_come_in_kind_order() {
    let strict = job(
        "command: 'true'\nalerts: { max_duration: 1s, max_memory: 1M, consecutive_failures: 2 }\n",
    );
    let mut r = run(RunStatus::Timeout);
    r.wait_ms = Some(600_000);
    let kinds: Vec<AlertKind> = eval(&r, &strict, 2).iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            AlertKind::Timeout,
            AlertKind::HighMemory,
            AlertKind::HighDuration,
            AlertKind::ConsecutiveFailures,
            AlertKind::SlotSaturated,
        ]
    );
}

#[test]
fn what_a_run_resolves() {
    let ok = run(RunStatus::Success);
    assert_eq!(
        resolutions(&ok, &[], None),
        [
            AlertKind::Failure,
            AlertKind::Timeout,
            AlertKind::OomKill,
            AlertKind::HighMemory,
            AlertKind::HighDuration,
            AlertKind::ConsecutiveFailures,
            AlertKind::Overdue,
            AlertKind::SlotSaturated,
        ]
    );
    // A failed run that was slow resolves neither failures nor high_duration.
    let failed = run(RunStatus::Failed);
    let raised = [Finding::new(AlertKind::HighDuration, "slow".into())];
    assert_eq!(
        resolutions(&failed, &raised, None),
        [
            AlertKind::HighMemory,
            AlertKind::Overdue,
            AlertKind::SlotSaturated
        ]
    );
    let baseline = BaselineRef {
        duration_median_ms: 1.0,
        duration_mad_ms: 1.0,
        memory_median_bytes: 1.0,
        memory_mad_bytes: 1.0,
    };
    assert!(resolutions(&ok, &[], Some(&baseline)).contains(&AlertKind::Anomaly));
    assert_eq!(resolutions(&run(RunStatus::Skipped), &[], None), []);
}

#[test]
fn kinds_and_severities_round_trip_and_order() {
    for kind in AlertKind::ALL {
        assert_eq!(kind.as_str().parse::<AlertKind>(), Ok(kind));
    }
    assert!(Severity::Info < Severity::Warning);
    assert!(Severity::Error < Severity::Critical);
    assert_eq!("critical".parse::<Severity>(), Ok(Severity::Critical));
    assert!("fatal".parse::<Severity>().is_err());
    assert_eq!(
        serde_json::to_string(&AlertKind::OomKill).unwrap(),
        "\"oom_kill\""
    );
}
