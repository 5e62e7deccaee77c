//! The event loop's answers to the questions other tasks (the HTTP server) ask through
//! [`EngineHandle`] (`control::handle`). Each read is answered between two events from the
//! engine's books alone, without I/O, so a scrape never holds the scheduler up: whatever
//! takes time (reading history and cgroup files, encoding) happens in the asker's task
//! afterwards. An action ([`Query::Control`]) is carried out
//! exactly as the control socket's request is (`requests::decide`).

use std::collections::HashMap;

use crate::metrics::{JobMetrics, PressureMetrics, SlotMetrics, Snapshot};
use crate::model::{PressureState, PressureView};
use crate::scheduler::ladder::Action;
use crate::stats::health::{failure_threshold, summary_status};

pub use crate::control::handle::{
    EngineGone, EngineHandle, JobLive, QUERY_QUEUE, Query, SlotBook, SlotsReport,
};

use super::engine::Engine;
use super::requests::{self, Outcome, Refusal, running_per_job, slots};

/// Answers one question (on the event loop). Actions are refused once the daemon stops.
pub async fn answer(engine: &mut Engine, query: Query) {
    match query {
        Query::Metrics(reply) => {
            let _ = reply.send(snapshot(engine));
        }
        Query::Jobs(name, reply) => {
            let _ = reply.send(jobs(engine, name.as_deref()));
        }
        Query::Slots(reply) => {
            let _ = reply.send(slots(engine));
        }
        Query::Pressure(reply) => {
            let _ = reply.send(pressure(engine));
        }
        Query::Control(request, reply) => {
            let outcome = if engine.is_stopping() {
                Outcome::Refused {
                    why: Refusal::Unavailable,
                    message: "the daemon is stopping".into(),
                }
            } else {
                requests::decide(engine, request).await
            };
            let _ = reply.send(outcome);
        }
    }
}

/// The jobs as the engine has them now, by name.
pub fn jobs(engine: &Engine, only: Option<&str>) -> Vec<JobLive> {
    let now = engine.now();
    let running = running_per_job(engine);
    let entries: Vec<_> = match only {
        Some(name) => engine.registry().jobs.get(name).into_iter().collect(),
        None => engine.registry().jobs.values().collect(),
    };
    entries
        .into_iter()
        .map(|entry| {
            let name = entry.job.name.as_str();
            let n = running.get(name).copied().unwrap_or(0);
            JobLive {
                job: entry.job.clone(),
                state: requests::job_state(engine, entry, n > 0, now),
                effective_enabled: entry.enabled(),
                next_run: engine.next_fire(name),
                running: n,
                consecutive_failures: entry.summary.consecutive_failures,
                memory: engine.job_memory(&entry.job),
            }
        })
        .collect()
}

/// The pressure response's state of each run in progress it acted on, by run id.
pub fn pressure(engine: &Engine) -> HashMap<i64, PressureView> {
    let now = engine.now();
    engine
        .active_runs()
        .filter_map(|a| Some((a.run_id?, a.pressure.book().view(now)?)))
        .collect()
}

/// The pressure response's steps so far and the runs it holds now, for `/metrics`.
pub fn pressure_metrics(engine: &Engine) -> PressureMetrics {
    let held = |state: PressureState| {
        engine
            .active_runs()
            .filter(|a| a.pressure.book().holds(state))
            .count() as u64
    };
    PressureMetrics {
        steps: Action::NAMES
            .into_iter()
            .map(|name| {
                let taken = engine.metrics().pressure_steps.get(name).copied();
                (name, taken.unwrap_or(0))
            })
            .collect(),
        throttled: held(PressureState::Throttled),
        frozen: held(PressureState::Frozen),
    }
}

/// The figures of `/metrics` as the engine has them now.
pub fn snapshot(engine: &Engine) -> Snapshot {
    let now = engine.now();
    let running = running_per_job(engine);
    let jobs = engine
        .registry()
        .jobs
        .values()
        .map(|entry| {
            let name = &entry.job.name;
            let counters = engine.metrics().jobs.get(name).cloned().unwrap_or_default();
            let health = summary_status(&entry.summary, failure_threshold(&entry.job), now);
            JobMetrics {
                name: name.clone(),
                counters,
                next_run: engine.next_fire(name),
                running: running.get(name.as_str()).copied().unwrap_or(0),
                health,
                memory: engine.job_memory(&entry.job),
            }
        })
        .collect();
    let slots = engine
        .slot_books()
        .map(|book| SlotMetrics {
            name: book.spec.name.clone(),
            running: book.running,
            queued: book.queue_len() as u32,
            max_concurrent: book.spec.max_concurrent,
            live: None,
        })
        .collect();
    Snapshot {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        jobs,
        slots,
        config_errors: engine.registry().problems.len() as u64,
        // Filled in by the scrape from history (a read the event loop does not make).
        alerts_open: Default::default(),
        history: engine.history_health(),
        pressure: pressure_metrics(engine),
    }
}
