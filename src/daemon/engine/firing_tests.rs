//! A property of the daemon's timeline, on a fake clock: over random schedules (cron with
//! and without seconds, `@every`, in three zones, from instants around daylight-saving
//! changes), random wake-up delays (mostly milliseconds, sometimes a suspend) and random
//! run starts and lengths, every due time of a job is handed to the run logic exactly once:
//! as the nominal time of one fire, or passed over by one fire that woke after it (a
//! late wake-up runs once for all the times it slept through). No fire has a nominal time
//! that is not a due time, and no due time is fired twice.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::tests::{SLOT, harness};

/// One fire as the event loop saw it: the due time it was for, and when it woke.
#[derive(Debug, Clone, Copy)]
struct Fired {
    nominal: DateTime<Utc>,
    woke: DateTime<Utc>,
}

/// A random schedule, and the zone it is read in.
fn random_schedule(rng: &mut fastrand::Rng) -> (String, &'static str) {
    let zone = ["UTC", "Europe/Berlin", "America/New_York"][rng.usize(0..3)];
    let schedule = match rng.u8(0..9) {
        0 => format!("@every {}s", rng.u32(1..=5)),
        1 => format!("@every {}s", rng.u32(6..=900)),
        2 => format!("@every {}m", rng.u32(1..=240)),
        3 => format!("*/{} * * * * *", rng.u32(1..=30)),
        4 => format!("{} */{} * * * *", rng.u32(0..60), rng.u32(1..=10)),
        5 => format!("*/{} * * * *", rng.u32(1..=30)),
        6 => format!("{} * * * *", rng.u32(0..60)),
        7 => format!(
            "{},{} {} * * *",
            rng.u32(0..30),
            rng.u32(30..60),
            rng.u32(0..4)
        ),
        _ => format!("*/{} {} * * *", rng.u32(1..=20), rng.u32(0..4)),
    };
    (schedule, zone)
}

/// Where a case starts: around the 2026 changes in Berlin and New York, or anywhere.
fn random_start(rng: &mut fastrand::Rng) -> DateTime<Utc> {
    let around = [
        Utc.with_ymd_and_hms(2026, 3, 29, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 10, 25, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 3, 8, 5, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 1, 4, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap() + Duration::days(rng.i64(0..400)),
    ];
    around[rng.usize(0..around.len())] + Duration::milliseconds(rng.i64(-3_600_000..3_600_000))
}

/// How late the event loop wakes after a deadline.
fn random_delay(rng: &mut fastrand::Rng) -> Duration {
    Duration::milliseconds(match rng.u8(0..100) {
        0..70 => rng.i64(0..20),
        70..95 => rng.i64(20..1_500),
        95..99 => rng.i64(1_500..20_000),
        _ => rng.i64(20_000..900_000),
    })
}

#[tokio::test]
async fn every_due_time_is_fired_exactly_once_or_passed_over_once() {
    for seed in 0..40 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let specs: Vec<(String, String)> = (0..3)
            .map(|i| {
                let (schedule, zone) = random_schedule(&mut rng);
                let text = format!(
                    "command: 'true'\nschedule: '{schedule}'\ntimezone: {zone}\nconcurrency: allow\n"
                );
                (format!("j{i}"), text)
            })
            .collect();
        let files: Vec<(&str, &str)> = specs
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let mut h = harness(SLOT, &files).await;
        let start = random_start(&mut rng);
        for (name, _) in &specs {
            h.engine.schedule_next(name, start);
        }
        let end = start + Duration::hours(30);
        let mut fired: Vec<(String, Fired)> = Vec::new();
        // Runs that started and have not ended: (job, started, ends).
        let mut running: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = Vec::new();
        let mut now = start;
        while let Some(deadline) = h.engine.timeline.next_deadline() {
            if deadline > end || fired.len() > 2_500 {
                break;
            }
            now = now.max(deadline) + random_delay(&mut rng);
            // Runs that ended by now teach the engine their start, as `learn` does.
            running.retain(|(job, started, ends)| {
                if *ends > now {
                    return true;
                }
                let summary = &mut h.entry(job).summary;
                summary.last_started_at = Some(
                    summary
                        .last_started_at
                        .map_or(*started, |t| t.max(*started)),
                );
                false
            });
            for (wake, _) in h.engine.timeline.pop_due(now) {
                let super::Wake::Fire(job) = wake else {
                    continue;
                };
                let nominal = h.engine.take_fire(&job, now).expect("a loaded job");
                fired.push((job.clone(), Fired { nominal, woke: now }));
                let started = now + Duration::milliseconds(rng.i64(0..800));
                let ends = started + Duration::milliseconds(rng.i64(0..5_000));
                running.push((job, started, ends));
            }
        }
        for (name, text) in &specs {
            let job = h.engine.registry.jobs[name].job.clone();
            let fires: Vec<Fired> = fired
                .iter()
                .filter(|(j, _)| j == name)
                .map(|(_, f)| *f)
                .collect();
            let Some(last) = fires.last() else {
                continue;
            };
            let due: Vec<DateTime<Utc>> =
                std::iter::successors(job.next_fire(start), |t| job.next_fire(*t))
                    .take_while(|t| *t <= last.woke)
                    .collect();
            check(seed, text, &due, &fires);
        }
    }
}

/// Every due time is the nominal time of exactly one fire or lies between the nominal
/// time and the wake-up of exactly one fire; every nominal time is a due time.
fn check(seed: u64, job: &str, due: &[DateTime<Utc>], fires: &[Fired]) {
    let context = || format!("seed {seed}, job {job:?}");
    for pair in fires.windows(2) {
        assert!(
            pair[1].nominal > pair[0].woke,
            "{}: a due time handled twice: {:?} then {:?}",
            context(),
            pair[0],
            pair[1]
        );
    }
    for fire in fires {
        assert!(
            due.binary_search(&fire.nominal).is_ok(),
            "{}: fired at nominal {} (woke {}), which is no due time; due times near it: {:?}",
            context(),
            fire.nominal,
            fire.woke,
            due.iter()
                .filter(|d| (**d - fire.nominal).num_seconds().abs() < 7_200)
                .take(6)
                .collect::<Vec<_>>()
        );
    }
    for d in due {
        let covering = fires
            .iter()
            .filter(|f| f.nominal == *d || (f.nominal < *d && *d <= f.woke))
            .count();
        assert_eq!(
            covering,
            1,
            "{}: due time {d} handled {covering} times",
            context()
        );
    }
}
