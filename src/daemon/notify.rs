//! Telling systemd where the daemon stands (`Type=notify`): `READY=1` once it serves,
//! `STATUS=...` lines for `systemctl status`, `STOPPING=1` at shutdown, and `WATCHDOG=1`
//! pings at half of `WatchdogSec=`.
//!
//! The messages are the `sd-notify` crate's ([`sd_notify::NotifyState`]); the socket is
//! passed in ([`Notifier::to_socket`]) so tests bind their own, and [`Notifier::from_env`]
//! reads `NOTIFY_SOCKET` and `WATCHDOG_USEC` once. Without `NOTIFY_SOCKET` (not started by
//! systemd) every call is a no-op. Unlike `sd_notify::notify`, an abstract socket
//! (`@name`) is supported. Jobs never see these variables: the runner clears their
//! environment.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

use sd_notify::NotifyState;
use tracing::{debug, warn};

/// Where notifications go, and the watchdog's period.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    /// `NOTIFY_SOCKET`; `None`: not under systemd, every call is a no-op.
    socket: Option<OsString>,
    /// `WATCHDOG_USEC` (meant for this process); `None`: no watchdog.
    watchdog: Option<Duration>,
}

impl Notifier {
    /// From the environment systemd sets: `NOTIFY_SOCKET`, `WATCHDOG_USEC` (ignored when
    /// `WATCHDOG_PID` names another process).
    pub fn from_env() -> Notifier {
        match std::env::var_os("NOTIFY_SOCKET").filter(|s| !s.is_empty()) {
            Some(socket) => Notifier::to_socket(socket, sd_notify::watchdog_enabled()),
            None => Notifier::disabled(),
        }
    }

    /// Notifications to `socket` (a path, or `@name` for an abstract socket), with a
    /// watchdog of `watchdog` (systemd's `WATCHDOG_USEC`) if any.
    pub fn to_socket(socket: impl AsRef<OsStr>, watchdog: Option<Duration>) -> Notifier {
        Notifier {
            socket: Some(socket.as_ref().to_owned()),
            watchdog: watchdog.filter(|d| !d.is_zero()),
        }
    }

    /// A notifier that sends nothing.
    pub fn disabled() -> Notifier {
        Notifier::default()
    }

    /// Whether notifications go anywhere.
    pub fn is_enabled(&self) -> bool {
        self.socket.is_some()
    }

    /// `READY=1` with a status line: startup is done (recovery included), the daemon serves.
    pub fn ready(&self, status: &str) {
        self.notify(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// `STATUS=...`: one line shown by `systemctl status`.
    pub fn status(&self, status: &str) {
        self.notify(&[NotifyState::Status(status)]);
    }

    /// `RELOADING=1` while the configuration is reloaded (SIGHUP); send [`Self::ready`]
    /// when done.
    pub fn reloading(&self) {
        self.notify(&[NotifyState::Reloading]);
    }

    /// `STOPPING=1`: shutdown has begun (runs are being stopped).
    pub fn stopping(&self) {
        self.notify(&[NotifyState::Stopping]);
    }

    /// How often to [`Self::ping`]: half of `WATCHDOG_USEC`, as `sd_watchdog_enabled(3)`
    /// advises; `None` without a watchdog or without a socket.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.socket.as_ref()?;
        self.watchdog.map(|d| d / 2)
    }

    /// `WATCHDOG=1`: the daemon is alive.
    pub fn ping(&self) {
        self.notify(&[NotifyState::Watchdog]);
    }

    /// Pings every [`Self::watchdog_interval`] until `stop` resolves; returns at once
    /// without a watchdog. Spawn it on the runtime that does the daemon's work, so a stuck
    /// runtime stops the pings and systemd restarts the daemon.
    pub async fn watchdog(&self, stop: impl Future<Output = ()>) {
        let Some(interval) = self.watchdog_interval() else {
            return;
        };
        tokio::pin!(stop);
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => self.ping(),
                () = &mut stop => return,
            }
        }
    }

    /// Sends `states` as one datagram; failures are logged, never fatal (systemd may be
    /// gone during shutdown).
    fn notify(&self, states: &[NotifyState<'_>]) {
        let Some(socket) = &self.socket else {
            return;
        };
        let mut message = String::new();
        for state in states {
            // Writing to a String cannot fail.
            let _ = writeln!(message, "{state}");
        }
        match send(socket, message.as_bytes()) {
            Ok(()) => debug!(message = message.trim_end(), "notified systemd"),
            Err(error) => {
                warn!(%error, socket = %socket.to_string_lossy(), "cannot notify systemd")
            }
        }
    }
}

