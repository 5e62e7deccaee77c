//! Alerts: what deserves a human's attention about a job's runs, and its lifecycle.
//!
//! - [`rules`]: pure functions from a finished run to [`Finding`]s (`failure`, `timeout`,
//!   `oom_kill`, `high_memory`, `high_duration`, `consecutive_failures`,
//!   `slot_saturated`; `overdue` when a queued run passes its grace) and to the kinds of
//!   alert the run shows to be over; [`performance`]: the kinds judged against the job's
//!   baseline by effect size (`anomaly`, `degraded`, `too_fast`, `too_small`), each with
//!   its evidence.
//! - the history store keeps one open alert per job and kind (`Store::raise`,
//!   `Store::resolve`, `Store::ack`, `Store::alerts`): a repeat counts up, a worse
//!   severity escalates, a good run resolves, an acknowledgement silences, and a kind
//!   raised again within `alerting.flap_window` of its resolution reopens the same alert
//!   (one episode, one notification).
//! - [`record_run`] ties them together for one run and returns the [`AlertNotice`]s to
//!   send; sending them is the notification channels' business, not this module's.
//!
//! See `docs/adr/0014-alerts.md` for why alerts are kept this way and
//! `docs/adr/0031-effect-size-alerts.md` for the rules judged against the baseline.

pub mod performance;
mod record;
pub mod rules;

pub use crate::config::AlertSettings;
pub use crate::model::alert::{AlertKind, Finding, Severity};
pub use crate::stats::Evidence;
pub use crate::store::{AlertChange, AlertRecord, AlertState};
pub use performance::History;
pub use record::{AlertNotice, RunAlerts, record_run};
pub use rules::{evaluate, overdue, resolutions};

/// What history says about `job` for the rules judged against it: its stored baseline (if
/// it is of `baseline_runs` runs, as health uses it) and the medians of its newest
/// successful runs. When history cannot be read, nothing is judged against it and nothing
/// else changes.
pub fn history(store: &crate::store::Store, job: &str, baseline_runs: u32) -> History {
    let read = || -> Result<History, crate::store::StoreError> {
        let recent = store.success_samples(job, crate::stats::performance::RECENT_RUNS)?;
        Ok(History {
            baseline: store.baseline(job)?.filter(|b| b.runs == baseline_runs),
            recent: crate::stats::recent_medians(&recent),
        })
    };
    read().unwrap_or_else(|error| {
        tracing::warn!(job, %error, "reading the baseline; performance not judged");
        History::default()
    })
}
