//! Issue 3, target 2: 1,000 jobs due in the same second all start within 50 ms of it
//! (p99 of dispatch lateness, for runs that find a free seat).
//!
//! One slot with `max_concurrent: 1000` (every run finds a seat), `enforcement: off`, and
//! 1,000 job files with the same 6-field schedule in UTC, firing at one second a few
//! seconds ahead. The daemon runs in-process (`slotcron::daemon::run`, as `slotcron
//! daemon` builds it: a 2-worker multi-thread runtime) until every run is in history. Then:
//! - dispatch lateness: each run's recorded `started_at` minus the due second (when the
//!   runner took the run: after the timer woke, the policies passed, admission seated it);
//! - process start: each job is `/bin/date +%s.%N`, so its log says when the process itself
//!   ran (after the history row, the log file and the spawn) minus the due second.
//!
//! `cargo bench --bench dispatch` (`BENCH_JOBS` changes the 1,000).

#[path = "support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, TimeDelta, Timelike, Utc};
use slotcron::daemon::notify::Notifier;
use slotcron::daemon::{self, World};
use slotcron::model::RunStatus;
use slotcron::runner::{CgroupEnv, Enforcer};
use slotcron::store::{RunFilter, RunRecord, Store};

use support::{Setup, quantile};

const JOBS: usize = 1_000;
const TARGET_P99_MS: f64 = 50.0;
/// How far ahead the due second is: room to write the files and start the daemon.
const LEAD: TimeDelta = TimeDelta::seconds(4);
/// How long the runs may take, after the due second, to be all in history.
const PATIENCE: Duration = Duration::from_secs(120);

fn main() {
    let jobs = std::env::var("BENCH_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(JOBS);
    let setup = Setup::new(&format!(
        "slots:\n  default: {{ max_concurrent: {jobs}, memory_max: 100G, queue_limit: {jobs} }}\n"
    ));
    let due = (Utc::now() + LEAD)
        .duration_trunc(TimeDelta::seconds(1))
        .expect("whole second");
    let schedule = format!("{} {} {} * * *", due.second(), due.minute(), due.hour());
    for i in 0..jobs {
        setup.write_job(
            &format!("due-{i:04}"),
            &format!("command: [/bin/date, \"+%s.%N\"]\nschedule: \"{schedule}\"\ntimezone: UTC\n"),
        );
    }
    let settings = slotcron::config::load_settings(Some(&setup.config)).expect("settings");
    let db = settings.state_dir.join("history.db");
    let store = Store::open(&db).expect("history");
    let enforcer = Enforcer::setup(&settings, &CgroupEnv::kernel()).expect("enforcement off");
    // As `slotcron daemon` builds it (src/cli/daemon.rs).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(64)
        .enable_all()
        .build()
        .expect("runtime");
    let (_reload_tx, reload_requests) = tokio::sync::mpsc::unbounded_channel();
    let world = World {
        settings: Arc::new(settings),
        enforcer: Arc::new(enforcer),
        store: Arc::new(Mutex::new(store)),
        control: None,
        http: None,
        machine: Arc::new(slotcron::daemon::machine::ProcMemory::default()),
        boot_id: None,
        reload_requests,
        notifier: Notifier::disabled(),
        clock: slotcron::clock::system(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let daemon = rt.spawn(daemon::run(world, async {
        let _ = stopped.await;
    }));

    let watch = rusqlite::Connection::open(&db).expect("second connection");
    let count = |sql: &str| -> usize {
        watch
            .query_row(sql, [], |r| r.get::<_, i64>(0))
            .unwrap_or(0) as usize
    };
    wait_for(Instant::now() + Duration::from_secs(30), || {
        count("SELECT count(*) FROM jobs") == jobs
    });
    let loaded_at = Utc::now();
    assert!(
        loaded_at + TimeDelta::milliseconds(300) < due,
        "the daemon loaded its jobs at {loaded_at}, too close to the due second {due}; \
         raise LEAD"
    );
    std::thread::sleep((due - Utc::now()).to_std().unwrap_or_default());
    let all_done = wait_for(Instant::now() + PATIENCE, || {
        count("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL") >= jobs
    });
    let _ = stop.send(());
    rt.block_on(daemon).expect("daemon task").expect("daemon");
    assert!(all_done, "not every run was in history after {PATIENCE:?}");

    let store = Store::open(&db).expect("history");
    let runs = store.runs(&RunFilter::default()).expect("runs");
    report(jobs, due, loaded_at, &runs);
}

/// Polls `done` every 20 ms until it holds or `deadline` passes; whether it held.
fn wait_for(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

fn report(jobs: usize, due: DateTime<Utc>, loaded_at: DateTime<Utc>, runs: &[RunRecord]) {
    let failed = runs
        .iter()
        .filter(|r| r.status != RunStatus::Success)
        .count();
    assert_eq!(runs.len(), jobs, "one run per job");
    let ms_after_due =
        |t: DateTime<Utc>| (t - due).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e3;
    let mut started: Vec<f64> = runs.iter().map(|r| ms_after_due(r.started_at)).collect();
    let mut exec: Vec<f64> = runs
        .iter()
        .filter_map(|r| std::fs::read_to_string(r.log_path.as_ref()?).ok())
        .filter_map(|out| {
            let (secs, nanos) = out.trim().split_once('.')?;
            DateTime::from_timestamp(secs.parse().ok()?, nanos.parse().ok()?)
        })
        .map(ms_after_due)
        .collect();
    started.sort_by(f64::total_cmp);
    exec.sort_by(f64::total_cmp);
    println!(
        "dispatch, {jobs} jobs due at {due} (daemon ready {:.1} s before), {} not successful",
        (due - loaded_at).num_milliseconds() as f64 / 1e3,
        failed
    );
    println!(
        "  {:<46} {:>8} {:>8} {:>8} {:>8}",
        "ms after the due second", "min", "p50", "p99", "max"
    );
    for (what, samples) in [
        ("dispatch lateness (started_at - due)", &started),
        ("process start (`date` in the job's log)", &exec),
    ] {
        if samples.is_empty() {
            println!("  {what:<46} no samples");
            continue;
        }
        println!(
            "  {what:<46} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            samples[0],
            quantile(samples, 0.5),
            quantile(samples, 0.99),
            samples[samples.len() - 1]
        );
    }
    let p99 = quantile(&started, 0.99);
    println!(
        "  target: dispatch lateness p99 < {TARGET_P99_MS:.0} ms: {} ({p99:.1} ms; {} of {jobs} process logs read)",
        if p99 < TARGET_P99_MS { "met" } else { "MISSED" },
        exec.len()
    );
}
