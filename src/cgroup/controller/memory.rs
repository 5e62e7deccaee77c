//! The memory controller: the hard cap that keeps a job from taking the machine, swap,
//! throttling, group OOM kills; `memory.peak` and `memory.events` after a run; the pressure
//! response's throttle of a running run ([`set_high`]) and its usage ([`current`]).

use std::path::Path;

use super::{Controller, KnobFile, Limits, is_max_or_u64, plain_write};
use crate::cgroup::error::CgroupError;
use crate::cgroup::fs::CgroupFs;
use crate::cgroup::knob;
use crate::cgroup::parse::{ParseError, format_max, parse_flat_keyed, parse_max, parse_u64};
use crate::cgroup::stats::{Pressure, SlotUsage};
use crate::model::{MemoryEvents, RunUsage};

/// Hard cap; at it the kernel reclaims, then OOM-kills inside the cgroup.
pub const MAX: &str = "memory.max";
/// Throttling threshold, never a kill.
pub const HIGH: &str = "memory.high";
/// Swap the cgroup may use; absent where swap accounting is off.
pub const SWAP_MAX: &str = "memory.swap.max";
/// `1`: the OOM killer takes the whole cgroup.
pub const OOM_GROUP: &str = "memory.oom.group";
/// Bytes in use now.
pub const CURRENT: &str = "memory.current";
/// High-water mark since creation (kernel 5.19+).
pub const PEAK: &str = "memory.peak";
/// `low high max oom oom_kill oom_group_kill`, hierarchical.
pub const EVENTS: &str = "memory.events";
/// PSI of the cgroup's memory stalls.
pub const PRESSURE: &str = "memory.pressure";

/// The memory knobs of one level. `None` is `max` (unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryLimits {
    /// `memory.max` in bytes: hard cap, OOM kill inside the cgroup beyond it.
    pub max: Option<u64>,
    /// `memory.high` in bytes: throttling, never a kill.
    pub high: Option<u64>,
    /// `memory.swap.max` in bytes; `Some(0)` forbids swap (a capped job then dies instead
    /// of thrashing). Skipped where the kernel has no swap accounting.
    pub swap_max: Option<u64>,
    /// `memory.oom.group`: the OOM killer takes the whole cgroup. Run cgroups always get
    /// 1 whatever this says; it matters for the `jobs` and slot levels.
    pub oom_group: bool,
}

impl MemoryEvents {
    /// Parses `memory.events`, ignoring keys it does not know.
    ///
    /// ```
    /// use slotcron::model::MemoryEvents;
    /// let e = MemoryEvents::parse("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").unwrap();
    /// assert_eq!((e.max, e.oom_kill, e.oom_group_kill), (3, 1, 0));
    /// ```
    ///
    /// # Errors
    /// On a malformed line (the error names it).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let mut e = MemoryEvents::default();
        for (k, v) in parse_flat_keyed(s)? {
            match k {
                "low" => e.low = v,
                "high" => e.high = v,
                "max" => e.max = v,
                "oom" => e.oom = v,
                "oom_kill" => e.oom_kill = v,
                "oom_group_kill" => e.oom_group_kill = v,
                _ => {}
            }
        }
        Ok(e)
    }
}

/// Sets `dir`'s `memory.high` (`None`: `max`), the pressure response's throttle: below
/// the cgroup's usage, the kernel reclaims from it and slows its allocations, never kills.
///
/// # Errors
/// [`CgroupError::ControllerNotEnabled`] without the memory controller, write errors.
pub fn set_high(fs: &dyn CgroupFs, dir: &Path, high: Option<u64>) -> Result<(), CgroupError> {
    knob::write(fs, dir, HIGH, &format_max(high))
}

/// `dir`'s `memory.current`: bytes charged to it now.
///
/// # Errors
/// [`CgroupError::ControllerNotEnabled`] without the memory controller, read and parse
/// errors with the path.
pub fn current(fs: &dyn CgroupFs, dir: &Path) -> Result<u64, CgroupError> {
    knob::read_parsed(fs, dir, CURRENT, parse_u64)
}

const EVENTS_ZERO: &str = "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n";
const PSI_ZERO: &str = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n\
                        full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";

/// The knob files of a cgroup with the memory controller enabled.
const KNOBS: &[KnobFile] = &[
    KnobFile::rw(MAX, "max\n"),
    KnobFile::rw(HIGH, "max\n"),
    KnobFile::rw(SWAP_MAX, "max\n"),
    KnobFile::rw(OOM_GROUP, "0\n"),
    KnobFile::ro(CURRENT, "0\n"),
    KnobFile::ro(PEAK, "0\n"),
    KnobFile::ro(EVENTS, EVENTS_ZERO),
    KnobFile::rw(PRESSURE, PSI_ZERO),
];

/// The memory controller.
#[derive(Debug, Clone, Copy)]
pub struct Memory;

impl Controller for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn required(&self) -> bool {
        true
    }

    fn is_limited(&self, limits: &Limits) -> bool {
        limits.memory != MemoryLimits::default()
    }

    fn apply(&self, fs: &dyn CgroupFs, dir: &Path, limits: &Limits) -> Result<(), CgroupError> {
        let m = &limits.memory;
        knob::write(fs, dir, HIGH, &format_max(m.high))?;
        knob::write(fs, dir, MAX, &format_max(m.max))?;
        if !knob::write_if_present(fs, dir, SWAP_MAX, &format_max(m.swap_max))? {
            tracing::debug!(cgroup = %dir.display(), "memory.swap.max absent (swap accounting off), skipped");
        }
        knob::write(fs, dir, OOM_GROUP, if m.oom_group { "1" } else { "0" })
    }

    fn read_stats(
        &self,
        fs: &dyn CgroupFs,
        dir: &Path,
        stats: &mut RunUsage,
    ) -> Result<(), CgroupError> {
        stats.memory_peak_bytes = knob::read_parsed_optional(fs, dir, PEAK, parse_u64)?;
        let events = knob::read_parsed(fs, dir, EVENTS, MemoryEvents::parse)?;
        stats.oom_kills = Some(events.oom_kill);
        Ok(())
    }

    fn read_usage(
        &self,
        fs: &dyn CgroupFs,
        dir: &Path,
        usage: &mut SlotUsage,
    ) -> Result<(), CgroupError> {
        usage.memory_current = knob::read_parsed(fs, dir, CURRENT, parse_u64)?;
        usage.memory_max = knob::read_parsed(fs, dir, MAX, parse_max)?;
        usage.memory_peak = knob::read_parsed_optional(fs, dir, PEAK, parse_u64)?;
        usage.memory_pressure = knob::read_parsed_optional(fs, dir, PRESSURE, Pressure::parse)?;
        Ok(())
    }

    fn knob_files(&self) -> &'static [KnobFile] {
        KNOBS
    }

    fn fake_write(&self, knob: &str, _current: &str, value: &str) -> Result<String, i32> {
        let v = value.trim();
        let valid = match knob {
            OOM_GROUP => v == "0" || v == "1",
            MAX | HIGH | SWAP_MAX => is_max_or_u64(v),
            _ => true,
        };
        plain_write(valid, value)
    }
}
