//! How another task of the daemon process (the HTTP server) asks the event loop: a
//! [`Query`] with a oneshot for the answer, sent through an [`EngineHandle`]. The types live
//! here, below both the daemon and the HTTP server, so the server never imports the daemon
//! that starts it (ADR 0033); the daemon's `query::answer` answers them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use super::outcome::Outcome;
use super::protocol::{JobState, Request, SlotStatus};
use crate::config::Job;
use crate::metrics::Snapshot;
use crate::model::{JobMemory, PressureView};

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
    /// Its expected memory and effective limit (`runner::job_memory`).
    pub memory: JobMemory,
}

/// One slot's seats and limits as the engine has them (no cgroup figures): what
/// `slotcron status` shows of it, and the limits `GET /api/v1/slots` adds.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotBook {
    /// Seats, queue and memory, as the control socket's status carries them (the one copy
    /// of the slot's `memory_max` on the way out).
    pub status: SlotStatus,
    /// The slot's `cpu_max_percent`.
    pub cpu_max_percent: f64,
    /// The slot's `pids_max`; `None`: unlimited.
    pub pids_max: Option<u64>,
}

impl From<SlotBook> for SlotStatus {
    /// The part of a slot's books that `slotcron status` shows.
    fn from(book: SlotBook) -> SlotStatus {
        book.status
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
    /// What the pressure response does to each run in progress it acted on, by run id.
    Pressure(oneshot::Sender<HashMap<i64, PressureView>>),
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

    /// The pressure response's state of each run in progress it acted on, by run id.
    ///
    /// # Errors
    /// [`EngineGone`] once the event loop has stopped.
    pub async fn pressure(&self) -> Result<HashMap<i64, PressureView>, EngineGone> {
        self.ask(Query::Pressure).await
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
