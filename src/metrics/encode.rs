//! The [`Snapshot`] in the OpenMetrics text format. The snapshot is a `prometheus-client`
//! [`Collector`]: each scrape registers it in a fresh registry (prefix `slotcron`) and the
//! crate writes names, `# HELP`/`# TYPE`/`# UNIT` lines and escaped label values. Series
//! with no value (a job that never ran has no last-run time; an unconfined slot has no
//! cgroup figures) are left out rather than given a made-up 0.

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeMetric, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use super::snapshot::{JobMetrics, PressureMetrics, SlotMetrics, Snapshot};
use crate::store::HistoryHealth;

/// The two text formats Prometheus reads. Both come from the same collector; they differ
/// in how counter families are named (`# TYPE x counter` with `x_total` samples in
/// OpenMetrics, `x_total` throughout in the classic format) and in the final `# EOF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// OpenMetrics 1.0 text: what Prometheus asks for, and the default.
    #[default]
    OpenMetrics,
    /// The classic Prometheus text format 0.0.4, for clients that ask only for
    /// `text/plain` (older tools; `promtool check metrics` reads only this one).
    PrometheusText,
}

impl Format {
    /// The format an `Accept` header asks for: the classic one only when it names
    /// `text/plain` and not OpenMetrics.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.contains("text/plain") && !a.contains("application/openmetrics-text") => {
                Format::PrometheusText
            }
            _ => Format::OpenMetrics,
        }
    }

    /// The `Content-Type` of the answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => CONTENT_TYPE,
            Format::PrometheusText => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        }
    }
}

/// The `Content-Type` of OpenMetrics text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every metric name starts with this and `_`.
pub const PREFIX: &str = "slotcron";

/// The snapshot as OpenMetrics text, `# EOF` included.
pub fn encode(snapshot: Snapshot) -> String {
    encode_as(snapshot, Format::OpenMetrics)
}

/// The snapshot in `format`.
pub fn encode_as(snapshot: Snapshot, format: Format) -> String {
    let mut registry = Registry::with_prefix(PREFIX);
    registry.register_collector(Box::new(snapshot));
    // ~110 bytes per series; a job has about 25 series.
    let mut text = String::with_capacity(4096);
    match format {
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut text, &registry),
        Format::PrometheusText => {
            prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        }
    }
    .expect("writing to a String cannot fail");
    text
}

