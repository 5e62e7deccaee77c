//! When a schedule next fires, as an instant: cronie's main loop (`cron.c`) in closed form
//! (`docs/adr/0008-dst-and-next-fire.md`). cronie wakes every minute and compares the
//! wall clock with the minute it expected; a change of the zone's offset is a jump of the
//! wall clock, handled by its size:
//!
//! - **forward under 5 minutes**: every job matching a skipped minute runs at once;
//! - **forward 5 minutes to 3 hours** (spring forward): *fixed-time* jobs (minute and hour
//!   fields not starting with `*`) matching a skipped time run once, at the first instant
//!   after the gap; *wildcard* jobs just go on from the new time;
//! - **backward up to 3 hours** (fall back): wildcard jobs follow the clock through the
//!   repeated times; fixed-time jobs do not run again until the clock passes the time it
//!   showed before the jump;
//! - **3 hours or more** either way: a clock reset; what was skipped is skipped, what
//!   repeats runs again.
//!
//! Between jumps a cron expression fires at the instants whose wall time matches it. The
//! zone's offsets and transitions come from jiff (ADR 0026), so this holds in any year.
//! `@every` is a grid of instants counted from the Unix epoch; `manual` and `@reboot`
//! never fire.

use chrono::{DateTime, Utc};
use jiff::tz::TimeZone;

use super::cron::{CronExpr, DAY};
use super::job::Job;
use super::schedule::Schedule;
use super::zone::Zone;

/// How far ahead a search looks: every expression that fires at all fires within a
/// century of any instant (the longest gap, a 29 February on a given weekday, is 40 years).
pub const HORIZON_YEARS: i64 = 100;

impl Schedule {
    /// The first fire time strictly after `after`, reading cron expressions in `zone` with
    /// cronie's daylight-saving rules (see the module docs). `None` for `manual` and
    /// `@reboot`, and past the year 9999.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use slotcron::config::{Schedule, Zone};
    /// // 02:30 does not exist in Berlin on 2026-03-29: the job runs at 03:00 CEST instead.
    /// let daily = Schedule::parse("30 2 * * *").unwrap();
    /// let zone = Zone::named("Europe/Berlin").unwrap();
    /// let after = Utc.with_ymd_and_hms(2026, 3, 28, 12, 0, 0).unwrap();
    /// let next = daily.next_fire(&zone, after).unwrap();
    /// assert_eq!(next, Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap());
    /// ```
    pub fn next_fire(&self, zone: &Zone, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron(expr) => next_cron(expr, &zone.tz(), after.timestamp() + 1),
            Schedule::Every(interval) => every_next(*interval, after),
            Schedule::Reboot | Schedule::Manual => None,
        }
    }
}

impl Job {
    /// The zone the job's schedule is read in: its `timezone:`, else the machine's.
    pub fn zone(&self) -> Zone {
        self.timezone.clone().map_or(Zone::Local, Zone::Named)
    }

    /// The job's first fire time strictly after `after` (see [`Schedule::next_fire`]).
    pub fn next_fire(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.next_fire(&self.zone(), after)
    }
}

/// The first instant strictly after `after` on `interval`'s grid: the instants that are a
/// whole number of intervals after the Unix epoch (1970-01-01T00:00:00Z).
fn every_next(interval: std::time::Duration, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let step = i64::try_from(interval.as_millis())
        .ok()
        .filter(|s| *s > 0)?;
    let next = after
        .timestamp_millis()
        .div_euclid(step)
        .checked_add(1)?
        .checked_mul(step)?;
    DateTime::from_timestamp_millis(next)
}

