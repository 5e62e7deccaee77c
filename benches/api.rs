//! Issue 5: the HTTP API stays fast with 1,000 jobs and 1,000,000 runs.
//!
//! Builds the history as `benches/history.rs` does (1,000 jobs synced through `Store`,
//! 1,000,000 runs bulk-inserted in one transaction, a year of runs, 90 % successes), then
//! starts the real daemon in-process (`daemon::run`: engine, event loop, HTTP server on
//! 127.0.0.1:0, unconfined) and times over loopback with ureq, `BENCH_ROUNDS` times each
//! (default 50), printing median and p95:
//! - `GET /api/v1/jobs` (every job with health, next run, last error, trend), < 100 ms;
//! - `GET /api/v1/jobs/{name}/runs` (a page of 50), < 20 ms;
//! - `GET /api/v1/slots`, < 5 ms.
//!
//! `cargo bench --bench api`

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use slotcron::config::Catalog;
use slotcron::daemon::notify::Notifier;
use slotcron::daemon::registry::sync_history;
use slotcron::daemon::{World, run};
use slotcron::runner::Enforcer;
use slotcron::store::{DEFAULT_DB_FILE, Store};

use support::{Setup, ms, quantile, row};

const JOBS: usize = 1_000;
const RUNS: usize = 1_000_000;
const SPACING_MS: i64 = 31_536;

fn main() {
    let rounds = support::rounds(50);
    let setup = Setup::new("metrics: { listen: \"127.0.0.1:0\" }\n");
    for i in 0..JOBS {
        // Yearly at a fixed minute: nothing fires during the measurement.
        setup.write_job(
            &format!("job-{i:04}"),
            &format!("command: 'true'\nschedule: '{} {} 1 1 *'\n", i % 60, i % 24),
        );
    }
    let settings = slotcron::config::load_settings(Some(&setup.config)).expect("settings");
    let catalog = Catalog::load_dir(&settings.jobs_dir, &settings);
    assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
    let db = settings.state_dir.join(DEFAULT_DB_FILE);
    let now = Utc::now();
    let mut store = Store::open(&db).expect("store");
    sync_history(&mut store, &catalog, now).expect("sync");
    let names: Vec<String> = catalog.jobs.keys().cloned().collect();
    let started = Instant::now();
    insert_runs(&db, &names, now);
    for name in &names {
        store.recompute_baseline(name, 10, now).expect("baseline");
    }
    println!(
        "history: {JOBS} jobs, {RUNS} runs, baselines, in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (_reload_tx, reload_requests) = tokio::sync::mpsc::unbounded_channel();
    let world = World {
        settings: Arc::new(settings),
        enforcer: Arc::new(Enforcer::Unconfined {
            reason: "benchmark".into(),
        }),
        store: Arc::new(Mutex::new(store)),
        control: None,
        http: Some(listener),
        proc_root: PathBuf::from("/proc"),
        boot_id: None,
        reload_requests,
        notifier: Notifier::disabled(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let daemon = rt.spawn(run(world, async {
        let _ = stopped.await;
    }));

    let base = format!("http://{addr}");
    let agent = ureq::Agent::new_with_defaults();
    let fetch = |path: &str| -> usize {
        let mut answer = agent.get(&format!("{base}{path}")).call().expect(path);
        answer.body_mut().read_to_vec().expect("body").len()
    };
    // Wait for the daemon to answer (it loads 1,000 jobs' state first).
    let deadline = Instant::now() + Duration::from_secs(120);
    while agent.get(&format!("{base}/healthz")).call().is_err() {
        assert!(Instant::now() < deadline, "the daemon did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("{rounds} rounds each, over loopback with ureq:");
    let measure = |what: &str, path: &dyn Fn(usize) -> String, target: f64| {
        let bytes = fetch(&path(0));
        let mut samples: Vec<f64> = (0..rounds)
            .map(|r| {
                let start = Instant::now();
                fetch(&path(r));
                ms(start.elapsed())
            })
            .collect();
        samples.sort_by(f64::total_cmp);
        row(
            &format!("{what} ({} KB), median", bytes / 1024),
            quantile(&samples, 0.5),
            Some(target),
        );
        row(
            &format!("{what}, p95"),
            quantile(&samples, 0.95),
            Some(target),
        );
    };
    measure("GET /api/v1/jobs", &|_| "/api/v1/jobs".into(), 100.0);
    measure(
        "GET /api/v1/jobs/{name}/runs",
        &|r| format!("/api/v1/jobs/{}/runs", names[(r * 389) % JOBS]),
        20.0,
    );
    measure("GET /api/v1/slots", &|_| "/api/v1/slots".into(), 5.0);

    let _ = stop.send(());
    rt.block_on(daemon).expect("daemon task").expect("daemon");
}

/// One year of runs, interleaved across jobs, in one transaction (as `benches/history.rs`).
fn insert_runs(db: &Path, names: &[String], now: DateTime<Utc>) {
    let mut conn = Connection::open(db).expect("open");
    let tx = conn.transaction().expect("transaction");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO runs (job, slot, status, trigger, enforcement, started_at, \
                 finished_at, duration_ms, exit_code, memory_peak_bytes, cpu_usage_usec, \
                 oom_kills, error) VALUES (?1, 'default', ?2, 'schedule', 'none', ?3, ?4, ?5, \
                 ?6, ?7, ?8, ?9, ?10)",
            )
            .expect("prepare");
        let mut rng = fastrand::Rng::with_seed(5);
        let start = now.timestamp_millis() - RUNS as i64 * SPACING_MS;
        for i in 0..RUNS {
            let job = i % names.len();
            let base = 1_000 + (job as u64 * 37) % 60_000;
            let duration = base / 2 + rng.u64(0..base);
            let status = match rng.u32(0..100) {
                0..90 => "success",
                90..96 => "failed",
                96..98 => "timeout",
                98 => "oom_killed",
                _ => "lost",
            };
            let started = start + i as i64 * SPACING_MS;
            insert
                .execute(params![
                    names[job],
                    status,
                    started,
                    started + duration as i64,
                    duration as i64,
                    if status == "success" {
                        Some(0)
                    } else {
                        Some(1)
                    },
                    (base * 40_000 + rng.u64(0..1 << 24)) as i64,
                    (duration * 800) as i64,
                    i64::from(status == "oom_killed"),
                    (status != "success").then(|| format!("{status} on purpose")),
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
}
