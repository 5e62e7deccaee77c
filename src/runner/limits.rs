//! Turns slots and jobs into the cgroup limits the kernel enforces. Pure arithmetic, kept
//! apart so the numbers can be tested without a cgroup in sight.

use crate::cgroup::{CpuMax, Limits};
use crate::config::{Job, Settings, Slot};

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
        memory_max: settings.memory_max.map(|m| m.bytes()),
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
/// assert_eq!(limits.cpu_max.unwrap().quota_usec, 160_000); // 80 % of 2 CPUs
/// assert_eq!(limits.memory_max, Some(3 << 30));
/// ```
pub fn slot_limits(slot: &Slot, cpus: u32) -> Limits {
    Limits {
        memory_max: Some(slot.memory_max.bytes()),
        memory_high: slot.memory_high.map(|m| m.bytes()),
        swap_max: Some(slot.swap_max.bytes()),
        cpu_max: Some(cpu_max(slot.cpu_max_percent / 100.0 * f64::from(cpus))),
        cpu_weight: None,
        pids_max: slot.pids_max,
        oom_group: false,
    }
}

/// One run's limits: the job's own caps (the slot's still hold above them), the slot's swap
/// budget, `cpu.weight` from `weights.cpu`, and `memory.oom.group` so the OOM killer takes
/// the whole run, shell wrapper included.
pub fn run_limits(job: &Job, slot: &Slot) -> Limits {
    Limits {
        memory_max: job.limits.memory.map(|m| m.bytes()),
        memory_high: None,
        swap_max: Some(slot.swap_max.bytes()),
        cpu_max: job.limits.cpu.map(cpu_max),
        cpu_weight: Some(((job.weights.cpu * 100.0).round() as u32).clamp(1, 10_000)),
        pids_max: job.limits.pids,
        oom_group: true,
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

/// The memory limit that applies to a run: its own, else its slot's.
pub fn effective_memory_limit(job: &Job, slot: &Slot) -> u64 {
    job.limits.memory.unwrap_or(slot.memory_max).bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_job;
    use std::path::Path;

    #[test]
    fn run_limits_follow_the_job() {
        let settings = Settings::builtin();
        let job = parse_job(
            Path::new("/j/x.yaml"),
            "command: x\nslot: heavy\nlimits: { memory: 1500M, cpu: 1.5, pids: 64 }\nweights: { cpu: 0.5 }\n",
            &settings,
        )
        .unwrap();
        let slot = &settings.slots["heavy"];
        let limits = run_limits(&job, slot);
        assert_eq!(limits.memory_max, Some(1500 << 20));
        assert_eq!(
            limits.cpu_max,
            Some(CpuMax {
                quota_usec: 150_000,
                period_usec: 100_000
            })
        );
        assert_eq!(
            (limits.cpu_weight, limits.pids_max, limits.swap_max),
            (Some(50), Some(64), Some(0))
        );
        assert!(limits.oom_group);
        assert_eq!(effective_memory_limit(&job, slot), 1500 << 20);
        let bare = parse_job(
            Path::new("/j/y.yaml"),
            "command: tidy\nslot: light\n",
            &settings,
        )
        .unwrap();
        assert_eq!(run_limits(&bare, slot).memory_max, None);
        assert_eq!(
            effective_memory_limit(&bare, &settings.slots["light"]),
            1 << 30
        );
    }

    #[test]
    fn slot_cpu_is_a_share_of_the_machine() {
        let slots = crate::config::builtin_slots();
        assert_eq!(
            slot_limits(&slots["heavy"], 4).cpu_max.unwrap().quota_usec,
            360_000
        );
        assert_eq!(
            slot_limits(&slots["light"], 1).cpu_max.unwrap().quota_usec,
            50_000
        );
        assert_eq!(slot_limits(&slots["light"], 1).pids_max, Some(4096));
    }
}
