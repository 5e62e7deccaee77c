//! `slotcron daemon`, the real binary, unconfined (`enforcement: off`): scheduling,
//! admission, policies, reloads and the daemon's own life (signals, crashes, restarts),
//! observed through `slotcron status`, `history` and the other commands, as a user would.
//! Every test waits on a condition with a deadline ([`crate::helper::PATIENCE`]); the
//! few fixed periods only check that something does NOT happen.

mod admission;
mod alerting;
mod history;
mod lifecycle;
mod lock;
mod metrics;
mod policies;
mod reload;
mod schedule;

use serde_json::Value;

use crate::helper::{Daemon, PATIENCE, text};

/// A job that fires every second (6-field cron, leading seconds).
const EVERY_SECOND: &str = "schedule: '*/1 * * * * *'\n";

/// Waits until `job` has at least `n` runs that are no longer `running`; returns them,
/// oldest first.
fn finished_runs(d: &mut Daemon<'_>, job: &str, n: usize) -> Vec<Value> {
    d.wait_for(&format!("{n} finished runs of `{job}`"), PATIENCE, |d| {
        let done: Vec<Value> = d
            .history(job)
            .into_iter()
            .filter(|r| r["status"] != "running")
            .collect();
        (done.len() >= n).then_some(done)
    })
}

/// Waits until the daemon reports a run of `job` in progress with its process spawned;
/// returns the run's id.
fn running_id(d: &mut Daemon<'_>, job: &str) -> i64 {
    d.wait_for(&format!("a run of `{job}` in progress"), PATIENCE, |d| {
        d.status()["running"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["job"] == job && r["pid"].is_u64())
            .map(|r| r["id"].as_i64().unwrap())
    })
}

/// The `kind` of a job's state in `status --json` ("" when the daemon does not list it).
fn state(d: &Daemon<'_>, job: &str) -> String {
    d.job_status(job)
        .map(|j| text(&j["state"], "kind").to_owned())
        .unwrap_or_default()
}
