//! The health rules on hand-made inputs.

use super::*;
use crate::model::RunStatus;
use crate::stats::baseline::Baseline;
use crate::stats::effect::Judging;
use crate::store::LastRun;

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + secs, 0).unwrap()
}

fn thresholds() -> Thresholds {
    Thresholds {
        consecutive_failures: 3,
        overdue_grace: Duration::from_secs(300),
        judging: Judging::default(),
    }
}

fn ran(status: RunStatus, secs: i64) -> JobSummary {
    JobSummary {
        last_started_at: Some(at(secs)),
        last_final: Some(LastRun {
            id: 1,
            status,
            finished_at: at(secs + 10),
        }),
        ..JobSummary::default()
    }
}

fn baseline(duration: f64, mad: f64, memory: Option<f64>) -> Baseline {
    Baseline {
        duration_median_ms: duration,
        duration_p95_ms: duration * 2.0,
        duration_mad_ms: mad,
        memory_median_bytes: memory,
        memory_max_bytes: memory.map(|m| m as u64),
        memory_mad_bytes: memory.map(|_| 0.0),
        duration_spread: Some(0.05),
        memory_spread: memory.map(|_| 0.05),
        cpu_median_usec: None,
        runs: 30,
        newest_run_id: 10,
        checked_run_id: 10,
        held: false,
        computed_at: at(0),
    }
}

fn recent(duration: f64, memory: Option<f64>) -> Recent {
    Recent {
        runs: 5,
        duration_median_ms: Some(duration),
        memory_median_bytes: memory,
        memory_runs: if memory.is_some() { 5 } else { 0 },
    }
}

#[test]
fn a_job_that_never_ran_has_no_baseline_and_says_how_far_it_is() {
    let inputs = HealthInputs {
        successes: 4,
        ..HealthInputs::default()
    };
    let h = evaluate(&thresholds(), &inputs, None, at(0));
    assert_eq!(
        (h.status, h.execution, h.performance),
        (
            HealthStatus::Healthy,
            Execution::NeverRun,
            Performance::Unknown
        )
    );
    assert_eq!(
        h.baseline_missing.as_deref(),
        Some("4 of 30 successful runs")
    );
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["execution"], "never_run");
    assert_eq!(json["baseline"], serde_json::Value::Null);
}

#[test]
fn the_streak_makes_it_critical_and_a_trouble_that_ended_today_a_warning() {
    let mut inputs = HealthInputs {
        summary: JobSummary {
            consecutive_failures: 2,
            last_trouble_at: Some(at(10)),
            ..ran(RunStatus::Failed, 0)
        },
        ..HealthInputs::default()
    };
    let h = evaluate(&thresholds(), &inputs, None, at(60));
    assert_eq!(
        (h.status, h.execution),
        (HealthStatus::Warning, Execution::Failing)
    );
    inputs.summary.consecutive_failures = 3;
    let h = evaluate(&thresholds(), &inputs, None, at(60));
    assert_eq!(h.status, HealthStatus::Critical);

    // The end of the trouble counts, not the start of its run nor the day's figures: a run
    // that met the OOM killer and ended 23 hours ago warns, 25 hours ago not.
    let day = 24 * 3600;
    let mut inputs = HealthInputs {
        summary: JobSummary {
            last_trouble_at: Some(at(10)),
            ..ran(RunStatus::Success, -2 * day)
        },
        ..HealthInputs::default()
    };
    let h = evaluate(&thresholds(), &inputs, None, at(10 + day - 3600));
    assert_eq!(
        (h.status, h.execution),
        (HealthStatus::Warning, Execution::Ok)
    );
    assert_eq!(h.rolling_24h.failures, 0, "the run started before the day");
    let h = evaluate(&thresholds(), &inputs, None, at(10 + day + 3600));
    assert_eq!(h.status, HealthStatus::Healthy);
    inputs.summary.last_trouble_at = None;
    let h = evaluate(&thresholds(), &inputs, None, at(60));
    assert_eq!(h.status, HealthStatus::Healthy);
}

#[test]
fn the_status_rule_on_a_summary_uses_the_job_threshold() {
    let now = at(100_000);
    let hours_ago = |h: i64| Some(now - chrono::Duration::hours(h));
    let summary = |failures, trouble| JobSummary {
        consecutive_failures: failures,
        last_trouble_at: trouble,
        ..JobSummary::default()
    };
    let status = |s: &JobSummary, threshold| summary_status(s, threshold, now);
    assert_eq!(status(&JobSummary::default(), 3), HealthStatus::Healthy);
    assert_eq!(status(&summary(0, hours_ago(23)), 3), HealthStatus::Warning);
    assert_eq!(status(&summary(0, hours_ago(25)), 3), HealthStatus::Healthy);
    assert_eq!(
        status(&summary(3, hours_ago(30)), 3),
        HealthStatus::Critical
    );
    assert_eq!(status(&summary(3, hours_ago(1)), 4), HealthStatus::Warning);
    assert_eq!(status(&summary(1, hours_ago(1)), 1), HealthStatus::Critical);
    assert_eq!(
        status(&summary(1, hours_ago(1)), 0),
        HealthStatus::Critical,
        "at least 1"
    );
}

