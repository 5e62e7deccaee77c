//! The one mapping from configuration to cgroup limits, per level: the global `jobs`
//! cgroup ([`global_limits`]), a slot ([`slot_limits`]) and a run ([`run_limits`]); each
//! controller's part is one line of each. And the one computation of what a run is held
//! to, all levels together ([`effective_limits`]), and what admission expects it to need
//! ([`job_memory`], ADR 0034). Pure arithmetic, kept apart so the
//! numbers can be tested without a cgroup in sight.

use serde::Serialize;

use crate::cgroup::{
    CpuLimits, CpuMax, IoLimits, IoMax, IoRates, Limits, MemoryLimits, PidsLimits,
};
use crate::config::{ByteSize, IoConfig, Job, Settings, Slot};
pub use crate::model::JobMemory;

/// `cpu.max` period in microseconds (the kernel's default).
pub const CPU_PERIOD_USEC: u64 = 100_000;

/// CPUs online, which `cpu_max_percent` is a share of. Not `available_parallelism`: that
/// already shrinks by any cgroup quota slotcron itself is under.
pub fn online_cpus() -> u32 {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    u32::try_from(n).ok().filter(|n| *n > 0).unwrap_or(1)
}

/// The cap on all jobs together (`<root>/jobs`).
pub fn global_limits(settings: &Settings) -> Limits {
    Limits {
        memory: MemoryLimits {
            max: settings.memory_max.map(ByteSize::bytes),
            ..MemoryLimits::default()
        },
        ..Limits::default()
    }
}

/// A slot's limits: `cpu_max_percent` is a share of the whole machine, so the quota is
/// percent x online CPUs x period.
///
/// ```
/// use slotcron::config::builtin_slots;
/// use slotcron::runner::slot_limits;
/// let limits = slot_limits(&builtin_slots()["default"], 2);
/// assert_eq!(limits.cpu.max.unwrap().quota_usec, 160_000); // 80 % of 2 CPUs
/// assert_eq!(limits.memory.max, Some(3 << 30));
/// ```
pub fn slot_limits(slot: &Slot, cpus: u32) -> Limits {
    Limits {
        memory: MemoryLimits {
            max: Some(slot.memory_max.bytes()),
            high: slot.memory_high.map(ByteSize::bytes),
            swap_max: Some(slot.swap_max.bytes()),
            oom_group: false,
        },
        cpu: CpuLimits {
            max: Some(cpu_max(slot.cpu_max_percent / 100.0 * f64::from(cpus))),
            weight: None,
        },
        pids: PidsLimits { max: slot.pids_max },
        io: io_limits(slot.io.as_ref()),
    }
}

/// One run's limits: the job's own caps (the slot's still hold above them), the slot's swap
/// budget, `cpu.weight` from `weights.cpu`, and `memory.oom.group` so the OOM killer takes
/// the whole run, shell wrapper included.
pub fn run_limits(job: &Job, slot: &Slot) -> Limits {
    Limits {
        memory: MemoryLimits {
            max: job.limits.memory.map(ByteSize::bytes),
            high: None,
            swap_max: Some(slot.swap_max.bytes()),
            oom_group: true,
        },
        cpu: CpuLimits {
            max: job.limits.cpu.map(cpu_max),
            weight: Some(((job.weights.cpu * 100.0).round() as u32).clamp(1, 10_000)),
        },
        pids: PidsLimits {
            max: job.limits.pids,
        },
        io: io_limits(job.io.as_ref()),
    }
}

/// `cpu.max` for `cores` CPUs' worth of time per period; never below the kernel's
/// 1 ms minimum quota.
fn cpu_max(cores: f64) -> CpuMax {
    CpuMax {
        quota_usec: ((cores * CPU_PERIOD_USEC as f64).round() as u64).max(1000),
        period_usec: CPU_PERIOD_USEC,
    }
}

/// `io:` as the io controller's knobs (each device by its number); none when absent.
fn io_limits(io: Option<&IoConfig>) -> IoLimits {
    let Some(io) = io else {
        return IoLimits::default();
    };
    IoLimits {
        weight: io.weight,
        max: io
            .max
            .iter()
            .map(|m| IoMax {
                device: m.number,
                rates: IoRates {
                    rbps: m.rbps,
                    wbps: m.wbps,
                    riops: m.riops,
                    wiops: m.wiops,
                },
            })
            .collect(),
    }
}

