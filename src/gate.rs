//! Who may hold a connection to the daemon's servers (the HTTP API and the control
//! socket), so that no client, however many connections it opens, costs the daemon more
//! descriptors or memory than the budget allows (`docs/adr/0021-connection-limits.md`).
//!
//! A [`Gate`] admits at most `total` connections at once, and at most `per_peer` from one
//! address. When a newcomer finds no room, the connection idle the longest (open, but no
//! request in progress) is evicted to make it; only when every connection is busy is the
//! newcomer refused. A flood of silent connections therefore only ever evicts its own
//! connections, while a client that sends its request at once gets through.
//!
//! An evicted connection holds its descriptor until its task has closed it, so it still
//! counts; the accept loop waits for [`Gate::settled`] before it accepts again, and the
//! open descriptors never exceed `total + 1`. A connection whose request is already there
//! when it is accepted ([`request_waiting`]) is busy from the start.
//!
//! The table is a std `Mutex`: it is held for a scan of at most `total` entries and never
//! across an `.await`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;
use tracing::{debug, warn};

/// How often a full gate says so in the log (each eviction or refusal is logged at debug).
const WARN_EVERY: Duration = Duration::from_secs(60);

/// How many connections a gate admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most, from everyone together (at least 1).
    pub total: usize,
    /// Open connections at most from one peer address (at least 1, at most `total`).
    pub per_peer: usize,
}

/// Why a connection was refused: every connection in its way is busy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{open} connections are open and busy, the most this daemon takes; try again")]
    Full { open: usize },
    #[error("{open} connections from {peer} are open and busy, the most one address may hold")]
    PeerFull { peer: IpAddr, open: usize },
}

/// Admits, evicts and refuses connections; shared by a server's accept loop and its
/// connection tasks.
#[derive(Debug)]
pub struct Gate {
    /// Names the server in the log (`http`, `control`).
    name: &'static str,
    limits: Limits,
    table: Mutex<Table>,
    /// Told each time an evicted connection has closed.
    closed: Notify,
}

#[derive(Debug, Default)]
struct Table {
    /// The next connection's id; ids grow with admission order.
    next_id: u64,
    /// Every admitted connection whose descriptor is not closed yet, by id (evicted ones
    /// included until their task closes them).
    open: HashMap<u64, Entry>,
    /// Evicted connections not closed yet.
    closing: usize,
    /// Open connections per peer address; no zero counts are kept.
    by_peer: HashMap<IpAddr, usize>,
    /// When the log last said the gate was full.
    warned_at: Option<Instant>,
}

#[derive(Debug)]
struct Entry {
    peer: Option<IpAddr>,
    /// Requests in progress; evictable only at 0.
    busy: u32,
    /// When `busy` last became 0 (or the connection was admitted).
    idle_since: Instant,
    /// Told when the entry is evicted; `None` once told (the entry is then closing).
    evict: Option<oneshot::Sender<()>>,
}

impl Entry {
    fn evictable(&self) -> bool {
        self.busy == 0 && self.evict.is_some()
    }
}

