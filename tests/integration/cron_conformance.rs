//! Conformance: slotcron fires exactly when cronie would. A hand-written corpus and
//! expressions generated at random from cron's grammar are compared with the independent
//! reference (`cron_reference`, cronie's main loop minute by minute) in UTC,
//! Europe/Berlin, America/New_York and Australia/Lord_Howe (30-minute daylight saving),
//! from instants around each change of clock in 2026 and in 2100, 200 fire times each.
//! The real binary's `slotcron next --from` agrees too.
//!
//! A debug `cargo test` checks every corpus expression from every start, and each random
//! expression in every zone from one start drawn at random; `SLOTCRON_CONFORMANCE=full`
//! (best with `--release`) checks every random expression from every start.

use chrono::{DateTime, Utc};
use serde_json::Value;
use slotcron::config::{HORIZON_YEARS, Schedule, Zone};

use crate::cron_reference::{Offsets, Reference};
use crate::helper::{Sandbox, stderr};

const ZONES: [&str; 4] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
];
const FIRES: usize = 200;
/// How far the comparison looks: rare expressions (a leap day on a Sunday) fire fewer
/// than 200 times in it.
const YEARS: i64 = 30;
const RANDOM: u64 = 3_000;

/// Expressions written by hand: the cases, both day rules, steps past their range,
/// names, Sunday as 7, and times that daylight saving skips or repeats.
const CORPUS: &[&str] = &[
    "0 0 */2 * 1",
    "0 0 1 * */2",
    "0 0 13 * 5",
    "0 0 1-31 * 1",
    "30 4 1-7 * 1",
    "0 12 1-10 * */2",
    "1-59/61 * * * *",
    "*/100 */100 * * *",
    "30 2 * * *",
    "0,30 2 * * *",
    "15 2 * * *",
    "45 1 * * *",
    "*/15 2 * * *",
    "*/20 1-3 * * *",
    "0 * * * *",
    "30 * * * *",
    "*/7 * * * *",
    "0 1-3 * * *",
    "15 1,2,3 * * sun",
    "59 1 * * *",
    "0 3 * * *",
    "2 2 * * 0",
    "0 0 29 2 *",
    "0 0 29 2 sun",
    "0 0 */29 2 1",
    "0 0 31 * *",
    "59 23 28-31 * *",
    "0 8 * JAN-mar,Oct-DEC Mon,wed,FRI",
    "0 0 * * 7",
    "0 0 * * fri-sun",
    "0 0 * * 5-0",
    "5,35 */6 * * *",
    "*/1 */1 */1 */1 */1",
    "* 2 * * *",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@yearly",
];

/// Where comparisons start in `zone`: around each change of clock in 2026 and 2100 (just
/// before, at, inside the skipped or repeated span, after), or, for UTC, a few instants.
fn starts(zone: &str) -> Vec<DateTime<Utc>> {
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let tz = jiff::tz::TimeZone::get(zone).unwrap();
    let mut changes: Vec<i64> = Vec::new();
    for year_start in ["2026-01-01T00:00:00Z", "2100-01-01T00:00:00Z"] {
        let from = jiff::Timestamp::from_second(at(year_start).timestamp()).unwrap();
        changes.extend(
            tz.following(from)
                .take(2)
                .map(|t| t.timestamp().as_second()),
        );
    }
    if changes.is_empty() {
        return [
            "2026-02-27T23:59:30Z",
            "2026-12-31T23:00:00Z",
            "2100-02-28T12:00:00Z",
        ]
        .map(at)
        .to_vec();
    }
    changes
        .iter()
        .flat_map(|t| [-5400, -1, 0, 15 * 60 + 1, 45 * 60, 3 * 3600].map(|d| t + d))
        .map(|t| DateTime::from_timestamp(t, 0).unwrap())
        .collect()
}

