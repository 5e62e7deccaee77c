//! One history, four readers (issue 13 item 2): `slotcron jobs --json` (history read by the
//! command), `GET /api/v1/jobs`, `/metrics` and `slotcron status` (the daemon's books)
//! report the same health, expected memory and effective memory limit for every job, at
//! the daemon's start (the store's loader) and after runs it learns of as they end (its
//! incremental update).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use slotcron::model::{Enforcement, RunStatus, RunUsage};
use slotcron::store::{NewRun, RunCompletion, Store};

use crate::api::{addr, request};
use crate::helper::{Daemon, PATIENCE, Sandbox, stderr};

const MIB: u64 = 1 << 20;

/// What one reader says of one job: health word, expected memory, effective memory limit.
type Figures = (String, u64, u64);

/// Records one finished run of `job`.
fn ran(
    store: &mut Store,
    job: &str,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    status: RunStatus,
    peak: Option<u64>,
    oom_kills: u64,
) {
    let id = store
        .start_run(&NewRun {
            job: job.to_owned(),
            slot: "default".into(),
            trigger: "schedule".into(),
            attempt: 1,
            retry_of: None,
            enforcement: Enforcement::None,
            memory_limit_bytes: None,
            queued_at: None,
            started_at,
        })
        .unwrap();
    let done = RunCompletion {
        status,
        exit_code: Some(i32::from(status != RunStatus::Success)),
        signal: None,
        finished_at,
        duration_ms: (finished_at - started_at).num_milliseconds() as u64,
        usage: RunUsage {
            memory_peak_bytes: peak,
            oom_kills: Some(oom_kills),
            ..RunUsage::default()
        },
        error: None,
        pressure: None,
    };
    store.finish_run(id, &done).unwrap();
}

/// The jobs and their history, as earlier daemons would have left it.
fn history(sb: &Sandbox) {
    let ok = "command: 'true'\n";
    sb.job("steady.yaml", ok)
        .job("flaky.yaml", ok)
        .job("survivor.yaml", ok)
        .job("oomed.yaml", ok)
        .job("long-fail.yaml", ok)
        .job("aged.yaml", ok)
        .job("broken.yaml", ok)
        .job("capped.yaml", "command: 'true'\nlimits: { memory: 64M }\n")
        .job("heavy.yaml", "command: 'true'\nweights: { memory: 1.5 }\n")
        .job("fresh.yaml", ok)
        .job("fails.yaml", "command: 'false'\n");
    let loaded = slotcron::config::load(Some(&sb.path().join("slotcron.yaml"))).unwrap();
    assert!(
        loaded.catalog.problems.is_empty(),
        "{:?}",
        loaded.catalog.problems
    );
    let mut store = sb.store();
    let now = Utc::now();
    slotcron::daemon::registry::sync_history(&mut store, &loaded.catalog, now).unwrap();
    let h = |n: i64| now - Duration::hours(n);
    let s = Duration::seconds(1);
    use RunStatus::*;
    // Ten successes; the oldest needed 500 MiB, the others 10..18 MiB.
    ran(
        &mut store,
        "steady",
        h(72),
        h(72) + s,
        Success,
        Some(500 * MIB),
        0,
    );
    for i in 0..9 {
        let at = h(60 - i);
        ran(
            &mut store,
            "steady",
            at,
            at + s,
            Success,
            Some((10 + i as u64) * MIB),
            0,
        );
    }
    // A failure 2 hours ago, a success since: no streak, but trouble within the day.
    ran(
        &mut store,
        "flaky",
        h(2),
        h(2) + s,
        Failed,
        Some(5 * MIB),
        0,
    );
    ran(
        &mut store,
        "flaky",
        h(1),
        h(1) + s,
        Success,
        Some(6 * MIB),
        0,
    );
    // A success whose run met the OOM killer 3 hours ago.
    ran(
        &mut store,
        "survivor",
        h(3),
        h(3) + s,
        Success,
        Some(7 * MIB),
        1,
    );
    // An OOM-killed run 5 hours ago.
    ran(
        &mut store,
        "oomed",
        h(5),
        h(5) + s,
        OomKilled,
        Some(8 * MIB),
        1,
    );
    // A run that started 30 hours ago and failed 23 hours ago: its trouble ended within
    // the day, though it started before it.
    ran(
        &mut store,
        "long-fail",
        h(30),
        h(23),
        Failed,
        Some(9 * MIB),
        0,
    );
    // A failure 49 hours ago, a success since: aged out.
    ran(&mut store, "aged", h(50), h(49), Failed, Some(9 * MIB), 0);
    ran(
        &mut store,
        "aged",
        h(48),
        h(48) + s,
        Success,
        Some(9 * MIB),
        0,
    );
    // Three failures in a row.
    for i in 0..3 {
        ran(
            &mut store,
            "broken",
            h(3 - i),
            h(3 - i) + s,
            Failed,
            None,
            0,
        );
    }
    ran(
        &mut store,
        "capped",
        h(6),
        h(6) + s,
        Success,
        Some(100 * MIB),
        0,
    );
    ran(
        &mut store,
        "heavy",
        h(6),
        h(6) + s,
        Success,
        Some(100 * MIB),
        0,
    );
}

fn health_word(value: i64) -> String {
    match value {
        0 => "healthy",
        1 => "warning",
        2 => "critical",
        other => panic!("slotcron_job_health {other}"),
    }
    .to_owned()
}

fn bytes(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no `{field}` in {v}"))
}

