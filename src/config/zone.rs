//! Time zones, with jiff's rules (ADR 0026): a named IANA zone comes from the system's
//! `/usr/share/zoneinfo` when it has the zone, else from the copy of the tz database built
//! into slotcron (so a machine without zoneinfo, such as a busybox VM, still knows
//! `Europe/Berlin`). Either way the zone carries the tz database's POSIX rule, so its
//! daylight saving goes on past 2037 and 2099, where tables of transitions end.

use std::fmt;

use chrono::{DateTime, Utc};
use jiff::tz::{TimeZone, TimeZoneDatabase};

/// A zone a job names in `timezone:`.
#[derive(Clone)]
pub struct NamedZone {
    /// The canonical IANA name (`Europe/Berlin`, as the database spells it).
    name: Box<str>,
    tz: TimeZone,
}

impl NamedZone {
    /// Looks `name` up: the system's database first, then the built-in one.
    ///
    /// ```
    /// use slotcron::config::NamedZone;
    /// assert_eq!(NamedZone::parse("Europe/Berlin").unwrap().name(), "Europe/Berlin");
    /// assert!(NamedZone::parse("Mars/Olympus").is_none());
    /// ```
    pub fn parse(name: &str) -> Option<NamedZone> {
        if name.is_empty() || name.starts_with('/') || name.contains("..") {
            return None;
        }
        let tz = jiff::tz::db()
            .get(name)
            .or_else(|_| TimeZoneDatabase::bundled().get(name))
            .ok()?;
        let name = tz.iana_name().unwrap_or(name).into();
        Some(NamedZone { name, tz })
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's rules.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }
}

impl PartialEq for NamedZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for NamedZone {}

impl fmt::Debug for NamedZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NamedZone").field(&self.name).finish()
    }
}

/// The time zone a schedule is read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// The machine's zone (`TZ`, else `/etc/localtime`); jiff re-reads it at most every
    /// 5 minutes, so a changed machine zone is picked up without a restart.
    Local,
    /// An IANA zone from a job's `timezone:`.
    Named(NamedZone),
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Local => f.write_str("local"),
            Zone::Named(zone) => f.write_str(zone.name()),
        }
    }
}

impl Zone {
    /// A named zone (see [`NamedZone::parse`]).
    pub fn named(name: &str) -> Option<Zone> {
        NamedZone::parse(name).map(Zone::Named)
    }

    /// The zone's rules now.
    pub fn tz(&self) -> TimeZone {
        match self {
            Zone::Local => TimeZone::system(),
            Zone::Named(zone) => zone.tz.clone(),
        }
    }

    /// `instant` on this zone's wall clock, written with `format` (`strftime` syntax, `%Z`
    /// an abbreviation such as `CET`).
    pub fn format(&self, instant: DateTime<Utc>, format: &str) -> String {
        to_jiff(instant)
            .to_zoned_datetime(self.tz())
            .strftime(format)
            .to_string()
    }

    /// `instant` on this zone's wall clock as RFC 3339 (whole seconds), with the offset.
    pub fn rfc3339(&self, instant: DateTime<Utc>) -> String {
        self.format(instant, "%Y-%m-%dT%H:%M:%S%:z")
    }

    /// The instant of a wall-clock time, or `None` if the zone's clock skips it. A
    /// repeated wall time is its first pass.
    pub fn instant_of(&self, wall: jiff::civil::DateTime) -> Option<DateTime<Utc>> {
        let ambiguous = self.tz().to_ambiguous_timestamp(wall);
        if matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. }) {
            return None;
        }
        ambiguous.earlier().ok().and_then(from_jiff)
    }
}

/// A chrono instant as jiff's.
pub fn to_jiff(instant: DateTime<Utc>) -> jiff::Timestamp {
    jiff::Timestamp::new(instant.timestamp(), instant.timestamp_subsec_nanos() as i32)
        .unwrap_or(jiff::Timestamp::MAX)
}

/// A jiff instant as chrono's.
pub fn from_jiff(instant: jiff::Timestamp) -> Option<DateTime<Utc>> {
    let (secs, nanos) = (instant.as_second(), instant.subsec_nanosecond());
    // Before the epoch jiff counts the fraction negative; chrono's is always positive.
    let (secs, nanos) = if nanos < 0 {
        (secs - 1, nanos + 1_000_000_000)
    } else {
        (secs, nanos)
    };
    DateTime::from_timestamp(secs, nanos as u32)
}
