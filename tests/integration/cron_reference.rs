//! An independent, brute-force cron: the reference slotcron's fire times are compared with
//! (`cron_conformance`, `import`). It shares nothing with slotcron's parser or evaluator.
//! It reads the five fields as cronie's `entry.c` does (names in any case, `7` and a range
//! ending at `0` for Sunday, steps of any size, nicknames with cronie's flags) and then
//! *runs cronie's main loop* (`cron.c`): one wake-up per real minute, the wall clock of
//! the zone compared with the minute cronie expected ("virtual time"):
//!
//! - 1 minute later: jobs matching the wall minute run;
//! - 2 to 5 minutes: every job, for each minute missed;
//! - 6 to 180 minutes (spring forward): wildcard jobs (minute or hour field starting with
//!   `*`) for the wall minute, fixed-time jobs for each minute missed;
//! - 0 to 180 minutes back (fall back): wildcard jobs only, virtual time kept;
//! - more: a clock reset, everything matching the wall minute runs.
//!
//! The day rule is cronie's `find_jobs`: day of month and day of week AND when either
//! field starts with `*`, OR otherwise. Zone offsets come from jiff's copy of the tz
//! database (data, not slotcron code). Minutes, hours and days that cannot match are
//! stepped over, but never across a change of offset.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// A schedule as cronie reads it.
pub struct Reference {
    /// minute, hour, day of month, month, day of week (0 = Sunday): bit `v` = value `v`.
    sets: [u64; 5],
    dom_star: bool,
    dow_star: bool,
    /// cronie's `MIN_STAR | HR_STAR`.
    wildcard: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 8] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A zone's offsets over a span of time: the offset before the first change, then each
/// change as (instant, offset after), Unix seconds.
pub struct Offsets {
    first: i64,
    changes: Vec<(i64, i64)>,
}

impl Offsets {
    /// `zone` (IANA name; `""` for the machine's) between `from` and `to`.
    pub fn new(zone: &str, from: i64, to: i64) -> Offsets {
        let tz = if zone.is_empty() {
            jiff::tz::TimeZone::system()
        } else {
            jiff::tz::TimeZone::get(zone).unwrap()
        };
        let at = |t: i64| {
            let ts = jiff::Timestamp::from_second(t).unwrap();
            i64::from(tz.to_offset(ts).seconds())
        };
        let changes = tz
            .following(jiff::Timestamp::from_second(from).unwrap())
            .map(|tr| (tr.timestamp().as_second(), i64::from(tr.offset().seconds())))
            .take_while(|(t, _)| *t <= to)
            .collect();
        Offsets {
            first: at(from),
            changes,
        }
    }

    /// The offset at `t`.
    pub fn at(&self, t: i64) -> i64 {
        match self.changes.partition_point(|(at, _)| *at <= t) {
            0 => self.first,
            i => self.changes[i - 1].1,
        }
    }

    /// The first change of offset after `t`.
    fn next_change(&self, t: i64) -> i64 {
        let i = self.changes.partition_point(|(at, _)| *at <= t);
        self.changes.get(i).map_or(i64::MAX, |c| c.0)
    }
}

impl Reference {
    /// Five fields, or a cronie nickname.
    pub fn new(schedule: &str) -> Reference {
        let (expanded, dom_star, dow_star, wildcard) = match schedule.to_ascii_lowercase().as_str()
        {
            "@yearly" | "@annually" => ("0 0 1 1 *", false, true, false),
            "@monthly" => ("0 0 1 * *", false, true, false),
            "@weekly" => ("0 0 * * 0", true, false, false),
            "@daily" | "@midnight" => ("0 0 * * *", false, false, false),
            "@hourly" => ("0 * * * *", false, false, true),
            _ => {
                let f: Vec<&str> = schedule.split_whitespace().collect();
                assert_eq!(f.len(), 5, "{schedule}");
                let star = |i: usize| f[i].starts_with('*');
                (schedule, star(2), star(4), star(0) || star(1))
            }
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
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
            dom_star,
            dow_star,
            wildcard,
        }
    }

    fn has(&self, field: usize, value: i64) -> bool {
        self.sets[field] & (1 << value) != 0
    }

