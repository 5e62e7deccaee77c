//! Questions other tasks (the HTTP server) ask the event loop. Each is answered between
//! two events from the engine's books alone, without I/O, so a scrape never holds the
//! scheduler up: whatever takes time (reading cgroup files, encoding) happens in the
//! asker's task afterwards.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};

use crate::metrics::{self, JobMetrics, SlotMetrics, Snapshot};

use super::engine::{Engine, Wake};

/// A question for the event loop, with where to send the answer.
#[derive(Debug)]
pub enum Query {
    /// The figures of `/metrics` (slots without their cgroup figures).
    Metrics(oneshot::Sender<Snapshot>),
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
        let (tx, rx) = oneshot::channel();
        self.queries
            .send(Query::Metrics(tx))
            .await
            .map_err(|_| EngineGone)?;
        rx.await.map_err(|_| EngineGone)
    }
}

/// Answers one question (on the event loop).
pub fn answer(engine: &Engine, query: Query) {
    match query {
        Query::Metrics(reply) => {
            let _ = reply.send(snapshot(engine));
        }
    }
}

/// The figures of `/metrics` as the engine has them now.
pub fn snapshot(engine: &Engine) -> Snapshot {
    let now = chrono::Utc::now();
    let mut running: HashMap<&str, u32> = HashMap::new();
    for active in engine.active.values() {
        *running.entry(active.job.as_str()).or_default() += 1;
    }
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
                counters.last_failure,
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
    }
}