/// Compares slotcron with the reference; the message names the first difference.
fn compare(expr: &str, zone: &str, after: DateTime<Utc>) -> Result<(), String> {
    let until = after.timestamp() + YEARS * 366 * 86_400;
    let schedule = Schedule::parse(expr).map_err(|e| format!("`{expr}` rejected: {e}"))?;
    let slotcron_zone = Zone::named(zone).unwrap();
    let ours: Vec<i64> = std::iter::successors(schedule.next_fire(&slotcron_zone, after), |t| {
        schedule.next_fire(&slotcron_zone, *t)
    })
    .map(|t| t.timestamp())
    .take_while(|t| *t <= until)
    .take(FIRES)
    .collect();
    let offsets = Offsets::new(zone, after.timestamp() - 86_400, until);
    let theirs = Reference::new(expr).fires(&offsets, after, FIRES, until);
    let n = ours.len().max(theirs.len());
    match (0..n).find(|i| ours.get(*i) != theirs.get(*i)) {
        None => Ok(()),
        Some(i) => {
            let show = |v: Option<&i64>| {
                v.and_then(|t| DateTime::from_timestamp(*t, 0))
                    .map_or("nothing".to_owned(), |t| t.to_rfc3339())
            };
            Err(format!(
                "`{expr}` in {zone} from {after}: fire #{i} is {} for slotcron, {} for cron",
                show(ours.get(i)),
                show(theirs.get(i))
            ))
        }
    }
}

fn full() -> bool {
    std::env::var("SLOTCRON_CONFORMANCE").is_ok_and(|v| v == "full")
}

