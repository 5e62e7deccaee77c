//! How a run ended, from what `wait4` and the kernel's cgroup counters say, and what
//! `slotcron run` exits with.

use crate::model::RunStatus;

/// How the main process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `exit(code)`.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
}

/// Why slotcron itself stopped the run, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Not stopped: the run ended on its own.
    No,
    /// `limits.timeout` passed.
    Timeout,
    /// Asked to stop (a signal to `slotcron run`, a kill command, shutdown).
    Cancelled,
}

/// The run's status. The kernel's verdict wins: if the OOM killer killed anything in the
/// run's cgroup, the run is `oom_killed` (with `memory.oom.group` the whole run died), then a
/// timeout or cancellation, then the exit status.
///
/// ```
/// use slotcron::model::RunStatus;
/// use slotcron::runner::{classify, Ending, Stopped};
/// assert_eq!(classify(Ending::Signaled(9), Stopped::No, 1), RunStatus::OomKilled);
/// assert_eq!(classify(Ending::Signaled(15), Stopped::Timeout, 0), RunStatus::Timeout);
/// assert_eq!(classify(Ending::Exited(0), Stopped::No, 0), RunStatus::Success);
/// assert_eq!(classify(Ending::Exited(3), Stopped::No, 0), RunStatus::Failed);
/// ```
pub fn classify(ending: Ending, stopped: Stopped, oom_kills: u64) -> RunStatus {
    if oom_kills > 0 {
        return RunStatus::OomKilled;
    }
    match (stopped, ending) {
        (Stopped::Timeout, _) => RunStatus::Timeout,
        (Stopped::Cancelled, _) => RunStatus::Killed,
        (Stopped::No, Ending::Exited(0)) => RunStatus::Success,
        (Stopped::No, _) => RunStatus::Failed,
    }
}

/// The shell convention for a process's status: its exit code, or 128 + signal.
pub fn shell_status(exit_code: Option<i32>, signal: Option<i32>) -> i32 {
    match (exit_code, signal) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 1,
    }
}
