//! Cron expressions, read and matched as cronie reads and matches them (ADR 0025): five
//! fields (or six, with a leading seconds field, slotcron's one extension besides
//! `@every`), cronie's nicknames, cronie's field grammar ([`field`]) and its day rule:
//! day of month and day of week combine with **AND** when either field starts with `*`,
//! with **OR** when both are restricted (`0 0 13 * 5` = the 13th *or* a Friday;
//! `0 0 */2 * 1` = an odd day *that is* a Monday).
//!
//! An expression is a handful of bit sets (48 bytes with its text), and matching is bit
//! scans over the wall clock ([`search`]); the zone and daylight saving are `fire`'s.

mod civil;
mod error;
mod field;
mod search;
#[cfg(test)]
mod tests;

use std::fmt;

pub use civil::{DAY, days_from_civil};
pub use error::{CronError, FieldError, NICKNAMES, Problem};
pub use field::{FieldKind, FieldSet, parse_field};

/// A parsed cron expression. Cannot hold one that never fires.
#[derive(Clone, PartialEq, Eq)]
pub struct CronExpr {
    /// Bit s: second s (only bit 0 for a 5-field expression).
    seconds: u64,
    /// Bit m: minute m.
    minutes: u64,
    /// Bit h: hour h.
    hours: u32,
    /// Bit d: day of month d (1-31).
    days: u32,
    /// Bit m: month m (1-12).
    months: u16,
    /// Bit w: weekday w (0 = Sunday .. 6).
    weekdays: u8,
    /// [`DOM_STAR`], [`DOW_STAR`], [`WILDCARD_TIME`], [`SECONDS`].
    flags: u8,
    /// As written.
    text: Box<str>,
}

/// The day-of-month field starts with `*` (cronie's `DOM_STAR`).
const DOM_STAR: u8 = 1;
/// The day-of-week field starts with `*` (cronie's `DOW_STAR`).
const DOW_STAR: u8 = 2;
/// The minute or hour field (or the seconds field) starts with `*` (cronie's `MIN_STAR |
/// HR_STAR`): a wildcard job, which follows the wall clock through daylight saving.
const WILDCARD_TIME: u8 = 4;
/// Written with a leading seconds field.
const SECONDS: u8 = 8;

/// Every value of a field.
fn all(kind: FieldKind) -> u64 {
    let (low, high) = kind.bounds();
    let high = if kind == FieldKind::DayOfWeek {
        6
    } else {
        high
    };
    (low..=high).fold(0, |bits, v| bits | (1 << v))
}

impl CronExpr {
    /// Parses an expression: 5 fields, 6 with a leading seconds field, or one of cronie's
    /// nicknames (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`,
    /// `@hourly`; any case), which mean what they mean in cronie (`@monthly` is `0 0 1 * *`).
    ///
    /// ```
    /// use slotcron::config::CronExpr;
    /// assert!(CronExpr::parse("*/15 9-17 * * mon-fri").is_ok());
    /// let err = CronExpr::parse("0 0 * * */MON").unwrap_err();
    /// assert_eq!(err.to_string(), "day of week field: `*/MON`: the step after `/` must be a number, 1 or more");
    /// ```
    ///
    /// # Errors
    /// [`CronError`]: the wrong number of fields, a bad field (named, with the element at
    /// fault and what the field takes), an unknown nickname, or an expression that never
    /// fires (`0 0 30 2 *`).
    pub fn parse(text: &str) -> Result<CronExpr, CronError> {
        let text = text.trim();
        let expr = match text.strip_prefix('@') {
            Some(nick) => {
                Self::nickname(nick).ok_or_else(|| CronError::UnknownNickname(text.into()))?
            }
            None => Self::fields(text)?,
        };
        let expr = CronExpr {
            text: text.into(),
            ..expr
        };
        if !expr.fires_at_all() {
            return Err(CronError::Never);
        }
        Ok(expr)
    }

