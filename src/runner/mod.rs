//! Running one job now, inside its slot: a run row in history, a child cgroup with the
//! job's limits, the process placed in it before exec, a timeout, the kernel's figures read
//! back, the cgroup emptied and removed, and the row completed. Scheduling is not here.

mod enforce;
mod execute;
mod limits;
mod log;
mod outcome;
mod pause;
pub mod process;
mod reap;
mod spawn;

pub use enforce::{CgroupEnv, EnforcementError, Enforcer, ProbeError, not_delegated};
pub use execute::{RunRequest, Runner, RunnerError};
pub use limits::{
    CPU_PERIOD_USEC, EffectiveLimits, JobMemory, Level, effective_limits, global_limits,
    job_memory, online_cpus, run_limits, slot_limits,
};
pub use log::CappedLog;
pub use outcome::{Ending, Stopped, classify, completed, lost, not_started, shell_status};
pub use pause::PressureClock;
pub(crate) use reap::cleanup;
pub use spawn::{DEFAULT_PATH, Identity, IdentityError, environment, working_dir};
