//! The encoded text of a snapshot built here: every line well-formed, every series with
//! the value the snapshot holds, label values escaped.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::*;
use crate::cgroup::{Pressure, PressureLine, SlotUsage};
use crate::model::RunStatus;
use crate::model::{CpuStat, IoStat, RunUsage};
use crate::stats::{HealthStatus, Performance};
use crate::store::{RunRecord, RunTotals};

/// One sample line: name, labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses OpenMetrics text strictly enough to catch a malformed line: comments are
/// `# HELP`, `# TYPE`, `# UNIT` or the final `# EOF`; samples are `name{k="v",...} value`
/// with `\\`, `\"` and `\n` the only escapes.
pub fn parse(text: &str) -> Vec<Sample> {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "no # EOF at the end");
    assert!(text.ends_with("# EOF\n"));
    let mut samples = Vec::new();
    for line in &lines[..lines.len() - 1] {
        if let Some(comment) = line.strip_prefix("# ") {
            let kind = comment.split(' ').next().unwrap();
            assert!(
                matches!(kind, "HELP" | "TYPE" | "UNIT") && comment.split(' ').count() >= 3,
                "bad comment line {line:?}"
            );
            continue;
        }
        samples.push(parse_sample(line));
    }
    samples
}

fn parse_sample(line: &str) -> Sample {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("no value: {line:?}"));
    let name = &line[..name_end];
    assert!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
        "bad name in {line:?}"
    );
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        loop {
            let (start, _) = *chars
                .peek()
                .unwrap_or_else(|| panic!("open {{ in {line:?}"));
            let eq = inner[start..]
                .find("=\"")
                .unwrap_or_else(|| panic!("bad label in {line:?}"))
                + start;
            let key = &inner[start..eq];
            assert!(
                key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad key {key:?}"
            );
            while chars.next_if(|(i, _)| *i <= eq + 1).is_some() {}
            let mut value = String::new();
            loop {
                match chars
                    .next()
                    .unwrap_or_else(|| panic!("open quote in {line:?}"))
                {
                    (_, '"') => break,
                    (_, '\\') => match chars.next().map(|(_, c)| c) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => panic!("bad escape {other:?} in {line:?}"),
                    },
                    (_, '\n') => panic!("raw newline in {line:?}"),
                    (_, c) => value.push(c),
                }
            }
            labels.insert(key.to_owned(), value);
            match chars.next() {
                Some((_, ',')) => continue,
                Some((i, '}')) => {
                    rest = &inner[i + 1..];
                    break;
                }
                other => panic!("expected , or }} not {other:?} in {line:?}"),
            }
        }
    }
    let value = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("no space before the value in {line:?}"));
    let value: f64 = match value {
        "+Inf" => f64::INFINITY,
        v => v
            .parse()
            .unwrap_or_else(|_| panic!("bad value {v:?} in {line:?}")),
    };
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

/// The value of the one sample named `name` with exactly `labels`.
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let found: Vec<f64> = samples
        .iter()
        .filter(|s| s.name == name && s.labels == want)
        .map(|s| s.value)
        .collect();
    assert!(
        found.len() <= 1,
        "{name} {labels:?} appears {} times",
        found.len()
    );
    found.first().copied()
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn record(id: i64, status: RunStatus, duration_ms: u64) -> RunRecord {
    RunRecord {
        id,
        job: "backup.db-1".into(),
        slot: "heavy_2".into(),
        status,
        exit_code: Some(0),
        signal: None,
        started_at: t("2026-03-01T10:00:00Z"),
        finished_at: Some(
            t("2026-03-01T10:00:00Z") + chrono::Duration::milliseconds(duration_ms as i64),
        ),
        duration_ms: Some(duration_ms),
        usage: RunUsage {
            memory_peak_bytes: Some(1_000 + id as u64),
            cpu_usage_usec: Some(250_000),
            oom_kills: Some(u64::from(status == RunStatus::OomKilled)),
            io: Some(IoStat {
                rbytes: 1_000 * id as u64,
                wbytes: (2 << 20) * id as u64,
                rios: id as u64,
                wios: 4 * id as u64,
            }),
            ..RunUsage::default()
        },
        memory_limit_bytes: None,
        enforcement: crate::model::Enforcement::Cgroup,
        trigger: "schedule".into(),
        attempt: 1,
        retry_of: None,
        pid: None,
        cgroup: None,
        log_path: None,
        queued_at: None,
        wait_ms: None,
        error: None,
        pressure: None,
    }
}

