//! One run under the pressure ladder (issue 16, ADR 0036 and 0040): whether it is throttled
//! or frozen now, since when, and for how long in all. [`RunPressure`] is the book the
//! daemon keeps per run as it carries out the ladder's steps; [`RunPressure::times`] is
//! the one place the throttled and frozen durations are computed, for `slotcron status`,
//! the API, the live events and the figures recorded in history when the run ends.
//!
//! Durations are wall-clock differences on the daemon's clock (ADR 0038), in
//! milliseconds, never negative (a clock stepped back makes a span 0, not less).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where the ladder holds a run now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PressureState {
    /// `memory.high` below its usage: the kernel reclaims from it and slows it.
    Throttled,
    /// `cgroup.freeze`: it does not run (it may be throttled as well).
    Frozen,
}

impl PressureState {
    /// Its word in `status`, the API and the dashboard.
    pub fn as_str(self) -> &'static str {
        match self {
            PressureState::Throttled => "throttled",
            PressureState::Frozen => "frozen",
        }
    }
}

/// How long a run has been throttled and frozen in all, the spans going on included.
/// A frozen run that was throttled first counts in both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PressureTimes {
    pub throttled_ms: u64,
    pub frozen_ms: u64,
}

/// The ladder's hold on one run. Starts untouched; the daemon calls [`RunPressure::throttle`],
/// [`RunPressure::lift`], [`RunPressure::freeze`] and [`RunPressure::thaw`] as it writes the
/// run's `memory.high` and `cgroup.freeze`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunPressure {
    /// When the current throttle began; `None` while not throttled.
    throttled_since: Option<DateTime<Utc>>,
    /// When the current freeze began; `None` while not frozen.
    frozen_since: Option<DateTime<Utc>>,
    /// The time of the spans that have ended.
    ended: PressureTimes,
    /// Whether the ladder ever acted on the run (then its times are recorded, even 0).
    touched: bool,
}

/// Milliseconds from `since` to `now`; 0 without a `since` or when `now` is earlier.
fn span_ms(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> u64 {
    since.map_or(0, |since| {
        u64::try_from((now - since).num_milliseconds()).unwrap_or(0)
    })
}

impl RunPressure {
    /// Its `memory.high` was set now; a second throttle keeps the first one's start.
    pub fn throttle(&mut self, now: DateTime<Utc>) {
        self.touched = true;
        self.throttled_since.get_or_insert(now);
    }

    /// Its `memory.high` was lifted now; returns how long this throttle lasted, ms.
    pub fn lift(&mut self, now: DateTime<Utc>) -> u64 {
        let lasted = span_ms(self.throttled_since.take(), now);
        self.ended.throttled_ms += lasted;
        lasted
    }

    /// It was frozen now; a second freeze keeps the first one's start.
    pub fn freeze(&mut self, now: DateTime<Utc>) {
        self.touched = true;
        self.frozen_since.get_or_insert(now);
    }

    /// It was thawed now; returns how long this freeze lasted, ms (0 if not frozen).
    pub fn thaw(&mut self, now: DateTime<Utc>) -> u64 {
        let lasted = span_ms(self.frozen_since.take(), now);
        self.ended.frozen_ms += lasted;
        lasted
    }

    /// Whether it is held in `state` now (a frozen run may be throttled as well).
    pub fn holds(&self, state: PressureState) -> bool {
        match state {
            PressureState::Throttled => self.throttled_since.is_some(),
            PressureState::Frozen => self.frozen_since.is_some(),
        }
    }

    /// Frozen if frozen, else throttled if throttled, else `None`.
    pub fn state(&self) -> Option<PressureState> {
        if self.frozen_since.is_some() {
            Some(PressureState::Frozen)
        } else if self.throttled_since.is_some() {
            Some(PressureState::Throttled)
        } else {
            None
        }
    }

    /// The time throttled and frozen up to `now`, the spans going on included: the one
    /// function every shown or recorded duration comes from.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use slotcron::model::RunPressure;
    /// let t0 = Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap();
    /// let mut p = RunPressure::default();
    /// p.throttle(t0);
    /// p.freeze(t0 + Duration::seconds(2));
    /// assert_eq!(p.thaw(t0 + Duration::seconds(5)), 3000);
    /// let times = p.times(t0 + Duration::seconds(7));
    /// assert_eq!((times.throttled_ms, times.frozen_ms), (7000, 3000));
    /// ```
    pub fn times(&self, now: DateTime<Utc>) -> PressureTimes {
        PressureTimes {
            throttled_ms: self.ended.throttled_ms + span_ms(self.throttled_since, now),
            frozen_ms: self.ended.frozen_ms + span_ms(self.frozen_since, now),
        }
    }

    /// What history records when the run ends at `now`: its times, or `None` when the
    /// ladder never acted on it.
    pub fn recorded(&self, now: DateTime<Utc>) -> Option<PressureTimes> {
        self.touched.then(|| self.times(now))
    }

    /// The run as the status, the API and the live events show it at `now`; `None` when
    /// the ladder never acted on it.
    pub fn view(&self, now: DateTime<Utc>) -> Option<PressureView> {
        let times = self.recorded(now)?;
        Some(PressureView {
            state: self.state(),
            throttled_since: self.throttled_since,
            frozen_since: self.frozen_since,
            throttled_ms: times.throttled_ms,
            frozen_ms: times.frozen_ms,
        })
    }
}

/// A run the ladder acted on, as shown: the `pressure` of a run in `slotcron status`, the
/// API and the `run_pressure` event. For a run that has ended (history), `state` and the
/// `*_since` are `None` and the times are the recorded ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PressureView {
    /// Where the ladder holds it now; `None` once released.
    pub state: Option<PressureState>,
    /// When its current throttle began.
    pub throttled_since: Option<DateTime<Utc>>,
    /// When its current freeze began.
    pub frozen_since: Option<DateTime<Utc>>,
    /// Time throttled in all, ms.
    pub throttled_ms: u64,
    /// Time frozen in all, ms.
    pub frozen_ms: u64,
}

