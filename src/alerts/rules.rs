//! The alert rules: pure functions from a finished run (and the job, its failure streak,
//! its history, the machine-wide settings) to findings, and from a run to the kinds of
//! open alert it shows to be over. No I/O, no clock: the caller passes `now`. The rules
//! judged against the baseline are [`super::performance`]'s.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::performance::{self, History};
use crate::config::{AlertSettings, Job, format_duration};
use crate::model::RunStatus;
use crate::model::alert::{AlertKind, Finding};
pub use crate::stats::health::DEFAULT_CONSECUTIVE_FAILURES;
use crate::stats::health::is_failure;
use crate::store::RunRecord;

/// A run whose memory peak is above this share of its memory limit raises `high_memory`.
pub const MEMORY_LIMIT_SHARE: f64 = 0.9;

/// Every finding about one finished run, in [`AlertKind::ALL`] order.
///
/// `streak` is the job's consecutive failures including this run (as
/// `Store::job_summary` counts them). A running or skipped run has no findings. The rules:
/// - `failure` (failed or lost), `timeout`, `oom_kill`: from the status.
/// - `high_memory`: peak above `alerts.max_memory`, else above 90 % of the run's memory
///   limit (not for an OOM-killed run, whose peak is its limit and which has `oom_kill`).
/// - `high_duration`: duration above `alerts.max_duration`.
/// - `consecutive_failures`: a failed run with `streak` at or above the job's threshold.
/// - `anomaly`, `degraded`, `too_fast`, `too_small`: a successful run judged against
///   `history` by the effect-size rule ([`performance::findings`]) with the job's
///   thresholds over `alerting:`'s.
/// - `slot_saturated`: the run waited for its seat longer than `queue_wait_threshold`.
pub fn evaluate(
    run: &RunRecord,
    job: &Job,
    streak: u32,
    history: &History,
    settings: &AlertSettings,
) -> Vec<Finding> {
    if matches!(
        run.status,
        RunStatus::Running | RunStatus::Skipped | RunStatus::Requeued
    ) {
        return Vec::new();
    }
    let id = run.id;
    let mut findings = Vec::new();
    findings.extend(status_finding(run));
    if let Some(finding) = high_memory(run, job) {
        findings.push(finding);
    }
    if let (Some(ms), Some(max)) = (run.duration_ms, job.alerts.max_duration)
        && u128::from(ms) > max.as_millis()
    {
        findings.push(Finding::new(
            AlertKind::HighDuration,
            format!(
                "run {id} took {}, above alerts.max_duration {}",
                format_duration(Duration::from_millis(ms)),
                format_duration(max)
            ),
        ));
    }
    let threshold = job
        .alerts
        .consecutive_failures
        .unwrap_or(DEFAULT_CONSECUTIVE_FAILURES);
    if is_failure(run.status) && streak >= threshold {
        findings.push(Finding::new(
            AlertKind::ConsecutiveFailures,
            format!("{streak} consecutive failed runs (alert at {threshold})"),
        ));
    }
    let judging = job.alerts.judging(&settings.judging);
    findings.extend(performance::findings(run, &job.name, history, &judging));
    if let Some(wait) = run.wait_ms
        && u128::from(wait) > settings.queue_wait_threshold.as_millis()
    {
        findings.push(Finding::new(
            AlertKind::SlotSaturated,
            format!(
                "run {id} waited {} for a seat in slot `{}` (alert above {})",
                format_duration(Duration::from_millis(wait)),
                run.slot,
                format_duration(settings.queue_wait_threshold)
            ),
        ));
    }
    findings
}

/// `failure`, `timeout` or `oom_kill`, from how the run ended.
fn status_finding(run: &RunRecord) -> Option<Finding> {
    let id = run.id;
    match run.status {
        RunStatus::Failed | RunStatus::Lost => {
            Some(Finding::new(AlertKind::Failure, failure_message(run)))
        }
        RunStatus::Timeout => {
            let took = run.duration_ms.map_or_else(String::new, |ms| {
                format!(" after {}", format_duration(Duration::from_millis(ms)))
            });
            Some(Finding::new(
                AlertKind::Timeout,
                format!("run {id} was stopped at its timeout{took}"),
            ))
        }
        RunStatus::OomKilled => {
            let limit = run
                .memory_limit_bytes
                .map_or_else(String::new, |l| format!(" of {}", mib(l)));
            Some(Finding::new(
                AlertKind::OomKill,
                format!("run {id} was killed by the kernel at its memory limit{limit}"),
            ))
        }
        _ => None,
    }
}