/// A job (with the characters a job name may have) that ran three times, one that never
/// ran, a confined slot and an unconfined one.
fn snapshot() -> Snapshot {
    let mut counters = Counters::default();
    counters.observe(&record(1, RunStatus::Success, 500));
    counters.observe(&record(2, RunStatus::Success, 42_000));
    counters.observe(&record(3, RunStatus::OomKilled, 7_000_000));
    counters.observe_skip("backup.db-1", "heavy_2");
    let mut ran_counters = counters.jobs["backup.db-1"].clone();
    ran_counters.performance = Some(Performance::Degraded);
    let ran = JobMetrics {
        name: "backup.db-1".into(),
        counters: ran_counters,
        next_run: Some(t("2026-03-02T10:00:00.250Z")),
        running: 1,
        health: HealthStatus::Warning,
        memory: crate::model::JobMemory {
            expected_memory_bytes: 96 << 20,
            memory_limit_bytes: 1 << 30,
        },
    };
    let idle = JobMetrics {
        name: "never_ran".into(),
        ..JobMetrics::default()
    };
    Snapshot {
        version: "0.1.0".into(),
        jobs: vec![ran, idle],
        slots: vec![
            SlotMetrics {
                name: "heavy_2".into(),
                running: 1,
                queued: 3,
                max_concurrent: 2,
                live: Some(live(
                    123_456,
                    Some(4 << 30),
                    1_500_000,
                    Some(250_000),
                    Some(1.25),
                )),
            },
            SlotMetrics {
                name: "default".into(),
                max_concurrent: 5,
                ..SlotMetrics::default()
            },
        ],
        config_errors: 2,
        alerts_open: BTreeMap::new(),
        history: Default::default(),
        pressure: crate::metrics::PressureMetrics {
            steps: BTreeMap::from([("throttle", 4), ("freeze", 2), ("thaw", 1)]),
            throttled: 3,
            frozen: 1,
        },
    }
}

#[test]
fn every_series_has_the_snapshots_value() {
    let text = encode(snapshot());
    let s = parse(&text);
    job_series(&text, &s);
    idle_job_series(&s);
    slot_and_daemon_series(&text, &s);
    pressure_series(&text, &s);
}

/// The pressure response's steps and the runs it holds.
fn pressure_series(text: &str, s: &[Sample]) {
    let step = |name| value(s, "slotcron_pressure_steps_total", &[("step", name)]);
    assert_eq!(step("throttle"), Some(4.0));
    assert_eq!(step("freeze"), Some(2.0));
    assert_eq!(step("thaw"), Some(1.0));
    assert_eq!(step("lift"), None, "only the steps the snapshot lists");
    let runs = |state| value(s, "slotcron_pressure_runs", &[("state", state)]);
    assert_eq!(runs("throttled"), Some(3.0));
    assert_eq!(runs("frozen"), Some(1.0));
    assert!(
        text.contains("# TYPE slotcron_pressure_steps counter\n"),
        "{text}"
    );
    assert!(text.contains("# TYPE slotcron_pressure_runs gauge\n"));
}

/// `backup.db-1`'s series: runs by status, the duration histogram, times and usage.
fn job_series(text: &str, s: &[Sample]) {
    let job = [("job", "backup.db-1")];
    let runs = |status| {
        value(
            s,
            "slotcron_job_runs_total",
            &[
                ("job", "backup.db-1"),
                ("slot", "heavy_2"),
                ("status", status),
            ],
        )
    };
    assert_eq!(runs("success"), Some(2.0));
    assert_eq!(runs("oom_killed"), Some(1.0));
    assert_eq!(runs("skipped"), Some(1.0));
    assert_eq!(
        runs("failed"),
        None,
        "no zero series for statuses never seen"
    );
    let bucket = |le| {
        value(
            s,
            "slotcron_job_duration_seconds_bucket",
            &[("job", "backup.db-1"), ("le", le)],
        )
    };
    assert_eq!(bucket("1.0"), Some(1.0));
    assert_eq!(bucket("60.0"), Some(2.0));
    assert_eq!(bucket("3600.0"), Some(2.0));
    assert_eq!(bucket("7200.0"), Some(3.0));
    assert_eq!(bucket("+Inf"), Some(3.0));
    assert_eq!(
        value(s, "slotcron_job_duration_seconds_count", &job),
        Some(3.0)
    );
    assert_eq!(
        value(s, "slotcron_job_duration_seconds_sum", &job),
        Some(7_042.5)
    );
    job_times_and_usage(text, s);
}

