//! What one scrape shows. The event loop fills it from the engine's books without I/O
//! (see `daemon::query`); the HTTP handler then adds what the kernel says about each slot
//! ([`SlotUsage`], read on a blocking thread) and encodes it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::counters::JobCounters;
use crate::cgroup::SlotUsage;

/// Everything `/metrics` shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// slotcron's version (`slotcron_build_info`).
    pub version: String,
    /// Every scheduled job, by name.
    pub jobs: Vec<JobMetrics>,
    /// Every configured slot, by name.
    pub slots: Vec<SlotMetrics>,
    /// Problems of the job files (files that do not load, bad references).
    pub config_errors: u64,
    /// Open alerts by severity.
    pub alerts_open: BTreeMap<String, u64>,
    /// Whether history takes writes, and the runs kept until it does (ADR 0022).
    pub history: crate::store::HistoryHealth,
    /// What the pressure response did and does (ADR 0036, 0040).
    pub pressure: PressureMetrics,
}

/// The pressure response's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PressureMetrics {
    /// Steps carried out since the daemon started, by name; every step is listed (0 where
    /// none was taken), so a rate over it exists before the first one.
    pub steps: BTreeMap<&'static str, u64>,
    /// Runs in progress whose `memory.high` the response holds below their usage now.
    pub throttled: u64,
    /// Runs in progress the response holds frozen now (they may be throttled as well).
    pub frozen: u64,
}

/// One job.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobMetrics {
    pub name: String,
    pub counters: JobCounters,
    /// When its schedule fires next (jitter included); `None` when it does not.
    pub next_run: Option<DateTime<Utc>>,
    /// Its runs holding a seat now.
    pub running: u32,
    /// By `stats::health::summary_status`.
    pub health: crate::stats::HealthStatus,
    /// Expected memory and effective limit, by `runner::job_memory`.
    pub memory: crate::runner::JobMemory,
}

/// One slot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlotMetrics {
    pub name: String,
    pub running: u32,
    pub queued: u32,
    pub max_concurrent: u32,
    /// What its cgroup says, read at scrape time; `None` when runs are unconfined or it
    /// could not be read.
    pub live: Option<SlotUsage>,
}