    /// Whether the wall day (days since 1970-01-01) matches: month, then cronie's rule.
    fn day_matches(&self, day: i64) -> bool {
        let date = NaiveDate::from_num_days_from_ce_opt(day as i32 + 719_163).unwrap();
        let dom = self.has(2, i64::from(date.day()));
        let dow = self.has(4, i64::from(date.weekday().num_days_from_sunday()));
        let days = if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        };
        days && self.has(3, i64::from(date.month()))
    }

    /// Whether a wall minute (minutes since 1970-01-01 00:00 on the wall) matches.
    fn matches(&self, wall: i64) -> bool {
        let (day, minute) = (wall.div_euclid(1440), wall.rem_euclid(1440));
        self.has(0, minute % 60) && self.has(1, minute / 60) && self.day_matches(day)
    }

    /// cronie's fire instants strictly after `after`: at most `n`, none past `until`.
    pub fn fires(&self, zone: &Offsets, after: DateTime<Utc>, n: usize, until: i64) -> Vec<i64> {
        let after = after.timestamp();
        // Start in steady state well before `after`: no change of offset is that close
        // to another, and a fall-back's effect lasts at most 3 hours.
        let mut m = (after - 4 * 3600).div_euclid(60) * 60;
        let wall = |m: i64| (m + zone.at(m)).div_euclid(60);
        let mut virtual_time = wall(m) - 1;
        let mut out = Vec::new();
        while out.len() < n && m <= until {
            let now = wall(m);
            let diff = now - virtual_time;
            let run = |v: i64, wild_only: bool, fixed_only: bool| {
                (!wild_only || self.wildcard) && (!fixed_only || !self.wildcard) && self.matches(v)
            };
            let fire = match diff {
                1 => run(now, false, false),
                2..=5 => (virtual_time + 1..=now).any(|v| run(v, false, false)),
                6..=180 => {
                    run(now, true, false) || (virtual_time + 1..=now).any(|v| run(v, false, true))
                }
                -180..=0 => run(now, true, false),
                _ => run(now, false, false),
            };
            if !(-180..=0).contains(&diff) {
                virtual_time = now;
            }
            if fire && m > after {
                out.push(m);
            }
            (m, virtual_time) = self.step(zone, m, now, virtual_time);
        }
        out
    }

    /// The next wake-up to look at: the next minute, or, in steady state, the first
    /// minute that could match (next minute of the hour, hour of the day, day) when no
    /// change of offset lies in between.
    fn step(&self, zone: &Offsets, m: i64, now: i64, virtual_time: i64) -> (i64, i64) {
        let next = (m + 60, virtual_time);
        if virtual_time != now {
            return next;
        }
        let (day, minute) = (now.div_euclid(1440), now.rem_euclid(1440));
        let (hour, min) = (minute / 60, minute % 60);
        let target = if !self.day_matches(day) {
            (day + 1) * 1440
        } else if !self.has(1, hour) {
            match (hour + 1..24).find(|h| self.has(1, *h)) {
                Some(h) => day * 1440 + h * 60,
                None => (day + 1) * 1440,
            }
        } else {
            match (min + 1..60).find(|x| self.has(0, *x)) {
                Some(x) => day * 1440 + hour * 60 + x,
                None => day * 1440 + (hour + 1) * 60,
            }
        };
        let to = target * 60 - zone.at(m);
        if to <= m + 60 || zone.next_change(m) <= to {
            return next;
        }
        (to, target - 1)
    }
}

/// One element of a comma list as cronie's `get_range` reads it.
fn part_bits(part: &str, (low, high): (i64, i64), field: usize) -> u64 {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => (r, s.parse::<i64>().unwrap()),
        None => (part, 1),
    };
    let (a, mut b) = if range == "*" {
        (low, high)
    } else if let Some((a, b)) = range.split_once('-') {
        (number(a, field), number(b, field))
    } else {
        let v = number(range, field);
        (v, v)
    };
    if a > b && b == 0 {
        b = 7; // cronie's R_RANGE_NUM2
    }
    let mut bits = 0;
    let mut v = a;
    while v <= b {
        bits |= 1 << v;
        v += step;
    }
    bits
}

fn number(text: &str, field: usize) -> i64 {
    let lower = text.to_ascii_lowercase();
    let names: &[&str] = match field {
        3 => &MONTHS,
        4 => &DAYS,
        _ => &[],
    };
    match names.iter().position(|n| *n == lower) {
        Some(i) if field == 3 => i as i64 + 1,
        Some(i) => i as i64,
        None => text.parse().unwrap(),
    }
}
