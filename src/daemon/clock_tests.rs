//! The whole daemon ([`super::run`]) on a fake clock (ADR 0038): tokio's time is paused
//! and the [`FakeClock`] moves with it, so days of schedules pass in moments, and every
//! run's recorded start is the instant its schedule names. Daylight-saving days, `@every`
//! across a suspend, and `catch_up` after a downtime, with real (unconfined) processes
//! and an in-memory history.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{DaemonError, World, notify::Notifier, run};
use crate::clock::{Clock, FakeClock};
use crate::config::load_settings;
use crate::runner::Enforcer;
use crate::store::{RunFilter, Store};

/// A state directory with job files, and the history every daemon started on it shares.
struct Setup {
    dir: tempfile::TempDir,
    store: Arc<Mutex<Store>>,
}

/// A daemon running in the background until [`Daemon::stop`].
struct Daemon {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), DaemonError>>,
}

fn setup(jobs: &[(&str, &str)]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("jobs.d")).unwrap();
    for (name, text) in jobs {
        let path = dir.path().join("jobs.d").join(format!("{name}.yaml"));
        std::fs::write(path, format!("command: 'true'\nconcurrency: allow\n{text}")).unwrap();
    }
    std::fs::write(
        dir.path().join("slotcron.yaml"),
        "jobs_dir: jobs.d\nstate_dir: state\nenforcement: off\nkill_grace: 1s\nslots:\n  default: { max_concurrent: 4, memory_max: 1G }\n",
    )
    .unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    Setup { dir, store }
}

impl Setup {
    /// Starts a daemon on `clock`.
    fn start(&self, clock: &Arc<FakeClock>) -> Daemon {
        let settings = load_settings(Some(&self.dir.path().join("slotcron.yaml"))).unwrap();
        let (_, reload_requests) = mpsc::unbounded_channel();
        let world = World {
            settings: Arc::new(settings),
            enforcer: Arc::new(Enforcer::Unconfined {
                reason: "test".into(),
            }),
            store: self.store.clone(),
            control: None,
            http: None,
            machine: Arc::new(crate::daemon::machine::FixedMemory::default()),
            boot_id: None,
            reload_requests,
            notifier: Notifier::disabled(),
            clock: clock.clone(),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(world, async {
            let _ = stopped.await;
        }));
        Daemon { stop, task }
    }

    /// Runs a daemon on `clock` for `span` of (paused) time, then stops it.
    async fn run_for(&self, clock: &Arc<FakeClock>, span: Duration) {
        let daemon = self.start(clock);
        tokio::time::sleep(span.to_std().unwrap()).await;
        daemon.stop().await;
    }

    /// When each run of `job` started (to the second) and why, oldest first.
    fn starts(&self, job: &str) -> Vec<(DateTime<Utc>, String)> {
        let store = self.store.lock().unwrap();
        let filter = RunFilter {
            job: Some(job.into()),
            limit: None,
        };
        let mut runs: Vec<_> = store
            .runs(&filter)
            .unwrap()
            .into_iter()
            .map(|r| (at(r.started_at.timestamp()), r.trigger))
            .collect();
        runs.reverse();
        runs
    }

    /// [`Setup::starts`] without the triggers.
    fn times(&self, job: &str) -> Vec<DateTime<Utc>> {
        self.starts(job).into_iter().map(|(t, _)| t).collect()
    }
}

impl Daemon {
    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).unwrap()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

#[tokio::test(start_paused = true)]
async fn spring_forward_runs_a_skipped_fixed_time_once_right_after_the_gap() {
    let setup = setup(&[
        (
            "nightly",
            "schedule: '30 2 * * *'\ntimezone: Europe/Berlin\n",
        ),
        (
            "morning",
            "schedule: '0 9 * * *'\ntimezone: Europe/Berlin\n",
        ),
    ]);
    // Midnight in Berlin on 28 March 2026; clocks go from 02:00 CET to 03:00 CEST on the 29th.
    let clock = FakeClock::new(utc(2026, 3, 27, 23, 0));
    setup.run_for(&clock, Duration::hours(48)).await;
    assert_eq!(
        setup.times("nightly"),
        // 02:30 CET, then 03:00 CEST: 02:30 did not exist that night.
        vec![utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0)]
    );
    assert_eq!(
        setup.times("morning"),
        vec![utc(2026, 3, 28, 8, 0), utc(2026, 3, 29, 7, 0)]
    );
}