/// The level of the tree a limit is set at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The run's own cgroup (the job's `limits:`).
    Job,
    /// Its slot.
    Slot,
    /// `<root>/jobs`, all slots together (`cgroup.memory_max`).
    Global,
}

/// What the kernel holds a run of a job to, the levels above its processes taken
/// together: at each knob, the lowest of the run's, its slot's and the global cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EffectiveLimits {
    /// The lowest `memory.max` above the run, bytes: the run is OOM-killed there.
    pub memory_bytes: u64,
    /// The level that sets it (the lowest one; on a tie, the one nearest the run).
    pub memory_from: Level,
    /// The lowest `pids.max` above the run; `None`: unlimited.
    pub pids: Option<u64>,
}

/// The one computation of a run's effective limits, from the job, its slot and the
/// global `cgroup.memory_max`: the history row records its memory, admission reserves no
/// more than it.
///
/// ```
/// use std::path::Path;
/// use slotcron::config::{parse_job, ByteSize, Settings};
/// use slotcron::runner::{effective_limits, Level};
/// let settings = Settings::builtin();
/// let job = parse_job(Path::new("/j/a.yaml"), "command: x\nslot: light\n", &settings).unwrap();
/// let slot = &settings.slots["light"];
/// let e = effective_limits(&job, slot, None);
/// assert_eq!((e.memory_bytes, e.memory_from), (1 << 30, Level::Slot));
/// let e = effective_limits(&job, slot, Some(ByteSize::new(512 << 20)));
/// assert_eq!((e.memory_bytes, e.memory_from), (512 << 20, Level::Global));
/// ```
pub fn effective_limits(
    job: &Job,
    slot: &Slot,
    global_memory: Option<ByteSize>,
) -> EffectiveLimits {
    let levels = [
        (Level::Job, job.limits.memory),
        (Level::Slot, Some(slot.memory_max)),
        (Level::Global, global_memory),
    ];
    // A slot always has a memory_max, so there is a lowest; `min_by_key` keeps the first.
    let (memory_from, memory) = levels
        .into_iter()
        .filter_map(|(level, size)| Some((level, size?.bytes())))
        .min_by_key(|(_, bytes)| *bytes)
        .unwrap_or((Level::Slot, slot.memory_max.bytes()));
    let pids = match (job.limits.pids, slot.pids_max) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    EffectiveLimits {
        memory_bytes: memory,
        memory_from,
        pids,
    }
}

/// The one computation of a job's [`JobMemory`] (ADR 0034), from its `observed` peak (the
/// highest `memory.peak` of its newest 10 successful runs, `JobSummary::peak_memory`):
/// that peak scaled by `weights.memory` once there is one, else the job's memory limit,
/// else a fair share of its slot (`memory_max / max_concurrent`); never above the
/// effective limit. A job whose slot is not in `settings` gets zeros.
///
/// ```
/// use std::path::Path;
/// use slotcron::config::{parse_job, Settings};
/// use slotcron::runner::job_memory;
/// let settings = Settings::builtin();
/// let job = parse_job(Path::new("/j/a.yaml"), "command: x\nlimits: { memory: 64M }\n", &settings)
///     .unwrap();
/// assert_eq!(job_memory(&job, &settings, None).expected_memory_bytes, 64 << 20);
/// assert_eq!(job_memory(&job, &settings, Some(10 << 20)).expected_memory_bytes, 10 << 20);
/// assert_eq!(job_memory(&job, &settings, Some(1 << 30)).expected_memory_bytes, 64 << 20);
/// ```
pub fn job_memory(job: &Job, settings: &Settings, observed: Option<u64>) -> JobMemory {
    let Some(slot) = settings.slots.get(&job.slot) else {
        return JobMemory::default();
    };
    let limit = effective_limits(job, slot, settings.memory_max).memory_bytes;
    let expected = match (observed, job.limits.memory) {
        (Some(peak), _) => (peak as f64 * job.weights.memory) as u64,
        (None, Some(own)) => own.bytes(),
        (None, None) => slot.memory_max.bytes() / u64::from(slot.max_concurrent.max(1)),
    };
    JobMemory {
        expected_memory_bytes: expected.min(limit),
        memory_limit_bytes: limit,
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
