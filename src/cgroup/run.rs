//! One run's cgroup: placing the child in it before exec, signalling and killing every
//! process in it, waiting until it is empty, reading what it used, and removing it.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::statfs::{CGROUP2_SUPER_MAGIC, fstatfs};
use nix::unistd::Pid;

use super::controller::{self, Controller};
use super::error::{CgroupError, Op};
use super::fs::CgroupFs;
use super::knob::{
    self, CGROUP_CONTROLLERS, CGROUP_EVENTS, CGROUP_FREEZE, CGROUP_KILL, CGROUP_PROCS,
};
use super::parse::{parse_controllers, parse_populated, parse_procs};
use crate::model::RunUsage;

/// Rounds of SIGKILL in the `kill` fallback before giving up.
const KILL_ROUNDS: u32 = 100;
/// Pause between two SIGKILL rounds.
const KILL_ROUND_PAUSE: Duration = Duration::from_millis(10);
/// `rmdir` attempts on EBUSY; the pauses grow 20, 40, 60 ... ms.
const REMOVE_TRIES: u32 = 5;
/// Longest single poll(2) on a real cgroup.events: a safety net, the kernel notifies.
const POLL_SLICE_NOTIFY: Duration = Duration::from_secs(1);
/// Longest single poll(2) where no notification comes (the fake's regular files).
const POLL_SLICE_PLAIN: Duration = Duration::from_millis(50);
/// Pause when poll(2) returned at once but the cgroup is still populated.
const POLL_SPIN_PAUSE: Duration = Duration::from_millis(10);

/// The cgroup of one run (`<root>/jobs/<slot>/<run>`).
#[derive(Debug, Clone)]
pub struct RunCgroup {
    fs: Arc<dyn CgroupFs>,
    /// The run's cgroup directory.
    path: PathBuf,
    /// The controllers enabled for it, whose figures [`Self::stats`] reads.
    controllers: Vec<&'static dyn Controller>,
}

impl RunCgroup {
    pub(crate) fn from_parts(
        fs: Arc<dyn CgroupFs>,
        path: PathBuf,
        controllers: Vec<&'static dyn Controller>,
    ) -> Self {
        RunCgroup {
            fs,
            path,
            controllers,
        }
    }

    /// Adopts an existing run cgroup (e.g. one found after a crash by
    /// [`super::Hierarchy::run_dirs`]).
    ///
    /// # Errors
    /// [`CgroupError::NoSuchCgroup`] when `path` is not a cgroup, I/O errors.
    pub fn open(fs: Arc<dyn CgroupFs>, path: &Path) -> Result<Self, CgroupError> {
        if let Err(e) = fs.read(&path.join(CGROUP_PROCS)) {
            return Err(match e.kind() {
                io::ErrorKind::NotFound => CgroupError::NoSuchCgroup {
                    path: path.to_path_buf(),
                },
                _ => CgroupError::io(Op::Read, path.join(CGROUP_PROCS), e),
            });
        }
        let offered = knob::read(fs.as_ref(), path, CGROUP_CONTROLLERS)?;
        Ok(RunCgroup {
            controllers: controller::usable(&parse_controllers(&offered)),
            fs,
            path: path.to_path_buf(),
        })
    }

