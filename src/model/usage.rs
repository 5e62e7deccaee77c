//! What a run used: [`RunUsage`], the one set of figures that travels with a run from its
//! cgroup to its completion, its history row, the live `run_finished` event and the API,
//! and the kernel counters it is read from ([`MemoryEvents`], [`CpuStat`], [`IoStat`]).
//!
//! The types only; reading them from the kernel's files is `cgroup`'s part (each
//! controller parses its own file and fills its part of a [`RunUsage`]).

use serde::Serialize;

/// What one run used. Every figure is `None` where it was not measured: a run that never
/// started, a kernel without the file (`memory.peak` before 5.19), a controller that was
/// not enabled for the run (`io`), a run without a cgroup for what `wait4` cannot tell.
///
/// Embedded, not copied, in a run's completion, its record and its live event; serialized
/// flat (`#[serde(flatten)]` where embedded), so the field names are the JSON keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunUsage {
    /// `memory.peak` of the run's cgroup in bytes (or `ru_maxrss` where it has none).
    pub memory_peak_bytes: Option<u64>,
    /// `cpu.stat` `usage_usec` (or user + system time from `wait4` without a cgroup).
    pub cpu_usage_usec: Option<u64>,
    /// `cpu.stat` `user_usec` (or `ru_utime`).
    pub cpu_user_usec: Option<u64>,
    /// `cpu.stat` `system_usec` (or `ru_stime`).
    pub cpu_system_usec: Option<u64>,
    /// `cpu.stat` `throttled_usec`; only where the cpu controller was enabled.
    pub cpu_throttled_usec: Option<u64>,
    /// `memory.events` `oom_kill`: processes of the run the OOM killer killed.
    pub oom_kills: Option<u64>,
    /// `pids.peak`; `None` where the file is absent (older kernels).
    pub pids_peak: Option<u64>,
    /// `io.stat` summed over the run's devices; `None` where the io controller was not
    /// enabled for it.
    pub io: Option<IoStat>,
}

impl RunUsage {
    /// Whether the kernel's OOM killer killed a process of the run.
    ///
    /// ```
    /// use slotcron::model::RunUsage;
    /// assert!(!RunUsage::default().oom_killed());
    /// assert!(RunUsage { oom_kills: Some(1), ..RunUsage::default() }.oom_killed());
    /// ```
    pub fn oom_killed(&self) -> bool {
        self.oom_kills.unwrap_or(0) > 0
    }
}

/// Counters of `memory.events` (hierarchical: they include child cgroups).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryEvents {
    /// Reclaimed below `memory.low` protection.
    pub low: u64,
    /// Throttled at `memory.high`.
    pub high: u64,
    /// Hit `memory.max`.
    pub max: u64,
    /// The OOM condition was reached here (this cgroup's or a descendant's limit).
    pub oom: u64,
    /// Processes killed by the OOM killer. Judge "OOM-killed" by this, not by `oom`.
    pub oom_kill: u64,
    /// Group kills because of `memory.oom.group` (kernel 5.17+; 0 before).
    pub oom_group_kill: u64,
}

/// `cpu.stat`. The `nr_*`/`throttled_usec` fields exist only where the cpu controller is
/// enabled, hence `Option`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuStat {
    /// CPU time used, in µs.
    pub usage_usec: u64,
    /// Of which in user mode.
    pub user_usec: u64,
    /// Of which in the kernel.
    pub system_usec: u64,
    /// Enforcement periods that have elapsed.
    pub nr_periods: Option<u64>,
    /// Periods in which the cgroup was throttled at `cpu.max`.
    pub nr_throttled: Option<u64>,
    /// Time spent throttled, in µs.
    pub throttled_usec: Option<u64>,
}

/// What a run read and wrote, from `io.stat`, summed over every device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IoStat {
    /// Bytes read.
    pub rbytes: u64,
    /// Bytes written.
    pub wbytes: u64,
    /// Read operations.
    pub rios: u64,
    /// Write operations.
    pub wios: u64,
}
