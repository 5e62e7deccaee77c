//! The vocabulary of alerts: what kind of trouble ([`AlertKind`]), how bad ([`Severity`])
//! and one rule's verdict on a run ([`Finding`]), with its evidence when it was judged
//! against the job's baseline.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::evidence::Evidence;
use super::run::UnknownName;

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
    /// The successful run's duration or memory peak is both unusual and materially above
    /// the job's baseline (the `slower` and `bigger` rules).
    Anomaly,
    /// The median of the job's newest successful runs is both unusual and materially above
    /// the baseline, in duration or memory: a trend, not a run.
    Degraded,
    /// The successful run was much shorter than the baseline (the `faster` rule); only for
    /// jobs with `alerts.too_fast`.
    TooFast,
    /// The successful run's memory peak was much smaller than the baseline (the `smaller`
    /// rule); only for jobs with `alerts.too_small`.
    TooSmall,
    /// A scheduled time passed with no run started.
    Overdue,
    /// The run waited longer than `alerting.queue_wait_threshold` for a seat in its slot.
    SlotSaturated,
}

impl AlertKind {
    /// Every kind, in a stable order.
    pub const ALL: [AlertKind; 12] = [
        AlertKind::Failure,
        AlertKind::Timeout,
        AlertKind::OomKill,
        AlertKind::HighMemory,
        AlertKind::HighDuration,
        AlertKind::ConsecutiveFailures,
        AlertKind::Anomaly,
        AlertKind::Degraded,
        AlertKind::TooFast,
        AlertKind::TooSmall,
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
            AlertKind::Degraded => "degraded",
            AlertKind::TooFast => "too_fast",
            AlertKind::TooSmall => "too_small",
            AlertKind::Overdue => "overdue",
            AlertKind::SlotSaturated => "slot_saturated",
        }
    }

    /// Whether the kind is judged against the job's baseline (and carries evidence).
    pub fn against_baseline(self) -> bool {
        matches!(
            self,
            AlertKind::Anomaly | AlertKind::Degraded | AlertKind::TooFast | AlertKind::TooSmall
        )
    }

    /// The severity a finding of this kind has (see the README's alert table).
    pub fn default_severity(self) -> Severity {
        match self {
            AlertKind::Failure | AlertKind::Timeout | AlertKind::OomKill => Severity::Error,
            AlertKind::ConsecutiveFailures => Severity::Critical,
            AlertKind::HighMemory
            | AlertKind::HighDuration
            | AlertKind::Anomaly
            | AlertKind::Degraded
            | AlertKind::TooFast
            | AlertKind::TooSmall
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: AlertKind,
    pub severity: Severity,
    /// What happened, in words for the user, with the figures that matter.
    pub message: String,
    /// For the kinds judged against the baseline, every figure the rule used (one item
    /// per figure that fired); empty for the others.
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// A finding of `kind` at its default severity, without evidence.
    pub fn new(kind: AlertKind, message: String) -> Finding {
        Finding::with_evidence(kind, message, Vec::new())
    }

    /// A finding of `kind` at its default severity, with the evidence behind it.
    pub fn with_evidence(kind: AlertKind, message: String, evidence: Vec<Evidence>) -> Finding {
        Finding {
            kind,
            severity: kind.default_severity(),
            message,
            evidence,
        }
    }
}