    /// The run's cgroup directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens `cgroup.procs` O_WRONLY|O_CLOEXEC for the runner's `pre_exec`, which writes
    /// `b"0"` to it with `libc::write` (moving the child before it execs).
    ///
    /// # Errors
    /// The open error with its path (NotDelegated on EACCES).
    pub fn open_procs(&self) -> Result<OwnedFd, CgroupError> {
        let path = self.path.join(CGROUP_PROCS);
        // std opens with O_CLOEXEC; write(true) alone is O_WRONLY, no create, no truncate.
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| CgroupError::io(Op::Open, path, e))?;
        Ok(OwnedFd::from(file))
    }

    /// The pids in the run's cgroup (`cgroup.procs`, this cgroup only).
    ///
    /// # Errors
    /// [`CgroupError::NoSuchCgroup`], parse and I/O errors.
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        knob::read_parsed(self.fs.as_ref(), &self.path, CGROUP_PROCS, parse_procs)
    }

    /// Sends `sig` to every process in the cgroup (e.g. SIGTERM for a timeout's grace
    /// period). Processes that already exited (ESRCH) are skipped; pid 1 and slotcron's own
    /// pid are never signalled. Returns how many processes were signalled.
    ///
    /// # Errors
    /// [`CgroupError::Signal`] on another kill(2) error (e.g. EPERM), errors of [`Self::pids`].
    pub fn signal_all(&self, sig: Signal) -> Result<usize, CgroupError> {
        let me = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
        let mut sent = 0;
        for pid in self.pids()?.into_iter().filter(|p| *p > 1 && *p != me) {
            match kill(Pid::from_raw(pid), sig) {
                Ok(()) => sent += 1,
                Err(Errno::ESRCH) => {}
                Err(source) => {
                    return Err(CgroupError::Signal {
                        path: self.path.clone(),
                        pid,
                        signal: sig,
                        source,
                    });
                }
            }
        }
        Ok(sent)
    }

    /// SIGKILLs every process of the run, racing forks included: writes `1` to
    /// `cgroup.kill` (kernel 5.14+). Where that file is absent: freezes the cgroup, SIGKILLs
    /// every pid until `cgroup.procs` is empty (bounded, about a second), then thaws it.
    /// Does not wait for the processes to be gone: call [`Self::wait_empty`].
    ///
    /// # Errors
    /// [`CgroupError::KillIncomplete`] when the fallback gives up, write/signal errors.
    pub fn kill(&self) -> Result<(), CgroupError> {
        match knob::write(self.fs.as_ref(), &self.path, CGROUP_KILL, "1") {
            Err(CgroupError::ControllerNotEnabled { .. }) => {
                tracing::debug!(cgroup = %self.path.display(), "no cgroup.kill, freeze + SIGKILL fallback");
                self.kill_by_signals()
            }
            other => other,
        }
    }

    fn kill_by_signals(&self) -> Result<(), CgroupError> {
        let f = self.fs.as_ref();
        let frozen = knob::write_if_present(f, &self.path, CGROUP_FREEZE, "1")?;
        let mut result = Ok(());
        for round in 0..=KILL_ROUNDS {
            match self.pids() {
                Ok(pids) if pids.is_empty() => break,
                Ok(pids) if round == KILL_ROUNDS => {
                    result = Err(CgroupError::KillIncomplete {
                        path: self.path.clone(),
                        remaining: pids.len(),
                    });
                }
                Ok(_) => match self.signal_all(Signal::SIGKILL) {
                    Ok(_) => thread::sleep(KILL_ROUND_PAUSE),
                    Err(e) => result = Err(e),
                },
                Err(e) => result = Err(e),
            }
            if result.is_err() {
                break;
            }
        }
        if frozen {
            // SIGKILL reaches frozen tasks; thawing lets nothing else run on afterwards.
            knob::write(f, &self.path, CGROUP_FREEZE, "0")?;
        }
        result
    }

    /// Whether any process lives in the cgroup or below (`cgroup.events` `populated`).
    ///
    /// # Errors
    /// [`CgroupError::NoSuchCgroup`], parse and I/O errors.
    pub fn is_populated(&self) -> Result<bool, CgroupError> {
        knob::read_parsed(self.fs.as_ref(), &self.path, CGROUP_EVENTS, parse_populated)
    }

    /// BLOCKS the calling thread until the cgroup is empty (`populated 0`): `Ok(true)`, or
    /// until `timeout` has passed: `Ok(false)`. Waits on the kernel's notification
    /// (poll(2) POLLPRI on `cgroup.events`), re-reading at least once a second; where the
    /// file gives no notification (the fake), it re-reads every 50 ms. From async code,
    /// call it inside `spawn_blocking`.
    ///
    /// # Errors
    /// Open/read/poll errors with the path, [`CgroupError::Parse`].
    pub fn wait_empty(&self, timeout: Duration) -> Result<bool, CgroupError> {
        let deadline = Instant::now() + timeout;
        let path = self.path.join(CGROUP_EVENTS);
        let mut file = File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => CgroupError::NoSuchCgroup {
                path: self.path.clone(),
            },
            _ => CgroupError::io(Op::Open, &path, e),
        })?;
        let notifies = fstatfs(&file).is_ok_and(|s| s.filesystem_type() == CGROUP2_SUPER_MAGIC);
        let slice_cap = if notifies {
            POLL_SLICE_NOTIFY
        } else {
            POLL_SLICE_PLAIN
        };
        let mut text = String::new();
        loop {
            // Reading from the start re-arms the kernel's notification for this fd.
            text.clear();
            file.seek(SeekFrom::Start(0))
                .and_then(|_| file.read_to_string(&mut text))
                .map_err(|e| CgroupError::io(Op::Read, &path, e))?;
            if !parse_populated(&text).map_err(|e| CgroupError::parse(&path, e))? {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            let slice = (deadline - now).min(slice_cap);
            let ms = u16::try_from(slice.as_micros().div_ceil(1000)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLPRI)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(CgroupError::io(Op::Poll, &path, io::Error::from(e))),
            }
            if Instant::now() < now + Duration::from_millis(1) {
                // A file that keeps reporting "ready" must not make this a busy loop.
                thread::sleep(slice.min(POLL_SPIN_PAUSE));
            }
        }
    }

    /// Freezes (`true`) or thaws the run (`cgroup.freeze`); see [`super::freezer`].
    ///
    /// # Errors
    /// [`CgroupError::NoSuchCgroup`] when the run is gone, write errors.
    pub fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        super::freezer::set_frozen(self.fs.as_ref(), &self.path, frozen)
    }

    /// Whether a freeze was asked for (`cgroup.freeze` holds `1`).
    ///
    /// # Errors
    /// Read errors with the path.
    pub fn is_freeze_set(&self) -> Result<bool, CgroupError> {
        super::freezer::is_freeze_set(self.fs.as_ref(), &self.path)
    }

    /// Throttles the run at `high` bytes (`memory.high`), or lifts the throttle (`None`:
    /// `max`; the run cgroup never has a `memory.high` of its own).
    ///
    /// # Errors
    /// [`CgroupError::ControllerNotEnabled`], [`CgroupError::NoSuchCgroup`], write errors.
    pub fn set_memory_high(&self, high: Option<u64>) -> Result<(), CgroupError> {
        controller::memory::set_high(self.fs.as_ref(), &self.path, high)
    }

    /// Bytes charged to the run now (`memory.current`).
    ///
    /// # Errors
    /// Missing knob, read and parse errors with the path.
    pub fn memory_current(&self) -> Result<u64, CgroupError> {
        controller::memory::current(self.fs.as_ref(), &self.path)
    }

    /// What the run used, each of its controllers reading its figures (`memory.peak`,
    /// `memory.events`, `cpu.stat`, `pids.peak`, `io.stat`). Read it before
    /// [`Self::remove`].
    ///
    /// # Errors
    /// Missing required knobs ([`CgroupError::ControllerNotEnabled`]), parse and I/O errors.
    pub fn stats(&self) -> Result<RunUsage, CgroupError> {
        let mut stats = RunUsage::default();
        for c in &self.controllers {
            c.read_stats(self.fs.as_ref(), &self.path, &mut stats)?;
        }
        Ok(stats)
    }

    /// Removes the cgroup (rmdir), retrying a few times on EBUSY (about 200 ms in all: the
    /// kernel may lag after the last process exits). A cgroup already gone counts as removed.
    ///
    /// # Errors
    /// [`CgroupError::Busy`] when processes or child cgroups remain, other I/O errors.
    pub fn remove(self) -> Result<(), CgroupError> {
        for attempt in 1..=REMOVE_TRIES {
            match self.fs.remove_dir(&self.path) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                    if attempt < REMOVE_TRIES {
                        thread::sleep(Duration::from_millis(20) * attempt);
                    }
                }
                Err(e) => return Err(CgroupError::io(Op::RemoveDir, &self.path, e)),
            }
        }
        Err(CgroupError::Busy { path: self.path })
    }
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
