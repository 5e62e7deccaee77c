//! The scheduler's decisions, free of I/O: when each job is next due ([`timeline`]), what
//! becomes of a job that has come due ([`due`]), which queued run may start now
//! ([`admission`]), when a fire time goes on the timeline ([`firing`]), how jobs name each
//! other in `after:` and `blocks:` ([`links`]), how long a retry waits and whether a job's
//! circuit breaker is open ([`policy`]), and whether the machine is too short of memory
//! to start anything ([`protect`]), and what to do to running jobs when it is ([`ladder`]).
//!
//! The daemon (`crate::daemon`) owns the clock, the processes and the database; it feeds
//! these types events and carries out what they decide. The forecast (`crate::plan`) feeds
//! the same types on a virtual clock (ADR 0042). Keeping them pure lets every rule
//! be tested with plain values and lets the benchmarks time the decisions alone.

pub mod admission;
pub mod due;
pub mod firing;
pub mod ladder;
pub mod links;
pub mod policy;
pub mod protect;
pub mod timeline;

pub use admission::{
    Admission, Admitted, Floor, Hold, Pending, QueueFull, REQUEUE_TRIGGER, SlotBook, SlotSpec, hold,
};
pub use due::{Asker, Decision, DueJob, LastOutcome, Off, Origin, decide};
pub use ladder::{Action, Ladder, Readings, RunView, Signal, SlotReading, SlotReadings};
pub use links::Links;
pub use policy::{BreakerState, breaker_state, job_breaker, retry_backoff};
pub use protect::{Look, MachineState, ProtectGate};
pub use timeline::Timeline;
