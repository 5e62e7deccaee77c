//! Answering the control socket (`slotcron status`, `trigger`, `kill`, `enable`,
//! `disable`, `reload`, `reset`), and reloading `jobs_dir`. Each request is handled on the
//! event loop between other events, so it sees and changes the one true state.

use std::collections::HashMap;

use chrono::Utc;
use tracing::info;

use crate::control::handle::{SlotBook, SlotsReport};
use crate::control::protocol::{
    JobState, JobStatus, Request, Response, RunningRun, SlotStatus, StatusReport,
};
use crate::scheduler::BreakerState;

use super::engine::{Engine, Origin, Verdict};
use super::registry::JobEntry;
use super::reload::{Cause, reload};

pub use crate::control::outcome::{Effect, Outcome, Refusal};

/// Handles one request from the control socket.
pub async fn handle(engine: &mut Engine, request: Request) -> Response {
    decide(engine, request).await.into()
}

/// Carries out one request, from the socket or the HTTP API.
pub async fn decide(engine: &mut Engine, request: Request) -> Outcome {
    let now = engine.now();
    match request {
        Request::Status => Outcome::Status(Box::new(status(engine).await)),
        Request::Trigger { job } => trigger(engine, job, now).await,
        Request::Kill { run_id } => match engine.kill(run_id) {
            Ok(message) => Outcome::done(Effect::Other, message),
            Err(message) => Outcome::refused(Refusal::NotRunning, message),
        },
        Request::Enable { job } => set_enabled(engine, job, true).await,
        Request::Disable { job } => set_enabled(engine, job, false).await,
        Request::Reload => Outcome::done(Effect::Other, reload(engine, Cause::Asked).await.message),
        Request::Reset { job } => reset(engine, job).await,
    }
}

async fn trigger(engine: &mut Engine, job: String, now: chrono::DateTime<Utc>) -> Outcome {
    if !engine.registry().jobs.contains_key(&job) {
        return Outcome::refused(Refusal::UnknownJob, format!("no job named `{job}`"));
    }
    if engine.is_stopping() {
        return Outcome::refused(Refusal::Unavailable, "the daemon is stopping");
    }
    match engine.due(&job, Origin::Manual, now, now).await {
        Verdict::Queued if engine.is_queued(&job) => {
            Outcome::done(Effect::Queued, format!("`{job}` is queued in its slot"))
        }
        Verdict::Queued => Outcome::done(Effect::Started, format!("`{job}` started")),
        Verdict::Skipped(reason) => {
            Outcome::refused(Refusal::Conflict, format!("`{job}` skipped: {reason}"))
        }
        Verdict::Ignored(reason) => Outcome::refused(Refusal::Conflict, reason),
    }
}

async fn set_enabled(engine: &mut Engine, job: String, enabled: bool) -> Outcome {
    if !engine.registry().jobs.contains_key(&job) {
        return Outcome::refused(Refusal::UnknownJob, format!("no job named `{job}`"));
    }
    let name = job.clone();
    let now = engine.now();
    if let Err(error) = engine
        .db(move |s| s.set_enabled_override(&name, Some(enabled), now))
        .await
    {
        return Outcome::refused(Refusal::Failed, format!("recording the override: {error}"));
    }
    let file_says = (engine.override_enabled(&job, enabled, now)).expect("checked above");
    let word = if enabled { "enabled" } else { "disabled" };
    info!(%job, word, "override");
    Outcome::done(
        Effect::Enabled(enabled),
        format!("`{job}` {word} (an override of its file, which says enabled: {file_says})"),
    )
}

async fn reset(engine: &mut Engine, job: String) -> Outcome {
    if !engine.registry().jobs.contains_key(&job) {
        return Outcome::refused(Refusal::UnknownJob, format!("no job named `{job}`"));
    }
    let name = job.clone();
    let now = engine.now();
    if let Err(error) = engine.db(move |s| s.reset_breaker(&name, now)).await {
        return Outcome::refused(Refusal::Failed, format!("recording the reset: {error}"));
    }
    let was = engine.reset_breaker(&job, now).expect("checked above");
    engine
        .event("breaker_reset", Some(&job), None, "reset by hand".into())
        .await;
    Outcome::done(
        Effect::Other,
        match was {
            BreakerState::Closed => {
                format!("`{job}`'s circuit breaker was not tripped; failures forgotten")
            }
            _ => format!("`{job}`'s circuit breaker reset; it is scheduled again"),
        },
    )
}

