//! When a job's schedule puts it on the timeline: the deadline of a fire time with its
//! jitter, the fire time that follows one that has come, and the one missed fire time a
//! `catch_up: once` job makes up at start. Pure functions of the job and instants; the
//! daemon (`crate::daemon`) draws the jitter at random, the forecast (`crate::plan`) takes
//! its expected value, and both go through [`jittered`].

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::Job;

/// The deadline of the fire time `nominal` of a job with `jitter`: `nominal` plus the
/// milliseconds `pick` chooses from `0..=jitter` (given in ms). No jitter, no delay.
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use slotcron::scheduler::firing::{expected_jitter, jittered};
/// let t = Utc.with_ymd_and_hms(2026, 12, 6, 2, 0, 0).unwrap();
/// let jitter = Some(Duration::from_secs(30));
/// assert_eq!(jittered(t, jitter, expected_jitter), t + chrono::Duration::seconds(15));
/// assert_eq!(jittered(t, None, expected_jitter), t);
/// ```
pub fn jittered(
    nominal: DateTime<Utc>,
    jitter: Option<Duration>,
    pick: impl FnOnce(u64) -> u64,
) -> DateTime<Utc> {
    let Some(max) = jitter else {
        return nominal;
    };
    let max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    let ms = i64::try_from(pick(max_ms).min(max_ms)).unwrap_or(i64::MAX);
    nominal + chrono::Duration::milliseconds(ms)
}

/// The daemon's pick: uniform over `0..=max_ms`.
pub fn random_jitter(max_ms: u64) -> u64 {
    fastrand::u64(0..=max_ms)
}

/// The expected value of [`random_jitter`]: half the maximum.
pub fn expected_jitter(max_ms: u64) -> u64 {
    max_ms / 2
}

/// The fire time after `nominal`, which came due at `now`: the next one on the schedule
/// (an interval keeps its phase even when the wake-up was late), unless that one has
/// passed too (a suspend, a jitter longer than the interval); then the first after `now`,
/// so the times slept through make one run, not a burst.
pub fn next_after_due(
    job: &Job,
    nominal: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match job.next_fire(nominal) {
        Some(next) if next <= now => job.next_fire(now),
        next => next,
    }
}

/// For `catch_up: once`: the first fire time between the job's last start and `now`, if
/// one was missed. A job that never ran has nothing to catch up.
pub fn missed_fire(
    job: &Job,
    last_started: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    job.next_fire(last_started?).filter(|next| *next < now)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::TimeZone;

    use super::*;
    use crate::config::{Settings, parse_job};

    fn job(schedule: &str) -> Job {
        let text = format!("command: x\nschedule: \"{schedule}\"\ntimezone: UTC\n");
        parse_job(Path::new("/jobs.d/j.yaml"), &text, &Settings::builtin()).unwrap()
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, h, m, 0).unwrap()
    }

    #[test]
    fn the_next_fire_keeps_its_phase_unless_it_has_passed_too() {
        let every = job("@every 10m");
        assert_eq!(next_after_due(&every, at(2, 0), at(2, 3)), Some(at(2, 10)));
        assert_eq!(
            next_after_due(&every, at(2, 0), at(2, 35)),
            Some(at(2, 40)),
            "after a suspend: the first after now, not 02:10"
        );
    }

    #[test]
    fn a_missed_fire_lies_between_the_last_start_and_now() {
        let daily = job("0 2 * * *");
        assert_eq!(
            missed_fire(&daily, Some(at(1, 0)), at(3, 0)),
            Some(at(2, 0))
        );
        assert_eq!(missed_fire(&daily, Some(at(2, 0)), at(3, 0)), None);
        assert_eq!(missed_fire(&daily, None, at(3, 0)), None);
    }

    #[test]
    fn the_pick_never_goes_past_the_jitter() {
        let t = at(2, 0);
        let jitter = Some(Duration::from_millis(1500));
        assert_eq!(
            jittered(t, jitter, |_| u64::MAX),
            t + chrono::Duration::milliseconds(1500)
        );
        assert_eq!(
            jittered(t, jitter, expected_jitter),
            t + chrono::Duration::milliseconds(750)
        );
        let r = jittered(t, jitter, random_jitter);
        assert!(r >= t && r <= t + chrono::Duration::milliseconds(1500));
    }
}
