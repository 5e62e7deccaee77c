//! The rules with plain values: each kind's exact finding, its thresholds' edges, and
//! what a run resolves.

use std::path::Path;
use std::time::Duration;

use chrono::DateTime;

use super::*;
use crate::alerts::Severity;
use crate::config::{Settings, parse_job};
use crate::model::{Enforcement, RunUsage};

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
        usage: RunUsage {
            memory_peak_bytes: Some(100 * MIB),
            oom_kills: Some(0),
            ..RunUsage::default()
        },
        memory_limit_bytes: Some(1024 * MIB),
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
        pressure: None,
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
        evidence: Vec::new(),
    }
}

fn eval(run: &RunRecord, job: &Job, streak: u32) -> Vec<Finding> {
    evaluate(run, job, streak, &History::default(), &settings())
}

/// A job that usually takes 4 s (runs within ±5 %) and peaks at 100 MiB (±2 %), whose
/// newest successes took `recent_ms` and peaked at `recent_mib`.
fn history(recent_ms: f64, recent_mib: f64) -> History {
    History {
        baseline: Some(crate::stats::Baseline {
            duration_median_ms: 4_000.0,
            duration_p95_ms: 4_400.0,
            duration_mad_ms: 130.0,
            memory_median_bytes: Some((100 * MIB) as f64),
            memory_max_bytes: Some(103 * MIB),
            memory_mad_bytes: Some((MIB) as f64),
            duration_spread: Some(0.05),
            memory_spread: Some(0.02),
            cpu_median_usec: None,
            runs: 30,
            newest_run_id: 6,
            checked_run_id: 6,
            held: false,
            computed_at: at(0),
        }),
        recent: crate::stats::Recent {
            runs: 5,
            duration_median_ms: Some(recent_ms),
            memory_median_bytes: Some(recent_mib * MIB as f64),
            memory_runs: 5,
        },
    }
}