    fn fields(text: &str) -> Result<CronExpr, CronError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let (second, rest) = match words.len() {
            5 => (None, &words[..]),
            6 => (Some(words[0]), &words[1..]),
            n => return Err(CronError::FieldCount(n)),
        };
        let second = match second {
            Some(s) => parse_field(s, FieldKind::Second)?,
            None => FieldSet {
                bits: 1,
                star: false,
            },
        };
        let mut sets = [second; 5];
        for (set, (word, kind)) in sets.iter_mut().zip(rest.iter().zip(FieldKind::CRON)) {
            *set = parse_field(word, kind)?;
        }
        let [minute, hour, dom, month, dow] = sets;
        let mut flags = 0;
        if dom.star {
            flags |= DOM_STAR;
        }
        if dow.star {
            flags |= DOW_STAR;
        }
        if second.star || minute.star || hour.star {
            flags |= WILDCARD_TIME;
        }
        if words.len() == 6 {
            flags |= SECONDS;
        }
        Ok(CronExpr {
            seconds: second.bits,
            minutes: minute.bits,
            hours: hour.bits as u32,
            days: dom.bits as u32,
            months: month.bits as u16,
            weekdays: dow.bits as u8,
            flags,
            text: "".into(),
        })
    }

    /// cronie's nicknames, with its flags (`entry.c`): `@hourly` is a wildcard job,
    /// `@monthly` and `@yearly` AND their days with an unrestricted day of week.
    fn nickname(nick: &str) -> Option<CronExpr> {
        let day = all(FieldKind::DayOfMonth) as u32;
        let month = all(FieldKind::Month) as u16;
        let week = all(FieldKind::DayOfWeek) as u8;
        let (hours, days, months, weekdays, flags) = match nick.to_ascii_lowercase().as_str() {
            "yearly" | "annually" => (1, 1 << 1, 1 << 1, week, DOW_STAR),
            "monthly" => (1, 1 << 1, month, week, DOW_STAR),
            "weekly" => (1, day, month, 1, DOM_STAR),
            "daily" | "midnight" => (1, day, month, week, 0),
            "hourly" => (all(FieldKind::Hour) as u32, day, month, week, WILDCARD_TIME),
            _ => return None,
        };
        Some(CronExpr {
            seconds: 1,
            minutes: 1,
            hours,
            days,
            months,
            weekdays,
            flags,
            text: "".into(),
        })
    }

    /// Whether any date ever matches: the Gregorian calendar repeats every 400 years.
    fn fires_at_all(&self) -> bool {
        let from = days_from_civil(2000, 1, 1) * DAY;
        self.next_match(from, from + 400 * 366 * DAY).is_some()
    }

    /// cronie's day rule: AND when either day field starts with `*`, else OR.
    pub fn day_matches(&self, day: u8, weekday: u8) -> bool {
        let dom = self.days & (1 << day) != 0;
        let dow = self.weekdays & (1 << weekday) != 0;
        if self.and_days() {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// Whether the day fields combine with AND (either starts with `*`).
    pub fn and_days(&self) -> bool {
        self.flags & (DOM_STAR | DOW_STAR) != 0
    }

    /// Whether the minute or hour field (or the seconds field) starts with `*`: cronie's
    /// line between wildcard jobs and fixed-time jobs (`@hourly` is a wildcard job).
    pub fn has_wildcard_time(&self) -> bool {
        self.flags & WILDCARD_TIME != 0
    }

    /// Whether it was written with a seconds field.
    pub fn has_seconds(&self) -> bool {
        self.flags & SECONDS != 0
    }

    /// The values a field matches; for the two day fields also whether the field was
    /// written from `*` (for nicknames: as cronie sets its flags). Day of week: 0-6.
    pub fn field(&self, kind: FieldKind) -> FieldSet {
        let (bits, star) = match kind {
            FieldKind::Second => (self.seconds, false),
            FieldKind::Minute => (self.minutes, false),
            FieldKind::Hour => (u64::from(self.hours), false),
            FieldKind::DayOfMonth => (u64::from(self.days), self.flags & DOM_STAR != 0),
            FieldKind::Month => (u64::from(self.months), false),
            FieldKind::DayOfWeek => (u64::from(self.weekdays), self.flags & DOW_STAR != 0),
        };
        FieldSet { bits, star }
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CronExpr").field(&self.as_str()).finish()
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