/// `backup.db-1`'s times, running count, peak, CPU, OOM kills and io.
fn job_times_and_usage(text: &str, s: &[Sample]) {
    let job = [("job", "backup.db-1")];
    assert_eq!(
        value(s, "slotcron_job_last_run_timestamp_seconds", &job),
        Some(t("2026-03-01T10:00:00Z").timestamp() as f64)
    );
    assert_eq!(
        value(s, "slotcron_job_last_success_timestamp_seconds", &job),
        Some(t("2026-03-01T10:00:42Z").timestamp() as f64)
    );
    assert_eq!(
        value(s, "slotcron_job_next_run_timestamp_seconds", &job),
        Some(t("2026-03-02T10:00:00Z").timestamp() as f64 + 0.25)
    );
    assert_eq!(value(s, "slotcron_job_running", &job), Some(1.0));
    assert_eq!(
        value(s, "slotcron_job_memory_peak_bytes", &job),
        Some(1_003.0)
    );
    assert_eq!(value(s, "slotcron_job_cpu_seconds_total", &job), Some(0.75));
    assert_eq!(value(s, "slotcron_job_oom_kills_total", &job), Some(1.0));
    assert_eq!(
        value(s, "slotcron_job_io_read_bytes_total", &job),
        Some(6_000.0)
    );
    assert_eq!(
        value(s, "slotcron_job_io_written_bytes_total", &job),
        Some((12u64 << 20) as f64)
    );
    assert_eq!(value(s, "slotcron_job_io_read_ops_total", &job), Some(6.0));
    assert_eq!(
        value(s, "slotcron_job_io_write_ops_total", &job),
        Some(24.0)
    );
    assert!(
        text.contains("# UNIT slotcron_job_io_written_bytes bytes\n"),
        "{text}"
    );
    assert_eq!(value(s, "slotcron_job_health", &job), Some(1.0));
    assert_eq!(
        value(s, "slotcron_job_expected_memory_bytes", &job),
        Some((96u64 << 20) as f64)
    );
    assert_eq!(
        value(s, "slotcron_job_memory_limit_bytes", &job),
        Some((1u64 << 30) as f64)
    );

    assert_eq!(value(s, "slotcron_job_degraded", &job), Some(1.0));
}

/// A job that never ran has no series for what only a run gives.
fn idle_job_series(s: &[Sample]) {
    let idle = [("job", "never_ran")];
    assert_eq!(value(s, "slotcron_job_health", &idle), Some(0.0));
    assert_eq!(
        value(s, "slotcron_job_degraded", &idle),
        None,
        "no verdict, no series"
    );
    assert_eq!(value(s, "slotcron_job_running", &idle), Some(0.0));
    assert_eq!(value(s, "slotcron_job_cpu_seconds_total", &idle), Some(0.0));
    assert_eq!(
        value(s, "slotcron_job_io_written_bytes_total", &idle),
        Some(0.0)
    );
    assert_eq!(
        value(s, "slotcron_job_duration_seconds_count", &idle),
        Some(0.0)
    );
    for absent in [
        "slotcron_job_last_run_timestamp_seconds",
        "slotcron_job_last_success_timestamp_seconds",
        "slotcron_job_next_run_timestamp_seconds",
        "slotcron_job_memory_peak_bytes",
    ] {
        assert_eq!(value(s, absent, &idle), None, "{absent}");
    }
}

/// The slots' series and the daemon's own.
fn slot_and_daemon_series(text: &str, s: &[Sample]) {
    let heavy = [("slot", "heavy_2")];
    assert_eq!(value(s, "slotcron_slot_running", &heavy), Some(1.0));
    assert_eq!(value(s, "slotcron_slot_queued", &heavy), Some(3.0));
    assert_eq!(value(s, "slotcron_slot_max_concurrent", &heavy), Some(2.0));
    assert_eq!(
        value(s, "slotcron_slot_memory_current_bytes", &heavy),
        Some(123_456.0)
    );
    assert_eq!(
        value(s, "slotcron_slot_memory_max_bytes", &heavy),
        Some((4u64 << 30) as f64)
    );
    assert_eq!(
        value(s, "slotcron_slot_cpu_seconds_total", &heavy),
        Some(1.5)
    );
    assert_eq!(
        value(s, "slotcron_slot_cpu_throttled_seconds_total", &heavy),
        Some(0.25)
    );
    assert_eq!(
        value(s, "slotcron_slot_memory_pressure_avg10", &heavy),
        Some(1.25)
    );
    let unconfined = [("slot", "default")];
    assert_eq!(
        value(s, "slotcron_slot_max_concurrent", &unconfined),
        Some(5.0)
    );
    assert_eq!(
        value(s, "slotcron_slot_memory_current_bytes", &unconfined),
        None
    );
    assert_eq!(
        value(s, "slotcron_slot_cpu_seconds_total", &unconfined),
        None
    );

    assert_eq!(value(s, "slotcron_config_errors", &[]), Some(2.0));
    assert_eq!(
        value(s, "slotcron_build_info", &[("version", "0.1.0")]),
        Some(1.0)
    );
    assert!(
        text.contains("# TYPE slotcron_job_runs counter\n"),
        "{text}"
    );
    assert!(text.contains("# TYPE slotcron_job_duration_seconds histogram\n"));
    assert!(text.contains("# UNIT slotcron_job_duration_seconds seconds\n"));
    assert!(text.contains("# TYPE slotcron_alerts_open gauge\n"));
    assert!(
        !s.iter().any(|x| x.name == "slotcron_alerts_open"),
        "no alerts yet"
    );
}

