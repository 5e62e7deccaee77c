//! Issue 4, part 1: history queries stay fast with 1,000,000 runs of 1,000 jobs.
//!
//! Builds the history in a temp state dir (the jobs synced through `Store`, the runs
//! bulk-inserted through rusqlite in one transaction with one prepared statement: about a
//! year of runs, 1,000 per job, 90 % successes), then times, `BENCH_ROUNDS` times each
//! (default 20), reporting medians:
//! (a) a job's newest 100 runs (`Store::runs` with a limit of 100), target < 5 ms;
//! (b) a baseline recomputation for one job (read its window, compute, store), < 5 ms;
//! (c) what `slotcron jobs --json` does for 1,000 jobs once the configuration is loaded
//!     (`Figures::load`, `assess` per job, JSON), < 100 ms; and the whole binary
//!     (`slotcron jobs --json`, process start and 1,000 job files included), for scale;
//! and prints the database's size per 1,000,000 runs.
//!
//! `cargo bench --bench history`

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;

use chrono::{DateTime, Utc};
use slotcron::config::Catalog;
use slotcron::daemon::registry::sync_history;
use slotcron::stats::{Figures, assess};
use slotcron::store::{DEFAULT_DB_FILE, RunFilter, Store};

use support::history::{RUNS, insert_runs};
use support::{Setup, median, ms, row, time};

const JOBS: usize = 1_000;

fn main() {
    let rounds = support::rounds(20);
    let setup = Setup::new("");
    for i in 0..JOBS {
        setup.write_job(&format!("job-{i:04}"), &job_text(i));
    }
    let settings = slotcron::config::load_settings(Some(&setup.config)).expect("settings");
    let catalog = Catalog::load_dir(&settings.jobs_dir, &settings);
    assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
    let db = settings.state_dir.join(DEFAULT_DB_FILE);
    let now = Utc::now();
    let mut store = Store::open(&db).expect("store");
    sync_history(&mut store, &catalog, now).expect("sync");
    let names: Vec<String> = catalog.jobs.keys().cloned().collect();
    // The window `slotcron jobs` uses: a baseline of another size is not shown.
    let n = settings.health.baseline_runs;

    let (took, ()) = time(|| insert_runs(&db, &names, now, 4));
    println!(
        "history: {JOBS} jobs, {RUNS} runs inserted in {:.1} s",
        took.as_secs_f64()
    );
    let size = db_size(&db);
    println!(
        "database file: {:.1} MiB, {:.0} bytes per run ({:.1} MiB per 1,000,000 runs)",
        size as f64 / (1 << 20) as f64,
        size as f64 / RUNS as f64,
        size as f64 / RUNS as f64 * 1e6 / (1 << 20) as f64
    );

    let (took, ()) = time(|| {
        for name in &names {
            store.recompute_baseline(name, n, now).expect("baseline");
        }
    });
    println!(
        "baselines of all {JOBS} jobs computed in {:.0} ms",
        ms(took)
    );

    println!("medians of {rounds} rounds:");
    let pick = |r: usize| &names[(r * 389) % JOBS];
    let runs: Vec<_> = (0..rounds)
        .map(|r| {
            let filter = RunFilter {
                job: Some(pick(r).clone()),
                limit: Some(100),
            };
            let (took, got) = time(|| store.runs(&filter).expect("runs"));
            assert_eq!(got.len(), 100);
            took
        })
        .collect();
    row("(a) a job's newest 100 runs", ms(median(&runs)), Some(5.0));

    let baselines: Vec<_> = (0..rounds)
        .map(|r| {
            let (took, b) = time(|| store.recompute_baseline(pick(r), n, now).expect("baseline"));
            assert!(b.is_some());
            took
        })
        .collect();
    row(
        &format!("(b) one baseline: read {n} runs, compute, store"),
        ms(median(&baselines)),
        Some(5.0),
    );

    let jobs: Vec<_> = (0..rounds)
        .map(|_| {
            let (took, text) = time(|| jobs_json(&store, &catalog, &settings, now));
            black_box(text);
            took
        })
        .collect();
    row(
        "(c) jobs --json work, 1,000 jobs",
        ms(median(&jobs)),
        Some(100.0),
    );
    let (took, figures) = time(|| Figures::load(&store, settings.health, now).expect("figures"));
    row(
        "    of which reading history (Figures::load)",
        ms(took),
        None,
    );
    black_box(figures);

    let binary: Vec<_> = (0..rounds.min(5))
        .map(|_| {
            let (took, out) = time(|| {
                std::process::Command::new(env!("CARGO_BIN_EXE_slotcron"))
                    .arg("--config")
                    .arg(&setup.config)
                    .args(["jobs", "--json"])
                    .output()
                    .expect("slotcron jobs")
            });
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            took
        })
        .collect();
    row(
        "    `slotcron jobs --json` end to end",
        ms(median(&binary)),
        None,
    );
}

/// `slotcron jobs --json` after loading the configuration: history, health, JSON.
fn jobs_json(
    store: &Store,
    catalog: &Catalog,
    settings: &slotcron::config::Settings,
    now: DateTime<Utc>,
) -> String {
    let figures = Figures::load(store, settings.health, now).expect("figures");
    let views: Vec<serde_json::Value> = catalog
        .jobs
        .values()
        .map(|job| {
            let health = assess(job, &figures.inputs(&job.name, job.enabled), now);
            serde_json::json!({
                "job": &**job,
                "last_run": figures.latest.get(&job.name),
                "health": health,
            })
        })
        .collect();
    serde_json::to_string_pretty(&views).expect("json")
}

fn job_text(i: usize) -> String {
    let schedule = match i % 3 {
        0 => "*/5 * * * *".to_owned(),
        1 => format!("@every {}m", 30 + i % 60),
        _ => format!("{} {} * * *", i % 60, i % 24),
    };
    format!("command: 'true'\nschedule: '{schedule}'\n")
}

fn db_size(db: &std::path::Path) -> u64 {
    let wal = db.with_extension("db-wal");
    std::fs::metadata(db).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}
