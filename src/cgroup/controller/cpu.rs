//! The cpu controller: a quota per period (`cpu.max`) and a share among siblings
//! (`cpu.weight`); `cpu.stat` after a run.

use std::fmt;
use std::path::Path;

use super::{Controller, KnobFile, Limits, is_max_or_u64, plain_write};
use crate::cgroup::error::CgroupError;
use crate::cgroup::fs::CgroupFs;
use crate::cgroup::knob;
use crate::cgroup::parse::{ParseError, parse_flat_keyed};
use crate::cgroup::stats::{Pressure, SlotUsage};
use crate::model::{CpuStat, RunUsage};

/// `$QUOTA $PERIOD` in microseconds; `max 100000` by default.
pub const MAX: &str = "cpu.max";
/// 1..=10000, default 100, proportional among siblings.
pub const WEIGHT: &str = "cpu.weight";
/// `usage_usec user_usec system_usec` always; `nr_*`, `throttled_usec` with the controller.
pub const STAT: &str = "cpu.stat";
/// PSI of the cgroup's CPU stalls.
pub const PRESSURE: &str = "cpu.pressure";

/// `cpu.weight` where none is set.
pub const DEFAULT_WEIGHT: u32 = 100;

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

/// `cpu.max` value for an optional limit: `None` is `max` with the default period, so a
/// stale period does not survive.
///
/// ```
/// use slotcron::cgroup::cpu::format_cpu_max;
/// assert_eq!(format_cpu_max(None), "max 100000");
/// ```
pub fn format_cpu_max(v: Option<CpuMax>) -> String {
    v.map_or_else(
        || format!("max {}", CpuMax::DEFAULT_PERIOD_USEC),
        |c| c.to_string(),
    )
}

/// The cpu knobs of one level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuLimits {
    /// `cpu.max`; `None`: unlimited.
    pub max: Option<CpuMax>,
    /// `cpu.weight`, 1..=10000; `None`: the default 100.
    pub weight: Option<u32>,
}

impl CpuStat {
    /// Parses `cpu.stat`, ignoring keys it does not know.
    ///
    /// ```
    /// use slotcron::model::CpuStat;
    /// let c = CpuStat::parse("usage_usec 10\nuser_usec 7\nsystem_usec 3\n").unwrap();
    /// assert_eq!((c.usage_usec, c.nr_throttled), (10, None));
    /// ```
    ///
    /// # Errors
    /// On a malformed line (the error names it).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let mut c = CpuStat::default();
        for (k, v) in parse_flat_keyed(s)? {
            match k {
                "usage_usec" => c.usage_usec = v,
                "user_usec" => c.user_usec = v,
                "system_usec" => c.system_usec = v,
                "nr_periods" => c.nr_periods = Some(v),
                "nr_throttled" => c.nr_throttled = Some(v),
                "throttled_usec" => c.throttled_usec = Some(v),
                _ => {}
            }
        }
        Ok(c)
    }
}

/// `cpu.stat` of a cgroup without the cpu controller.
const STAT_BASE: &str = "usage_usec 0\nuser_usec 0\nsystem_usec 0\n";
/// `cpu.stat` of a cgroup with it.
const STAT_FULL: &str = "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\n\
                         nr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n";

/// The knob files of a cgroup with the cpu controller enabled.
const KNOBS: &[KnobFile] = &[
    KnobFile::rw(MAX, "max 100000\n"),
    KnobFile::rw(WEIGHT, "100\n"),
    KnobFile::ro(STAT, STAT_FULL),
];

/// The cpu controller.
#[derive(Debug, Clone, Copy)]
pub struct Cpu;

impl Controller for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn required(&self) -> bool {
        true
    }

    fn is_limited(&self, limits: &Limits) -> bool {
        limits.cpu != CpuLimits::default()
    }

    fn apply(&self, fs: &dyn CgroupFs, dir: &Path, limits: &Limits) -> Result<(), CgroupError> {
        let c = &limits.cpu;
        knob::write(fs, dir, MAX, &format_cpu_max(c.max))?;
        let weight = c.weight.unwrap_or(DEFAULT_WEIGHT).to_string();
        knob::write(fs, dir, WEIGHT, &weight)
    }

    fn read_stats(
        &self,
        fs: &dyn CgroupFs,
        dir: &Path,
        stats: &mut RunUsage,
    ) -> Result<(), CgroupError> {
        let cpu = knob::read_parsed(fs, dir, STAT, CpuStat::parse)?;
        stats.cpu_usage_usec = Some(cpu.usage_usec);
        stats.cpu_user_usec = Some(cpu.user_usec);
        stats.cpu_system_usec = Some(cpu.system_usec);
        stats.cpu_throttled_usec = cpu.throttled_usec;
        Ok(())
    }

    fn read_usage(
        &self,
        fs: &dyn CgroupFs,
        dir: &Path,
        usage: &mut SlotUsage,
    ) -> Result<(), CgroupError> {
        usage.cpu = knob::read_parsed(fs, dir, STAT, CpuStat::parse)?;
        usage.cpu_pressure = knob::read_parsed_optional(fs, dir, PRESSURE, Pressure::parse)?;
        Ok(())
    }

    fn knob_files(&self) -> &'static [KnobFile] {
        KNOBS
    }

    fn core_files(&self) -> &'static [(&'static str, &'static str)] {
        &[(STAT, STAT_BASE)]
    }

    fn fake_write(&self, knob: &str, _current: &str, value: &str) -> Result<String, i32> {
        let v = value.trim();
        let valid = match knob {
            WEIGHT => v.parse::<u32>().is_ok_and(|w| (1..=10_000).contains(&w)),
            MAX => {
                let mut it = v.split_whitespace();
                let quota_ok = it.next().is_some_and(is_max_or_u64);
                let period_ok = it.next().is_none_or(|p| {
                    p.parse::<u64>()
                        .is_ok_and(|p| (1000..=1_000_000).contains(&p))
                });
                quota_ok && period_ok && it.next().is_none()
            }
            _ => true,
        };
        plain_write(valid, value)
    }
}
