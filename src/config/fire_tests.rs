//! Daylight-saving transitions in two zones, for fixed-time and wildcard cron jobs and for
//! `@every`; every expectation is an exact UTC instant.
//!
//! 2026: Europe/Berlin springs forward on 03-29 at 01:00 UTC (02:00 CET -> 03:00 CEST) and
//! falls back on 10-25 at 01:00 UTC (03:00 CEST -> 02:00 CET, repeating 02:00-03:00).
//! America/New_York springs forward on 03-08 at 07:00 UTC (02:00 EST -> 03:00 EDT) and falls
//! back on 11-01 at 06:00 UTC (02:00 EDT -> 01:00 EST, repeating 01:00-02:00).

use std::path::Path;
use std::time::Instant;

use std::sync::LazyLock;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::*;
use crate::config::{Settings, parse_job};

static BERLIN_ZONE: LazyLock<Zone> = LazyLock::new(|| Zone::named("Europe/Berlin").unwrap());
static NEW_YORK_ZONE: LazyLock<Zone> = LazyLock::new(|| Zone::named("America/New_York").unwrap());

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// The first `n` fire times after `after`.
fn fires(schedule: &str, zone: &Zone, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    let schedule = Schedule::parse(schedule).unwrap();
    std::iter::successors(schedule.next_fire(zone, after), |t| {
        schedule.next_fire(zone, *t)
    })
    .take(n)
    .collect()
}

#[test]
fn berlin_spring_forward_runs_a_skipped_fixed_time_job_right_after_the_gap() {
    // 02:30 on 03-28 (CET), 03:00 CEST on 03-29 (02:30 never happens), 02:30 CEST on 03-30.
    assert_eq!(
        fires("30 2 * * *", &BERLIN_ZONE, utc(2026, 3, 27, 12, 0), 3),
        [
            utc(2026, 3, 28, 1, 30),
            utc(2026, 3, 29, 1, 0),
            utc(2026, 3, 30, 0, 30)
        ]
    );
    // A list is fixed-time too (cronie): both skipped times give one run after the gap.
    assert_eq!(
        fires("0,30 2 * * *", &BERLIN_ZONE, utc(2026, 3, 28, 12, 0), 3),
        [
            utc(2026, 3, 29, 1, 0),
            utc(2026, 3, 30, 0, 0),
            utc(2026, 3, 30, 0, 30)
        ]
    );
}

