//! The vocabulary of a run: how it ended ([`RunStatus`], and which endings are failures),
//! whether the kernel enforced its limits ([`Enforcement`]), and the figures of a
//! successful run that a baseline is made of ([`Sample`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a run ended (or that it has not ended yet). Stored in SQLite and printed in JSON as
/// the lowercase snake-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not yet recorded as finished.
    Running,
    /// The main process exited with status 0.
    Success,
    /// The main process exited non-zero, died of a signal it was not sent by slotcron, or
    /// could not be started.
    Failed,
    /// slotcron stopped the run because it exceeded its timeout.
    Timeout,
    /// The kernel's OOM killer killed a process of the run (`memory.events` `oom_kill` > 0).
    OomKilled,
    /// slotcron stopped the run on request (a signal to `slotcron run`, a kill command).
    Killed,
    /// The supervising slotcron process died; the run was found later and its exit code is
    /// unknown.
    Lost,
    /// The run never started (a policy decided against it); the reason is recorded.
    Skipped,
    /// The pressure response stopped the run to start it again once memory pressure has
    /// cleared (`on_pressure: [requeue]`); a new row follows. Not a failure.
    Requeued,
}

impl RunStatus {
    /// Every status, in a stable order.
    pub const ALL: [RunStatus; 9] = [
        RunStatus::Running,
        RunStatus::Success,
        RunStatus::Failed,
        RunStatus::Timeout,
        RunStatus::OomKilled,
        RunStatus::Killed,
        RunStatus::Lost,
        RunStatus::Skipped,
        RunStatus::Requeued,
    ];

    /// The name used in the database, in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Failed => "failed",
            RunStatus::Timeout => "timeout",
            RunStatus::OomKilled => "oom_killed",
            RunStatus::Killed => "killed",
            RunStatus::Lost => "lost",
            RunStatus::Skipped => "skipped",
            RunStatus::Requeued => "requeued",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The statuses that count as a failure: for health, alerts and the circuit breaker (the
/// store's SQL list `FAILURE_STATUSES_SQL` is built from this).
pub fn is_failure(status: RunStatus) -> bool {
    matches!(
        status,
        RunStatus::Failed | RunStatus::Timeout | RunStatus::OomKilled | RunStatus::Lost
    )
}

/// Whether a finished run with `status` that recorded `oom_kills` troubles its job's health:
/// a failure ([`is_failure`]), or an OOM kill of one of its processes whatever its status.
/// The store's `last_trouble_at` query and index (schema 10) say the same in SQL.
pub fn is_trouble(status: RunStatus, oom_kills: Option<u64>) -> bool {
    is_failure(status) || oom_kills.unwrap_or(0) > 0
}

/// The figures of one successful run that a baseline is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// The run's id (newest runs have the highest).
    pub id: i64,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// `memory.peak` (or `ru_maxrss` without enforcement), if recorded.
    pub memory_peak_bytes: Option<u64>,
    /// `cpu.stat` `usage_usec`, if recorded.
    pub cpu_usage_usec: Option<u64>,
}

/// The text was not the name of a [`RunStatus`] or [`Enforcement`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownName {
    /// What was being parsed (`run status`, `enforcement`).
    pub kind: &'static str,
    /// The text that was given.
    pub value: String,
}

impl FromStr for RunStatus {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownName {
                kind: "run status",
                value: s.to_owned(),
            })
    }
}

/// A job's memory as admission sees it: what a run is expected to need (reserved from its
/// slot's budget) and what the kernel holds it to. Shown by `slotcron jobs`, the API,
/// `slotcron status` and `/metrics`, all from `runner::job_memory`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobMemory {
    /// What admission reserves for a run, bytes; never above `memory_limit_bytes`.
    pub expected_memory_bytes: u64,
    /// The run's effective `memory.max` (`runner::effective_limits`), bytes: the figure its
    /// history row records.
    pub memory_limit_bytes: u64,
}

/// Whether the kernel enforced a run's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// The run had its own cgroup v2 below its slot; figures come from the kernel's cgroup files.
    Cgroup,
    /// No cgroup: limits were not enforced; figures come from `wait4` rusage.
    None,
}

impl Enforcement {
    /// The name used in the database and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Cgroup => "cgroup",
            Enforcement::None => "none",
        }
    }
}

impl fmt::Display for Enforcement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Enforcement {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cgroup" => Ok(Enforcement::Cgroup),
            "none" => Ok(Enforcement::None),
            _ => Err(UnknownName {
                kind: "enforcement",
                value: s.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for status in RunStatus::ALL {
            assert_eq!(status.as_str().parse::<RunStatus>().unwrap(), status);
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{}\"", status.as_str())
            );
        }
        assert_eq!(
            "oom-killed".parse::<RunStatus>().unwrap_err().value,
            "oom-killed"
        );
    }
}
