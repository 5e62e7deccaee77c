//! One daemon per state directory: an exclusive lock on `<state_dir>/daemon.lock`, held
//! until the process exits (the kernel releases it even after `kill -9`).
//!
//! The lock is a POSIX record lock (`fcntl(F_SETLK)`), not `flock(2)` (ADR 0023). A
//! `flock` belongs to the open file description, which `fork(2)` shares with the child:
//! a job's process, between its fork and its exec (where close-on-exec closes the copy),
//! held the daemon's lock, so a daemon killed in that moment left it held by a process
//! that was not a daemon, and the restart failed with `EAGAIN`. A record lock belongs to
//! the process: a child never holds it, and it goes when the daemon goes.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// The lock file's name inside the state directory.
pub const LOCK_FILE: &str = "daemon.lock";

/// Why the state directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("opening {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another slotcron daemon already uses state_dir {dir} (lock {path}: {errno})")]
    Held {
        dir: PathBuf,
        path: PathBuf,
        errno: nix::errno::Errno,
    },
}

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct StateLock {
    /// Open for as long as the lock is held: closing any descriptor of the file releases a
    /// record lock, so this is the only one the daemon opens.
    _file: File,
}

/// Takes the lock of `dir` without waiting.
///
/// # Errors
/// [`LockError::Held`] when another process holds it; [`LockError::Open`] when the file
/// cannot be opened.
pub fn lock_state_dir(dir: &Path) -> Result<StateLock, LockError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| LockError::Open {
            path: path.clone(),
            source,
        })?;
    let whole_file = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    nix::fcntl::fcntl(file.as_fd(), nix::fcntl::FcntlArg::F_SETLK(&whole_file)).map_err(
        |errno| LockError::Held {
            dir: dir.to_owned(),
            path,
            errno,
        },
    )?;
    Ok(StateLock { _file: file })
}
