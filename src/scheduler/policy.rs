//! Retry backoff and the circuit breaker: small rules with exact answers.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::Breaker;
use crate::store::JobSummary;

/// Longest wait between retries unless `retry_delay` itself is longer (Kubernetes caps its
/// Job backoff at six minutes too).
pub const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(6 * 60);

/// How long to wait before attempt `next_attempt` (2 for the first retry): `retry_delay`
/// doubled for each earlier retry, capped at [`MAX_RETRY_BACKOFF`] (or at `retry_delay`
/// when that is longer).
///
/// ```
/// use std::time::Duration;
/// use slotcron::scheduler::retry_backoff;
/// let base = Duration::from_secs(10);
/// assert_eq!(retry_backoff(base, 2), Duration::from_secs(10));
/// assert_eq!(retry_backoff(base, 4), Duration::from_secs(40));
/// assert_eq!(retry_backoff(base, 12), Duration::from_secs(360));
/// ```
pub fn retry_backoff(retry_delay: Duration, next_attempt: u32) -> Duration {
    let doublings = next_attempt.saturating_sub(2).min(31);
    let cap = MAX_RETRY_BACKOFF.max(retry_delay);
    retry_delay
        .checked_mul(1 << doublings)
        .map_or(cap, |d| d.min(cap))
}

/// Where a job's circuit breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Runs as scheduled.
    Closed,
    /// Tripped: not scheduled until `until`.
    Open { until: DateTime<Utc> },
    /// The cooldown has passed: the next run is the trial that closes or reopens it.
    Trial,
}

/// The breaker of a job with `threshold` failures and `cooldown`, given its consecutive
/// failures (since its last success or reset) and when the last of them ended.
pub fn breaker_state(
    threshold: u32,
    cooldown: Duration,
    consecutive_failures: u32,
    last_failure_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> BreakerState {
    if threshold == 0 || consecutive_failures < threshold {
        return BreakerState::Closed;
    }
    let Some(last) = last_failure_at else {
        return BreakerState::Trial;
    };
    let until = last + chrono::Duration::from_std(cooldown).unwrap_or(chrono::Duration::MAX);
    if now < until {
        BreakerState::Open { until }
    } else {
        BreakerState::Trial
    }
}

/// The breaker of a job with `breaker:` (always closed without it) whose history says
/// `summary`, at `now`.
pub fn job_breaker(
    breaker: Option<&Breaker>,
    summary: &JobSummary,
    now: DateTime<Utc>,
) -> BreakerState {
    match breaker {
        None => BreakerState::Closed,
        Some(b) => breaker_state(
            b.failures,
            b.cooldown,
            summary.consecutive_failures,
            summary.last_failure_at,
            now,
        ),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn backoff_doubles_from_retry_delay_and_is_capped() {
        let base = Duration::from_secs(10);
        let waits: Vec<u64> = (2..=8).map(|a| retry_backoff(base, a).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 360]);
        let long = Duration::from_secs(600);
        assert_eq!(
            retry_backoff(long, 5),
            long,
            "a long retry_delay is its own cap"
        );
        assert_eq!(retry_backoff(base, u32::MAX), MAX_RETRY_BACKOFF);
    }

    #[test]
    fn breaker_trips_at_the_threshold_and_offers_a_trial_after_the_cooldown() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let cooldown = Duration::from_secs(600);
        assert_eq!(
            breaker_state(3, cooldown, 2, Some(t0), t0),
            BreakerState::Closed
        );
        let until = t0 + chrono::Duration::seconds(600);
        assert_eq!(
            breaker_state(
                3,
                cooldown,
                3,
                Some(t0),
                t0 + chrono::Duration::seconds(599)
            ),
            BreakerState::Open { until }
        );
        assert_eq!(
            breaker_state(3, cooldown, 4, Some(t0), until),
            BreakerState::Trial
        );
        assert_eq!(
            breaker_state(0, cooldown, 99, Some(t0), t0),
            BreakerState::Closed
        );
    }
}