/// The first fire instant at or after `from` (Unix seconds).
fn next_cron(expr: &CronExpr, tz: &TimeZone, from: i64) -> Option<DateTime<Utc>> {
    let fixed = !expr.has_wildcard_time();
    let limit = from + HORIZON_YEARS * 366 * DAY;
    // A jump exactly at `from` may owe its catch-up there.
    if jump_at(tz, from).is_some_and(|jump| jump.catches_up(expr, fixed)) {
        return instant(from);
    }
    let mut t = from;
    while t <= limit {
        let offset = offset_at(tz, t);
        let next = next_jump(tz, t, limit);
        let end = next.as_ref().map_or(limit, |jump| jump.at - 1);
        let mut wall = t + offset;
        if fixed && let Some(resume) = resume_after_fall_back(tz, t) {
            wall = wall.max(resume);
        }
        if let Some(found) = expr.next_match(wall, end + offset) {
            return instant(found - offset);
        }
        let jump = next?;
        if jump.catches_up(expr, fixed) {
            return instant(jump.at);
        }
        t = jump.at;
    }
    None
}

/// A change of the zone's offset: at `at`, the wall clock moves from `at + before` to
/// `at + after` (seconds).
struct Jump {
    at: i64,
    before: i64,
    after: i64,
}

/// cronie's classes of wall-clock jumps (`cron.c`: `small`, `medium`, `negative`, `large`).
#[derive(Debug, PartialEq, Eq)]
enum JumpKind {
    Small,
    Medium,
    Negative,
    Large,
}

impl Jump {
    fn kind(&self) -> JumpKind {
        const MINUTE: i64 = 60;
        match self.after - self.before {
            d if d > 0 && d < 5 * MINUTE => JumpKind::Small,
            d if d > 0 && d < 180 * MINUTE => JumpKind::Medium,
            d if d < 0 && d > -182 * MINUTE => JumpKind::Negative,
            _ => JumpKind::Large,
        }
    }

    /// Whether times the jump skipped make the job run at its instant: any job after a
    /// small jump, fixed-time jobs after a medium one.
    fn catches_up(&self, expr: &CronExpr, fixed: bool) -> bool {
        let runs = match self.kind() {
            JumpKind::Small => true,
            JumpKind::Medium => fixed,
            JumpKind::Negative | JumpKind::Large => false,
        };
        runs && expr
            .next_match(self.at + self.before, self.at + self.after - 1)
            .is_some()
    }
}

fn timestamp(t: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(t).unwrap_or(jiff::Timestamp::MAX)
}

fn instant(t: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t, 0)
}

/// The zone's offset at `t`, in seconds.
fn offset_at(tz: &TimeZone, t: i64) -> i64 {
    i64::from(tz.to_offset(timestamp(t)).seconds())
}

/// The first change of offset after `t`, up to `limit` (transitions that change only the
/// abbreviation or the DST flag are passed over).
fn next_jump(tz: &TimeZone, t: i64, limit: i64) -> Option<Jump> {
    let mut before = offset_at(tz, t);
    for transition in tz.following(timestamp(t)) {
        let at = transition.timestamp().as_second();
        if at > limit {
            return None;
        }
        let after = i64::from(transition.offset().seconds());
        if after != before {
            return Some(Jump { at, before, after });
        }
        before = after;
    }
    None
}

/// The change of offset exactly at `t`, if there is one.
fn jump_at(tz: &TimeZone, t: i64) -> Option<Jump> {
    let (before, after) = (offset_at(tz, t - 1), offset_at(tz, t));
    (before != after).then_some(Jump {
        at: t,
        before,
        after,
    })
}

/// After a fall-back of under 3 hours, the wall time before which fixed-time jobs stay
/// quiet (the clock's time at the jump), while the clock at `t` has not reached it yet.
fn resume_after_fall_back(tz: &TimeZone, t: i64) -> Option<i64> {
    const WINDOW: i64 = 4 * 3600;
    let wall = t + offset_at(tz, t);
    for transition in tz.preceding(timestamp(t + 1)) {
        let at = transition.timestamp().as_second();
        if at < t - WINDOW {
            return None;
        }
        let jump = Jump {
            at,
            before: offset_at(tz, at - 1),
            after: i64::from(transition.offset().seconds()),
        };
        if jump.before == jump.after {
            continue;
        }
        let resume = jump.at + jump.before;
        return (jump.kind() == JumpKind::Negative && wall < resume).then_some(resume);
    }
    None
}

#[cfg(test)]
#[path = "fire_tests.rs"]
mod tests;
