//! Tests of the history store against real SQLite files in temp dirs, with a few
//! factories for the values every test needs.

mod alerts;
mod daemon_state;
mod events;
mod jobs;
mod metrics;
mod open;
mod page;
mod retention;
mod runs;
mod stats;
mod summary;

use chrono::{DateTime, Utc};
use tempfile::TempDir;

use super::{JobRow, NewRun, RunCompletion, Store};
use crate::model::{Enforcement, RunStatus, RunUsage};

/// A store on a fresh file; keep the `TempDir` alive as long as the store.
fn file_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join(super::DEFAULT_DB_FILE)).unwrap();
    (dir, store)
}

/// A store on a fresh file that already knows `jobs`.
fn store_with_jobs(jobs: &[&str]) -> (TempDir, Store) {
    let (dir, mut store) = file_store();
    let rows: Vec<JobRow> = jobs.iter().map(|name| job(name, "0 * * * *")).collect();
    store.sync_jobs(&rows, at(1_000)).unwrap();
    (dir, store)
}

/// A timestamp `ms` milliseconds after 2026-01-01T00:00:00Z.
fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_767_225_600_000 + ms).unwrap()
}

fn job(name: &str, schedule: &str) -> JobRow {
    JobRow {
        name: name.to_owned(),
        file: format!("/etc/slotcron/jobs/{name}.yaml"),
        slot: "batch".to_owned(),
        schedule: schedule.to_owned(),
        enabled: true,
        definition: serde_json::json!({ "name": name, "schedule": schedule, "command": ["true"] })
            .to_string(),
    }
}

fn new_run(job: &str) -> NewRun {
    NewRun {
        job: job.to_owned(),
        slot: "batch".to_owned(),
        trigger: "schedule".to_owned(),
        attempt: 1,
        retry_of: None,
        enforcement: Enforcement::Cgroup,
        memory_limit_bytes: Some(512 * 1024 * 1024),
        queued_at: None,
        started_at: at(10_000),
    }
}

fn success(finished_at: DateTime<Utc>, duration_ms: u64) -> RunCompletion {
    RunCompletion {
        status: RunStatus::Success,
        exit_code: Some(0),
        signal: None,
        finished_at,
        duration_ms,
        usage: RunUsage::default(),
        error: None,
        pressure: None,
    }
}
