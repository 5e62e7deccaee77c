//! cgroup v2 "slots": the kernel-enforced limits every slotcron job runs under.
//!
//! Layout, all of it inside one injected root cgroup (nothing above the root is ever
//! written):
//!
//! ```text
//! <root>/                      cgroup.subtree_control = +cpu +memory +pids (+io if offered)
//! <root>/supervisor            slotcron itself (no-internal-process rule)
//! <root>/jobs                  optional global cap on all jobs together
//! <root>/jobs/<slot>           the slot's limits
//! <root>/jobs/<slot>/<run>     one run: the job's limits, memory.oom.group = 1
//! ```
//!
//! - [`probe`] decides, read-only, which root to use ([`probe::resolve`]).
//! - [`controller`]: one file per controller (memory, cpu, pids, io) behind the
//!   [`Controller`] trait: its knobs, limits, stats, and its part of the fake kernel.
//! - [`Hierarchy::prepare`] lays out the tree and has each controller write its limits.
//! - [`RunCgroup`] places, signals, kills, waits for and measures one run; it can
//!   throttle it (`memory.high`) and [`freezer`] it for the pressure response.
//! - [`CgroupFs`] is the kernel seam: [`KernelFs`] for the real cgroupfs,
//!   [`fake::FakeFs`] for tests (a temp dir laid out as the kernel would).
//! - [`parse`] holds the pure parsers of kernel files.
//!
//! See `docs/adr/0002-own-cgroup-module.md` for why this is our own module.

pub mod controller;
mod error;
pub mod fake;
pub mod freezer;
mod fresh;
mod fs;
mod hierarchy;
pub mod knob;
pub mod parse;
pub mod probe;
mod run;
mod stats;
#[cfg(test)]
mod test_support;

pub use controller::cpu::{CpuLimits, CpuMax};
pub use controller::io::{DevNum, IoLimits, IoMax, IoRates};
pub use controller::memory::MemoryLimits;
pub use controller::pids::PidsLimits;
pub use controller::{Controller, Limits, cpu, io, memory, pids};
pub use error::{CgroupError, Op};
pub use fs::{CgroupFs, KernelFs};
pub use hierarchy::Hierarchy;
pub use parse::ParseError;
pub use run::RunCgroup;
pub use stats::{Pressure, PressureLine, SlotUsage};

/// Where cgroup2 is normally mounted. Only a default: the root is always passed in.
pub const DEFAULT_MOUNT: &str = "/sys/fs/cgroup";

/// Name of the leaf that holds slotcron's own process.
pub const SUPERVISOR_DIR: &str = "supervisor";
/// Name of the common parent of every slot (carries the global cap).
pub const JOBS_DIR: &str = "jobs";
