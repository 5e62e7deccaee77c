//! A job's schedule as systemd timer settings: cron expressions as `OnCalendar=` values
//! (`Mon..Fri *-*-* 09:00:00 Europe/Berlin`), `@reboot` as `OnBootSec=`, `@every` as
//! `OnUnitActiveSec=`. Each field is expanded to the values it matches and written back in
//! systemd's syntax (`*`, `a/step`, `a..b`, lists), so nothing is approximated; what has
//! no systemd form (`L`, `W`, `#`) is refused with the reason.
//!
//! Day of month and day of week: slotcron (croner) ANDs them when either is `*` or the
//! day of week has croner's `+` prefix, and ORs them otherwise. systemd always ANDs the
//! parts of one `OnCalendar=`, so the OR case becomes two `OnCalendar=` lines, one per
//! day field; a timer elapses at the union of its `OnCalendar=` values.

use std::time::Duration;

use chrono_tz::Tz;

use crate::config::Schedule;
use crate::crontab::{Field, FieldKind, parse_field};

/// How a timer starts the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// One or more `OnCalendar=` values (their union).
    Calendar(Vec<String>),
    /// `@reboot`: `OnBootSec=`.
    Boot,
    /// `@every`: `OnActiveSec=` and `OnUnitActiveSec=`, counted from the previous start.
    Interval(Duration),
    /// `manual`: no timer.
    Manual,
}

/// The trigger of a schedule as written (`text`), read in `zone`.
///
/// ```
/// use slotcron::config::Schedule;
/// use slotcron::export::{Trigger, trigger};
/// let s = Schedule::parse("*/15 9-17 * * mon-fri").unwrap();
/// assert_eq!(
///     trigger(&s, "*/15 9-17 * * mon-fri", None).unwrap(),
///     Trigger::Calendar(vec!["Mon..Fri *-*-* 09..17:00/15:00".into()])
/// );
/// ```
///
/// # Errors
/// The reason the expression has no `OnCalendar=` form.
pub fn trigger(schedule: &Schedule, text: &str, zone: Option<Tz>) -> Result<Trigger, String> {
    let expr = match schedule {
        Schedule::Reboot => return Ok(Trigger::Boot),
        Schedule::Manual => return Ok(Trigger::Manual),
        Schedule::Every(d) => return Ok(Trigger::Interval(*d)),
        Schedule::Cron(_) => expand_nickname(text.trim()),
    };
    let mut words: Vec<&str> = expr.split_whitespace().collect();
    let seconds = if words.len() == 6 {
        words.remove(0)
    } else {
        "0"
    };
    let [minute, hour, dom, month, dow] = words[..] else {
        return Err(format!("`{text}` is not a 5- or 6-field expression"));
    };
    let (dow, plus) = match dow.strip_prefix('+') {
        Some(rest) => (rest, true),
        None => (dow, false),
    };
    let field = |t: &str, kind| {
        parse_field(t, kind)
            .map_err(|why| format!("OnCalendar= has no form for this: {why} (in `{text}`)"))
    };
    let second = field(seconds, FieldKind::Minute)?;
    let time = format!(
        "{}:{}:{}",
        component(&field(hour, FieldKind::Hour)?, FieldKind::Hour),
        component(&field(minute, FieldKind::Minute)?, FieldKind::Minute),
        component(&second, FieldKind::Minute),
    );
    let months = component(&field(month, FieldKind::Month)?, FieldKind::Month);
    let days = field(dom, FieldKind::DayOfMonth)?;
    let weekdays = field(dow, FieldKind::DayOfWeek)?;
    let suffix = zone.map(|z| format!(" {}", z.name())).unwrap_or_default();
    let line = |weekdays: Option<&Field>, days: Option<&Field>| {
        let dow = weekdays
            .map(weekday_list)
            .map(|w| w + " ")
            .unwrap_or_default();
        let dom = days.map_or_else(|| "*".to_owned(), |d| component(d, FieldKind::DayOfMonth));
        format!("{dow}*-{months}-{dom} {time}{suffix}")
    };
    let and = plus || dom == "*" || dow == "*";
    let dow_all = weekdays.values().filter(|v| *v < 7).count() == 7;
    Ok(Trigger::Calendar(if and {
        vec![line((!dow_all).then_some(&weekdays), Some(&days))]
    } else {
        vec![line(None, Some(&days)), line(Some(&weekdays), None)]
    }))
}

/// croner's nicknames written out (with cron's `@midnight`); other text as it is.
pub(super) fn expand_nickname(text: &str) -> &str {
    match text.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => text,
    }
}

/// One numeric component: `*`, `a/step` (systemd: `a` and every `step` after it, up to
/// the component's end), else a list of values and `a..b` runs, two digits each.
fn component(field: &Field, kind: FieldKind) -> String {
    let (low, high) = kind.bounds();
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
fn weekday_list(field: &Field) -> String {
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

    fn calendar(text: &str, zone: Option<Tz>) -> Vec<String> {
        let schedule = Schedule::parse(text).unwrap();
        match trigger(&schedule, text, zone).unwrap() {
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
            ("0 0 */2 * +1", "Mon *-*-01/2 00:00:00"),
        ] {
            assert_eq!(calendar(cron, None), [systemd], "{cron}");
        }
    }

    #[test]
    fn both_day_fields_restricted_become_two_lines_and_a_zone_is_kept() {
        assert_eq!(
            calendar("30 4 1-7 * 1", Some(chrono_tz::Europe::Berlin)),
            [
                "*-*-01..07 04:30:00 Europe/Berlin",
                "Mon *-*-* 04:30:00 Europe/Berlin"
            ]
        );
    }

    #[test]
    fn what_systemd_cannot_say_is_refused_and_other_schedules_map() {
        let last = Schedule::parse("0 0 L * *").unwrap();
        let err = trigger(&last, "0 0 L * *", None).unwrap_err();
        assert!(
            err.contains("OnCalendar= has no form") && err.contains("`L`"),
            "{err}"
        );
        let every = Schedule::parse("@every 5m").unwrap();
        assert_eq!(
            trigger(&every, "@every 5m", None).unwrap(),
            Trigger::Interval(Duration::from_secs(300))
        );
        let boot = Schedule::parse("@reboot").unwrap();
        assert_eq!(trigger(&boot, "@reboot", None).unwrap(), Trigger::Boot);
    }
}