#[test]
fn berlin_fall_back_runs_a_fixed_time_job_once_in_the_repeated_hour() {
    assert_eq!(
        fires("30 2 * * *", &BERLIN_ZONE, utc(2026, 10, 24, 12, 0), 2),
        [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
    );
    // Asked from inside the second pass (02:10 CET), the job has already run.
    assert_eq!(
        fires("30 2 * * *", &BERLIN_ZONE, utc(2026, 10, 25, 1, 10), 1),
        [utc(2026, 10, 26, 1, 30)]
    );
    assert_eq!(
        fires("0,30 2 * * *", &BERLIN_ZONE, utc(2026, 10, 24, 12, 0), 3),
        [
            utc(2026, 10, 25, 0, 0),
            utc(2026, 10, 25, 0, 30),
            utc(2026, 10, 26, 1, 0)
        ]
    );
}

#[test]
fn berlin_wildcard_jobs_follow_the_wall_clock() {
    // Spring: 02:00-02:59 does not exist, so `*/15 2` does not run that day at all.
    assert_eq!(
        fires("*/15 2 * * *", &BERLIN_ZONE, utc(2026, 3, 28, 12, 0), 1),
        [utc(2026, 3, 30, 0, 0)]
    );
    // `*/15 *` just goes on: 01:45 CET, then 03:00 CEST.
    assert_eq!(
        fires("*/15 * * * *", &BERLIN_ZONE, utc(2026, 3, 29, 0, 40), 3),
        [
            utc(2026, 3, 29, 0, 45),
            utc(2026, 3, 29, 1, 0),
            utc(2026, 3, 29, 1, 15)
        ]
    );
    // Fall: the repeated hour is walked twice, as the clock shows it.
    let twice: Vec<DateTime<Utc>> = [0, 15, 30, 45]
        .iter()
        .map(|m| utc(2026, 10, 25, 0, *m))
        .chain([0, 15, 30, 45].iter().map(|m| utc(2026, 10, 25, 1, *m)))
        .chain([utc(2026, 10, 26, 1, 0)])
        .collect();
    assert_eq!(
        fires("*/15 2 * * *", &BERLIN_ZONE, utc(2026, 10, 24, 12, 0), 9),
        twice
    );
}

#[test]
fn new_york_spring_forward() {
    assert_eq!(
        fires("30 2 * * *", &NEW_YORK_ZONE, utc(2026, 3, 7, 0, 0), 3),
        [
            utc(2026, 3, 7, 7, 30),
            utc(2026, 3, 8, 7, 0),
            utc(2026, 3, 9, 6, 30)
        ]
    );
    // Hourly: 01:00 EST, then 03:00 EDT; 02:00 does not exist.
    assert_eq!(
        fires("0 * * * *", &NEW_YORK_ZONE, utc(2026, 3, 8, 5, 30), 3),
        [
            utc(2026, 3, 8, 6, 0),
            utc(2026, 3, 8, 7, 0),
            utc(2026, 3, 8, 8, 0)
        ]
    );
}

#[test]
fn new_york_fall_back() {
    // 01:30 EDT on 11-01; the 01:30 EST an hour later is skipped; 01:30 EST on 11-02.
    assert_eq!(
        fires("30 1 * * *", &NEW_YORK_ZONE, utc(2026, 10, 31, 12, 0), 2),
        [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]
    );
    // Hourly: 00:00 EDT, 01:00 EDT, 01:00 EST, 02:00 EST.
    assert_eq!(
        fires("0 * * * *", &NEW_YORK_ZONE, utc(2026, 11, 1, 3, 30), 4),
        [
            utc(2026, 11, 1, 4, 0),
            utc(2026, 11, 1, 5, 0),
            utc(2026, 11, 1, 6, 0),
            utc(2026, 11, 1, 7, 0)
        ]
    );
}

#[test]
fn every_counts_elapsed_time_on_a_grid_from_the_epoch_across_transitions() {
    for (zone, after) in [
        (&*BERLIN_ZONE, utc(2026, 3, 29, 0, 30)),
        (&*BERLIN_ZONE, utc(2026, 10, 25, 0, 30)),
        (&*NEW_YORK_ZONE, utc(2026, 3, 8, 6, 30)),
        (&*NEW_YORK_ZONE, utc(2026, 11, 1, 5, 30)),
        (&Zone::Local, utc(2026, 11, 1, 5, 30)),
    ] {
        let next = fires("@every 1h", zone, after, 2);
        assert_eq!(
            next,
            [
                after + TimeDelta::minutes(30),
                after + TimeDelta::minutes(90)
            ],
            "{zone}"
        );
    }
    // 7 minutes do not divide an hour: the grid is the epoch's (2026-01-01 00:00Z is on it).
    let at = utc(2026, 1, 1, 0, 3);
    assert_eq!(at.timestamp() % 420, 180);
    assert_eq!(
        fires("@every 7m", &BERLIN_ZONE, at, 1),
        [at + TimeDelta::minutes(4)]
    );
    // Strictly after: from a grid point, the next one.
    assert_eq!(
        fires("@every 7m", &BERLIN_ZONE, at + TimeDelta::minutes(4), 1),
        [at + TimeDelta::minutes(11)]
    );
}

#[test]
fn daylight_saving_goes_on_past_2099() {
    // 2100-03-28 is the last Sunday of March: 02:30 does not exist in Berlin, so a fixed
    // time runs right after the gap, 01:00Z (tables that stop in 2099 said 01:30Z).
    assert_eq!(
        fires("30 2 28 3 *", &BERLIN_ZONE, utc(2100, 1, 1, 0, 0), 1),
        [utc(2100, 3, 28, 1, 0)]
    );
    // And the clock falls back on 2100-10-31: 02:30 runs in its first pass only.
    assert_eq!(
        fires("30 2 * * *", &BERLIN_ZONE, utc(2100, 10, 30, 12, 0), 2),
        [utc(2100, 10, 31, 0, 30), utc(2100, 11, 1, 1, 30)]
    );
    // New York in 2150: EDT from 03-08 (second Sunday of March).
    assert_eq!(
        fires("0 12 * * *", &NEW_YORK_ZONE, utc(2150, 3, 7, 0, 0), 2),
        [utc(2150, 3, 7, 17, 0), utc(2150, 3, 8, 16, 0)]
    );
}

#[test]
fn lord_howe_moves_its_clock_by_half_an_hour() {
    // Australia/Lord_Howe: +10:30 standard, +11 in summer. 2026-10-04 02:00 -> 02:30
    // (2026-10-03 15:30Z); 2026-04-05 02:00 -> 01:30 (2026-04-04 15:00Z).
    let zone = Zone::named("Australia/Lord_Howe").unwrap();
    assert_eq!(
        fires("15 2 * * *", &zone, utc(2026, 10, 3, 0, 0), 2),
        [utc(2026, 10, 3, 15, 30), utc(2026, 10, 4, 15, 15)]
    );
    assert_eq!(
        fires("*/20 2 * * *", &zone, utc(2026, 10, 3, 0, 0), 2),
        [utc(2026, 10, 3, 15, 40), utc(2026, 10, 4, 15, 0)]
    );
    // Fall back: 01:30-02:00 repeats; the fixed time runs once, the wildcard job twice.
    assert_eq!(
        fires("45 1 * * *", &zone, utc(2026, 4, 4, 0, 0), 2),
        [utc(2026, 4, 4, 14, 45), utc(2026, 4, 5, 15, 15)]
    );
    assert_eq!(
        fires("45 * * * *", &zone, utc(2026, 4, 4, 14, 0), 3),
        [
            utc(2026, 4, 4, 14, 45),
            utc(2026, 4, 4, 15, 15),
            utc(2026, 4, 4, 16, 15)
        ]
    );
}

#[test]
fn manual_and_reboot_never_fire_and_local_fires() {
    let now = utc(2026, 11, 27, 10, 0);
    for zone in [&Zone::Local, &*BERLIN_ZONE] {
        assert_eq!(Schedule::Manual.next_fire(zone, now), None);
        assert_eq!(Schedule::Reboot.next_fire(zone, now), None);
    }
    // The machine's zone is whatever it is; an hourly job fires within the next hour.
    let next = fires("0 * * * *", &Zone::Local, now, 1)[0];
    assert!(next > now && next <= now + TimeDelta::hours(1), "{next}");
}

#[test]
fn a_job_reads_its_schedule_in_its_own_zone() {
    let settings = Settings::builtin();
    let file = Path::new("/jobs.d/report.yaml");
    let berlin = parse_job(
        file,
        "command: x\nschedule: \"30 2 * * *\"\ntimezone: Europe/Berlin\n",
        &settings,
    )
    .unwrap();
    assert_eq!(berlin.zone(), *BERLIN_ZONE);
    assert_eq!(
        berlin.next_fire(utc(2026, 3, 28, 12, 0)),
        Some(utc(2026, 3, 29, 1, 0))
    );
    let local = parse_job(file, "command: x\n", &settings).unwrap();
    assert_eq!(
        (local.zone(), local.next_fire(utc(2026, 1, 1, 0, 0))),
        (Zone::Local, None)
    );
}

#[test]
fn zone_formats_wall_clock_time() {
    let t = utc(2026, 11, 28, 1, 30);
    assert_eq!(
        BERLIN_ZONE.format(t, "%Y-%m-%d %H:%M:%S %Z"),
        "2026-11-28 02:30:00 CET"
    );
    assert_eq!(BERLIN_ZONE.rfc3339(t), "2026-11-28T02:30:00+01:00");
    assert_eq!(NEW_YORK_ZONE.to_string(), "America/New_York");
}

/// The scheduler computes this for every job on every wake-up: 10,000 jobs must take well
/// under 200 ms in a release build. Timing means nothing in a debug build, so it runs on
/// request: `cargo test --release --lib next_fire_is_fast -- --ignored`.
#[test]
#[ignore = "timing: run in release with --ignored"]
fn next_fire_is_fast() {
    let schedules: Vec<(Schedule, &Zone)> = (0..10_000)
        .map(|i| {
            let text = match i % 5 {
                0 => format!("{} {} * * *", i % 60, i % 24),
                1 => format!("*/{} * * * *", i % 30 + 1),
                2 => "0,30 2 * * 1-5".to_owned(),
                3 => format!("@every {}m", i % 90 + 1),
                _ => "0 0 13 * 5".to_owned(),
            };
            let zone = if i % 2 == 0 {
                &*BERLIN_ZONE
            } else {
                &Zone::Local
            };
            (Schedule::parse(&text).unwrap(), zone)
        })
        .collect();
    let after = utc(2026, 10, 25, 0, 45);
    let start = Instant::now();
    let found = schedules
        .iter()
        .filter_map(|(s, zone)| s.next_fire(zone, after))
        .count();
    let took = start.elapsed();
    eprintln!("10,000 next_fire calls took {took:?}");
    assert_eq!(found, 10_000);
    assert!(
        took.as_millis() < 200,
        "10,000 next_fire calls took {took:?}"
    );
}
