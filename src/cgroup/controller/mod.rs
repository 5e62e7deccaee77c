//! One file per cgroup v2 controller slotcron drives, behind one small trait, as youki's
//! `libcgroups` v2 does it: each controller owns its knob names, the formatting and
//! parsing of their values, writing its limits ([`Controller::apply`]), reading what a run
//! or slot used, whether slotcron can work without it, and how the fake kernel lays out
//! and answers its knobs. The hierarchy, the probe, the run cgroup and the fake loop over
//! [`ALL`]; nothing else names a controller.
//!
//! | controller | limits | stats | without it |
//! |---|---|---|---|
//! | [`cpu`] | `cpu.max`, `cpu.weight` | `cpu.stat` | no enforcement |
//! | [`io`] | `io.weight`, `io.max` per device | `io.stat` summed over devices | limits skipped, runs go on |
//! | [`memory`] | `memory.max`, `.high`, `.swap.max`, `.oom.group` | `memory.peak`, `memory.events` | no enforcement |
//! | [`pids`] | `pids.max` | `pids.peak` | no enforcement |
//!
//! Adding a knob to a controller touches its file, the configuration field that sets it
//! and the line of `runner::limits` that maps one to the other (ADR 0032).

pub mod cpu;
pub mod io;
pub mod memory;
pub mod pids;

use std::fmt;
use std::path::Path;

use super::error::CgroupError;
use super::fs::CgroupFs;
use super::stats::SlotUsage;
use crate::model::RunUsage;

/// The limits of one cgroup level (the global `jobs`, a slot, or a run): one part per
/// controller. Each part's default is the kernel's default (unlimited, weight 100).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    pub memory: memory::MemoryLimits,
    pub cpu: cpu::CpuLimits,
    pub pids: pids::PidsLimits,
    pub io: io::IoLimits,
}

/// A knob file as the kernel creates it when the controller is enabled in a cgroup's
/// parent: its name, its content in a fresh cgroup, and whether it may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnobFile {
    pub name: &'static str,
    pub default: &'static str,
    pub writable: bool,
}

impl KnobFile {
    /// A knob anyone with write access may write.
    pub const fn rw(name: &'static str, default: &'static str) -> KnobFile {
        KnobFile {
            name,
            default,
            writable: true,
        }
    }

    /// A knob only the kernel writes (EACCES for everyone else).
    pub const fn ro(name: &'static str, default: &'static str) -> KnobFile {
        KnobFile {
            name,
            default,
            writable: false,
        }
    }
}

/// A cgroup v2 controller, as slotcron uses it. Implementations are unit structs listed in
/// [`ALL`].
pub trait Controller: Send + Sync + fmt::Debug {
    /// Its name in `cgroup.controllers` (`memory`).
    fn name(&self) -> &'static str;

    /// Whether slotcron enforces nothing without it. An optional controller that is not
    /// delegated is left out: its limits are not written (with a warning when some are
    /// set), its stats are absent, and runs go on with the other limits.
    fn required(&self) -> bool;

    /// Whether `limits` asks this controller for anything beyond the kernel's defaults.
    fn is_limited(&self, limits: &Limits) -> bool;

    /// Writes its part of `limits` to the knobs of `dir`. Every knob is written, an unset
    /// value as the kernel's default, so preparing again resets what an earlier
    /// configuration left behind.
    ///
    /// # Errors
    /// [`CgroupError::ControllerNotEnabled`] when its knobs are absent,
    /// [`CgroupError::Write`] when the kernel refuses a value.
    fn apply(&self, fs: &dyn CgroupFs, dir: &Path, limits: &Limits) -> Result<(), CgroupError>;

    /// Reads what a run used into its part of `stats`.
    ///
    /// # Errors
    /// Missing knobs, parse and I/O errors, each with its path.
    fn read_stats(
        &self,
        fs: &dyn CgroupFs,
        dir: &Path,
        stats: &mut RunUsage,
    ) -> Result<(), CgroupError>;

    /// Reads a slot's current use into its part of `usage`.
    ///
    /// # Errors
    /// Missing knobs, parse and I/O errors, each with its path.
    fn read_usage(
        &self,
        fs: &dyn CgroupFs,
        dir: &Path,
        usage: &mut SlotUsage,
    ) -> Result<(), CgroupError>;

    /// The fake kernel: the knob files enabling the controller creates.
    fn knob_files(&self) -> &'static [KnobFile];

    /// The fake kernel: files every cgroup has whether or not the controller is enabled,
    /// with their content while it is not (`cpu.stat` without its `nr_*` lines).
    fn core_files(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The fake kernel: what the file `knob` (holding `current`) holds after `value` is
    /// written to it, or the errno the kernel answers (EINVAL for a bad value).
    ///
    /// # Errors
    /// The errno.
    fn fake_write(&self, knob: &str, current: &str, value: &str) -> Result<String, i32>;
}

/// Every controller slotcron drives, in the kernel's order (as `cgroup.controllers`
/// lists them).
pub const ALL: [&dyn Controller; 4] = [&cpu::Cpu, &io::Io, &memory::Memory, &pids::Pids];

/// The controller called `name`, if slotcron drives it.
pub fn by_name(name: &str) -> Option<&'static dyn Controller> {
    ALL.into_iter().find(|c| c.name() == name)
}

/// The names of the required controllers, in the kernel's order.
pub fn required_names() -> Vec<&'static str> {
    ALL.iter()
        .filter(|c| c.required())
        .map(|c| c.name())
        .collect()
}

/// Every controller's name, space-separated (`cpu io memory pids`): what to delegate.
pub fn all_names() -> String {
    ALL.map(|c| c.name()).join(" ")
}

/// The controllers to use where `offered` (a `cgroup.controllers` list) is what the
/// kernel offers: every required one (whether offered or not: using it fails loudly), and
/// the optional ones that are offered.
pub fn usable(offered: &[&str]) -> Vec<&'static dyn Controller> {
    ALL.into_iter()
        .filter(|c| c.required() || offered.contains(&c.name()))
        .collect()
}

/// The optional controllers that `offered` lacks (`["io"]` where io is not delegated).
pub fn missing_optional(offered: &[&str]) -> Vec<&'static str> {
    ALL.iter()
        .filter(|c| !c.required() && !offered.contains(&c.name()))
        .map(|c| c.name())
        .collect()
}

/// The knob file `name` of any controller, for the fake kernel.
pub(crate) fn knob_file(name: &str) -> Option<(&'static dyn Controller, KnobFile)> {
    ALL.into_iter().find_map(|c| {
        c.knob_files()
            .iter()
            .find(|k| k.name == name)
            .map(|k| (c, *k))
    })
}

/// The fake kernel's default write: the value when `valid`, else EINVAL.
pub(crate) fn plain_write(valid: bool, value: &str) -> Result<String, i32> {
    if valid {
        Ok(format!("{}\n", value.trim_end()))
    } else {
        Err(libc::EINVAL)
    }
}

/// `max` or an unsigned number, as `*.max` knobs accept.
pub(crate) fn is_max_or_u64(v: &str) -> bool {
    v == "max" || v.parse::<u64>().is_ok()
}

#[cfg(test)]
mod tests;
