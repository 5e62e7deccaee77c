//! When a job runs: a cron expression (read and matched as cronie does, [`CronExpr`]), an
//! interval, at boot, or only when asked. Parsed and validated at load time; the
//! scheduler asks [`Schedule::next_fire`] (`fire.rs`).

use std::fmt;
use std::time::Duration;

use super::cron::{CronError, CronExpr};
use super::units::{UnitError, format_duration, parse_duration};

/// The longest `@every` interval: a year. Longer ones are typos (`@every 5000000000d`), and
/// a calendar says "yearly" better.
pub const MAX_INTERVAL: Duration = Duration::from_secs(365 * 86_400);

/// A validated schedule. Cannot hold an expression that fails to parse or never fires.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// A cron expression: 5 fields, or 6 with a leading seconds field, or a nickname.
    Cron(CronExpr),
    /// `@every 10m`: the instants a whole number of intervals after the Unix epoch
    /// (`@every 1h` fires on the hour, UTC), whenever the last run started (ADR 0025).
    Every(Duration),
    /// `@reboot`: once when the daemon starts after a boot.
    Reboot,
    /// `manual`: only when asked (`slotcron run`, `trigger`).
    Manual,
}

/// Why a schedule was rejected. The caller adds file and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Cron(#[from] CronError),
    #[error("`{text}`: {source}")]
    Interval {
        text: String,
        #[source]
        source: UnitError,
    },
    #[error("`{0}`: an @every interval is 1s to 365d")]
    IntervalRange(String),
}

impl Schedule {
    /// Parses a schedule as written in a job file.
    ///
    /// ```
    /// use slotcron::config::Schedule;
    /// assert!(matches!(Schedule::parse("0 2 * * *"), Ok(Schedule::Cron(_))));
    /// assert!(matches!(Schedule::parse("@every 10m"), Ok(Schedule::Every(_))));
    /// assert!(Schedule::parse("0 0 30 2 *").is_err()); // February 30th never comes
    /// assert_eq!(
    ///     Schedule::parse("61 * * * *").unwrap_err().to_string(),
    ///     "minute field: `61` is out of range 0-59"
    /// );
    /// ```
    ///
    /// # Errors
    /// [`ScheduleError`] for a malformed expression (naming the field, the element and
    /// what the field takes), an interval outside 1s-365d, or an expression that never
    /// fires.
    pub fn parse(text: &str) -> Result<Schedule, ScheduleError> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "manual" => return Ok(Schedule::Manual),
            "@reboot" => return Ok(Schedule::Reboot),
            _ => {}
        }
        if let Some(rest) = lower.strip_prefix("@every") {
            let interval = parse_duration(rest).map_err(|source| ScheduleError::Interval {
                text: text.to_owned(),
                source,
            })?;
            if interval < Duration::from_secs(1) || interval > MAX_INTERVAL {
                return Err(ScheduleError::IntervalRange(text.to_owned()));
            }
            return Ok(Schedule::Every(interval));
        }
        Ok(Schedule::Cron(CronExpr::parse(text)?))
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

    #[test]
    fn every_is_bounded_and_formats_back() {
        let every = Schedule::parse("@every 90s").unwrap();
        assert_eq!(every.to_string(), "@every 1m30s");
        assert!(matches!(
            Schedule::parse("@EVERY 365d"),
            Ok(Schedule::Every(_))
        ));
        for (bad, why) in [
            ("@every 0s", "is 1s to 365d"),
            ("@every 999ms", "is 1s to 365d"),
            ("@every 366d", "is 1s to 365d"),
            ("@every 5000000000d", "is 1s to 365d"),
            ("@every", "not a duration"),
            ("@everyday", "not a duration"),
        ] {
            let err = Schedule::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why) && err.contains(bad), "{bad}: {err}");
        }
        assert!(matches!(Schedule::parse("@reboot"), Ok(Schedule::Reboot)));
        assert!(matches!(Schedule::parse(" Manual "), Ok(Schedule::Manual)));
    }
}
