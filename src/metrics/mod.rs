//! The figures behind `GET /metrics`: per-job counters the daemon keeps as runs end
//! ([`Counters`], started from history), a [`Snapshot`] the event loop hands out, and its
//! encoding in the OpenMetrics text format with the `prometheus-client` crate ([`encode`]).
//!
//! - [`counters`]: run totals, CPU and OOM sums, the duration histogram, per job.
//! - [`snapshot`]: everything one scrape shows, copied off the engine in one go.
//! - [`health`]: a job's health (0/1/2) and performance by the rules of `stats`, from what
//!   the engine holds.
//! - [`encode`]: the snapshot as text, every label value escaped by the crate.
//!
//! See `docs/adr/0016-prometheus-endpoint.md` for the crate choices.

pub mod counters;
pub mod encode;
pub mod health;
pub mod snapshot;

pub use counters::{Counters, DURATION_BUCKETS, DurationHistogram, JobCounters};
pub use encode::{CONTENT_TYPE, Format, encode, encode_as};
pub use health::{degraded_value, health_value};
pub use snapshot::{JobMetrics, PressureMetrics, SlotMetrics, Snapshot};

#[cfg(test)]
mod tests;
