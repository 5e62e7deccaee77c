//! Registering an owned kernel object (timerfd, inotify) with tokio's reactor.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};

use tokio::io::unix::AsyncFd;

/// `T` owns its file descriptor for its whole life (nix's `TimerFd` and `Inotify` do);
/// this gives it the `AsRawFd` tokio asks for.
pub struct Owned<T>(pub T);

impl<T: AsFd> AsRawFd for Owned<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// Registers `inner` with the current tokio reactor for readability.
///
/// # Errors
/// There is no reactor, or the kernel refuses the registration.
pub fn register<T: AsFd>(inner: T) -> io::Result<AsyncFd<Owned<T>>> {
    // SAFETY: `Owned<T>` returns the descriptor `T` owns, which stays open and the same
    // until `T` is dropped together with the `AsyncFd`.
    unsafe { AsyncFd::register(Owned(inner)) }.map_err(io::Error::from)
}