#[test]
fn counters_seeded_from_history_match_counting_the_runs_live() {
    let mut live = Counters::default();
    let runs = [
        record(1, RunStatus::Success, 500),
        record(2, RunStatus::Success, 42_000),
        record(3, RunStatus::OomKilled, 7_000_000),
    ];
    for r in &runs {
        live.observe(r);
    }
    let bounds = counters::bucket_bounds_ms();
    let group = |status: RunStatus, rs: &[&RunRecord]| RunTotals {
        job: "backup.db-1".into(),
        slot: "heavy_2".into(),
        status,
        runs: rs.len() as u64,
        cpu_usage_usec: rs.iter().filter_map(|r| r.usage.cpu_usage_usec).sum(),
        oom_kills: rs.iter().filter_map(|r| r.usage.oom_kills).sum(),
        io: IoStat {
            rbytes: rs
                .iter()
                .filter_map(|r| r.usage.io)
                .map(|io| io.rbytes)
                .sum(),
            wbytes: rs
                .iter()
                .filter_map(|r| r.usage.io)
                .map(|io| io.wbytes)
                .sum(),
            rios: rs.iter().filter_map(|r| r.usage.io).map(|io| io.rios).sum(),
            wios: rs.iter().filter_map(|r| r.usage.io).map(|io| io.wios).sum(),
        },
        last_started_at: rs.iter().map(|r| r.started_at).max(),
        last_finished_at: rs.iter().filter_map(|r| r.finished_at).max(),
        last_id: rs.iter().map(|r| r.id).max().unwrap(),
        last_memory_peak: rs
            .iter()
            .max_by_key(|r| r.id)
            .unwrap()
            .usage
            .memory_peak_bytes,
        durations: rs.len() as u64,
        duration_ms_sum: rs.iter().filter_map(|r| r.duration_ms).sum(),
        duration_le: bounds
            .iter()
            .map(|b| rs.iter().filter(|r| r.duration_ms.unwrap() <= *b).count() as u64)
            .collect(),
    };
    let seeded = Counters::from_totals(vec![
        group(RunStatus::OomKilled, &[&runs[2]]),
        group(RunStatus::Success, &[&runs[0], &runs[1]]),
    ]);
    assert_eq!(seeded, live);
    assert_eq!(seeded.jobs["backup.db-1"].runs_with(RunStatus::Success), 2);
}

#[test]
fn label_values_that_need_it_are_escaped() {
    // Job and slot names cannot hold `"`, `\` or a newline (config::job::valid_name allows
    // letters, digits, `-`, `_`, `.`; slots the same without `.`), so the labels that
    // can carry any text are tested: `version` and `severity`.
    let odd = "odd\"name\\\nx";
    let mut snapshot = snapshot();
    snapshot.version = odd.into();
    snapshot.alerts_open.insert(odd.into(), 4);
    let text = encode(snapshot);
    assert!(
        text.contains(r#"slotcron_build_info{version="odd\"name\\\nx"} 1"#),
        "{text}"
    );
    let s = parse(&text);
    assert_eq!(
        value(&s, "slotcron_build_info", &[("version", odd)]),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "slotcron_alerts_open", &[("severity", odd)]),
        Some(4.0)
    );
}

#[test]
fn degraded_is_absent_without_a_baseline_and_0_or_1_with_one() {
    assert_eq!(degraded_value(None), None);
    assert_eq!(degraded_value(Some(Performance::Unknown)), None);
    assert_eq!(degraded_value(Some(Performance::Stable)), Some(0));
    assert_eq!(degraded_value(Some(Performance::Unstable)), Some(0));
    assert_eq!(degraded_value(Some(Performance::Degraded)), Some(1));
}

#[test]
fn the_classic_format_is_chosen_only_for_clients_that_ask_for_text_plain_alone() {
    assert_eq!(Format::from_accept(None), Format::OpenMetrics);
    assert_eq!(Format::from_accept(Some("*/*")), Format::OpenMetrics);
    let prometheus =
        "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    assert_eq!(Format::from_accept(Some(prometheus)), Format::OpenMetrics);
    assert_eq!(
        Format::from_accept(Some("text/plain")),
        Format::PrometheusText
    );
    let text = encode_as(snapshot(), Format::PrometheusText);
    assert!(
        text.contains("# TYPE slotcron_job_runs_total counter\n"),
        "{text}"
    );
    assert!(!text.contains("# EOF"));
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
