//! `contrib/`: the Grafana dashboard and the Prometheus alerting rules use only metrics
//! the endpoint exports, and promtool accepts the rules.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use slotcron::cgroup::{Pressure, PressureLine, SlotUsage};
use slotcron::metrics::{
    Counters, Format, JobMetrics, PressureMetrics, SlotMetrics, Snapshot, encode, encode_as,
};
use slotcron::model::{CpuStat, RunStatus};

use crate::promtool::promtool;

/// A snapshot with every figure present.
fn full_snapshot() -> Snapshot {
    let mut counters = Counters::default();
    counters.observe_skip("j", "default");
    let mut job = counters.jobs.remove("j").unwrap();
    job.last_run = Some(chrono::Utc::now());
    job.last_success = job.last_run;
    job.last_memory_peak = Some((1, 10));
    job.duration.observe(1.0);
    job.performance = Some(slotcron::stats::Performance::Stable);
    assert_eq!(job.runs_with(RunStatus::Skipped), 1);
    Snapshot {
        version: "0".into(),
        jobs: vec![JobMetrics {
            name: "j".into(),
            counters: job,
            next_run: Some(chrono::Utc::now()),
            running: 0,
            health: slotcron::stats::HealthStatus::Healthy,
            memory: slotcron::model::JobMemory {
                expected_memory_bytes: 64 << 20,
                memory_limit_bytes: 1 << 30,
            },
        }],
        slots: vec![SlotMetrics {
            name: "default".into(),
            live: Some(live(1, Some(2), 3, Some(4), Some(0.5))),
            ..SlotMetrics::default()
        }],
        config_errors: 0,
        alerts_open: BTreeMap::from([("warning".to_owned(), 1)]),
        history: Default::default(),
        pressure: PressureMetrics {
            steps: BTreeMap::from([("throttle", 1), ("freeze", 1)]),
            throttled: 1,
            frozen: 1,
        },
    }
}

/// Every sample name `/metrics` can show.
fn exported_names() -> BTreeSet<String> {
    encode(full_snapshot())
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(['{', ' ']).next().unwrap().to_owned())
        .collect()
}

/// The `slotcron_*` names in a PromQL expression.
fn referenced(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("slotcron_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

fn exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr", Value::String(e)) => out.push(e.clone()),
                    _ => exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| exprs(v, out)),
        _ => {}
    }
}

fn contrib(path: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_dashboard_is_json_and_queries_only_exported_metrics() {
    let dashboard: Value = serde_json::from_str(&contrib("grafana/slotcron-dashboard.json"))
        .expect("the dashboard is valid JSON");
    let mut found = Vec::new();
    exprs(&dashboard, &mut found);
    assert!(found.len() >= 15, "only {} queries", found.len());
    let exported = exported_names();
    for expr in &found {
        let names = referenced(expr);
        assert!(!names.is_empty(), "{expr:?} uses no slotcron_ metric");
        for name in names {
            assert!(
                exported.contains(&name),
                "{expr:?}: {name} is not exported ({exported:?})"
            );
        }
    }
    let panels = dashboard["panels"].as_array().unwrap();
    let titles: Vec<&str> = panels.iter().filter_map(|p| p["title"].as_str()).collect();
    for wanted in [
        "Slot memory against memory.max",
        "Job duration (p50, p95 over 1h)",
        "Job memory peak (last run)",
        "OOM kills by job (per hour)",
        "Open alerts",
    ] {
        assert!(
            titles.contains(&wanted),
            "no panel {wanted:?} in {titles:?}"
        );
    }
}

#[test]
fn the_alerting_rules_pass_promtool_and_use_only_exported_metrics() {
    let rules = contrib("prometheus/slotcron-rules.yml");
    let exported = exported_names();
    for name in referenced(&rules) {
        assert!(
            exported.contains(&name),
            "the rules use {name}, which is not exported"
        );
    }
    for alert in [
        "SlotcronDown",
        "SlotcronJobFailing",
        "SlotcronJobCritical",
        "SlotcronJobDegraded",
        "SlotcronJobOOMKilled",
        "SlotcronSlotSaturated",
        "SlotcronSlotQueuedLong",
        "SlotcronHistoryNotWritable",
        "SlotcronHistoryRunsDropped",
        "SlotcronRunsFrozenLong",
    ] {
        assert!(rules.contains(&format!("alert: {alert}\n")), "no {alert}");
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib/prometheus/slotcron-rules.yml");
    let (ok, out) = promtool(&["check", "rules", path.to_str().unwrap()], "");
    assert!(ok, "promtool check rules:\n{out}");
    assert!(out.contains("SUCCESS: 12 rules found"), "{out}");
}

#[test]
fn every_metric_passes_promtool_check_metrics() {
    // promtool reads the classic text format (what `/metrics` answers to `text/plain`).
    let text = encode_as(full_snapshot(), Format::PrometheusText);
    let (ok, out) = promtool(&["check", "metrics"], &text);
    assert!(ok, "promtool check metrics:\n{out}\non:\n{text}");
    assert!(
        text.contains("slotcron_slot_memory_pressure_avg10{slot=\"default\"} 0.5\n"),
        "{text}"
    );
}

/// A slot's cgroup figures as `/metrics` reads them: memory, cpu and memory PSI.
fn live(
    memory_current: u64,
    memory_max: Option<u64>,
    usage_usec: u64,
    throttled_usec: Option<u64>,
    memory_avg10: Option<f64>,
) -> SlotUsage {
    SlotUsage {
        memory_current,
        memory_max,
        cpu: CpuStat {
            usage_usec,
            throttled_usec,
            ..CpuStat::default()
        },
        memory_pressure: memory_avg10.map(|avg10| Pressure {
            some: PressureLine {
                avg10,
                ..PressureLine::default()
            },
            full: None,
        }),
        ..SlotUsage::default()
    }
}
