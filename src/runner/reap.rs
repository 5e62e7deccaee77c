//! Ending a run's processes: waiting for the main one (a pidfd, then `wait4`, which also
//! yields rusage), signalling all of them (cgroup and session), and emptying, measuring and
//! removing the run's cgroup afterwards.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tracing::warn;

use crate::cgroup::RunCgroup;
use crate::model::RunUsage;

use super::outcome::Ending;

/// How long to wait for a killed run's cgroup to empty before giving up on removing it.
const EMPTY_TIMEOUT: Duration = Duration::from_secs(10);

/// How the main process ended, with its resource usage.
pub type Waited = io::Result<(Ending, libc::rusage)>;

/// What is signalled to stop a run: its cgroup (every process in it, wherever it went) and
/// the session the main process leads (all that is left without a cgroup; with one, a
/// second net should writing the cgroup's knobs ever fail).
pub struct Target {
    pub cgroup: Option<Arc<RunCgroup>>,
    pub session: Pid,
}

impl Target {
    pub fn terminate(&self) {
        if let Some(cg) = &self.cgroup
            && let Err(error) = cg.signal_all(Signal::SIGTERM)
        {
            warn!(%error, "sending SIGTERM to the run's cgroup");
        }
        signal_group(self.session, Signal::SIGTERM);
    }

    pub fn kill(&self) {
        if let Some(cg) = &self.cgroup
            && let Err(error) = cg.kill()
        {
            warn!(%error, "killing the run's cgroup");
        }
        signal_group(self.session, Signal::SIGKILL);
    }
}

/// Signals a process group; a group that is already gone is fine.
pub fn signal_group(pgid: Pid, signal: Signal) {
    match killpg(pgid, signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
        Err(error) => warn!(%error, %signal, "signalling the run's process group"),
    }
}

/// A blocking wait's result, with a panicked or cancelled task as an error.
pub fn joined(waited: Result<Waited, tokio::task::JoinError>) -> Waited {
    waited.unwrap_or_else(|e| Err(io::Error::other(e)))
}

/// Kills what is left in the cgroup, waits for it to empty, reads the kernel's figures and
/// removes it. Blocking. `None` when the figures could not be read.
pub fn cleanup(cg: &RunCgroup) -> Option<RunUsage> {
    // Most runs leave nothing behind: one read of `cgroup.events` then saves the kill and
    // the wait (a process cannot enter an empty run cgroup on its own).
    if cg.is_populated().unwrap_or(true) {
        if let Err(error) = cg.kill() {
            warn!(%error, "killing what is left of the run");
        }
        match cg.wait_empty(EMPTY_TIMEOUT) {
            Ok(true) => {}
            Ok(false) => warn!(cgroup = %cg.path().display(), "run cgroup did not empty in time"),
            Err(error) => warn!(%error, "waiting for the run cgroup to empty"),
        }
    }
    let stats = cg
        .stats()
        .map_err(|error| warn!(%error, "reading the run's kernel figures"))
        .ok();
    if let Err(error) = cg.clone().remove() {
        warn!(%error, "removing the run cgroup");
    }
    stats
}

/// Waits until `pid` (our unreaped child) exits, without holding a thread: its pidfd
/// (Linux 5.3+) becomes readable at exit, then `wait4` reaps it at once. A thousand
/// running jobs thus cost a thousand file descriptors, not a thousand blocking threads.
/// Where pidfds are unavailable, a blocking `wait4` on the blocking pool stands in.
pub async fn wait_exit(pid: i32) -> Waited {
    match pidfd_open(pid) {
        Ok(fd) => {
            // SAFETY: the `OwnedFd` owns the pidfd until the `AsyncFd` is dropped.
            let registered = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) };
            match registered {
                Ok(pidfd) => {
                    // Readable means exited; an error here leaves wait4 to tell.
                    let _ = pidfd.readable().await;
                    // The child has exited and waits as a zombie: wait4 returns at once.
                    return wait4(pid);
                }
                Err(error) => {
                    warn!(error = %error.into_parts().1, "polling a pidfd; waiting on a thread")
                }
            }
        }
        Err(error) => tracing::debug!(%error, "no pidfd; waiting on a thread"),
    }
    tokio::task::spawn_blocking(move || wait4(pid))
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
}

/// `pidfd_open(2)`: a file descriptor that refers to the process `pid`.
fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: a plain syscall with integer arguments; a non-negative result is a new fd
    // that nothing else owns.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: see above; the fd is ours alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Blocks until `pid` exits; returns how, with its resource usage.
pub fn wait4(pid: i32) -> Waited {
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to our own locals.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let ending = if libc::WIFEXITED(status) {
        Ending::Exited(libc::WEXITSTATUS(status))
    } else {
        Ending::Signaled(libc::WTERMSIG(status))
    };
    Ok((ending, usage))
}
