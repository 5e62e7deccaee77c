//! How a run ended, from what `wait4` and the kernel's cgroup counters say, and what
//! `slotcron run` exits with.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::{RunStatus, RunUsage};
use crate::store::RunCompletion;

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

/// A run's completed record: how it ended, and what it used: the kernel's cgroup figures
/// where there are some, `wait4`'s rusage for what they lack (all of it for an unconfined
/// run, the peak on a kernel without `memory.peak`). `waited` is `None` when waiting for
/// the main process failed (it is then taken as killed).
pub fn completed(
    waited: Option<(Ending, libc::rusage)>,
    stopped: Stopped,
    usage: Option<RunUsage>,
    finished_at: DateTime<Utc>,
    duration: Duration,
) -> RunCompletion {
    let (ending, rusage) = match waited {
        Some((ending, rusage)) => (ending, Some(rusage)),
        None => (Ending::Signaled(libc::SIGKILL), None),
    };
    let (exit_code, signal) = match ending {
        Ending::Exited(code) => (Some(code), None),
        Ending::Signaled(sig) => (None, Some(sig)),
    };
    let usage = with_rusage(usage.unwrap_or_default(), rusage.as_ref());
    RunCompletion {
        status: classify(ending, stopped, usage.oom_kills.unwrap_or(0)),
        exit_code,
        signal,
        finished_at,
        duration_ms: duration.as_millis() as u64,
        usage,
        error: None,
        pressure: None,
    }
}

/// `usage` with what it lacks taken from `wait4`'s rusage of the main process.
fn with_rusage(mut usage: RunUsage, rusage: Option<&libc::rusage>) -> RunUsage {
    let Some(r) = rusage else {
        return usage;
    };
    let (user, system) = (timeval_usec(r.ru_utime), timeval_usec(r.ru_stime));
    usage.memory_peak_bytes = usage.memory_peak_bytes.or_else(|| rusage_peak(r));
    usage.cpu_usage_usec = usage.cpu_usage_usec.or(Some(user + system));
    usage.cpu_user_usec = usage.cpu_user_usec.or(Some(user));
    usage.cpu_system_usec = usage.cpu_system_usec.or(Some(system));
    usage
}

/// The record of a run whose end slotcron did not see (its daemon was killed meanwhile):
/// status `lost`, exit status unknown, what it used where the kernel still had it (its
/// cgroup's figures; `None` for a run without a cgroup). `finished_at` is when slotcron saw
/// the run over, an upper bound of its real end.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use slotcron::model::RunStatus;
/// let start = Utc.with_ymd_and_hms(2026, 1, 1, 3, 0, 0).unwrap();
/// let done = slotcron::runner::lost(None, start, start + Duration::seconds(90), "gone".into());
/// assert_eq!((done.status, done.duration_ms, done.exit_code), (RunStatus::Lost, 90_000, None));
/// // A clock stepped back since the start makes no negative duration.
/// let early = slotcron::runner::lost(None, start, start - Duration::seconds(5), "gone".into());
/// assert_eq!(early.duration_ms, 0);
/// ```
pub fn lost(
    usage: Option<RunUsage>,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    error: String,
) -> RunCompletion {
    let duration = (finished_at - started_at).num_milliseconds().max(0);
    RunCompletion {
        status: RunStatus::Lost,
        exit_code: None,
        signal: None,
        finished_at,
        duration_ms: u64::try_from(duration).unwrap_or(0),
        usage: usage.unwrap_or_default(),
        error: Some(error),
        pressure: None,
    }
}

/// A `timeval` (rusage's times) in microseconds; a negative part counts as 0.
fn timeval_usec(tv: libc::timeval) -> u64 {
    (tv.tv_sec.max(0) as u64) * 1_000_000 + tv.tv_usec.max(0) as u64
}

/// Without a cgroup, the best peak figure is the largest resident set of the process and
/// its waited-for children (`ru_maxrss`, KiB).
fn rusage_peak(usage: &libc::rusage) -> Option<u64> {
    (usage.ru_maxrss > 0).then(|| usage.ru_maxrss as u64 * 1024)
}

/// The record of a run that never started.
pub fn not_started(
    error: String,
    exit_code: Option<i32>,
    finished_at: DateTime<Utc>,
    duration: Duration,
) -> RunCompletion {
    RunCompletion {
        status: RunStatus::Failed,
        exit_code,
        signal: None,
        finished_at,
        duration_ms: duration.as_millis() as u64,
        usage: RunUsage::default(),
        error: Some(error),
        pressure: None,
    }
}
