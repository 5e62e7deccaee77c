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

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use slotcron::cgroup::fake::FakeFs;
use slotcron::cgroup::{Hierarchy, cpu, io, memory, pids};
use slotcron::config::Catalog;
use slotcron::daemon::notify::Notifier;
use slotcron::daemon::registry::sync_history;
use slotcron::daemon::{World, run};
use slotcron::runner::{Enforcer, global_limits, slot_limits};
use slotcron::store::{DEFAULT_DB_FILE, Store};

use support::history::{RUNS, insert_runs};
use support::{Setup, ms, quantile, row};

const JOBS: usize = 1_000;

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
    insert_runs(&db, &names, now, 5);
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
    let tree = slot_tree(&setup, &settings);
    let world = World {
        settings: Arc::new(settings),
        enforcer: Arc::new(Enforcer::Cgroup(tree)),
        store: Arc::new(Mutex::new(store)),
        control: None,
        http: Some(listener),
        machine: Arc::new(slotcron::daemon::machine::ProcMemory::default()),
        boot_id: None,
        reload_requests,
        notifier: Notifier::disabled(),
        clock: slotcron::clock::system(),
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
    let measure = |what: &str, path: &dyn Fn(usize) -> String, target: Option<f64>| {
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
            target,
        );
        row(&format!("{what}, p95"), quantile(&samples, 0.95), target);
    };
    measure("GET /api/v1/jobs", &|_| "/api/v1/jobs".into(), Some(100.0));
    measure(
        "GET /api/v1/jobs/{name}/runs",
        &|r| format!("/api/v1/jobs/{}/runs", names[(r * 389) % JOBS]),
        Some(20.0),
    );
    // Across all jobs by status: no `(status, id)` index (it misled SQLite's planner for the
    // daemon's per-job queries, ADR 0017), so a page walks runs newest first until it has
    // `limit` of that status; a status no run has walks them all.
    measure(
        "GET /api/v1/runs?status=oom_killed (1 % of runs)",
        &|_| "/api/v1/runs?status=oom_killed&limit=50".into(),
        None,
    );
    measure(
        "GET /api/v1/runs?status=killed (no such run)",
        &|_| "/api/v1/runs?status=killed&limit=50".into(),
        None,
    );
    let slots = agent
        .get(&format!("{base}/api/v1/slots"))
        .call()
        .expect("slots")
        .body_mut()
        .read_to_string()
        .expect("slots body");
    assert!(
        slots.contains("\"memory_current_bytes\":734003200"),
        "the slots' live figures were not read from their knob files: {slots}"
    );
    measure(
        "GET /api/v1/slots (live, 3 slots' knob files)",
        &|_| "/api/v1/slots".into(),
        Some(5.0),
    );

    let _ = stop.send(());
    rt.block_on(daemon).expect("daemon task").expect("daemon");
}

/// The slots' cgroups as knob files in the setup's folder, laid out and filled as the
/// kernel would (this host has no cgroup v2), so `GET /api/v1/slots` reads every live
/// figure from files as it does on a real machine.
fn slot_tree(setup: &Setup, settings: &slotcron::config::Settings) -> Hierarchy {
    let fake = Arc::new(
        FakeFs::new_root(&setup.path("cgroup"), &["cpu", "memory", "pids", "io"])
            .expect("fake cgroupfs"),
    );
    let root = fake
        .add_delegated("slotcron.service", &["cpu", "memory", "pids", "io"])
        .expect("delegated cgroup");
    let slots: Vec<_> = settings
        .slots
        .values()
        .map(|s| (s.name.clone(), slot_limits(s, 2)))
        .collect();
    let tree = Hierarchy::prepare(fake.clone(), &root, false, &global_limits(settings), &slots)
        .expect("slot tree");
    let psi = "some avg10=1.50 avg60=0.80 avg300=0.20 total=123456\n\
               full avg10=0.50 avg60=0.10 avg300=0.00 total=23456\n";
    for slot in tree.slots() {
        let dir = tree.slot_path(slot);
        for (name, text) in [
            (memory::CURRENT, "734003200\n"),
            (memory::PEAK, "1073741824\n"),
            (
                cpu::STAT,
                "usage_usec 912345678\nuser_usec 812345678\nsystem_usec 100000000\n\
                 nr_periods 10\nnr_throttled 2\nthrottled_usec 750000\n",
            ),
            (pids::CURRENT, "12\n"),
            (memory::PRESSURE, psi),
            (cpu::PRESSURE, psi),
            (io::PRESSURE, psi),
        ] {
            fake.set_knob(&dir.join(name), text).expect("knob");
        }
    }
    tree
}
