//! Sleeping until a wall-clock instant. Cron times are wall-clock times, but tokio's timers
//! run on the monotonic clock: after a suspend or a clock step they would fire late or
//! early. A `timerfd` on `CLOCK_REALTIME` with `TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET`
//! fires at the wall-clock deadline and wakes early when the clock is set, so the daemon
//! recomputes instead of polling (systemd's timers work the same way). Where timerfd is
//! unavailable, a monotonic sleep re-checked at least every minute stands in; a clock that is
//! not the machine's (a test's [`crate::clock::FakeClock`]) is always slept on that way.

use std::os::fd::AsFd;
use std::time::Duration;

use chrono::{DateTime, Utc};
use nix::errno::Errno;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::unix::AsyncFd;

use super::fd::{Owned, register};
use crate::clock::SharedClock;
use tracing::warn;

/// The longest monotonic sleep of the fallback before the wall clock is looked at again.
const FALLBACK_MAX_SLEEP: Duration = Duration::from_secs(60);

/// A one-shot wall-clock alarm, re-armed before each wait.
pub struct WallTimer {
    fd: Option<AsyncFd<Owned<TimerFd>>>,
    /// Whose time the deadlines are in.
    clock: SharedClock,
}

impl WallTimer {
    /// A timerfd-backed alarm for the machine's clock, or the monotonic fallback when the
    /// kernel refuses one or `clock` is not the machine's.
    pub fn new(clock: SharedClock) -> WallTimer {
        if !clock.is_system() {
            return WallTimer { fd: None, clock };
        }
        let fd = TimerFd::new(
            ClockId::CLOCK_REALTIME,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(|e| warn!(error = %e, "no timerfd; falling back to monotonic sleeps"))
        .ok()
        .and_then(|fd| {
            register(fd)
                .map_err(|e| warn!(error = %e, "cannot poll the timerfd; falling back"))
                .ok()
        });
        WallTimer { fd, clock }
    }

    /// Returns at `deadline` (wall clock), or earlier when the clock is set; never before
    /// `deadline` otherwise. `None` sleeps until the clock is set (or forever).
    pub async fn sleep_until(&mut self, deadline: Option<DateTime<Utc>>) {
        let Some(fd) = &mut self.fd else {
            return self.fallback(deadline).await;
        };
        let expiration = match deadline {
            // An alarm far in the future stands for "no deadline": it still wakes on a clock step.
            None => Expiration::OneShot(TimeSpec::new(i64::from(i32::MAX), 0)),
            Some(at) => {
                let nanos = at.timestamp_subsec_nanos();
                // 0/0 would disarm the timer: a past deadline becomes "1 ns after the epoch".
                let spec = if at.timestamp() <= 0 {
                    TimeSpec::new(0, 1)
                } else {
                    TimeSpec::new(at.timestamp(), i64::from(nanos))
                };
                Expiration::OneShot(spec)
            }
        };
        let armed = fd.get_ref().0.set(
            expiration,
            TimerSetTimeFlags::TFD_TIMER_ABSTIME | TimerSetTimeFlags::TFD_TIMER_CANCEL_ON_SET,
        );
        if let Err(e) = armed {
            warn!(error = %e, "arming the timerfd; falling back");
            self.fd = None;
            return self.fallback(deadline).await;
        }
        loop {
            let Ok(mut ready) = fd.readable().await else {
                self.fd = None;
                return self.fallback(deadline).await;
            };
            let mut buf = [0u8; 8];
            match nix::unistd::read(ready.get_inner().0.as_fd(), &mut buf) {
                // Expired, or ECANCELED: the clock was set; either way the caller recomputes.
                Ok(_) | Err(Errno::ECANCELED) => return,
                Err(Errno::EAGAIN) => ready.clear_ready(),
                Err(e) => {
                    warn!(error = %e, "reading the timerfd; falling back");
                    self.fd = None;
                    return self.fallback(deadline).await;
                }
            }
        }
    }

    async fn fallback(&self, deadline: Option<DateTime<Utc>>) {
        let wait = deadline.map_or(FALLBACK_MAX_SLEEP, |at| {
            (at - self.clock.now())
                .to_std()
                .unwrap_or_default()
                .min(FALLBACK_MAX_SLEEP)
        });
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_at_the_wall_clock_deadline_not_before() {
        let mut timer = WallTimer::new(crate::clock::system());
        assert!(timer.fd.is_some(), "Linux has timerfd");
        let deadline = Utc::now() + chrono::Duration::milliseconds(150);
        timer.sleep_until(Some(deadline)).await;
        assert!(Utc::now() >= deadline);
        let past = Utc::now() - chrono::Duration::seconds(5);
        tokio::time::timeout(Duration::from_secs(2), timer.sleep_until(Some(past)))
            .await
            .expect("a past deadline returns at once");
    }
}
