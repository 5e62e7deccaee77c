//! Limit values and writing them to a cgroup's knobs.
//!
//! Every knob is written on every call, `None` as the kernel default (`max`, weight 100),
//! so that preparing again resets a value a previous configuration left behind.

use std::fmt;
use std::path::Path;

use super::error::CgroupError;
use super::fs::CgroupFs;
use super::knob;
use super::parse::format_max;

/// `cpu.max`: at most `quota_usec` of CPU time per `period_usec` of wall time.
/// 1.5 CPUs is `150000 100000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuMax {
    pub quota_usec: u64,
    pub period_usec: u64,
}

impl CpuMax {
    /// The kernel's default period.
    pub const DEFAULT_PERIOD_USEC: u64 = 100_000;
}

impl fmt::Display for CpuMax {
    /// The knob value.
    ///
    /// ```
    /// use slotcron::cgroup::CpuMax;
    /// assert_eq!(CpuMax { quota_usec: 150000, period_usec: 100000 }.to_string(), "150000 100000");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.quota_usec, self.period_usec)
    }
}

/// The limits of one cgroup level (global `jobs`, a slot, or a run). `None` means
/// unlimited (`max`) or, for `cpu_weight`, the default 100.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// `memory.max` in bytes: hard cap, OOM kill inside the cgroup beyond it.
    pub memory_max: Option<u64>,
    /// `memory.high` in bytes: throttling, never a kill.
    pub memory_high: Option<u64>,
    /// `memory.swap.max` in bytes; `Some(0)` forbids swap (a capped job then dies instead of
    /// thrashing). Skipped where the kernel has no swap accounting.
    pub swap_max: Option<u64>,
    /// `cpu.max`.
    pub cpu_max: Option<CpuMax>,
    /// `cpu.weight`, 1..=10000, proportional among siblings.
    pub cpu_weight: Option<u32>,
    /// `pids.max`.
    pub pids_max: Option<u64>,
    /// `memory.oom.group`: the OOM killer takes the whole cgroup. Run cgroups always get
    /// 1 whatever this says; it matters for the `jobs` and slot levels.
    pub oom_group: bool,
}

/// `cpu.max` value for an optional limit: `None` is `max` with the default period, so a
/// stale period does not survive.
pub(crate) fn format_cpu_max(v: Option<CpuMax>) -> String {
    v.map_or_else(
        || format!("max {}", CpuMax::DEFAULT_PERIOD_USEC),
        |c| c.to_string(),
    )
}

/// Writes every limit to the knobs of `dir`; `oom_group` overrides `limits.oom_group`
/// when `Some`.
///
/// # Errors
/// [`CgroupError::ControllerNotEnabled`] when a controller's knobs are absent,
/// [`CgroupError::Write`] when the kernel rejects a value.
pub(crate) fn apply(
    fs: &dyn CgroupFs,
    dir: &Path,
    limits: &Limits,
    oom_group: Option<bool>,
) -> Result<(), CgroupError> {
    let oom_group = oom_group.unwrap_or(limits.oom_group);
    knob::write(fs, dir, knob::MEMORY_HIGH, &format_max(limits.memory_high))?;
    knob::write(fs, dir, knob::MEMORY_MAX, &format_max(limits.memory_max))?;
    if !knob::write_if_present(fs, dir, knob::MEMORY_SWAP_MAX, &format_max(limits.swap_max))? {
        tracing::debug!(cgroup = %dir.display(), "memory.swap.max absent (swap accounting off), skipped");
    }
    knob::write(
        fs,
        dir,
        knob::MEMORY_OOM_GROUP,
        if oom_group { "1" } else { "0" },
    )?;
    knob::write(fs, dir, knob::CPU_MAX, &format_cpu_max(limits.cpu_max))?;
    let weight = limits.cpu_weight.unwrap_or(100).to_string();
    knob::write(fs, dir, knob::CPU_WEIGHT, &weight)?;
    knob::write(fs, dir, knob::PIDS_MAX, &format_max(limits.pids_max))?;
    Ok(())
}