/// The kinds of open alert that `run` shows to be over, given what it raised itself
/// (`findings`, from [`evaluate`]): a success ends `failure`, `timeout`, `oom_kill` and
/// `consecutive_failures`; a run with a memory peak (or duration) within bounds ends
/// `high_memory` (or `high_duration`); a success judged against a baseline ends the
/// baseline kinds it did not raise ([`performance::resolutions`]); a run that started ends
/// `overdue`, and without too long a wait, `slot_saturated`. A running, skipped or
/// requeued run ends nothing.
pub fn resolutions(run: &RunRecord, findings: &[Finding], history: &History) -> Vec<AlertKind> {
    if matches!(
        run.status,
        RunStatus::Running | RunStatus::Skipped | RunStatus::Requeued
    ) {
        return Vec::new();
    }
    let raised: Vec<AlertKind> = findings.iter().map(|f| f.kind).collect();
    let judged = performance::resolutions(run, history, &raised);
    let success = run.status == RunStatus::Success;
    AlertKind::ALL
        .into_iter()
        .filter(|kind| !raised.contains(kind))
        .filter(|&kind| match kind {
            AlertKind::Failure
            | AlertKind::Timeout
            | AlertKind::OomKill
            | AlertKind::ConsecutiveFailures => success,
            AlertKind::HighMemory => run.usage.memory_peak_bytes.is_some(),
            AlertKind::HighDuration => run.duration_ms.is_some(),
            AlertKind::Anomaly | AlertKind::Degraded | AlertKind::TooFast | AlertKind::TooSmall => {
                judged.contains(&kind)
            }
            AlertKind::Overdue | AlertKind::SlotSaturated => true,
        })
        .collect()
}

/// The `overdue` rule (the daemon asks when a queued run reaches its deadline): the job was
/// due at `due_at` and no run has started since (`last_started_at` is before it, or there
/// is none), `overdue_grace` or more after it. `None` while the job is within its grace or
/// has started.
pub fn overdue(
    due_at: DateTime<Utc>,
    last_started_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    settings: &AlertSettings,
) -> Option<Finding> {
    if last_started_at.is_some_and(|started| started >= due_at) {
        return None;
    }
    let late = (now - due_at).to_std().ok()?;
    (late >= settings.overdue_grace).then(|| {
        Finding::new(
            AlertKind::Overdue,
            format!(
                "no run started since the scheduled time {} ({} late)",
                due_at.format("%Y-%m-%d %H:%M:%S UTC"),
                format_duration(Duration::from_secs(late.as_secs()))
            ),
        )
    })
}

fn failure_message(run: &RunRecord) -> String {
    let id = run.id;
    if run.status == RunStatus::Lost {
        return format!("run {id} was lost: its supervisor died before it ended");
    }
    match (run.exit_code, run.signal, &run.error) {
        (Some(code), _, _) => format!("run {id} failed with exit code {code}"),
        (None, Some(signal), _) => format!("run {id} failed: killed by signal {signal}"),
        (None, None, Some(error)) => format!("run {id} failed: {error}"),
        (None, None, None) => format!("run {id} failed"),
    }
}

fn high_memory(run: &RunRecord, job: &Job) -> Option<Finding> {
    let peak = run.usage.memory_peak_bytes?;
    let id = run.id;
    if let Some(max) = job.alerts.max_memory
        && peak > max.bytes()
    {
        return Some(Finding::new(
            AlertKind::HighMemory,
            format!(
                "run {id} peaked at {} of memory, above alerts.max_memory {}",
                mib(peak),
                mib(max.bytes())
            ),
        ));
    }
    let limit = run.memory_limit_bytes?;
    let share = peak as f64 / limit as f64;
    (run.status != RunStatus::OomKilled && limit > 0 && share > MEMORY_LIMIT_SHARE).then(|| {
        Finding::new(
            AlertKind::HighMemory,
            format!(
                "run {id} peaked at {} of memory, {:.0} % of its limit {}",
                mib(peak),
                share * 100.0,
                mib(limit)
            ),
        )
    })
}

/// Bytes as MiB with one decimal (`512.0 MiB`): one unit, so messages compare at a glance.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
