//! The pids controller: a cap on processes (`pids.max`), the wall a fork bomb hits;
//! `pids.peak` after a run.

use std::path::Path;

use super::{Controller, KnobFile, Limits, is_max_or_u64, plain_write};
use crate::cgroup::error::CgroupError;
use crate::cgroup::fs::CgroupFs;
use crate::cgroup::knob;
use crate::cgroup::parse::{format_max, parse_u64};
use crate::cgroup::stats::SlotUsage;
use crate::model::RunUsage;

/// Cap on processes (and threads) in the cgroup.
pub const MAX: &str = "pids.max";
/// Processes now.
pub const CURRENT: &str = "pids.current";
/// High-water mark since creation.
pub const PEAK: &str = "pids.peak";
/// `max` = forks refused at the cap.
pub const EVENTS: &str = "pids.events";

/// The pids knobs of one level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PidsLimits {
    /// `pids.max`; `None`: unlimited.
    pub max: Option<u64>,
}

/// The knob files of a cgroup with the pids controller enabled.
const KNOBS: &[KnobFile] = &[
    KnobFile::rw(MAX, "max\n"),
    KnobFile::ro(CURRENT, "0\n"),
    KnobFile::ro(PEAK, "0\n"),
    KnobFile::ro(EVENTS, "max 0\n"),
];

/// The pids controller.
#[derive(Debug, Clone, Copy)]
pub struct Pids;

impl Controller for Pids {
    fn name(&self) -> &'static str {
        "pids"
    }

    fn required(&self) -> bool {
        true
    }

    fn is_limited(&self, limits: &Limits) -> bool {
        limits.pids != PidsLimits::default()
    }

    fn apply(&self, fs: &dyn CgroupFs, dir: &Path, limits: &Limits) -> Result<(), CgroupError> {
        knob::write(fs, dir, MAX, &format_max(limits.pids.max))
    }

    fn read_stats(
        &self,
        fs: &dyn CgroupFs,
        dir: &Path,
        stats: &mut RunUsage,
    ) -> Result<(), CgroupError> {
        stats.pids_peak = knob::read_parsed_optional(fs, dir, PEAK, parse_u64)?;
        Ok(())
    }

    fn read_usage(
        &self,
        fs: &dyn CgroupFs,
        dir: &Path,
        usage: &mut SlotUsage,
    ) -> Result<(), CgroupError> {
        usage.pids_current = knob::read_parsed(fs, dir, CURRENT, parse_u64)?;
        Ok(())
    }

    fn knob_files(&self) -> &'static [KnobFile] {
        KNOBS
    }

    fn fake_write(&self, knob: &str, _current: &str, value: &str) -> Result<String, i32> {
        plain_write(knob != MAX || is_max_or_u64(value.trim()), value)
    }
}
