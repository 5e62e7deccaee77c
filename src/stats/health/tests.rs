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
fn the_streak_makes_it_critical_and_a_failure_today_a_warning() {
    let mut inputs = HealthInputs {
        summary: JobSummary {
            consecutive_failures: 2,
            ..ran(RunStatus::Failed, 0)
        },
        rolling: Rolling {
            runs: 5,
            failures: 2,
            ..Rolling::default()
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

    // An OOM kill that did not fail the run still warns.
    let inputs = HealthInputs {
        summary: ran(RunStatus::Success, 0),
        rolling: Rolling {
            runs: 1,
            oom_kills: 1,
            ..Rolling::default()
        },
        ..HealthInputs::default()
    };
    let h = evaluate(&thresholds(), &inputs, None, at(60));
    assert_eq!(
        (h.status, h.execution),
        (HealthStatus::Warning, Execution::Ok)
    );
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
