//! The daemon's one source of wall-clock time, passed in (ADR 0038). Production code asks
//! a [`Clock`] instead of calling `Utc::now()`, so a test can set the time to a
//! daylight-saving night or jump it past a downtime and watch the scheduler, without
//! sleeping.
//!
//! Waiting is tokio's: the [`FakeClock`] moves with tokio's clock, so a test that pauses
//! tokio's time (`#[tokio::test(start_paused = true)]`) has the wall clock and every
//! timer under its control at once.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

/// Where the time comes from.
pub trait Clock: Send + Sync + Debug {
    /// The wall-clock time now.
    fn now(&self) -> DateTime<Utc>;

    /// Whether this is the machine's own clock, which the kernel can wake us on when it
    /// is set (a timerfd on `CLOCK_REALTIME`); any other clock is slept on with tokio's
    /// timers.
    fn is_system(&self) -> bool {
        false
    }
}

/// A clock shared by everything one daemon runs.
pub type SharedClock = Arc<dyn Clock>;

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn is_system(&self) -> bool {
        true
    }
}

/// The machine's wall clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock for tests. It starts where it is told and moves with tokio's clock: at real
/// speed normally, and under paused time only when the test advances tokio's time or the
/// runtime, idle, skips ahead to its next timer. [`FakeClock::set`] and
/// [`FakeClock::advance`] jump it without moving tokio's timers, as a suspend or a step
/// of the system clock does.
#[derive(Debug)]
pub struct FakeClock {
    /// The wall time at the tokio instant: `now()` is the first plus what tokio's clock
    /// has moved since the second.
    anchor: Mutex<(DateTime<Utc>, tokio::time::Instant)>,
}

impl FakeClock {
    /// A clock that reads `start` now.
    pub fn new(start: DateTime<Utc>) -> Arc<FakeClock> {
        Arc::new(FakeClock {
            anchor: Mutex::new((start, tokio::time::Instant::now())),
        })
    }

    /// Sets the wall time to `to` (tokio's timers do not move).
    pub fn set(&self, to: DateTime<Utc>) {
        *self.anchor.lock().unwrap_or_else(PoisonError::into_inner) =
            (to, tokio::time::Instant::now());
    }

    /// Moves the wall time by `by`, which may be negative (tokio's timers do not move).
    pub fn advance(&self, by: chrono::Duration) {
        let mut anchor = self.anchor.lock().unwrap_or_else(PoisonError::into_inner);
        anchor.0 += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        let (at, since) = *self.anchor.lock().unwrap_or_else(PoisonError::into_inner);
        let moved = chrono::Duration::from_std(since.elapsed()).unwrap_or(chrono::Duration::MAX);
        at + moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test(start_paused = true)]
    async fn the_fake_clock_moves_with_paused_tokio_time_and_jumps_when_set() {
        let start = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
        let clock = FakeClock::new(start);
        assert_eq!(clock.now(), start);
        tokio::time::sleep(std::time::Duration::from_secs(90)).await;
        assert_eq!(clock.now(), start + chrono::Duration::seconds(90));
        clock.advance(chrono::Duration::hours(3));
        assert_eq!(
            clock.now(),
            start + chrono::Duration::seconds(90) + chrono::Duration::hours(3)
        );
        clock.set(start);
        assert_eq!(clock.now(), start);
        assert!(!clock.is_system());
        assert!(SystemClock.is_system());
    }
}