#[test]
fn the_corpus_fires_as_cronie_in_four_zones_around_each_change_of_clock() {
    let mut failures = Vec::new();
    for zone in ZONES {
        for after in starts(zone) {
            for expr in CORPUS {
                failures.extend(compare(expr, zone, after).err());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn random_expressions_fire_as_cronie() {
    let mut rng = fastrand::Rng::with_seed(12);
    let starts: Vec<(&str, Vec<DateTime<Utc>>)> = ZONES.iter().map(|z| (*z, starts(z))).collect();
    let (mut compared, mut never, mut failures) = (0, 0, Vec::new());
    for _ in 0..RANDOM {
        let expr = random_expression(&mut rng);
        if let Err(e) = Schedule::parse(&expr) {
            // Only an expression that never fires may be refused; the reference agrees.
            assert!(e.to_string().contains("never fires"), "`{expr}`: {e}");
            let offsets = Offsets::new("UTC", 946_684_800, 946_684_800 + 400 * 366 * 86_400);
            let start = DateTime::from_timestamp(946_684_800, 0).unwrap();
            let until = start.timestamp() + 400 * 366 * 86_400;
            assert!(
                Reference::new(&expr)
                    .fires(&offsets, start, 1, until)
                    .is_empty(),
                "{expr}"
            );
            never += 1;
            continue;
        }
        for (zone, zone_starts) in &starts {
            let picked: Vec<&DateTime<Utc>> = if full() {
                zone_starts.iter().collect()
            } else {
                vec![&zone_starts[rng.usize(0..zone_starts.len())]]
            };
            for after in picked {
                compared += 1;
                failures.extend(compare(&expr, zone, *after).err());
            }
        }
    }
    eprintln!("{compared} comparisons of {RANDOM} random expressions ({never} never fire)");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
    assert!(
        never < RANDOM / 20,
        "the generator makes too many never-firing expressions"
    );
}

/// An expression drawn from cron's grammar, biased to fire often enough to compare.
pub fn random_expression(rng: &mut fastrand::Rng) -> String {
    if rng.u8(0..40) == 0 {
        let nicks = [
            "@hourly",
            "@daily",
            "@midnight",
            "@weekly",
            "@monthly",
            "@yearly",
            "@annually",
        ];
        return nicks[rng.usize(0..nicks.len())].to_owned();
    }
    [
        field(rng, 0, 59, &[], 30),
        field(rng, 0, 23, &[], 45),
        field(rng, 1, 31, &[], 55),
        field(rng, 1, 12, &MONTH_NAMES, 75),
        field(rng, 0, 7, &DAY_NAMES, 55),
    ]
    .join(" ")
}

const MONTH_NAMES: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// One field: `*` (with `star_percent` chance, possibly stepped), else a list of one to
/// three values, ranges and stepped ranges (steps up to past the range), with names in
/// random case where the field has them.
fn field(rng: &mut fastrand::Rng, low: u32, high: u32, names: &[&str], star_percent: u8) -> String {
    if rng.u8(0..100) < star_percent {
        return match rng.u8(0..4) {
            0 => format!("*/{}", rng.u32(1..=high + 3)),
            1 => format!("*,{}", value(rng, low, high, names)),
            _ => "*".to_owned(),
        };
    }
    let elements: Vec<String> = (0..rng.usize(1..=3))
        .map(|_| match rng.u8(0..4) {
            0 | 1 => value(rng, low, high, names),
            2 => {
                let a = rng.u32(low..=high);
                let b = rng.u32(a..=high);
                format!(
                    "{}-{}",
                    name_or_number(rng, a, low, names),
                    name_or_number(rng, b, low, names)
                )
            }
            _ => {
                let a = rng.u32(low..=high);
                let b = rng.u32(a..=high);
                format!("{a}-{b}/{}", rng.u32(1..=high + 3))
            }
        })
        .collect();
    if names.len() == 7 && rng.u8(0..20) == 0 {
        return format!("{}-0", rng.u32(1..=6)); // cronie: a range ending at Sunday
    }
    elements.join(",")
}

fn value(rng: &mut fastrand::Rng, low: u32, high: u32, names: &[&str]) -> String {
    let v = rng.u32(low..=high);
    name_or_number(rng, v, low, names)
}

fn name_or_number(rng: &mut fastrand::Rng, v: u32, low: u32, names: &[&str]) -> String {
    let index = (v - low) as usize;
    match names.get(index) {
        Some(name) if rng.bool() => name
            .chars()
            .map(|c| {
                if rng.bool() {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect(),
        _ => v.to_string(),
    }
}

#[test]
fn slotcron_next_from_agrees_with_the_reference() {
    let sb = Sandbox::new("");
    for (expr, zone, from, wall) in [
        ("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", false),
        ("*/20 1-3 * * *", "Europe/Berlin", "2026-10-25 02:10", false),
        (
            "0,30 1 * * *",
            "America/New_York",
            "2026-11-01T05:40:00Z",
            false,
        ),
        (
            "15 2 * * *",
            "Australia/Lord_Howe",
            "2026-10-03 23:00",
            true,
        ),
        ("30 2 28 3 *", "Europe/Berlin", "2099-06-01 00:00", true),
    ] {
        let out = sb.slotcron(&[
            "next", "--expr", expr, "--tz", zone, "--from", from, "--count", "40", "--json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let fires: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let ours: Vec<i64> = fires
            .iter()
            .map(|f| {
                f["utc"]
                    .as_str()
                    .unwrap()
                    .parse::<DateTime<Utc>>()
                    .unwrap()
                    .timestamp()
            })
            .collect();
        let after = if wall {
            Zone::named(zone)
                .unwrap()
                .instant_of(from.replace(' ', "T").parse().unwrap())
                .unwrap()
        } else if from.contains('T') {
            from.parse().unwrap()
        } else {
            Zone::named(zone)
                .unwrap()
                .instant_of(from.replace(' ', "T").parse().unwrap())
                .unwrap()
        };
        let until = after.timestamp() + HORIZON_YEARS * 366 * 86_400;
        let offsets = Offsets::new(zone, after.timestamp() - 86_400, until);
        let theirs = Reference::new(expr).fires(&offsets, after, 40, until);
        assert_eq!(ours, theirs, "`{expr}` in {zone} from {from}");
    }
}