impl Gate {
    /// A gate named `name` (for the log) with these limits.
    pub fn new(name: &'static str, limits: Limits) -> Arc<Gate> {
        let limits = Limits {
            total: limits.total.max(1),
            per_peer: limits.per_peer.clamp(1, limits.total.max(1)),
        };
        Arc::new(Gate {
            name,
            limits,
            table: Mutex::default(),
            closed: Notify::new(),
        })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Connections open now (evicted ones included until closed).
    pub fn open(&self) -> usize {
        self.lock().open.len()
    }

    /// Resolves once every evicted connection has closed: the accept loop waits for it
    /// before accepting again, so evictions cannot pile up open descriptors.
    pub async fn settled(&self) {
        loop {
            let closed = self.closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if self.lock().closing == 0 {
                return;
            }
            closed.await;
        }
    }

    /// Admits a connection from `peer` (`None`: a local socket, no address), evicting the
    /// longest-idle connection of the peer, or of everyone, when it is needed to make room.
    ///
    /// # Errors
    /// [`Refusal`] when there is no room and every connection in the way is busy.
    pub fn admit(self: &Arc<Gate>, peer: Option<IpAddr>) -> Result<Pass, Refusal> {
        let peer = peer.map(|ip| ip.to_canonical());
        let mut table = self.lock();
        let now = Instant::now();
        if let Some(ip) = peer {
            let from_peer = table.by_peer.get(&ip).copied().unwrap_or(0);
            if from_peer >= self.limits.per_peer {
                self.make_room(&mut table, Some(ip), now)
                    .ok_or(Refusal::PeerFull {
                        peer: ip,
                        open: from_peer,
                    })?;
            }
        }
        if table.open.len() >= self.limits.total {
            let open = table.open.len();
            self.make_room(&mut table, None, now)
                .ok_or(Refusal::Full { open })?;
        }
        let id = table.next_id;
        table.next_id += 1;
        let (evict, evicted) = oneshot::channel();
        table.open.insert(
            id,
            Entry {
                peer,
                busy: 0,
                idle_since: now,
                evict: Some(evict),
            },
        );
        if let Some(ip) = peer {
            *table.by_peer.entry(ip).or_default() += 1;
        }
        Ok(Pass {
            conn: Conn {
                gate: self.clone(),
                id,
            },
            evicted,
        })
    }

    /// Evicts the longest-idle connection (of `peer` when given); `None` when all are busy.
    fn make_room(&self, table: &mut Table, peer: Option<IpAddr>, now: Instant) -> Option<()> {
        let victim = table
            .open
            .iter()
            .filter(|(_, e)| e.evictable() && (peer.is_none() || e.peer == peer))
            .min_by_key(|(id, e)| (e.idle_since, **id))
            .map(|(id, _)| *id);
        let full_now = table.warned_at.is_none_or(|at| now - at >= WARN_EVERY);
        if full_now {
            table.warned_at = Some(now);
            warn!(
                server = self.name,
                open = table.open.len(),
                limit = self.limits.total,
                per_peer = self.limits.per_peer,
                "connection limit reached: evicting the longest-idle connections, refusing when all are busy"
            );
        }
        let Some(id) = victim else {
            debug!(
                server = self.name,
                ?peer,
                "no idle connection to evict: refused"
            );
            return None;
        };
        let entry = table.open.get_mut(&id)?;
        debug!(server = self.name, id, peer = ?entry.peer, "evicting an idle connection");
        if let Some(tell) = entry.evict.take() {
            let _ = tell.send(());
        }
        table.closing += 1;
        Some(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Table {
    /// Forgets a closed connection; whether it had been evicted.
    fn remove(&mut self, id: u64) -> Option<bool> {
        let entry = self.open.remove(&id)?;
        let evicted = entry.evict.is_none();
        if evicted {
            self.closing -= 1;
        }
        if let Some(ip) = entry.peer
            && let Some(count) = self.by_peer.get_mut(&ip)
        {
            *count -= 1;
            if *count == 0 {
                self.by_peer.remove(&ip);
            }
        }
        Some(evicted)
    }
}

/// An admitted connection's place at the gate, given up when dropped.
#[derive(Debug)]
pub struct Pass {
    conn: Conn,
    evicted: oneshot::Receiver<()>,
}

impl Pass {
    /// A handle that marks requests of this connection in progress ([`Conn::busy`]).
    pub fn conn(&self) -> Conn {
        self.conn.clone()
    }

    /// Resolves when the gate evicts this connection to make room for another: close it.
    pub async fn evicted(&mut self) {
        if (&mut self.evicted).await.is_err() {
            // The entry was closed normally; never resolve.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let gate = &self.conn.gate;
        let evicted = gate.lock().remove(self.conn.id);
        if evicted == Some(true) {
            gate.closed.notify_waiters();
        }
    }
}

/// Which connection a request belongs to; cheap to clone.
#[derive(Debug, Clone)]
pub struct Conn {
    gate: Arc<Gate>,
    id: u64,
}

impl Conn {
    /// Marks a request of this connection in progress until the returned guard drops; a
    /// busy connection is never evicted.
    pub fn busy(&self) -> Busy {
        if let Some(entry) = self.gate.lock().open.get_mut(&self.id) {
            entry.busy += 1;
        }
        Busy { conn: self.clone() }
    }
}

/// A request in progress (see [`Conn::busy`]).
#[derive(Debug)]
pub struct Busy {
    conn: Conn,
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Some(entry) = self.conn.gate.lock().open.get_mut(&self.conn.id) {
            entry.busy = entry.busy.saturating_sub(1);
            if entry.busy == 0 {
                entry.idle_since = Instant::now();
            }
        }
    }
}

/// Whether a whole request already waits on `socket`: `terminator` (a request line's
/// `\n`, a request head's `\r\n\r\n`) in the first 8 KiB it holds, peeked without waiting
/// or consuming. The accept loop asks before it accepts the next connection and marks
/// such a connection busy at once, so a client that sent its request cannot be evicted
/// before its task first runs, however fast others connect.
pub fn request_waiting(socket: &impl AsFd, terminator: &[u8]) -> bool {
    let mut head = [0u8; 8192];
    let fd = socket.as_fd().as_raw_fd();
    let flags = libc::MSG_PEEK | libc::MSG_DONTWAIT;
    // SAFETY: recv(2) writes at most `head.len()` bytes into `head`, which outlives it.
    let got = unsafe { libc::recv(fd, head.as_mut_ptr().cast(), head.len(), flags) };
    usize::try_from(got).is_ok_and(|n| head[..n].windows(terminator.len()).any(|w| w == terminator))
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
