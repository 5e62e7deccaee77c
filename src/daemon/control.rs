//! Answering the control socket (`slotcron status`, `trigger`, `kill`, `enable`,
//! `disable`, `reload`, `reset`), and reloading `jobs_dir`. Each request is handled on the
//! event loop between other events, so it sees and changes the one true state.

use std::collections::HashMap;

use chrono::Utc;
use tracing::info;

use crate::control::protocol::{
    JobState, JobStatus, Request, Response, RunningRun, SlotStatus, StatusReport,
};
use crate::runner::Enforcer;
use crate::scheduler::BreakerState;

use super::engine::{Engine, Origin, Verdict, Wake};
use super::reload::{Cause, reload};

/// Handles one request.
pub async fn handle(engine: &mut Engine, request: Request) -> Response {
    let now = Utc::now();
    match request {
        Request::Status => Response::Status(Box::new(status(engine).await)),
        Request::Trigger { job } => match engine.due(&job, Origin::Manual, now, now).await {
            Verdict::Queued => Response::ok(if engine.admission.is_queued(&job) {
                format!("`{job}` is queued in its slot")
            } else {
                format!("`{job}` started")
            }),
            Verdict::Skipped(reason) => Response::error(format!("`{job}` skipped: {reason}")),
            Verdict::Ignored(reason) => Response::error(reason),
        },
        Request::Kill { run_id } => match engine.kill(run_id) {
            Ok(message) => Response::ok(message),
            Err(message) => Response::error(message),
        },
        Request::Enable { job } => set_enabled(engine, job, true).await,
        Request::Disable { job } => set_enabled(engine, job, false).await,
        Request::Reload => Response::ok(reload(engine, Cause::Asked).await.message),
        Request::Reset { job } => reset(engine, job).await,
    }
}

async fn set_enabled(engine: &mut Engine, job: String, enabled: bool) -> Response {
    if !engine.registry.jobs.contains_key(&job) {
        return Response::error(format!("no job named `{job}`"));
    }
    let name = job.clone();
    let now = Utc::now();
    if let Err(error) = engine
        .db(move |s| s.set_enabled_override(&name, Some(enabled), now))
        .await
    {
        return Response::error(format!("recording the override: {error}"));
    }
    let entry = engine.registry.jobs.get_mut(&job).expect("checked above");
    entry.control.enabled_override = Some(enabled);
    let file_says = entry.job.enabled;
    engine.schedule_next(&job, now);
    let word = if enabled { "enabled" } else { "disabled" };
    info!(%job, word, "override");
    Response::ok(format!(
        "`{job}` {word} (an override of its file, which says enabled: {file_says})"
    ))
}

async fn reset(engine: &mut Engine, job: String) -> Response {
    if !engine.registry.jobs.contains_key(&job) {
        return Response::error(format!("no job named `{job}`"));
    }
    let name = job.clone();
    let now = Utc::now();
    if let Err(error) = engine.db(move |s| s.reset_breaker(&name, now)).await {
        return Response::error(format!("recording the reset: {error}"));
    }
    let entry = engine.registry.jobs.get_mut(&job).expect("checked above");
    let was = entry.breaker(now);
    entry.control.breaker_reset_at = Some(now);
    entry.summary.consecutive_failures = 0;
    entry.summary.last_failure_at = None;
    engine
        .event("breaker_reset", Some(&job), None, "reset by hand".into())
        .await;
    Response::ok(match was {
        BreakerState::Closed => {
            format!("`{job}`'s circuit breaker was not tripped; failures forgotten")
        }
        _ => format!("`{job}`'s circuit breaker reset; it is scheduled again"),
    })
}

/// The whole picture for `slotcron status`.
pub async fn status(engine: &Engine) -> StatusReport {
    let now = Utc::now();
    let pids: HashMap<i64, u32> = engine
        .db(|s| s.running_runs())
        .await
        .map(|runs| {
            runs.into_iter()
                .filter_map(|r| Some((r.id, r.pid?)))
                .collect()
        })
        .unwrap_or_default();
    let mut running: Vec<RunningRun> = engine
        .active
        .values()
        .filter_map(|a| {
            let id = a.run_id?;
            Some(RunningRun {
                id,
                job: a.job.clone(),
                slot: a.slot.clone(),
                started_at: a.started_at,
                pid: pids.get(&id).copied(),
                attempt: a.attempt,
            })
        })
        .collect();
    running.sort_by_key(|r| r.id);
    let slots = engine
        .admission
        .slots()
        .map(|book| SlotStatus {
            name: book.spec.name.clone(),
            running: book.running,
            max_concurrent: book.spec.max_concurrent,
            queued: book.queue_len() as u32,
            queue_limit: book.spec.queue_limit,
            memory_reserved: book.reserved,
            memory_max: book.spec.memory_budget,
        })
        .collect();
    let jobs = engine
        .registry
        .jobs
        .values()
        .map(|entry| {
            let name = &entry.job.name;
            let state = if entry.broken.is_some() {
                JobState::Broken
            } else if engine.active.values().any(|a| &a.job == name) {
                JobState::Running
            } else if engine.admission.is_queued(name) {
                JobState::Queued
            } else if !entry.enabled() {
                JobState::Disabled
            } else {
                match entry.breaker(now) {
                    BreakerState::Open { until } => JobState::Tripped { until: Some(until) },
                    _ => JobState::Idle,
                }
            };
            JobStatus {
                name: name.clone(),
                slot: entry.job.slot.clone(),
                schedule: entry.job.schedule_text.clone(),
                state,
                enabled: entry.enabled(),
                override_enabled: entry.control.enabled_override,
                next_fire: engine.timeline.get(&Wake::Fire(name.clone())),
                last_status: entry
                    .summary
                    .last_final
                    .as_ref()
                    .map(|r| r.status.to_string()),
                last_started_at: entry.summary.last_started_at,
                consecutive_failures: entry.summary.consecutive_failures,
            }
        })
        .collect();
    StatusReport {
        pid: std::process::id(),
        started_at: engine.started_at,
        enforcement: match &*engine.enforcer {
            Enforcer::Cgroup(tree) => format!("cgroup at {}", tree.root().display()),
            Enforcer::Unconfined { reason } => format!("none: {reason}"),
        },
        paused: engine.paused.clone(),
        slots,
        jobs,
        running,
        problems: engine
            .registry
            .problems
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}
