//! A job's schedule as systemd timer settings: cron expressions as `OnCalendar=` values
//! (`Mon..Fri *-*-* 09:00:00 Europe/Berlin`), `@reboot` as `OnBootSec=`, `@every` as an
//! `OnCalendar=` on the same epoch grid where one exists (`@every 15m` is `*:00/15:00 UTC`),
//! else `OnUnitActiveSec=`. Each field is expanded to the values it matches and written
//! back in systemd's syntax (`*`, `a/step`, `a..b`, lists), so nothing is approximated.
//!
//! Day of month and day of week: cron ANDs them when either field starts with `*` and ORs
//! them when both are restricted (ADR 0025). systemd always ANDs the parts of one
//! `OnCalendar=`, so the OR case becomes two `OnCalendar=` lines, one per day field; a
//! timer elapses at the union of its `OnCalendar=` values.

use std::time::Duration;

use crate::config::{FieldKind, FieldSet, NamedZone, Schedule};

/// How a timer starts the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// One or more `OnCalendar=` values (their union).
    Calendar(Vec<String>),
    /// `@reboot`: `OnBootSec=`.
    Boot,
    /// `@every` with no calendar form: `OnActiveSec=` and `OnUnitActiveSec=`, counted from
    /// the previous start.
    Interval(Duration),
    /// `manual`: no timer.
    Manual,
}

/// The trigger of a schedule, read in `zone` (`None`: the machine's).
///
/// ```
/// use slotcron::config::Schedule;
/// use slotcron::export::{Trigger, trigger};
/// let s = Schedule::parse("*/15 9-17 * * mon-fri").unwrap();
/// assert_eq!(
///     trigger(&s, None),
///     Trigger::Calendar(vec!["Mon..Fri *-*-* 09..17:00/15:00".into()])
/// );
/// ```
pub fn trigger(schedule: &Schedule, zone: Option<&NamedZone>) -> Trigger {
    let expr = match schedule {
        Schedule::Reboot => return Trigger::Boot,
        Schedule::Manual => return Trigger::Manual,
        Schedule::Every(d) => return every(*d),
        Schedule::Cron(expr) => expr,
    };
    let time = format!(
        "{}:{}:{}",
        component(expr.field(FieldKind::Hour), FieldKind::Hour),
        component(expr.field(FieldKind::Minute), FieldKind::Minute),
        component(expr.field(FieldKind::Second), FieldKind::Second),
    );
    let months = component(expr.field(FieldKind::Month), FieldKind::Month);
    let days = expr.field(FieldKind::DayOfMonth);
    let weekdays = expr.field(FieldKind::DayOfWeek);
    let suffix = zone.map(|z| format!(" {}", z.name())).unwrap_or_default();
    let line = |weekdays: Option<FieldSet>, days: Option<FieldSet>| {
        let dow = weekdays
            .filter(|w| w.bits != ALL_WEEKDAYS)
            .map(|w| weekday_list(w) + " ")
            .unwrap_or_default();
        let dom = days.map_or_else(|| "*".to_owned(), |d| component(d, FieldKind::DayOfMonth));
        format!("{dow}*-{months}-{dom} {time}{suffix}")
    };
    let every_day = |set: FieldSet, all: u64| set.bits == all;
    Trigger::Calendar(
        if expr.and_days() || every_day(weekdays, ALL_WEEKDAYS) || every_day(days, ALL_DAYS) {
            // AND (or an OR with one side matching every day, which is every day).
            if !expr.and_days() {
                vec![line(None, None)]
            } else {
                vec![line(Some(weekdays), Some(days))]
            }
        } else {
            vec![line(None, Some(days)), line(Some(weekdays), None)]
        },
    )
}

/// Every weekday, 0-6.
const ALL_WEEKDAYS: u64 = 0x7f;
/// Every day of the month, 1-31.
const ALL_DAYS: u64 = 0xffff_fffe;

/// `@every` as a calendar on the same grid (the epoch's, in UTC) when the interval divides
/// a minute, an hour or a day evenly; else an interval from the last start.
fn every(interval: Duration) -> Trigger {
    let (secs, whole) = (interval.as_secs(), interval.subsec_nanos() == 0);
    let calendar = match secs {
        s if !whole || s == 0 || 86_400 % s != 0 => None,
        s if s < 60 => (60 % s == 0).then(|| format!("*-*-* *:*:00/{s} UTC")),
        s if s < 3600 => {
            (s % 60 == 0 && 3600 % s == 0).then(|| format!("*-*-* *:00/{}:00 UTC", s / 60))
        }
        86_400 => Some("*-*-* 00:00:00 UTC".to_owned()),
        s => (s % 3600 == 0).then(|| format!("*-*-* 00/{}:00:00 UTC", s / 3600)),
    };
    calendar.map_or(Trigger::Interval(interval), |line| {
        Trigger::Calendar(vec![line])
    })
}

