//! The first wall-clock time at or after a given one that an expression matches: month,
//! then day (cronie's day rule, [`CronExpr::day_matches`]), then hour, minute and second,
//! each found with a bit scan, so a search skips whole days, hours and minutes at once.

use super::CronExpr;
use super::civil::{Civil, days_from_civil, month_len, weekday};

/// The lowest set bit of `bits` at or above `from`, if any.
fn next_bit(bits: u64, from: u8) -> Option<u8> {
    if from >= 64 {
        return None;
    }
    let rest = bits >> from;
    (rest != 0).then(|| from + rest.trailing_zeros() as u8)
}

impl CronExpr {
    /// The first wall time in `from..=to` (seconds, see [`super::civil`]) that matches.
    pub(crate) fn next_match(&self, from: i64, to: i64) -> Option<i64> {
        let mut at = Civil::from_wall(from);
        while at.to_wall() <= to {
            match self.match_in_day(at) {
                Ok(found) => return Some(found.to_wall()).filter(|w| *w <= to),
                Err(next) => at = next?,
            }
        }
        None
    }

    /// A match on `at`'s day at or after `at`, or else where to look next (the start of
    /// the next day that can match; `None` past the year 9999).
    fn match_in_day(&self, at: Civil) -> Result<Civil, Option<Civil>> {
        let Some(month) = next_bit(u64::from(self.months), at.month) else {
            return Err(self.first_day_from(at.year + 1, 1));
        };
        if month != at.month {
            return Err(self.first_day_from(at.year, month));
        }
        let days = days_from_civil(at.year, at.month, at.day);
        if !self.day_matches(at.day, weekday(days)) {
            return Err(next_day(at));
        }
        let mut time = (at.hour, at.minute, at.second);
        loop {
            let Some(hour) = next_bit(u64::from(self.hours), time.0) else {
                return Err(next_day(at));
            };
            if hour != time.0 {
                time = (hour, 0, 0);
            }
            let Some(minute) = next_bit(self.minutes, time.1) else {
                time = (hour + 1, 0, 0);
                continue;
            };
            if minute != time.1 {
                time = (hour, minute, 0);
            }
            let Some(second) = next_bit(self.seconds, time.2) else {
                time = (hour, minute + 1, 0);
                if time.1 == 60 {
                    time = (hour + 1, 0, 0);
                }
                continue;
            };
            return Ok(Civil {
                hour,
                minute,
                second,
                ..at
            });
        }
    }

    /// Midnight of the first day of `month` (or the next matching month) in `year`.
    fn first_day_from(&self, year: i64, month: u8) -> Option<Civil> {
        if year > 9999 {
            return None;
        }
        match next_bit(u64::from(self.months), month) {
            Some(month) => Some(midnight(year, month, 1)),
            None => self.first_day_from(year + 1, 1),
        }
    }
}

fn midnight(year: i64, month: u8, day: u8) -> Civil {
    Civil {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
    }
}

/// Midnight of the day after `at`.
fn next_day(at: Civil) -> Option<Civil> {
    Some(if at.day < month_len(at.year, at.month) {
        midnight(at.year, at.month, at.day + 1)
    } else if at.month < 12 {
        midnight(at.year, at.month + 1, 1)
    } else {
        midnight(at.year + 1, 1, 1)
    })
}