#[test]
fn a_run_troubles_when_it_fails_or_meets_the_oom_killer() {
    assert!(is_trouble(RunStatus::Failed, None));
    assert!(is_trouble(RunStatus::Lost, Some(0)));
    assert!(is_trouble(RunStatus::Success, Some(1)));
    assert!(is_trouble(RunStatus::Killed, Some(2)));
    assert!(!is_trouble(RunStatus::Killed, Some(0)));
    assert!(!is_trouble(RunStatus::Requeued, None));
    assert!(!is_trouble(RunStatus::Success, None));
}

#[test]
fn overdue_once_a_scheduled_time_after_the_last_start_is_older_than_the_grace() {
    let inputs = HealthInputs {
        summary: ran(RunStatus::Failed, 0),
        ..HealthInputs::default()
    };
    // Due at 1 h; the grace is 5 min.
    let due = Some(at(3600));
    let h = evaluate(&thresholds(), &inputs, due, at(3600 + 300));
    assert_eq!(
        h.execution,
        Execution::Failing,
        "exactly the grace: not yet overdue"
    );
    assert_eq!(h.overdue_since, None);
    let h = evaluate(&thresholds(), &inputs, due, at(3600 + 301));
    assert_eq!(h.execution, Execution::Overdue, "overdue wins over failing");
    assert_eq!(h.overdue_since, due);
}

#[test]
fn performance_judges_the_recent_median_against_the_baseline_by_effect_size() {
    const MIB: f64 = 1024.0 * 1024.0;
    let mut inputs = HealthInputs {
        summary: ran(RunStatus::Success, 0),
        baseline: Some(baseline(10_000.0, 500.0, Some(512.0 * MIB))),
        recent: recent(15_000.0, Some(600.0 * MIB)),
        ..HealthInputs::default()
    };
    let perf = |inputs: &HealthInputs| evaluate(&thresholds(), inputs, None, at(60));
    let h = perf(&inputs);
    assert_eq!(
        h.performance,
        Performance::Stable,
        "+50 % is not beyond +50 %; +17 % memory"
    );
    assert_eq!(h.degradation, []);
    inputs.recent = recent(15_100.0, Some(512.0 * MIB));
    let h = perf(&inputs);
    assert_eq!(h.performance, Performance::Degraded);
    assert_eq!(h.degradation.len(), 1);
    assert_eq!((h.degradation[0].ratio, h.degradation[0].runs), (1.51, 5));
    inputs.recent = recent(10_000.0, Some(700.0 * MIB));
    assert_eq!(
        perf(&inputs).performance,
        Performance::Degraded,
        "memory alone (+37 %)"
    );
    // Two recent runs are one run's word: not judged.
    inputs.recent.runs = 2;
    inputs.recent.memory_runs = 2;
    assert_eq!(perf(&inputs).performance, Performance::Stable);
    inputs.recent = recent(900.0, None);
    inputs.baseline = Some(baseline(1000.0, 501.0, None));
    assert_eq!(perf(&inputs).performance, Performance::Unstable);
    inputs.baseline = Some(baseline(1000.0, 500.0, None));
    assert_eq!(
        perf(&inputs).performance,
        Performance::Stable,
        "a spread of exactly 0.5"
    );
    let h = perf(&inputs);
    assert_eq!(h.baseline_missing, None);
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["performance"], "stable");
    assert_eq!(json["recent"]["runs"], 5);
}

#[test]
fn assess_uses_the_jobs_threshold_schedule_and_jitter() {
    let settings = crate::config::Settings::builtin();
    let job = crate::config::parse_job(
        std::path::Path::new("/jobs.d/hourly.yaml"),
        "command: 'true'\nschedule: '@every 1h'\njitter: 1m\nalerts: { consecutive_failures: 5 }\n",
        &settings,
    )
    .unwrap();
    let mut inputs = HealthInputs {
        summary: JobSummary {
            consecutive_failures: 4,
            ..ran(RunStatus::Failed, 0)
        },
        ..HealthInputs::default()
    };
    // Due at 1 h; grace 5 min plus 1 min of jitter.
    let h = assess(&job, &inputs, at(3600 + 360));
    assert_eq!(
        (h.status, h.execution),
        (HealthStatus::Healthy, Execution::Failing)
    );
    let h = assess(&job, &inputs, at(3600 + 361));
    assert_eq!(h.execution, Execution::Overdue);
    assert_eq!(h.overdue_since, Some(at(3600)));
    inputs.enabled = false;
    assert_eq!(
        assess(&job, &inputs, at(7200)).execution,
        Execution::Failing
    );
    inputs.summary.consecutive_failures = 5;
    assert_eq!(assess(&job, &inputs, at(60)).status, HealthStatus::Critical);
}