#[tokio::test(start_paused = true)]
async fn fall_back_runs_a_fixed_time_once_and_a_wildcard_in_both_passes() {
    let setup = setup(&[
        (
            "nightly",
            "schedule: '30 2 * * *'\ntimezone: Europe/Berlin\n",
        ),
        (
            "halves",
            "schedule: '*/30 2 * * *'\ntimezone: Europe/Berlin\n",
        ),
    ]);
    // Midnight in Berlin on 25 October 2026; clocks go from 03:00 CEST back to 02:00 CET.
    let clock = FakeClock::new(utc(2026, 10, 24, 22, 0));
    setup.run_for(&clock, Duration::hours(25)).await;
    assert_eq!(setup.times("nightly"), vec![utc(2026, 10, 25, 0, 30)]);
    assert_eq!(
        setup.times("halves"),
        vec![
            utc(2026, 10, 25, 0, 0),
            utc(2026, 10, 25, 0, 30),
            utc(2026, 10, 25, 1, 0),
            utc(2026, 10, 25, 1, 30),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn every_keeps_its_phase_and_a_suspend_costs_one_late_run() {
    const EVERY: i64 = 7 * 60;
    let setup = setup(&[("tick", "schedule: '@every 7m'\n")]);
    let start = utc(2026, 6, 1, 10, 0);
    let clock = FakeClock::new(start);
    let daemon = setup.start(&clock);
    tokio::time::sleep(std::time::Duration::from_secs(30 * 60)).await;
    // The machine sleeps for two hours: the wall clock jumps, tokio's timers do not.
    clock.advance(Duration::hours(2));
    let resumed = clock.now();
    tokio::time::sleep(std::time::Duration::from_secs(30 * 60)).await;
    let end = clock.now();
    daemon.stop().await;

    // `@every` is a grid counted from the epoch (ADR 0025).
    let grid = |from: DateTime<Utc>, to: DateTime<Utc>| -> Vec<DateTime<Utc>> {
        let first = (from.timestamp() / EVERY + 1) * EVERY;
        (0..)
            .map(|i| at(first + i * EVERY))
            .take_while(|t| *t <= to)
            .collect()
    };
    let times = setup.times("tick");
    let (before, after): (Vec<_>, Vec<_>) = times.iter().partition(|t| **t < resumed);
    assert_eq!(before, grid(start, start + Duration::minutes(30)));
    let (late, rest) = after.split_first().expect("a run after the suspend");
    assert!(
        *late >= resumed && *late < resumed + Duration::minutes(1),
        "one run for the times slept through, within the fallback timer's minute: {late}"
    );
    assert_eq!(rest.to_vec(), grid(*late, end));
}

#[tokio::test(start_paused = true)]
async fn after_a_downtime_catch_up_once_runs_one_missed_time_and_the_rest_do_not() {
    let setup = setup(&[
        ("caught", "schedule: '0 * * * *'\ncatch_up: once\n"),
        ("plain", "schedule: '0 * * * *'\n"),
    ]);
    let clock = FakeClock::new(utc(2026, 6, 1, 9, 30));
    setup.run_for(&clock, Duration::hours(1)).await;
    // No daemon from 10:30 to 16:20: the 11:00 to 16:00 times pass unseen.
    clock.set(utc(2026, 6, 1, 16, 20));
    setup.run_for(&clock, Duration::hours(1)).await;
    let schedule = |h| (utc(2026, 6, 1, h, 0), "schedule".to_owned());
    assert_eq!(
        setup.starts("caught"),
        vec![
            schedule(10),
            (utc(2026, 6, 1, 16, 20), "catch_up".to_owned()),
            schedule(17),
        ]
    );
    assert_eq!(setup.starts("plain"), vec![schedule(10), schedule(17)]);
}
