//! The daemon's file descriptors, so that no client can make a run fail for want of one
//! (`docs/adr/0021-connection-limits.md`).
//!
//! At start the daemon raises its soft `RLIMIT_NOFILE` to the hard limit ([`raise_limit`])
//! and gives each job's process the soft limit it was started with ([`for_children`]:
//! programs that use `select(2)` break above 1,024). Then [`Budget::new`] reserves what
//! the daemon itself, every seat of every slot, the notification channels and the control
//! socket can need, and gives the HTTP server what is left, up to [`HTTP_MAX`]
//! connections. Connections beyond that are evicted or refused (`crate::gate`), so
//! descriptors for runs are always there.

use std::sync::OnceLock;

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use tracing::{info, warn};

use crate::gate::Limits;

/// Kept for the daemon itself: stdio, the lock, SQLite (database, WAL, shared memory,
/// temporary files), the runtime's epoll and wakers, the timerfd, inotify, signal pipes,
/// both listeners, a job file being read, `/proc` reads.
pub const BASE: u64 = 64;

/// Kept per seat (a run in progress): at spawn the output pipe (2) and its two copies for
/// stdout and stderr, `/dev/null`, the child's exec-error pipe (2), the run's
/// `cgroup.procs` and its log file, then the cgroup files read when it ends; twice that
/// for margin.
pub const PER_RUN: u64 = 16;

/// Kept per notification channel: a webhook or SMTP connection, or a command's pipes,
/// with retries overlapping.
pub const PER_CHANNEL: u64 = 8;

/// The most HTTP connections served at once, whatever the limit allows: a dashboard needs
/// a handful, and each idle connection costs some 10 KiB of buffers.
pub const HTTP_MAX: usize = 1024;

/// The fewest HTTP connections served, even when the reserve leaves less (a warning
/// says so and asks for a higher `LimitNOFILE`).
pub const HTTP_MIN: usize = 16;

/// The soft and hard limits the daemon was started with, once [`raise_limit`] ran.
static STARTED_WITH: OnceLock<(u64, u64)> = OnceLock::new();

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the limit now in force.
/// Job processes get the old soft limit back ([`for_children`]).
///
/// # Errors
/// The limit cannot be read or set (it is then left as it was).
pub fn raise_limit() -> nix::Result<u64> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    let _ = STARTED_WITH.set((soft, hard));
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
        info!(
            from = soft,
            to = hard,
            "raised the descriptor limit (jobs keep {soft})"
        );
    }
    Ok(hard)
}

/// The soft limit in force now.
///
/// # Errors
/// The limit cannot be read.
pub fn current_limit() -> nix::Result<u64> {
    getrlimit(Resource::RLIMIT_NOFILE).map(|(soft, _)| soft)
}

/// The `(soft, hard)` `RLIMIT_NOFILE` a job's process gets: what the daemon was started
/// with, before [`raise_limit`]; `None` when it was never raised (nothing to restore).
pub fn for_children() -> Option<(u64, u64)> {
    STARTED_WITH.get().copied()
}

/// Sets `RLIMIT_NOFILE` to `(soft, hard)` ([`for_children`]'s value) in a child between
/// fork and exec: one setrlimit(2), async-signal-safe.
///
/// # Errors
/// The kernel refuses (never for a soft limit lowered below the hard one).
pub fn restore_in_child((soft, hard): (u64, u64)) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit(2) reads the struct and touches no memory of ours.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// How the descriptors are shared out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The soft `RLIMIT_NOFILE` in force.
    pub limit: u64,
    /// Kept for the daemon, its runs, its channels and the control socket.
    pub reserved: u64,
    /// What the HTTP server may hold open.
    pub http: Limits,
}

impl Budget {
    /// The budget under `limit` for `seats` runs at once, `channels` notification channels
    /// and `control` control connections.
    pub fn new(limit: u64, seats: u64, channels: u64, control: usize) -> Budget {
        let reserved = BASE
            .saturating_add(PER_RUN.saturating_mul(seats))
            .saturating_add(PER_CHANNEL.saturating_mul(channels))
            .saturating_add(control as u64 + 1);
        let left = usize::try_from(limit.saturating_sub(reserved)).unwrap_or(usize::MAX);
        let total = left.clamp(HTTP_MIN, HTTP_MAX);
        Budget {
            limit,
            reserved,
            // One address (every local user shares 127.0.0.1) may hold half, so another
            // always finds room.
            http: Limits {
                total,
                per_peer: (total / 2).max(1),
            },
        }
    }

    /// Says in the log how the descriptors are shared, loudly when runs are short of them.
    pub fn log(&self) {
        let needed = self.reserved + HTTP_MIN as u64;
        if self.limit < needed {
            warn!(
                limit = self.limit,
                reserved = self.reserved,
                "the descriptor limit is too low for every seat to run while the HTTP \
                 server is busy; raise LimitNOFILE (at least {needed})"
            );
        } else {
            info!(
                limit = self.limit,
                reserved = self.reserved,
                http_connections = self.http.total,
                http_per_address = self.http.per_peer,
                "descriptor budget"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_reserved_first_and_http_gets_the_rest() {
        // 2 seats, no channels, 64 control connections: 64 + 32 + 65 = 161 kept.
        let budget = Budget::new(256, 2, 0, 64);
        assert_eq!(budget.reserved, 161);
        assert_eq!(budget.http.total, 95);
        assert_eq!(budget.http.per_peer, 47);
        // The built-in slots (17 seats) and two channels under systemd's 1024.
        let budget = Budget::new(1024, 17, 2, 64);
        assert_eq!(budget.reserved, 64 + 17 * 16 + 2 * 8 + 65);
        assert_eq!(budget.http.total, 1024 - 417);
        // Plenty: capped.
        assert_eq!(Budget::new(524_288, 17, 2, 64).http.total, HTTP_MAX);
        // Too little: the floor, and the reserve still counts every seat.
        let starved = Budget::new(128, 17, 0, 64);
        assert_eq!(starved.http.total, HTTP_MIN);
        assert_eq!(starved.reserved, 64 + 17 * 16 + 65);
    }
}
