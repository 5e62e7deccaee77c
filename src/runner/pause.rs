//! Frozen time of one run. The daemon freezes and thaws a run under memory pressure
//! (ADR 0036); the run's task waits for its timeout with [`FrozenClock::timeout`], which
//! does not count the time the run spent frozen: a job that was stopped by slotcron is not
//! blamed for the minutes it could not run.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// The frozen time so far and, while frozen, since when.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct State {
    /// Frozen time of the freezes that have ended.
    total: Duration,
    /// When the current freeze began; `None` while the run runs.
    since: Option<Instant>,
}

impl State {
    fn frozen_for(self, now: Instant) -> Duration {
        self.total + self.since.map_or(Duration::ZERO, |s| now - s)
    }
}

/// Shared by the daemon (which calls [`FrozenClock::freeze`] and [`FrozenClock::thaw`])
/// and the run's task. Cloning shares it.
#[derive(Debug, Clone)]
pub struct FrozenClock {
    state: Arc<watch::Sender<State>>,
}

impl Default for FrozenClock {
    fn default() -> FrozenClock {
        FrozenClock {
            state: Arc::new(watch::Sender::new(State::default())),
        }
    }
}

impl FrozenClock {
    /// The run was frozen now; a second freeze without a thaw changes nothing.
    pub fn freeze(&self) {
        let now = Instant::now();
        self.state.send_if_modified(|s| {
            let fresh = s.since.is_none();
            if fresh {
                s.since = Some(now);
            }
            fresh
        });
    }

    /// The run was thawed now. Returns how long this freeze lasted (zero if not frozen).
    pub fn thaw(&self) -> Duration {
        let now = Instant::now();
        let mut lasted = Duration::ZERO;
        self.state.send_if_modified(|s| match s.since.take() {
            Some(since) => {
                lasted = now - since;
                s.total += lasted;
                true
            }
            None => false,
        });
        lasted
    }

    /// Whether the run is frozen now.
    pub fn is_frozen(&self) -> bool {
        self.state.borrow().since.is_some()
    }

    /// All the time the run has spent frozen, the current freeze included.
    pub fn frozen_for(&self) -> Duration {
        self.state.borrow().frozen_for(Instant::now())
    }

    /// Completes once `limit` of time not frozen has passed since it was called.
    pub async fn timeout(&self, limit: Duration) {
        let start = Instant::now();
        let mut changes = self.state.subscribe();
        let before = changes.borrow_and_update().frozen_for(start);
        loop {
            let state = *changes.borrow_and_update();
            if state.since.is_none() {
                let deadline = start + limit + (state.total - before.min(state.total));
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
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[tokio::test(start_paused = true)]
    async fn time_frozen_does_not_count_against_the_timeout() {
        let clock = FrozenClock::default();
        let started = Instant::now();
        let waiter = tokio::spawn({
            let clock = clock.clone();
            async move { clock.timeout(10 * S).await }
        });
        tokio::time::sleep(4 * S).await;
        clock.freeze();
        assert!(clock.is_frozen());
        tokio::time::sleep(30 * S).await;
        assert!(!waiter.is_finished(), "frozen: the timeout waits");
        assert_eq!(clock.thaw(), 30 * S);
        assert_eq!(clock.thaw(), Duration::ZERO, "a second thaw is nothing");
        waiter.await.unwrap();
        assert_eq!(
            Instant::now() - started,
            40 * S,
            "10 s running + 30 s frozen"
        );
        assert_eq!(clock.frozen_for(), 30 * S);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_freeze_the_timeout_is_the_limit() {
        let clock = FrozenClock::default();
        let started = Instant::now();
        clock.timeout(7 * S).await;
        assert_eq!(Instant::now() - started, 7 * S);
    }
}
