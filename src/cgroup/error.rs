//! The typed errors of the cgroup module. Every variant that comes from I/O names the
//! path it concerns; the ones a user can fix say how.

use std::fmt;
use std::io;
use std::path::PathBuf;

use nix::sys::signal::Signal;

use super::parse::ParseError;

/// The filesystem operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Reading a knob file.
    Read,
    /// Writing a knob file.
    Write,
    /// `mkdir` of a cgroup.
    CreateDir,
    /// `rmdir` of a cgroup.
    RemoveDir,
    /// Listing the child cgroups.
    ListDir,
    /// Opening a knob file to keep its descriptor.
    Open,
    /// Waiting on a knob file with poll(2).
    Poll,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Read => "read",
            Op::Write => "write",
            Op::CreateDir => "create cgroup",
            Op::RemoveDir => "remove cgroup",
            Op::ListDir => "list cgroup",
            Op::Open => "open",
            Op::Poll => "poll",
        })
    }
}

/// Why a cgroup operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// An I/O error with nothing more specific to say.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: Op,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Writing a value to a knob failed (EINVAL: the kernel rejected the value).
    #[error("cannot write {value:?} to {}: {source}", path.display())]
    Write {
        path: PathBuf,
        value: String,
        #[source]
        source: io::Error,
    },
    /// The knob file is absent: its controller is not enabled in this cgroup.
    #[error(
        "{}: the {controller} controller is not enabled in this cgroup (knob file absent); \
         enable it in the parent's cgroup.subtree_control",
        path.display()
    )]
    ControllerNotEnabled { path: PathBuf, controller: String },
    /// Controllers slotcron needs are not offered to this cgroup by its parent.
    #[error(
        "{}: controllers {} are not available here (missing from cgroup.controllers); \
         enable them in the parent's cgroup.subtree_control, or run slotcron under systemd \
         with Delegate=yes",
        path.display(), missing.join(" ")
    )]
    ControllersUnavailable { path: PathBuf, missing: Vec<String> },
    /// EBUSY on `cgroup.subtree_control`: the no-internal-process rule.
    #[error(
        "{}: cannot enable controllers for child cgroups because processes live in this \
         cgroup (no-internal-process rule); move them into a leaf cgroup first (slotcron \
         moves itself into supervisor/ when its root is its own cgroup)",
        path.display()
    )]
    ProcessesInCgroup { path: PathBuf },
    /// EACCES or EPERM: the cgroup is not ours to change.
    #[error(
        "permission denied to {op} {}: this cgroup is not delegated to this user; run \
         slotcron under systemd with Delegate=yes, or set cgroup.root to a cgroup you own",
        path.display()
    )]
    NotDelegated {
        op: Op,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The cgroup directory does not exist.
    #[error("{}: no such cgroup", path.display())]
    NoSuchCgroup { path: PathBuf },
    /// A run cgroup with that name exists already.
    #[error("{}: cgroup already exists", path.display())]
    AlreadyExists { path: PathBuf },
    /// `rmdir` kept failing with EBUSY: processes or child cgroups remain.
    #[error("{}: cannot remove, the cgroup still has processes or child cgroups", path.display())]
    Busy { path: PathBuf },
    /// The slot was not part of the prepared hierarchy.
    #[error("unknown slot {slot:?}")]
    UnknownSlot { slot: String },
    /// A slot or run name that is not a single, plain path component.
    #[error("invalid cgroup name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    /// The kill fallback (freeze + SIGKILL) gave up with processes left.
    #[error("{}: {remaining} processes still present after repeated SIGKILL", path.display())]
    KillIncomplete { path: PathBuf, remaining: usize },
    /// kill(2) failed with something other than ESRCH.
    #[error("cannot send {signal} to pid {pid} in {}: {source}", path.display())]
    Signal {
        path: PathBuf,
        pid: i32,
        signal: Signal,
        #[source]
        source: nix::Error,
    },
    /// A kernel file did not have the expected format.
    #[error("{}: {source}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: ParseError,
    },
}

impl CgroupError {
    /// Wraps an I/O error, turning EACCES/EPERM into [`CgroupError::NotDelegated`].
    pub(crate) fn io(op: Op, path: impl Into<PathBuf>, source: io::Error) -> Self {
        let path = path.into();
        match source.raw_os_error() {
            Some(libc::EACCES) | Some(libc::EPERM) => {
                CgroupError::NotDelegated { op, path, source }
            }
            _ => CgroupError::Io { op, path, source },
        }
    }

    /// Wraps a parse error with the file it came from.
    pub(crate) fn parse(path: impl Into<PathBuf>, source: ParseError) -> Self {
        CgroupError::Parse {
            path: path.into(),
            source,
        }
    }
}
