//! Questions other tasks (the HTTP server) ask the event loop. Each read is answered
//! between two events from the engine's books alone, without I/O, so a scrape never holds
//! the scheduler up: whatever takes time (reading history and cgroup files, encoding)
//! happens in the asker's task afterwards. An action ([`Query::Control`]) is carried out
//! exactly as the control socket's request is (`requests::decide`).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use crate::config::Job;
use crate::control::protocol::{JobState, Request, SlotStatus};
use crate::metrics::{self, JobMetrics, SlotMetrics, Snapshot};

use super::engine::{Engine, Wake};
use super::requests::{self, Outcome, Refusal};

/// One job as the engine sees it now: what `GET /api/v1/jobs` adds to the job's history.
#[derive(Debug, Clone)]
pub struct JobLive {
    /// The job as last loaded successfully.
    pub job: Arc<Job>,
    pub state: JobState,
    /// The file's `enabled:` with the override applied.
    pub effective_enabled: bool,
    /// When its schedule fires next (jitter included); `None` when it does not.
    pub next_run: Option<DateTime<Utc>>,
    /// Its runs in progress.
    pub running: u32,
    /// Failed runs since its last success, as the breaker counts them.
    pub consecutive_failures: u32,
}

/// One slot's seats and limits as the engine has them (no cgroup figures).
#[derive(Debug, Clone, PartialEq)]
pub struct SlotBook {
    pub name: String,
    pub max_concurrent: u32,
    pub running: u32,
    pub queued: u32,
    pub queue_limit: u32,
    /// `memory_max` of the slot, bytes.
    pub memory_max: u64,
    /// Memory promised to the runs in progress, bytes.
    pub memory_reserved: u64,
    pub cpu_max_percent: f64,
    /// `None`: unlimited.
    pub pids_max: Option<u64>,
}

impl From<SlotBook> for SlotStatus {
    /// The part of a slot's books that `slotcron status` shows.
    fn from(book: SlotBook) -> SlotStatus {
        SlotStatus {
            name: book.name,
            running: book.running,
            max_concurrent: book.max_concurrent,
            queued: book.queued,
            queue_limit: book.queue_limit,
            memory_reserved: book.memory_reserved,
            memory_max: book.memory_max,
        }
    }
}

/// The slots and what applies to all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotsReport {
    pub slots: Vec<SlotBook>,
    /// `cgroup.memory_max`, the cap on all slots together, bytes.
    pub memory_max: Option<u64>,
    /// `cgroup at <root>` or `none: <reason>`.
    pub enforcement: String,
    /// Why new runs are held back (`protect`), while they are.
    pub paused: Option<String>,
}

/// A question for the event loop, with where to send the answer.
#[derive(Debug)]
pub enum Query {
    /// The figures of `/metrics` (slots without their cgroup figures).
    Metrics(oneshot::Sender<Snapshot>),
    /// Every job (`None`) or the one named, by name; empty when it is unknown.
    Jobs(Option<String>, oneshot::Sender<Vec<JobLive>>),
    /// The slots' books.
    Slots(oneshot::Sender<SlotsReport>),
    /// Carry out a control request (trigger, kill, enable, disable ...).
    Control(Request, oneshot::Sender<Outcome>),
}

/// How many questions may wait for the event loop before askers wait to ask.
pub const QUERY_QUEUE: usize = 16;

/// The asking end, cloned into each task that asks.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    queries: mpsc::Sender<Query>,
}

/// The event loop has stopped (the daemon is exiting).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the scheduler is not running")]
pub struct EngineGone;

impl EngineHandle {
    /// A handle and the receiving end the event loop listens on.
    pub fn channel() -> (EngineHandle, mpsc::Receiver<Query>) {
        let (queries, rx) = mpsc::channel(QUERY_QUEUE);
        (EngineHandle { queries }, rx)
    }

    /// The engine's figures for `/metrics`.
    ///
    /// # Errors
    /// [`EngineGone`] once the event loop has stopped.
    pub async fn metrics(&self) -> Result<Snapshot, EngineGone> {
        self.ask(Query::Metrics).await
    }