impl PressureView {
    /// The view of a run that ended with these recorded times.
    pub fn ended(times: PressureTimes) -> PressureView {
        PressureView {
            state: None,
            throttled_since: None,
            frozen_since: None,
            throttled_ms: times.throttled_ms,
            frozen_ms: times.frozen_ms,
        }
    }

    /// The recorded times.
    pub fn times(&self) -> PressureTimes {
        PressureTimes {
            throttled_ms: self.throttled_ms,
            frozen_ms: self.frozen_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn t(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap() + Duration::seconds(seconds)
    }

    #[test]
    fn an_untouched_run_shows_and_records_nothing() {
        let p = RunPressure::default();
        assert_eq!(p.view(t(10)), None);
        assert_eq!(p.recorded(t(10)), None);
        assert_eq!(p.state(), None);
    }

    #[test]
    fn times_add_the_ended_spans_and_the_ones_going_on() {
        let mut p = RunPressure::default();
        p.throttle(t(0));
        p.throttle(t(1));
        assert_eq!(p.state(), Some(PressureState::Throttled));
        p.freeze(t(4));
        assert_eq!(p.state(), Some(PressureState::Frozen));
        assert!(p.holds(PressureState::Throttled) && p.holds(PressureState::Frozen));
        let view = p.view(t(10)).unwrap();
        assert_eq!(
            view.throttled_since,
            Some(t(0)),
            "the first throttle's start"
        );
        assert_eq!(view.frozen_since, Some(t(4)));
        assert_eq!((view.throttled_ms, view.frozen_ms), (10_000, 6_000));
        assert_eq!(p.thaw(t(10)), 6_000);
        assert_eq!(p.lift(t(12)), 12_000);
        p.freeze(t(20));
        assert_eq!(p.thaw(t(21)), 1_000);
        assert_eq!(p.state(), None);
        assert_eq!(
            p.recorded(t(30)),
            Some(PressureTimes {
                throttled_ms: 12_000,
                frozen_ms: 7_000
            })
        );
        let released = p.view(t(30)).unwrap();
        assert_eq!(released.state, None);
        assert_eq!(released.frozen_since, None);
    }

    #[test]
    fn a_clock_stepped_back_gives_zero_not_less() {
        let mut p = RunPressure::default();
        p.freeze(t(10));
        assert_eq!(p.times(t(5)).frozen_ms, 0);
        assert_eq!(p.thaw(t(5)), 0);
        assert_eq!(p.lift(t(6)), 0, "never throttled");
    }

    #[test]
    fn views_serialize_with_lowercase_states() {
        let mut p = RunPressure::default();
        p.freeze(t(0));
        let json = serde_json::to_value(p.view(t(2)).unwrap()).unwrap();
        assert_eq!(json["state"], "frozen");
        assert_eq!(json["frozen_ms"], 2000);
        assert_eq!(json["throttled_since"], serde_json::Value::Null);
    }
}
