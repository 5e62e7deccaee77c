//! The words of a job's health: is it failing ([`HealthStatus`]), is it running when it
//! should ([`Execution`]), does it cost what it used to ([`Performance`]), and the
//! defaults of the thresholds behind them. Computed in `stats::health` and
//! `baseline::performance`; shown by `slotcron jobs`, the API, the dashboard and `/metrics`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `alerts.consecutive_failures` of a job that does not set it.
pub const DEFAULT_CONSECUTIVE_FAILURES: u32 = 3;
/// `overdue_grace` when `slotcron.yaml` does not set it.
pub const DEFAULT_OVERDUE_GRACE: Duration = Duration::from_secs(5 * 60);

/// Whether a job fails: the `status` of its health, for `slotcron jobs`, the API,
/// `slotcron status` and `slotcron_job_health` alike (decided by `stats::health`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// No failure, timeout, lost run or OOM kill ended in the last 24 hours, and no failure
    /// streak.
    #[default]
    Healthy,
    /// A failure, timeout, lost run or OOM kill ended in the last 24 hours.
    Warning,
    /// At least `alerts.consecutive_failures` failures in a row.
    Critical,
}

/// Whether the job runs when it should.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Execution {
    /// It ran, its latest finished run did not fail, and no scheduled time is missing.
    Ok,
    /// No run has started yet.
    NeverRun,
    /// A scheduled time passed more than the grace ago and no run started since.
    Overdue,
    /// Its latest finished run failed (failed, timeout, oom_killed, lost).
    Failing,
}

/// Whether the job's runs cost what its baseline says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Performance {
    /// Recent runs are in line with the baseline.
    Stable,
    /// The median duration or memory peak of the newest successful runs is both unusual
    /// and materially above the baseline (the `slower` or `bigger` rule of `alerting:`).
    Degraded,
    /// The baseline itself is spread wide: duration MAD over half the median.
    Unstable,
    /// No baseline yet (fewer than `baseline_runs` successful runs): nothing to compare with.
    Unknown,
}
