//! Alerts: what deserves a human's attention about a job's runs, and its lifecycle.
//!
//! - [`rules`]: pure functions from a finished run to [`Finding`]s (`failure`, `timeout`,
//!   `oom_kill`, `high_memory`, `high_duration`, `consecutive_failures`, `anomaly`,
//!   `slot_saturated`; `overdue` when a queued run passes its grace) and to the kinds of alert the run
//!   shows to be over.
//! - the history store keeps one open alert per job and kind (`Store::raise`,
//!   `Store::resolve`, `Store::ack`, `Store::alerts`): a repeat counts up, a worse
//!   severity escalates, a good run resolves, an acknowledgement silences.
//! - [`record_run`] ties them together for one run and returns the [`AlertNotice`]s to
//!   send; sending them is the notification channels' business, not this module's.
//!
//! See `docs/adr/0014-alerts.md` for why alerts are kept this way.

mod kind;
mod record;
pub mod rules;

pub use crate::config::AlertSettings;
pub use crate::store::{AlertChange, AlertRecord, AlertState};
pub use kind::{AlertKind, BaselineRef, Finding, Severity};
pub use record::{AlertNotice, RunAlerts, record_run};
pub use rules::{evaluate, overdue, resolutions, robust_z};

/// The job's stored baseline, as the anomaly rule reads it; `None` before it has one (or
/// when history cannot be read: then no anomaly is judged, nothing else changes).
pub fn stored_baseline(store: &crate::store::Store, job: &str) -> Option<BaselineRef> {
    match store.baseline(job) {
        Ok(baseline) => baseline.as_ref().map(BaselineRef::from),
        Err(error) => {
            tracing::warn!(job, %error, "reading the baseline; anomalies not judged");
            None
        }
    }
}