/// One numeric component: `*`, `a/step` (systemd: `a` and every `step` after it, up to
/// the component's end), else a list of values and `a..b` runs, two digits each.
fn component(field: FieldSet, kind: FieldKind) -> String {
    let (low, high) = kind.bounds();
    let high = if kind == FieldKind::DayOfWeek {
        6
    } else {
        high
    };
    let values: Vec<u8> = field.values().collect();
    if values.len() == usize::from(high - low + 1) {
        return "*".into();
    }
    if let [first, second, ..] = values[..] {
        let step = second - first;
        let progression: Vec<u8> = (first..=high).step_by(usize::from(step)).collect();
        if step > 1 && progression == values {
            return format!("{first:02}/{step}");
        }
    }
    runs(&values)
        .iter()
        .map(|&(a, b)| match b - a {
            0 => format!("{a:02}"),
            1 => format!("{a:02},{b:02}"),
            _ => format!("{a:02}..{b:02}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Weekdays in systemd's order (Monday first) as names and `Mon..Fri` runs.
fn weekday_list(field: FieldSet) -> String {
    const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    // systemd position 0..7 is Monday..Sunday; cron's 0 is Sunday.
    let positions: Vec<u8> = (0u8..7).filter(|p| field.has((p + 1) % 7)).collect();
    runs(&positions)
        .iter()
        .map(|&(a, b)| match b - a {
            0 => NAMES[usize::from(a)].to_owned(),
            1 => format!("{},{}", NAMES[usize::from(a)], NAMES[usize::from(b)]),
            _ => format!("{}..{}", NAMES[usize::from(a)], NAMES[usize::from(b)]),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Ascending values grouped into runs of consecutive values.
fn runs(values: &[u8]) -> Vec<(u8, u8)> {
    let mut out: Vec<(u8, u8)> = Vec::new();
    for &v in values {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == v => *end = v,
            _ => out.push((v, v)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar(text: &str, zone: Option<&str>) -> Vec<String> {
        let schedule = Schedule::parse(text).unwrap();
        let zone = zone.map(|z| NamedZone::parse(z).unwrap());
        match trigger(&schedule, zone.as_ref()) {
            Trigger::Calendar(lines) => lines,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fields_become_systemd_components() {
        for (cron, systemd) in [
            ("0 2 * * *", "*-*-* 02:00:00"),
            ("*/15 * * * *", "*-*-* *:00/15:00"),
            ("5,35 */6 * * *", "*-*-* 00/6:05/30:00"),
            ("0 0 1,15 * *", "*-*-01,15 00:00:00"),
            (
                "0 8 * jan-mar,oct-dec mon,wed,fri",
                "Mon,Wed,Fri *-01..03,10..12-* 08:00:00",
            ),
            ("0 0 * * 5-7", "Fri..Sun *-*-* 00:00:00"),
            ("@monthly", "*-*-01 00:00:00"),
            ("@weekly", "Sun *-*-* 00:00:00"),
            ("*/20 * * * * *", "*-*-* *:*:00/20"),
            // cronie ANDs: an odd day that is a Monday.
            ("0 0 */2 * 1", "Mon *-*-01/2 00:00:00"),
            ("0 0 1 * */2", "Tue,Thu,Sat,Sun *-*-01 00:00:00"),
            // OR with a day field that matches every day: every day.
            ("0 0 1-31 * 1", "*-*-* 00:00:00"),
        ] {
            assert_eq!(calendar(cron, None), [systemd], "{cron}");
        }
    }

    #[test]
    fn both_day_fields_restricted_become_two_lines_and_a_zone_is_kept() {
        assert_eq!(
            calendar("30 4 1-7 * 1", Some("Europe/Berlin")),
            [
                "*-*-01..07 04:30:00 Europe/Berlin",
                "Mon *-*-* 04:30:00 Europe/Berlin"
            ]
        );
    }

    #[test]
    fn intervals_keep_their_grid_where_a_calendar_can_and_other_schedules_map() {
        for (every, line) in [
            ("@every 15s", "*-*-* *:*:00/15 UTC"),
            ("@every 15m", "*-*-* *:00/15:00 UTC"),
            ("@every 6h", "*-*-* 00/6:00:00 UTC"),
            ("@every 1d", "*-*-* 00:00:00 UTC"),
        ] {
            assert_eq!(calendar(every, None), [line], "{every}");
        }
        for odd in ["@every 7m", "@every 90m", "@every 1500ms", "@every 2d"] {
            let schedule = Schedule::parse(odd).unwrap();
            assert!(
                matches!(trigger(&schedule, None), Trigger::Interval(_)),
                "{odd}"
            );
        }
        let boot = Schedule::parse("@reboot").unwrap();
        assert_eq!(trigger(&boot, None), Trigger::Boot);
    }
}
