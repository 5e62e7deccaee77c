//! When a job runs: a cron expression (Vixie/cronie semantics, via croner), an interval, at
//! boot, or only when asked. Parsed and validated at load time; the scheduler evaluates it.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::cron::CronExpr;
use super::units::{format_duration, parse_duration};

/// A validated schedule. Cannot hold an expression that fails to parse or never fires.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A cron expression: 5 fields, or 6 with a leading seconds field; `@daily` and friends
    /// are expanded by the parser. Day-of-month and day-of-week combine with OR when both
    /// are restricted, as in Vixie cron.
    Cron(CronExpr),
    /// `@every 10m`: a fixed interval from the previous start.
    Every(Duration),
    /// `@reboot`: once when the daemon starts after a boot.
    Reboot,
    /// `manual`: only when asked (`slotcron run`, `trigger`).
    Manual,
}

/// Why a schedule was rejected. The caller adds file and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);

impl Schedule {
    /// Parses a schedule as written in a job file.
    ///
    /// ```
    /// use slotcron::config::Schedule;
    /// assert!(matches!(Schedule::parse("0 2 * * *"), Ok(Schedule::Cron(_))));
    /// assert!(matches!(Schedule::parse("@every 10m"), Ok(Schedule::Every(_))));
    /// assert!(Schedule::parse("0 0 30 2 *").is_err()); // February 30th never comes
    /// assert!(Schedule::parse("61 * * * *").is_err());
    /// ```
    ///
    /// # Errors
    /// [`ScheduleError`] for a malformed expression, a zero interval, or an expression
    /// that never fires.
    pub fn parse(text: &str) -> Result<Schedule, ScheduleError> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "manual" => return Ok(Schedule::Manual),
            "@reboot" => return Ok(Schedule::Reboot),
            _ => {}
        }
        if let Some(interval) = text.strip_prefix("@every") {
            let interval = parse_duration(interval).map_err(|e| ScheduleError(e.to_string()))?;
            if interval < Duration::from_secs(1) {
                return Err(ScheduleError(
                    "an @every interval must be at least 1s".into(),
                ));
            }
            return Ok(Schedule::Every(interval));
        }
        // croner knows @yearly @annually @monthly @weekly @daily @hourly; cron also has @midnight.
        let expr = if text.eq_ignore_ascii_case("@midnight") {
            "@daily"
        } else {
            text
        };
        let fields = expr.split_whitespace().count();
        if !expr.starts_with('@') && !(5..=6).contains(&fields) {
            return Err(ScheduleError(format!(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), \
                 or 6 with leading seconds; this one has {fields}"
            )));
        }
        let cron = CronExpr::parse(expr)
            .map_err(|e| ScheduleError(format!("not a valid cron expression: {e}")))?;
        if cron
            .with_cron(|c| c.find_next_occurrence(&Utc::now(), false))
            .is_err()
        {
            return Err(ScheduleError("this cron expression never fires".into()));
        }
        Ok(Schedule::Cron(cron))
    }

    /// The next fire time strictly after `after`, in the given zone's wall-clock semantics.
    /// `None` for schedules without fire times (`manual`, `@reboot`). Daylight-saving
    /// changes follow croner's own rules; the scheduler uses [`Schedule::next_fire`], which
    /// follows cronie's (`docs/adr/0008-dst-and-next-fire.md`).
    pub fn next_after<Tz: chrono::TimeZone>(&self, after: &DateTime<Tz>) -> Option<DateTime<Tz>>
    where
        DateTime<Tz>: croner::CronDateTime,
    {
        match self {
            Schedule::Cron(cron) => cron.with_cron(|c| c.find_next_occurrence(after, false).ok()),
            Schedule::Every(interval) => chrono::Duration::from_std(*interval)
                .ok()
                .map(|d| after.clone() + d),
            Schedule::Reboot | Schedule::Manual => None,
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron(cron) => f.write_str(cron.as_str()),
            Schedule::Every(d) => write!(f, "@every {}", format_duration(*d)),
            Schedule::Reboot => f.write_str("@reboot"),
            Schedule::Manual => f.write_str("manual"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn day_of_month_and_day_of_week_combine_with_or() {
        // Vixie: "on the 13th, or on Fridays". 2026-11-13 is a Friday; the 20th is one too.
        let s = Schedule::parse("0 0 13 * 5").unwrap();
        let start = Utc.with_ymd_and_hms(2026, 11, 14, 0, 0, 0).unwrap();
        let next = s.next_after(&start).unwrap();
        assert_eq!(next, Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap());
    }

    #[test]
    fn nicknames_seconds_and_intervals() {
        let start = Utc.with_ymd_and_hms(2026, 11, 27, 10, 15, 0).unwrap();
        let daily = Schedule::parse("@midnight").unwrap();
        assert_eq!(
            daily.next_after(&start).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
        );
        let secs = Schedule::parse("*/20 * * * * *").unwrap();
        assert_eq!(
            secs.next_after(&start).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 27, 10, 15, 20).unwrap()
        );
        let every = Schedule::parse("@every 90s").unwrap();
        assert_eq!(every.to_string(), "@every 1m30s");
        assert!(
            Schedule::parse("manual")
                .unwrap()
                .next_after(&start)
                .is_none()
        );
        assert!(matches!(Schedule::parse("@reboot"), Ok(Schedule::Reboot)));
    }

    #[test]
    fn rejects_bad_expressions() {
        for bad in [
            "",
            "* * *",
            "0 0 * * * * *",
            "0 25 * * *",
            "@every 0s",
            "@every",
            "@fortnightly",
            "0 0 31 2 *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