fn seconds(t: chrono::DateTime<chrono::Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

impl Collector for Snapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> fmt::Result {
        job_metrics(&mut e, &self.jobs)?;
        slot_metrics(&mut e, &self.slots)?;
        let mut m = e.encode_descriptor(
            "alerts_open",
            "Open alerts, by severity.",
            None,
            MetricType::Gauge,
        )?;
        for (severity, n) in &self.alerts_open {
            ConstGauge::new(*n).encode(m.encode_family(&[("severity", severity.as_str())])?)?;
        }
        let m = e.encode_descriptor(
            "config_errors",
            "Problems of the job files (files that do not load, bad references).",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(self.config_errors).encode(m)?;
        history_metrics(&mut e, &self.history)?;
        pressure_metrics(&mut e, &self.pressure)?;
        // A gauge of 1, as client_golang's `go_build_info`: the OpenMetrics `info` type
        // is unknown to the Prometheus text parser (promtool 2.x rejects it).
        let mut m = e.encode_descriptor(
            "build_info",
            "slotcron's version (always 1).",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(1).encode(m.encode_family(&[("version", self.version.as_str())])?)
    }
}

/// Whether history takes writes, and what waits for it (ADR 0022).
fn history_metrics(e: &mut DescriptorEncoder, history: &HistoryHealth) -> fmt::Result {
    let m = e.encode_descriptor(
        "history_writable",
        "1 while the history database takes writes; 0 while runs are kept in memory.",
        None,
        MetricType::Gauge,
    )?;
    ConstGauge::new(i64::from(history.writable)).encode(m)?;
    let m = e.encode_descriptor(
        "history_pending_runs",
        "Finished runs kept in memory until history takes them.",
        None,
        MetricType::Gauge,
    )?;
    ConstGauge::new(history.pending as i64).encode(m)?;
    let m = e.encode_descriptor(
        "history_dropped_runs",
        "Runs dropped unrecorded because too many waited for history.",
        None,
        MetricType::Counter,
    )?;
    ConstCounter::new(history.dropped).encode(m)
}

/// The pressure response's steps so far and the runs it holds now (ADR 0036, 0040).
fn pressure_metrics(e: &mut DescriptorEncoder, pressure: &PressureMetrics) -> fmt::Result {
    let mut m = e.encode_descriptor(
        "pressure_steps",
        "Steps the memory pressure response carried out on running runs since the daemon \
         started, by step (throttle, freeze, requeue, thaw, lift).",
        None,
        MetricType::Counter,
    )?;
    for (step, n) in &pressure.steps {
        ConstCounter::new(*n).encode(m.encode_family(&[("step", *step)])?)?;
    }
    let mut m = e.encode_descriptor(
        "pressure_runs",
        "Runs in progress the memory pressure response holds now, by state (throttled: \
         memory.high below their usage; frozen: cgroup.freeze; a run may be both).",
        None,
        MetricType::Gauge,
    )?;
    for (state, n) in [
        ("throttled", pressure.throttled),
        ("frozen", pressure.frozen),
    ] {
        ConstGauge::new(n as i64).encode(m.encode_family(&[("state", state)])?)?;
    }
    Ok(())
}

/// Every per-job family, in the order of the exposition.
fn job_metrics(e: &mut DescriptorEncoder, jobs: &[JobMetrics]) -> fmt::Result {
    job_runs(e, jobs)?;
    job_times(e, jobs)?;
    job_usage(e, jobs)?;
    job_facts(e, jobs)
}

/// Runs that ended, by status, and the histogram of their durations.
fn job_runs(e: &mut DescriptorEncoder, jobs: &[JobMetrics]) -> fmt::Result {
    let mut m = e.encode_descriptor(
        "job_runs",
        "Runs that ended, by job, slot and status (skipped runs included).",
        None,
        MetricType::Counter,
    )?;
    for job in jobs {
        for ((slot, status), n) in &job.counters.runs {
            let labels = [
                ("job", job.name.as_str()),
                ("slot", slot.as_str()),
                ("status", status),
            ];
            ConstCounter::new(*n).encode(m.encode_family(&labels)?)?;
        }
    }
    let mut m = e.encode_descriptor(
        "job_duration",
        "Wall time of runs that ran (counted since the history began).",
        Some(&Unit::Seconds),
        MetricType::Histogram,
    )?;
    for job in jobs {
        let h = &job.counters.duration;
        m.encode_family(&[("job", job.name.as_str())])?
            .encode_histogram::<NoLabelSet>(h.sum, h.count, &h.pairs(), None)?;
    }
    Ok(())
}

/// When the job last ran, last succeeded and runs next; what runs now; its last peak.
fn job_times(e: &mut DescriptorEncoder, jobs: &[JobMetrics]) -> fmt::Result {
    per_job_gauge(
        e,
        jobs,
        "job_last_run_timestamp",
        "Start of the job's newest run that ran and ended, Unix time.",
        Some(&Unit::Seconds),
        |j| j.counters.last_run.map(seconds),
    )?;
    per_job_gauge(
        e,
        jobs,
        "job_last_success_timestamp",
        "End of the job's newest successful run, Unix time.",
        Some(&Unit::Seconds),
        |j| j.counters.last_success.map(seconds),
    )?;
    per_job_gauge(
        e,
        jobs,
        "job_next_run_timestamp",
        "When the job's schedule fires next (jitter included), Unix time.",
        Some(&Unit::Seconds),
        |j| j.next_run.map(seconds),
    )?;
    per_job_gauge(
        e,
        jobs,
        "job_running",
        "The job's runs in progress.",
        None,
        |j| Some(j.running),
    )?;
    per_job_gauge(
        e,
        jobs,
        "job_memory_peak",
        "Peak memory of the job's newest run that ran and ended.",
        Some(&Unit::Bytes),
        |j| j.counters.last_memory_peak.map(|(_, peak)| peak),
    )?;
    Ok(())
}

/// What the job's runs used: CPU, OOM kills, block io.
fn job_usage(e: &mut DescriptorEncoder, jobs: &[JobMetrics]) -> fmt::Result {
    per_job_counter(
        e,
        jobs,
        "job_cpu",
        "CPU time used by the job's runs.",
        Some(&Unit::Seconds),
        |j| j.counters.cpu_usec as f64 / 1e6,
    )?;
    per_job_counter(
        e,
        jobs,
        "job_oom_kills",
        "Processes of the job's runs killed by the kernel's OOM killer.",
        None,
        |j| j.counters.oom_kills,
    )?;
    per_job_counter(
        e,
        jobs,
        "job_io_read",
        "Bytes the job's runs read from block devices (io.stat rbytes).",
        Some(&Unit::Bytes),
        |j| j.counters.io.rbytes,
    )?;
    per_job_counter(
        e,
        jobs,
        "job_io_written",
        "Bytes the job's runs wrote to block devices (io.stat wbytes).",
        Some(&Unit::Bytes),
        |j| j.counters.io.wbytes,
    )?;
    per_job_counter(
        e,
        jobs,
        "job_io_read_ops",
        "Read operations of the job's runs on block devices (io.stat rios).",
        None,
        |j| j.counters.io.rios,
    )?;
    per_job_counter(
        e,
        jobs,
        "job_io_write_ops",
        "Write operations of the job's runs on block devices (io.stat wios).",
        None,
        |j| j.counters.io.wios,
    )?;
    Ok(())
}

/// The facts derived about the job: health, expected memory, memory limit, degraded.
fn job_facts(e: &mut DescriptorEncoder, jobs: &[JobMetrics]) -> fmt::Result {
    per_job_gauge(
        e,
        jobs,
        "job_health",
        "The job's health: 0 healthy, 1 warning, 2 critical.",
        None,
        |j| Some(super::health_value(j.health)),
    )?;
    per_job_gauge(
        e,
        jobs,
        "job_expected_memory",
        "Memory admission reserves for a run of the job: the highest peak of its newest 10 \
         successful runs times weights.memory, else its limit, else a share of its slot.",
        Some(&Unit::Bytes),
        |j| Some(j.memory.expected_memory_bytes),
    )?;
    per_job_gauge(
        e,
        jobs,
        "job_memory_limit",
        "The lowest memory.max above a run of the job (its own, its slot's or the global one).",
        Some(&Unit::Bytes),
        |j| Some(j.memory.memory_limit_bytes),
    )?;
    per_job_gauge(
        e,
        jobs,
        "job_degraded",
        "1 when the median of the job's newest successful runs is unusually and materially \
         slower or bigger than its baseline (absent without a baseline).",
        None,
        |j| super::degraded_value(j.counters.performance),
    )
}

fn per_job_gauge<V: EncodeGaugeValue>(
    e: &mut DescriptorEncoder,
    jobs: &[JobMetrics],
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: impl Fn(&JobMetrics) -> Option<V>,
) -> fmt::Result {
    let mut m = e.encode_descriptor(name, help, unit, MetricType::Gauge)?;
    for job in jobs {
        if let Some(v) = value(job) {
            ConstGauge::new(v).encode(m.encode_family(&[("job", job.name.as_str())])?)?;
        }
    }
    Ok(())
}

fn per_job_counter<V: EncodeCounterValue>(
    e: &mut DescriptorEncoder,
    jobs: &[JobMetrics],
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: impl Fn(&JobMetrics) -> V,
) -> fmt::Result {
    let mut m = e.encode_descriptor(name, help, unit, MetricType::Counter)?;
    for job in jobs {
        ConstCounter::new(value(job)).encode(m.encode_family(&[("job", job.name.as_str())])?)?;
    }
    Ok(())
}

fn slot_metrics(e: &mut DescriptorEncoder, slots: &[SlotMetrics]) -> fmt::Result {
    per_slot(
        e,
        slots,
        "slot_running",
        "Runs in progress in the slot.",
        None,
        MetricType::Gauge,
        |s| Some(u64::from(s.running)),
    )?;
    per_slot(
        e,
        slots,
        "slot_queued",
        "Runs waiting for a seat in the slot.",
        None,
        MetricType::Gauge,
        |s| Some(u64::from(s.queued)),
    )?;
    per_slot(
        e,
        slots,
        "slot_max_concurrent",
        "Seats of the slot (max_concurrent).",
        None,
        MetricType::Gauge,
        |s| Some(u64::from(s.max_concurrent)),
    )?;
    per_slot(
        e,
        slots,
        "slot_memory_current",
        "Memory the slot's cgroup uses now (memory.current).",
        Some(&Unit::Bytes),
        MetricType::Gauge,
        |s| s.live.as_ref().map(|l| l.memory_current),
    )?;
    per_slot(
        e,
        slots,
        "slot_memory_max",
        "Memory limit of the slot's cgroup (memory.max); absent when unlimited.",
        Some(&Unit::Bytes),
        MetricType::Gauge,
        |s| s.live.as_ref()?.memory_max,
    )?;
    per_slot(
        e,
        slots,
        "slot_cpu",
        "CPU time used in the slot's cgroup (cpu.stat usage_usec).",
        Some(&Unit::Seconds),
        MetricType::Counter,
        |s| s.live.as_ref().map(|l| l.cpu.usage_usec as f64 / 1e6),
    )?;
    per_slot(
        e,
        slots,
        "slot_cpu_throttled",
        "Time the slot's cgroup was throttled by its CPU limit (cpu.stat throttled_usec).",
        Some(&Unit::Seconds),
        MetricType::Counter,
        |s| s.live.as_ref()?.cpu.throttled_usec.map(|t| t as f64 / 1e6),
    )?;
    per_slot(
        e,
        slots,
        "slot_memory_pressure_avg10",
        "Share of the last 10 s some of the slot's tasks stalled on memory, percent (PSI).",
        None,
        MetricType::Gauge,
        |s| Some(s.live.as_ref()?.memory_pressure?.some.avg10),
    )
}

fn per_slot<V: EncodeGaugeValue + EncodeCounterValue>(
    e: &mut DescriptorEncoder,
    slots: &[SlotMetrics],
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    kind: MetricType,
    value: impl Fn(&SlotMetrics) -> Option<V>,
) -> fmt::Result {
    let mut m = e.encode_descriptor(name, help, unit, kind)?;
    for slot in slots {
        let Some(v) = value(slot) else { continue };
        let labels = [("slot", slot.name.as_str())];
        let family = m.encode_family(&labels)?;
        match kind {
            MetricType::Counter => ConstCounter::new(v).encode(family)?,
            _ => ConstGauge::new(v).encode(family)?,
        }
    }
    Ok(())
}