/// One datagram to the notification socket.
fn send(socket: &OsStr, message: &[u8]) -> io::Result<()> {
    let bytes = socket.as_bytes();
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name)?,
        None => SocketAddr::from_pathname(socket)?,
    };
    let sent = UnixDatagram::unbound()?.send_to_addr(message, &addr)?;
    if sent == message.len() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::WriteZero,
            "short write to the notification socket",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bound datagram socket in a temp dir, playing systemd.
    fn systemd() -> (tempfile::TempDir, std::path::PathBuf, UnixDatagram) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (dir, path, sock)
    }

    fn received(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 4096];
        let n = sock.recv(&mut buf).expect("a datagram within 5 s");
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn sends_each_state_as_one_datagram() {
        let (_dir, path, sock) = systemd();
        let n = Notifier::to_socket(&path, None);
        n.ready("2 slots, 5 jobs");
        n.status("3 runs going");
        n.reloading();
        n.ping();
        n.stopping();
        assert_eq!(received(&sock), "READY=1\nSTATUS=2 slots, 5 jobs\n");
        assert_eq!(received(&sock), "STATUS=3 runs going\n");
        assert_eq!(received(&sock), "RELOADING=1\n");
        assert_eq!(received(&sock), "WATCHDOG=1\n");
        assert_eq!(received(&sock), "STOPPING=1\n");
    }

    #[test]
    fn abstract_socket_names_start_with_at() {
        let name = format!("slotcron-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let sock = UnixDatagram::bind_addr(&addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Notifier::to_socket(format!("@{name}"), None).stopping();
        assert_eq!(received(&sock), "STOPPING=1\n");
    }

    #[test]
    fn watchdog_interval_is_half_of_watchdog_usec() {
        let n = Notifier::to_socket("/nonexistent", Some(Duration::from_secs(30)));
        assert_eq!(n.watchdog_interval(), Some(Duration::from_secs(15)));
        assert_eq!(Notifier::to_socket("/x", None).watchdog_interval(), None);
        assert_eq!(
            Notifier::to_socket("/x", Some(Duration::ZERO)).watchdog_interval(),
            None
        );
        assert_eq!(Notifier::disabled().watchdog_interval(), None);
    }

    #[test]
    fn disabled_and_unreachable_notifiers_do_nothing_and_do_not_fail() {
        let n = Notifier::disabled();
        assert!(!n.is_enabled());
        n.ready("x");
        n.stopping();
        // No one listens there: logged, not fatal.
        Notifier::to_socket("/nonexistent/notify", None).ready("x");
    }

    #[tokio::test(start_paused = true)]
    async fn watchdog_pings_every_half_period_until_stopped() {
        let (_dir, path, sock) = systemd();
        let n = Notifier::to_socket(&path, Some(Duration::from_secs(30)));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let pinger = tokio::spawn(async move {
            n.watchdog(async {
                let _ = rx.await;
            })
            .await
        });
        // The first tick is immediate, then one every 15 s of (paused, advanced) time.
        tokio::time::sleep(Duration::from_secs(31)).await;
        tx.send(()).unwrap();
        pinger.await.unwrap();
        sock.set_nonblocking(true).unwrap();
        let mut pings = 0;
        let mut buf = [0u8; 64];
        while let Ok(n) = sock.recv(&mut buf) {
            assert_eq!(&buf[..n], b"WATCHDOG=1\n");
            pings += 1;
        }
        assert_eq!(pings, 3, "at 0 s, 15 s and 30 s");
    }
}