/// Where `entry` is in its life now, as `slotcron status` and the HTTP API show it.
/// `running` says whether a run of it holds a seat.
pub fn job_state(
    engine: &Engine,
    entry: &JobEntry,
    running: bool,
    now: chrono::DateTime<Utc>,
) -> JobState {
    let name = &entry.job.name;
    if entry.broken.is_some() {
        JobState::Broken
    } else if running {
        JobState::Running
    } else if engine.is_queued(name) {
        JobState::Queued
    } else if !entry.enabled() {
        JobState::Disabled
    } else {
        match entry.breaker(now) {
            BreakerState::Open { until } => JobState::Tripped { until: Some(until) },
            _ => JobState::Idle,
        }
    }
}

/// How many runs of each job are in progress (jobs without one are absent).
pub fn running_per_job(engine: &Engine) -> HashMap<&str, u32> {
    let mut running: HashMap<&str, u32> = HashMap::new();
    for active in engine.active_runs() {
        *running.entry(active.job.as_str()).or_default() += 1;
    }
    running
}

/// The slots' books, in configuration order.
pub fn slots(engine: &Engine) -> SlotsReport {
    let slots = engine
        .slot_books()
        .map(|book| {
            let slot = engine.settings().slots.get(&book.spec.name);
            SlotBook {
                status: SlotStatus {
                    name: book.spec.name.clone(),
                    max_concurrent: book.spec.max_concurrent,
                    running: book.running,
                    queued: book.queue_len() as u32,
                    queue_limit: book.spec.queue_limit,
                    memory_max: book.spec.memory_budget,
                    memory_reserved: book.reserved,
                },
                cpu_max_percent: slot.map_or(100.0, |s| s.cpu_max_percent),
                pids_max: slot.and_then(|s| s.pids_max),
            }
        })
        .collect();
    SlotsReport {
        slots,
        memory_max: engine.settings().memory_max.map(|m| m.bytes()),
        enforcement: engine.enforcer().describe(),
        paused: engine.paused().map(str::to_owned),
    }
}

/// The whole picture for `slotcron status`.
pub async fn status(engine: &Engine) -> StatusReport {
    let now = engine.now();
    let running = running_runs(engine, now).await;
    let report = slots(engine);
    let slots = report.slots.into_iter().map(SlotStatus::from).collect();
    let running_jobs = running_per_job(engine);
    let jobs = engine
        .registry()
        .jobs
        .values()
        .map(|entry| {
            let running = running_jobs.contains_key(entry.job.name.as_str());
            job_status(engine, entry, running, now)
        })
        .collect();
    StatusReport {
        pid: std::process::id(),
        started_at: engine.started_at(),
        enforcement: report.enforcement,
        cgroup_root: match engine.enforcer().as_ref() {
            crate::runner::Enforcer::Cgroup(tree) => Some(tree.root().to_path_buf()),
            crate::runner::Enforcer::Unconfined { .. } => None,
        },
        paused: report.paused,
        history: engine.history_health(),
        slots,
        jobs,
        running,
        problems: engine
            .registry()
            .problems
            .iter()
            .map(ToString::to_string)
            .collect(),
        problems_omitted: 0,
        jobs_omitted: 0,
    }
}

/// The recorded runs holding a seat, by id, with their main process's pid from history and
/// what the pressure response does to them now.
async fn running_runs(engine: &Engine, now: chrono::DateTime<Utc>) -> Vec<RunningRun> {
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
        .active_runs()
        .filter_map(|a| {
            let id = a.run_id?;
            Some(RunningRun {
                id,
                job: a.job.clone(),
                slot: a.slot.clone(),
                started_at: a.started_at,
                pid: pids.get(&id).copied(),
                attempt: a.attempt,
                pressure: a.pressure.book().view(now),
            })
        })
        .collect();
    running.sort_by_key(|r| r.id);
    running
}

/// One job's line of `slotcron status`; `running`: a run of it holds a seat.
fn job_status(
    engine: &Engine,
    entry: &JobEntry,
    running: bool,
    now: chrono::DateTime<Utc>,
) -> JobStatus {
    let name = &entry.job.name;
    JobStatus {
        name: name.clone(),
        slot: entry.job.slot.clone(),
        schedule: entry.job.schedule_text.clone(),
        state: job_state(engine, entry, running, now),
        enabled: entry.enabled(),
        override_enabled: entry.control.enabled_override,
        next_fire: engine.next_fire(name),
        last_status: entry
            .summary
            .last_final
            .as_ref()
            .map(|r| r.status.to_string()),
        last_started_at: entry.summary.last_started_at,
        consecutive_failures: entry.summary.consecutive_failures,
        health: crate::stats::health::summary_status(
            &entry.summary,
            crate::stats::health::failure_threshold(&entry.job),
            now,
        ),
        memory: engine.job_memory(&entry.job),
    }
}
