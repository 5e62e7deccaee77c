//! An independent, brute-force reading of a crontab schedule, as the reference the imported
//! jobs' fire times are compared with. It shares nothing with slotcron's parser or croner:
//! a tiny field parser, then a walk over the clock, minute by minute, applying cronie's
//! rules as its source states them:
//!
//! - day of month and day of week combine with AND when either field starts with `*`,
//!   with OR otherwise;
//! - a job is "fixed-time" unless its minute or hour field starts with `*`; a fixed-time
//!   job whose wall time a spring-forward skips runs at the first instant after the gap,
//!   and in a repeated (fall-back) hour it runs in the first pass only; a wildcard job
//!   simply matches the wall clock.
//!
//! Whole days and hours that cannot match are stepped over (never across a gap: the zones
//! used change their clocks at 02:00/03:00, not at midnight or mid-hour).

use chrono::{DateTime, Datelike, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};

/// A schedule as cronie reads it.
pub struct Reference {
    /// minute, hour, day of month, month, day of week (0 = Sunday): bit `v` = value `v`.
    sets: [u64; 5],
    dom_star: bool,
    dow_star: bool,
    fixed_time: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl Reference {
    /// Five fields, or a cronie nickname (written out as cronie's `entry.c` does).
    pub fn new(schedule: &str) -> Reference {
        let expanded = match schedule {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        assert_eq!(fields.len(), 5, "{schedule}");
        let bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
        let mut sets = [0u64; 5];
        for i in 0..5 {
            for part in fields[i].split(',') {
                sets[i] |= part_bits(part, bounds[i], i);
            }
        }
        if sets[4] & (1 << 7) != 0 {
            sets[4] |= 1; // 7 is Sunday too
        }
        Reference {
            sets,
            dom_star: fields[2].starts_with('*'),
            dow_star: fields[4].starts_with('*'),
            fixed_time: !(fields[0].starts_with('*') || fields[1].starts_with('*')),
        }
    }

    fn has(&self, field: usize, value: u32) -> bool {
        self.sets[field] & (1 << value) != 0
    }

    fn day_matches(&self, wall: NaiveDateTime) -> bool {
        let dom = self.has(2, wall.day());
        let dow = self.has(4, wall.weekday().num_days_from_sunday());
        let days = if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        };
        days && self.has(3, wall.month())
    }

    fn matches(&self, wall: NaiveDateTime) -> bool {
        self.has(0, wall.minute()) && self.has(1, wall.hour()) && self.day_matches(wall)
    }

    /// The first `n` fire times strictly after `after`, read in `zone`.
    pub fn fires<Z: TimeZone>(
        &self,
        zone: &Z,
        after: DateTime<Utc>,
        n: usize,
    ) -> Vec<DateTime<Utc>> {
        let minute = TimeDelta::minutes(1);
        let wall = |t: DateTime<Utc>| t.with_timezone(zone).naive_local();
        let mut t = after.with_second(0).unwrap().with_nanosecond(0).unwrap() + minute;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let here = wall(t);
            let before = wall(t - minute);
            let mut fire = self.matches(here);
            if self.fixed_time {
                // The second pass of a repeated hour: the same wall time an hour earlier.
                if wall(t - TimeDelta::hours(1)) >= here {
                    fire = false;
                }
                // Wall times a spring-forward jumped over, just before `t`.
                let mut skipped = before + minute;
                while skipped < here {
                    fire |= self.matches(skipped);
                    skipped += minute;
                }
            }
            if fire {
                out.push(t);
            }
            t = if !self.day_matches(here) {
                let midnight = (here.date() + TimeDelta::days(1))
                    .and_hms_opt(0, 0, 0)
                    .unwrap();
                zone.from_local_datetime(&midnight)
                    .earliest()
                    .map_or(t + minute, |m| m.with_timezone(&Utc))
            } else if !self.has(1, here.hour()) {
                t + TimeDelta::minutes(60 - i64::from(here.minute()))
            } else {
                t + minute
            };
        }
        out
    }
}

/// One element of a comma list: `*`, `n`, `a-b`, `*/s`, `a-b/s`, names allowed.
fn part_bits(part: &str, (low, high): (u32, u32), field: usize) -> u64 {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => (r, s.parse::<u32>().unwrap()),
        None => (part, 1),
    };
    let (a, b) = if range == "*" {
        (low, high)
    } else if let Some((a, b)) = range.split_once('-') {
        (number(a, field), number(b, field))
    } else {
        let v = number(range, field);
        (v, v)
    };
    (a..=b)
        .step_by(step as usize)
        .fold(0, |bits, v| bits | 1 << v)
}

fn number(text: &str, field: usize) -> u32 {
    let lower = text.to_ascii_lowercase();
    if field == 3
        && let Some(i) = MONTHS.iter().position(|m| *m == lower)
    {
        return i as u32 + 1;
    }
    if field == 4
        && let Some(i) = DAYS.iter().position(|d| *d == lower)
    {
        return i as u32;
    }
    text.parse().unwrap()
}