    /// Every job (`name` = `None`) or the one named (an empty list if unknown), by name.
    ///
    /// # Errors
    /// [`EngineGone`] once the event loop has stopped.
    pub async fn jobs(&self, name: Option<String>) -> Result<Vec<JobLive>, EngineGone> {
        self.ask(|reply| Query::Jobs(name, reply)).await
    }

    /// The slots' books.
    ///
    /// # Errors
    /// [`EngineGone`] once the event loop has stopped.
    pub async fn slots(&self) -> Result<SlotsReport, EngineGone> {
        self.ask(Query::Slots).await
    }

    /// Carries out `request` as the control socket would.
    ///
    /// # Errors
    /// [`EngineGone`] once the event loop has stopped.
    pub async fn control(&self, request: Request) -> Result<Outcome, EngineGone> {
        self.ask(|reply| Query::Control(request, reply)).await
    }

    async fn ask<T>(
        &self,
        query: impl FnOnce(oneshot::Sender<T>) -> Query,
    ) -> Result<T, EngineGone> {
        let (tx, rx) = oneshot::channel();
        self.queries.send(query(tx)).await.map_err(|_| EngineGone)?;
        rx.await.map_err(|_| EngineGone)
    }
}

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
        Query::Control(request, reply) => {
            let outcome = if engine.stopping {
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
    let now = Utc::now();
    let running = running_per_job(engine);
    let entries: Vec<_> = match only {
        Some(name) => engine.registry.jobs.get(name).into_iter().collect(),
        None => engine.registry.jobs.values().collect(),
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
                next_run: engine.timeline.get(&Wake::Fire(name.to_owned())),
                running: n,
                consecutive_failures: entry.summary.consecutive_failures,
            }
        })
        .collect()
}

/// How many runs of each job are in progress (jobs without one are absent).
pub fn running_per_job(engine: &Engine) -> HashMap<&str, u32> {
    let mut running: HashMap<&str, u32> = HashMap::new();
    for active in engine.active.values() {
        *running.entry(active.job.as_str()).or_default() += 1;
    }
    running
}

/// The slots' books, in configuration order.
pub fn slots(engine: &Engine) -> SlotsReport {
    let slots = engine
        .admission
        .slots()
        .map(|book| {
            let slot = engine.settings.slots.get(&book.spec.name);
            SlotBook {
                name: book.spec.name.clone(),
                max_concurrent: book.spec.max_concurrent,
                running: book.running,
                queued: book.queue_len() as u32,
                queue_limit: book.spec.queue_limit,
                memory_max: book.spec.memory_budget,
                memory_reserved: book.reserved,
                cpu_max_percent: slot.map_or(100.0, |s| s.cpu_max_percent),
                pids_max: slot.and_then(|s| s.pids_max),
            }
        })
        .collect();
    SlotsReport {
        slots,
        memory_max: engine.settings.memory_max.map(|m| m.bytes()),
        enforcement: engine.enforcer.describe(),
        paused: engine.paused.clone(),
    }
}

/// The figures of `/metrics` as the engine has them now.
pub fn snapshot(engine: &Engine) -> Snapshot {
    let now = chrono::Utc::now();
    let running = running_per_job(engine);
    let jobs = engine
        .registry
        .jobs
        .values()
        .map(|entry| {
            let name = &entry.job.name;
            let counters = engine.metrics.jobs.get(name).cloned().unwrap_or_default();
            let health = metrics::job_health(
                &entry.summary,
                entry.job.alerts.consecutive_failures,
                counters.last_failure.max(counters.last_oom_kill),
                now,
            );
            JobMetrics {
                name: name.clone(),
                counters,
                next_run: engine.timeline.get(&Wake::Fire(name.clone())),
                running: running.get(name.as_str()).copied().unwrap_or(0),
                health,
            }
        })
        .collect();
    let slots = engine
        .admission
        .slots()
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
        config_errors: engine.registry.problems.len() as u64,
        // Filled in by the scrape from history (a read the event loop does not make).
        alerts_open: Default::default(),
        history: engine.history_health(),
    }
}
