//! The vocabulary every other module speaks: the bottom layer of the crate (ADR 0033). These
//! are names, plain values and the defaults behind them; they carry no behaviour beyond
//! naming and parsing themselves, and nothing here imports another module of the crate.
//!
//! - [`run`]: how a run ended ([`RunStatus`], [`is_failure`]), whether its limits were
//!   enforced ([`Enforcement`]), a successful run's figures for a baseline ([`Sample`]),
//!   a job's memory as admission sees it ([`JobMemory`]).
//! - [`alert`]: what kind of trouble ([`AlertKind`]), how bad ([`Severity`]), one rule's
//!   verdict on a run ([`Finding`]).
//! - [`evidence`]: why a figure was judged unusual ([`Evidence`], [`Figure`], [`Rule`]).
//! - [`health`]: the words of a job's health ([`HealthStatus`], [`Execution`],
//!   [`Performance`]) and the default thresholds behind them.
//! - [`retention`]: what becomes of old runs ([`RetentionMode`]).
//! - [`duration`]: how slotcron writes a duration ([`format_duration`]).
//! - [`pressure`]: one run under the pressure ladder, throttled or frozen, and for how
//!   long ([`RunPressure`], [`PressureView`]).
//! - [`usage`]: what a run used ([`RunUsage`]) and the kernel counters it is read from.

pub mod alert;
pub mod duration;
pub mod evidence;
pub mod health;
pub mod pressure;
pub mod retention;
pub mod run;
pub mod usage;

pub use alert::{AlertKind, Finding, Severity};
pub use duration::format_duration;
pub use evidence::{Evidence, Figure, Rule};
pub use health::{Execution, HealthStatus, Performance};
pub use pressure::{PressureState, PressureTimes, PressureView, RunPressure};
pub use retention::RetentionMode;
pub use run::{Enforcement, JobMemory, RunStatus, Sample, UnknownName, is_failure, is_trouble};
pub use usage::{CpuStat, IoStat, MemoryEvents, RunUsage};
