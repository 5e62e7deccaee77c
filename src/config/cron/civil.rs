//! Wall-clock ("civil") time as whole seconds since 1970-01-01 00:00:00 on the wall, and
//! back to year, month, day, hour, minute, second and weekday. Plain proleptic Gregorian
//! arithmetic (Howard Hinnant's `days_from_civil`), no zones: the search for a matching
//! time works on the wall clock, and `fire` maps wall times to instants.

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A wall-clock time broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1-12.
    pub month: u8,
    /// 1-31.
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// Days since 1970-01-01 of a date.
pub fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// 0 = Sunday .. 6 = Saturday.
pub fn weekday(days: i64) -> u8 {
    // 1970-01-01 was a Thursday.
    (days + 4).rem_euclid(7) as u8
}

/// Days in a month.
pub fn month_len(year: i64, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

impl Civil {
    /// Breaks down a wall time.
    pub fn from_wall(wall: i64) -> Civil {
        let (year, month, day) = civil_from_days(wall.div_euclid(DAY));
        let secs = wall.rem_euclid(DAY);
        Civil {
            year,
            month,
            day,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
        }
    }

    /// The wall time in seconds.
    pub fn to_wall(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * DAY
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_weekdays() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!(d >= 1 && d <= month_len(y, m));
        }
        // 2100-03-28 is a Sunday; 2100 is no leap year, 2000 was.
        let days = days_from_civil(2100, 3, 28);
        assert_eq!(weekday(days), 0);
        assert_eq!((month_len(2100, 2), month_len(2000, 2)), (28, 29));
        let wall = Civil::from_wall(days * DAY + 2 * 3600 + 30 * 60 + 5);
        assert_eq!(
            (
                wall.year,
                wall.month,
                wall.day,
                wall.hour,
                wall.minute,
                wall.second
            ),
            (2100, 3, 28, 2, 30, 5)
        );
        assert_eq!(wall.to_wall(), days * DAY + 9005);
    }
}