fn kinds(findings: &[Finding]) -> Vec<AlertKind> {
    findings.iter().map(|f| f.kind).collect()
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
    oom.usage.memory_peak_bytes = Some(1024 * MIB);
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
    r.usage.memory_peak_bytes = Some(950 * MIB);
    assert_eq!(
        eval(&r, &plain_job(), 0),
        [finding(
            AlertKind::HighMemory,
            Severity::Warning,
            "run 7 peaked at 950.0 MiB of memory, 93 % of its limit 1024.0 MiB"
        )]
    );
    // 90 % exactly is not above it; without a limit only max_memory counts.
    r.usage.memory_peak_bytes = Some(1024 * MIB * 9 / 10);
    assert_eq!(eval(&r, &plain_job(), 0), []);
    r.memory_limit_bytes = None;
    r.usage.memory_peak_bytes = Some(4096 * MIB);
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
fn anomaly_when_unusual_and_material_with_its_evidence() {
    let usual = history(4_000.0, 100.0);
    let r = run(RunStatus::Success); // 10 s, 100 MiB
    let found = evaluate(&r, &plain_job(), 0, &usual, &settings());
    assert_eq!(kinds(&found), [AlertKind::Anomaly]);
    let a = &found[0];
    assert_eq!(a.severity, Severity::Warning);
    assert_eq!(
        a.message,
        "run 7 cost more than usual: duration 10.0 s is 2.50x the baseline median 4.0 s \
         (+6.0 s); its runs vary ±5.1 % (30 runs); z = 17.9, beyond +6.6; rule slower: +50 % \
         and +5.0 s. If this is its new normal, it stops once the newest 30 successful runs \
         all show it (the baseline is checked every 10 successes), or at once after \
         `slotcron recalculate-baselines backup`"
    );
    let e = &a.evidence[0];
    assert_eq!(
        (
            e.value,
            e.baseline_median,
            e.ratio,
            e.change,
            e.baseline_runs
        ),
        (10_000.0, 4_000.0, 2.5, 6_000.0, 30)
    );
    // Slower than usual by 4 s: unusual, +100 %, but under the 5 s floor.
    let mut quick = r.clone();
    quick.duration_ms = Some(8_000);
    assert_eq!(evaluate(&quick, &plain_job(), 0, &usual, &settings()), []);
    // A job may lower the floor.
    let touchy = job("command: 'true'\nalerts: { slower: { at_least: 1s } }\n");
    assert_eq!(
        kinds(&evaluate(&quick, &touchy, 0, &usual, &settings())),
        [AlertKind::Anomaly]
    );
    // A failed run is not judged against the baseline.
    let failed = run(RunStatus::Failed);
    assert_eq!(
        kinds(&evaluate(&failed, &plain_job(), 1, &usual, &settings())),
        [AlertKind::Failure]
    );
}

#[test]
fn faster_or_smaller_is_no_anomaly_and_its_own_kind_only_when_turned_on() {
    let usual = history(4_000_000.0, 1_000.0);
    let mut r = run(RunStatus::Success); // 10 s against 66 minutes
    r.usage.memory_peak_bytes = Some(10 * MIB);
    let mut baseline = usual.baseline.clone().unwrap();
    baseline.duration_median_ms = 4_000_000.0;
    baseline.memory_median_bytes = Some((1_000 * MIB) as f64);
    let usual = History {
        baseline: Some(baseline),
        ..usual
    };
    assert_eq!(evaluate(&r, &plain_job(), 0, &usual, &settings()), []);
    let both = job("command: 'true'\nalerts: { too_fast: true, too_small: true }\n");
    let found = evaluate(&r, &both, 0, &usual, &settings());
    assert_eq!(kinds(&found), [AlertKind::TooFast, AlertKind::TooSmall]);
    assert!(
        found[0].message.starts_with(
            "run 7 ended much sooner than usual: duration 10.0 s is 1/400 of the baseline median \
             1h 06m 40s (-1h 06m 30s)"
        ),
        "{}",
        found[0].message
    );
    assert!(
        found[1]
            .message
            .contains("memory peak 10.0 MiB is 1/100 of"),
        "{}",
        found[1].message
    );
}

#[test]
fn degraded_from_the_recent_median_not_from_one_run() {
    // The newest runs' median took 10 s against 4 s: degraded, whatever this run did.
    let slow = history(10_000.0, 100.0);
    let mut r = run(RunStatus::Success);
    r.duration_ms = Some(4_100);
    let found = evaluate(&r, &plain_job(), 0, &slow, &settings());
    assert_eq!(kinds(&found), [AlertKind::Degraded]);
    assert!(
        found[0].message.starts_with(
            "performance degraded: median duration of the newest 5 successful runs 10.0 s is \
             2.50x the baseline median 4.0 s (+6.0 s)"
        ),
        "{}",
        found[0].message
    );
    // One slow run among usual ones: an anomaly, not a degradation.
    let usual = history(4_050.0, 100.0);
    let one = evaluate(
        &run(RunStatus::Success),
        &plain_job(),
        0,
        &usual,
        &settings(),
    );
    assert_eq!(kinds(&one), [AlertKind::Anomaly]);
    // Memory alone (+40 %) degrades too.
    let hungry = history(4_000.0, 140.0);
    let found = evaluate(&r, &plain_job(), 0, &hungry, &settings());
    assert_eq!(
        found[0].evidence[0].rule,
        crate::stats::effect::Rule::Bigger
    );
}

#[test]
fn a_few_kib_on_a_tiny_job_is_no_alert_the_old_4_4_mib_message() {
    let mut tiny = history(5.0, 4.4);
    if let Some(b) = tiny.baseline.as_mut() {
        b.duration_median_ms = 5.0;
        b.memory_median_bytes = Some(4.4 * MIB as f64);
        b.memory_spread = Some(0.0);
    }
    let mut r = run(RunStatus::Success);
    r.duration_ms = Some(9);
    r.usage.memory_peak_bytes = Some((4.41 * MIB as f64) as u64);
    assert_eq!(evaluate(&r, &plain_job(), 0, &tiny, &settings()), []);
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
        resolutions(&ok, &[], &History::default()),
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
        resolutions(&failed, &raised, &History::default()),
        [
            AlertKind::HighMemory,
            AlertKind::Overdue,
            AlertKind::SlotSaturated
        ]
    );
    let judged = resolutions(&ok, &[], &history(4_000.0, 100.0));
    for kind in [
        AlertKind::Anomaly,
        AlertKind::Degraded,
        AlertKind::TooFast,
        AlertKind::TooSmall,
    ] {
        assert!(judged.contains(&kind), "{kind} not resolved: {judged:?}");
    }
    let slow = [Finding::new(AlertKind::Anomaly, "slow".into())];
    assert!(!resolutions(&ok, &slow, &history(4_000.0, 100.0)).contains(&AlertKind::Anomaly));
    assert!(!resolutions(&failed, &[], &history(4_000.0, 100.0)).contains(&AlertKind::Degraded));
    assert_eq!(
        resolutions(&run(RunStatus::Skipped), &[], &History::default()),
        []
    );
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