/// `slotcron jobs --json`.
fn from_jobs_command(sb: &Sandbox) -> BTreeMap<String, Figures> {
    let out = sb.slotcron(&["jobs", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    list.iter().map(from_job_element).collect()
}

/// One element of `slotcron jobs --json` or `GET /api/v1/jobs`.
fn from_job_element(j: &Value) -> (String, Figures) {
    let name = j["name"].as_str().unwrap().to_owned();
    let health = j["health"]["status"].as_str().expect("health.status");
    let figures = (
        health.to_owned(),
        bytes(j, "expected_memory_bytes"),
        bytes(j, "memory_limit_bytes"),
    );
    (name, figures)
}

/// `GET /api/v1/jobs`.
fn from_api(sb: &Sandbox) -> BTreeMap<String, Figures> {
    let answer = request(&addr(sb), "GET", "/api/v1/jobs", &[], b"");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(from_job_element)
        .collect()
}

/// `slotcron status --json`.
fn from_status(d: &Daemon<'_>) -> BTreeMap<String, Figures> {
    let status = d.status();
    status["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            let name = j["name"].as_str().unwrap().to_owned();
            let health = j["health"]
                .as_str()
                .unwrap_or_else(|| panic!("no health in {j}"));
            let figures = (
                health.to_owned(),
                bytes(j, "expected_memory_bytes"),
                bytes(j, "memory_limit_bytes"),
            );
            (name, figures)
        })
        .collect()
}

/// `/metrics`: `slotcron_job_health`, `slotcron_job_expected_memory_bytes` and
/// `slotcron_job_memory_limit_bytes` of every job.
fn from_metrics(sb: &Sandbox) -> BTreeMap<String, Figures> {
    let answer = request(&addr(sb), "GET", "/metrics", &[], b"");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut series: BTreeMap<(String, String), f64> = BTreeMap::new();
    for line in answer.body.lines().filter(|l| !l.starts_with('#')) {
        let Some((name, rest)) = line.split_once("{job=\"") else {
            continue;
        };
        let Some((job, value)) = rest.split_once("\"} ") else {
            continue;
        };
        series.insert((name.to_owned(), job.to_owned()), value.parse().unwrap());
    }
    let get = |metric: &str, job: &str| -> f64 {
        *series
            .get(&(metric.to_owned(), job.to_owned()))
            .unwrap_or_else(|| panic!("no {metric}{{job=\"{job}\"}} in\n{}", answer.body))
    };
    let jobs: Vec<String> = series
        .keys()
        .filter(|(m, _)| m == "slotcron_job_health")
        .map(|(_, j)| j.clone())
        .collect();
    jobs.into_iter()
        .map(|job| {
            let figures = (
                health_word(get("slotcron_job_health", &job) as i64),
                get("slotcron_job_expected_memory_bytes", &job) as u64,
                get("slotcron_job_memory_limit_bytes", &job) as u64,
            );
            (job, figures)
        })
        .collect()
}

/// All four readers agree; returns what they say.
fn agreed(d: &Daemon<'_>) -> BTreeMap<String, Figures> {
    let sb = d.sandbox;
    let jobs = from_jobs_command(sb);
    assert_eq!(jobs.len(), 11, "{jobs:?}");
    assert_eq!(
        from_api(sb),
        jobs,
        "GET /api/v1/jobs against slotcron jobs --json"
    );
    assert_eq!(
        from_metrics(sb),
        jobs,
        "/metrics against slotcron jobs --json"
    );
    assert_eq!(
        from_status(d),
        jobs,
        "slotcron status against slotcron jobs --json"
    );
    jobs
}

#[test]
fn jobs_api_metrics_and_status_report_the_same_health_and_memory() {
    let sb = Sandbox::new("");
    history(&sb);
    let mut d = sb.daemon();

    let figures = agreed(&d);
    let health = |job: &str| figures[job].0.as_str();
    assert_eq!(health("steady"), "healthy");
    assert_eq!(health("flaky"), "warning");
    assert_eq!(health("survivor"), "warning");
    assert_eq!(health("oomed"), "warning");
    assert_eq!(
        health("long-fail"),
        "warning",
        "its failure ended 23 hours ago"
    );
    assert_eq!(health("aged"), "healthy");
    assert_eq!(health("broken"), "critical");
    assert_eq!(health("fresh"), "healthy");
    // The newest 10 successes include the 500 MiB one.
    assert_eq!(figures["steady"].1, 500 * MIB);
    // The observed 100 MiB, held to the job's own 64 MiB limit.
    assert_eq!(figures["capped"], ("healthy".into(), 64 * MIB, 64 * MIB));
    // The observed peak scaled by `weights.memory`.
    assert_eq!(figures["heavy"].1, 150 * MIB);
    let slot_max = figures["fresh"].2;
    assert!(slot_max > 64 * MIB, "{figures:?}");
    assert_eq!(figures["steady"].2, slot_max);

    // Runs the daemon learns of as they end: the 500 MiB success ages out of the newest
    // 10, and a job that never ran fails.
    for job in ["steady", "fails"] {
        d.trigger(job);
    }
    d.wait_until("the triggered runs to be learned", PATIENCE, |d| {
        from_status(d)["fails"].0 == "warning" && from_status(d)["steady"].1 < 500 * MIB
    });
    let figures = agreed(&d);
    assert_eq!(figures["fails"].0, "warning");
    assert!(
        (18 * MIB..500 * MIB).contains(&figures["steady"].1),
        "{figures:?}"
    );
}
