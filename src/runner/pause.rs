//! One run under the pressure ladder, shared by the daemon and the run's task (ADR 0036,
//! 0040). The daemon notes each throttle, lift, freeze and thaw it carries out on the run
//! ([`PressureClock`]); the run's task waits for its timeout with
//! [`PressureClock::timeout`], which does not count the time the run spent frozen (a job
//! that was stopped by slotcron is not blamed for the minutes it could not run), and
//! records the run's throttled and frozen time ([`RunPressure::recorded`]) when it ends.
//!
//! Two clocks, two purposes: the timeout is a deadline and waits on tokio's monotonic
//! clock; the times shown and recorded are the daemon's wall clock, computed by
//! [`RunPressure::times`] alone.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::model::RunPressure;

/// The run's book: the ladder's hold on it (wall clock) and its frozen time as the
/// timeout counts it (monotonic).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct State {
    /// What is shown and recorded.
    book: RunPressure,
    /// Frozen time of the freezes that have ended, for the timeout.
    frozen_total: Duration,
    /// When the current freeze began, for the timeout; `None` while the run runs.
    frozen_since: Option<Instant>,
}

impl State {
    fn frozen_for(self, now: Instant) -> Duration {
        self.frozen_total + self.frozen_since.map_or(Duration::ZERO, |s| now - s)
    }
}

/// Shared by the daemon (which calls [`PressureClock::throttle`], [`PressureClock::freeze`]
/// ...) and the run's task. Cloning shares it.
#[derive(Debug, Clone)]
pub struct PressureClock {
    state: Arc<watch::Sender<State>>,
}

impl Default for PressureClock {
    fn default() -> PressureClock {
        PressureClock {
            state: Arc::new(watch::Sender::new(State::default())),
        }
    }
}

impl PressureClock {
    /// The run's `memory.high` was set at `now` (the timeout is not concerned).
    pub fn throttle(&self, now: DateTime<Utc>) {
        self.state.send_if_modified(|s| {
            s.book.throttle(now);
            false
        });
    }

    /// The run's `memory.high` was lifted at `now`; returns how long the throttle lasted, ms.
    pub fn lift(&self, now: DateTime<Utc>) -> u64 {
        let mut lasted = 0;
        self.state.send_if_modified(|s| {
            lasted = s.book.lift(now);
            false
        });
        lasted
    }

    /// The run was frozen at `now`; a second freeze without a thaw changes nothing.
    pub fn freeze(&self, now: DateTime<Utc>) {
        let instant = Instant::now();
        self.state.send_if_modified(|s| {
            s.book.freeze(now);
            let fresh = s.frozen_since.is_none();
            if fresh {
                s.frozen_since = Some(instant);
            }
            fresh
        });
    }

    /// The run was thawed at `now`. Returns how long this freeze lasted, ms (0 if it was
    /// not frozen).
    pub fn thaw(&self, now: DateTime<Utc>) -> u64 {
        let instant = Instant::now();
        let mut lasted = 0;
        self.state.send_if_modified(|s| {
            lasted = s.book.thaw(now);
            match s.frozen_since.take() {
                Some(since) => {
                    s.frozen_total += instant - since;
                    true
                }
                None => false,
            }
        });
        lasted
    }

    /// The ladder's hold on the run now.
    pub fn book(&self) -> RunPressure {
        self.state.borrow().book
    }

    /// Whether the run is frozen now.
    pub fn is_frozen(&self) -> bool {
        self.state.borrow().frozen_since.is_some()
    }

    /// Completes once `limit` of time not frozen has passed since it was called.
    pub async fn timeout(&self, limit: Duration) {
        let start = Instant::now();
        let mut changes = self.state.subscribe();
        let before = changes.borrow_and_update().frozen_for(start);
        loop {
            let state = *changes.borrow_and_update();
            if state.frozen_since.is_none() {
                let frozen = state.frozen_total - before.min(state.frozen_total);
                let deadline = start + limit + frozen;
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => return,
                    _ = changes.changed() => {}
                }
            } else {
                // The sender lives as long as `self`: `changed` only fails if it is gone.
                let _ = changes.changed().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::PressureState;

    const S: Duration = Duration::from_secs(1);

    fn wall(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
    }

    #[tokio::test(start_paused = true)]
    async fn time_frozen_does_not_count_against_the_timeout() {
        let clock = PressureClock::default();
        let started = Instant::now();
        let waiter = tokio::spawn({
            let clock = clock.clone();
            async move { clock.timeout(10 * S).await }
        });
        tokio::time::sleep(4 * S).await;
        clock.freeze(wall(4));
        assert!(clock.is_frozen());
        tokio::time::sleep(30 * S).await;
        assert!(!waiter.is_finished(), "frozen: the timeout waits");
        assert_eq!(clock.thaw(wall(34)), 30_000);
        assert_eq!(clock.thaw(wall(35)), 0, "a second thaw is nothing");
        waiter.await.unwrap();
        assert_eq!(
            Instant::now() - started,
            40 * S,
            "10 s running + 30 s frozen"
        );
        assert_eq!(clock.book().times(wall(40)).frozen_ms, 30_000);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_does_not_move_the_timeout() {
        let clock = PressureClock::default();
        let started = Instant::now();
        let waiter = tokio::spawn({
            let clock = clock.clone();
            async move { clock.timeout(10 * S).await }
        });
        tokio::time::sleep(2 * S).await;
        clock.throttle(wall(2));
        assert_eq!(clock.book().state(), Some(PressureState::Throttled));
        waiter.await.unwrap();
        assert_eq!(Instant::now() - started, 10 * S);
        assert_eq!(clock.lift(wall(10)), 8_000);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_freeze_the_timeout_is_the_limit() {
        let clock = PressureClock::default();
        let started = Instant::now();
        clock.timeout(7 * S).await;
        assert_eq!(Instant::now() - started, 7 * S);
        assert_eq!(clock.book().recorded(wall(7)), None);
    }
}
