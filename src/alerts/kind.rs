//! The vocabulary of alerts: what kind of trouble ([`AlertKind`]), how bad ([`Severity`]),
//! one rule's verdict on a run ([`Finding`]), and the baseline the anomaly rule compares
//! against ([`BaselineRef`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::UnknownName;

/// What an alert is about. Stored in SQLite and printed in JSON as the snake-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The run failed (status `failed`, or `lost`: its supervisor died).
    Failure,
    /// slotcron stopped the run at its `limits.timeout`.
    Timeout,
    /// The kernel killed the run at its memory cap (status `oom_killed`).
    OomKill,
    /// The run's memory peak exceeded the job's `alerts.max_memory`, or 90 % of its memory
    /// limit.
    HighMemory,
    /// The run took longer than the job's `alerts.max_duration`.
    HighDuration,
    /// The job failed this many times in a row (`alerts.consecutive_failures`, default 3).
    ConsecutiveFailures,
    /// The run's duration or memory peak is far from the job's baseline.
    Anomaly,
    /// A scheduled time passed with no run started.
    Overdue,
    /// The run waited longer than `alerting.queue_wait_threshold` for a seat in its slot.
    SlotSaturated,
}

impl AlertKind {
    /// Every kind, in a stable order.
    pub const ALL: [AlertKind; 9] = [
        AlertKind::Failure,
        AlertKind::Timeout,
        AlertKind::OomKill,
        AlertKind::HighMemory,
        AlertKind::HighDuration,
        AlertKind::ConsecutiveFailures,
        AlertKind::Anomaly,
        AlertKind::Overdue,
        AlertKind::SlotSaturated,
    ];

    /// The name used in the database, in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Failure => "failure",
            AlertKind::Timeout => "timeout",
            AlertKind::OomKill => "oom_kill",
            AlertKind::HighMemory => "high_memory",
            AlertKind::HighDuration => "high_duration",
            AlertKind::ConsecutiveFailures => "consecutive_failures",
            AlertKind::Anomaly => "anomaly",
            AlertKind::Overdue => "overdue",
            AlertKind::SlotSaturated => "slot_saturated",
        }
    }

    /// The severity a finding of this kind has (see the README's alert table).
    pub fn default_severity(self) -> Severity {
        match self {
            AlertKind::Failure | AlertKind::Timeout | AlertKind::OomKill => Severity::Error,
            AlertKind::ConsecutiveFailures => Severity::Critical,
            AlertKind::HighMemory
            | AlertKind::HighDuration
            | AlertKind::Anomaly
            | AlertKind::Overdue => Severity::Warning,
            AlertKind::SlotSaturated => Severity::Info,
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertKind {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<AlertKind, UnknownName> {
        AlertKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownName {
                kind: "alert kind",
                value: s.to_owned(),
            })
    }
}

/// How bad an alert is; ordered from `Info` (least) to `Critical` (most).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    /// Every severity, least first.
    pub const ALL: [Severity; 4] = [
        Severity::Info,
        Severity::Warning,
        Severity::Error,
        Severity::Critical,
    ];

    /// The name used in the database, in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Severity, UnknownName> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownName {
                kind: "severity",
                value: s.to_owned(),
            })
    }
}

/// One rule's verdict on one run: something worth an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: AlertKind,
    pub severity: Severity,
    /// What happened, in words for the user, with the figures that matter.
    pub message: String,
}

impl Finding {
    /// A finding of `kind` at its default severity.
    pub fn new(kind: AlertKind, message: String) -> Finding {
        Finding {
            kind,
            severity: kind.default_severity(),
            message,
        }
    }
}

/// A job's typical duration and memory peak, for the `anomaly` rule: medians and median
/// absolute deviations (MAD) of its recent successful runs. Built by whoever computes
/// baselines (the `stats` module); the rules only read it.
///
/// A MAD of 0 (every run took the same time, or too few runs to tell) gives no scale to
/// judge a deviation by, so that figure raises no anomaly at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaselineRef {
    pub duration_median_ms: f64,
    pub duration_mad_ms: f64,
    pub memory_median_bytes: f64,
    pub memory_mad_bytes: f64,
}

impl From<&crate::stats::Baseline> for BaselineRef {
    /// A job's stored baseline as the rules read it. A memory figure the baseline lacks
    /// (runs without enforcement or rusage) becomes a MAD of 0: not judged.
    fn from(b: &crate::stats::Baseline) -> BaselineRef {
        BaselineRef {
            duration_median_ms: b.duration_median_ms,
            duration_mad_ms: b.duration_mad_ms,
            memory_median_bytes: b.memory_median_bytes.unwrap_or(0.0),
            memory_mad_bytes: b.memory_mad_bytes.unwrap_or(0.0),
        }
    }
}
