//! When a schedule next fires, as an instant, with cronie's daylight-saving rules
//! (`docs/adr/0008-dst-and-next-fire.md`):
//!
//! - A *fixed-time* cron job (no `*` in its minute, hour or seconds field, as cronie tells
//!   them apart) whose wall-clock time a spring-forward skips runs once, at the first
//!   instant after the gap; in a repeated (fall-back) hour it runs only in the first pass.
//! - A *wildcard* job (`*/15 * * * *`, `0 * * * *`) follows the wall clock: skipped times do
//!   not exist, and in the repeated hour it runs in both passes, as the clock shows them.
//! - `@every` counts elapsed time and ignores the clock; `manual` and `@reboot` never fire.
//!
//! croner does the matching: for wildcard jobs its zone-aware search already has these
//! semantics; for fixed-time jobs it walks the zone's wall clock (a `NaiveDateTime`) and
//! this module maps the match to an instant, because croner's own fixed-time rule covers
//! only single values (`30 2`), not lists or ranges (`0,30 2`) that cronie also counts.

use std::fmt;

use chrono::{
    DateTime, Local, LocalResult, NaiveDateTime, SecondsFormat, TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use croner::{Cron, CronDateTime};

use super::job::Job;
use super::schedule::Schedule;

/// The time zone a schedule is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// The machine's zone (`TZ`, else `/etc/localtime`), via `chrono::Local`, which keeps
    /// the parsed zone and re-checks its source at most once a second.
    Local,
    /// An IANA zone from a job's `timezone:`.
    Named(Tz),
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Local => f.write_str("local"),
            Zone::Named(tz) => f.write_str(tz.name()),
        }
    }
}

impl Zone {
    /// `instant` on this zone's wall clock, written with `format` (chrono's `strftime`
    /// syntax; `%Z` is an abbreviation such as `CET` for a named zone, an offset for local).
    pub fn format(self, instant: DateTime<Utc>, format: &str) -> String {
        match self {
            Zone::Local => instant.with_timezone(&Local).format(format).to_string(),
            Zone::Named(tz) => instant.with_timezone(&tz).format(format).to_string(),
        }
    }

    /// `instant` on this zone's wall clock as RFC 3339 (whole seconds), with the zone's offset.
    pub fn rfc3339(self, instant: DateTime<Utc>) -> String {
        match self {
            Zone::Local => instant
                .with_timezone(&Local)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            Zone::Named(tz) => instant
                .with_timezone(&tz)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
        }
    }
}

impl Schedule {
    /// The first fire time strictly after `after`, reading cron expressions in `zone` with
    /// cronie's daylight-saving rules (see the module docs). `None` for `manual` and
    /// `@reboot`, and for an instant beyond what croner searches (year 5000).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use slotcron::config::{Schedule, Zone};
    /// // 02:30 does not exist in Berlin on 2026-03-29: the job runs at 03:00 CEST instead.
    /// let daily = Schedule::parse("30 2 * * *").unwrap();
    /// let zone = Zone::Named(chrono_tz::Europe::Berlin);
    /// let after = Utc.with_ymd_and_hms(2026, 3, 28, 12, 0, 0).unwrap();
    /// let next = daily.next_fire(zone, after).unwrap();
    /// assert_eq!(next, Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap());
    /// ```
    pub fn next_fire(&self, zone: Zone, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron(expr) => {
                let fixed_time = !expr.has_wildcard_time();
                expr.with_cron(|cron| match zone {
                    Zone::Local => next_cron(cron, fixed_time, &Local, after),
                    Zone::Named(tz) => next_cron(cron, fixed_time, &tz, after),
                })
            }
            Schedule::Every(interval) => {
                after.checked_add_signed(TimeDelta::from_std(*interval).ok()?)
            }
            Schedule::Reboot | Schedule::Manual => None,
        }
    }
}

impl Job {
    /// The zone the job's schedule is read in: its `timezone:`, else the machine's.
    pub fn zone(&self) -> Zone {
        self.timezone.map_or(Zone::Local, Zone::Named)
    }

    /// The job's first fire time strictly after `after` (see [`Schedule::next_fire`]).
    pub fn next_fire(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.next_fire(self.zone(), after)
    }
}

/// `fixed_time`: cronie's test, the negation of
/// [`has_wildcard_time`](crate::config::CronExpr::has_wildcard_time): a job is fixed-time
/// unless its minute or hour field (or, with seconds, its seconds field) starts from `*`.
/// Nicknames count as written out: `@daily` is fixed-time, `@hourly` is not.
fn next_cron<Z: TimeZone>(
    cron: &Cron,
    fixed_time: bool,
    zone: &Z,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>>
where
    DateTime<Z>: CronDateTime,
{
    if !fixed_time {
        let start = after.with_timezone(zone);
        let next = cron.find_next_occurrence(&start, false).ok()?;
        return Some(next.with_timezone(&Utc));
    }
    // Walk the wall clock; each match that maps to an instant not after `after` (the
    // second pass of a repeated hour) is passed over. Wall times only grow, so this ends
    // as soon as the walk leaves the repeated hour.
    let mut wall = after.with_timezone(zone).naive_local();
    loop {
        wall = cron.find_next_occurrence(&wall, false).ok()?;
        let instant = match zone.from_local_datetime(&wall) {
            LocalResult::Single(instant) => instant,
            // Repeated by a fall-back: only the first pass runs.
            LocalResult::Ambiguous(first, _) => first,
            // Skipped by a spring-forward: run once, right after the gap.
            LocalResult::None => first_instant_after_gap(zone, wall)?,
        }
        .with_timezone(&Utc);
        if instant > after {
            return Some(instant);
        }
    }
}

/// The first instant whose wall time follows `skipped`, a wall time a spring-forward jumps
/// over. Zones move their clocks on whole minutes, so whole minutes are tried first, then
/// the result is moved back second by second in case a gap ends off the minute.
fn first_instant_after_gap<Z: TimeZone>(zone: &Z, skipped: NaiveDateTime) -> Option<DateTime<Z>> {
    const LONGEST_GAP_MINUTES: i64 = 24 * 60;
    let minute = skipped.with_second(0)?;
    let mut wall = (1..=LONGEST_GAP_MINUTES)
        .map(|m| minute + TimeDelta::minutes(m))
        .find(|wall| zone.from_local_datetime(wall).earliest().is_some())?;
    loop {
        let earlier = wall - TimeDelta::seconds(1);
        if earlier <= skipped || zone.from_local_datetime(&earlier).earliest().is_none() {
            return zone.from_local_datetime(&wall).earliest();
        }
        wall = earlier;
    }
}

#[cfg(test)]
#[path = "fire_tests.rs"]
mod tests;
