//! Issue 17: `slotcron plan` for 1,000 jobs over 24 hours finishes in under a second.
//!
//! Writes 1,000 job files (cron with and without seconds, `@every`, daily and hourly,
//! zones, five slots, priorities, `concurrency` of each kind, `after:` chains,
//! `depends_on` and `blocks:`) and a history of 40 successful runs per job for 900 of them
//! (the other 100 are guesses), then times, `BENCH_ROUNDS` times each (default 5),
//! reporting medians: (a) the simulation alone, in memory, on history already read;
//! (b) reading what the forecast needs of history; (c) the whole `slotcron plan --json`
//! process (configuration, 1,000 job files, history, simulation, JSON to a pipe) and
//! (d) the text output. Set `SLOTCRON_BIN` to time another binary.
//!
//! `cargo bench --bench plan`

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, params};
use slotcron::config::{Catalog, Job};
use slotcron::plan::{Fate, History, Options, simulate};

use support::{Setup, median, ms, row, time};

const JOBS: usize = 1_000;
/// Jobs `0..WITH_HISTORY` have successful runs; the rest are guesses.
const WITH_HISTORY: usize = 900;
const RUNS_PER_JOB: usize = 40;
const TARGET_MS: f64 = 1_000.0;

const SLOTS: &str = "slots:\n  \
    default: { max_concurrent: 20, memory_max: 16G }\n  \
    heavy: { max_concurrent: 4, memory_max: 8G }\n  \
    light: { max_concurrent: 50, memory_max: 4G, queue_limit: 1000 }\n  \
    batch: { max_concurrent: 10, memory_max: 8G }\n  \
    reports: { max_concurrent: 6, memory_max: 4G }\n";

fn main() {
    let rounds = support::rounds(5);
    let setup = Setup::new(SLOTS);
    for i in 0..JOBS {
        setup.write_job(&name(i), &job_text(i));
    }
    let settings = slotcron::config::load_settings(Some(&setup.config)).expect("settings");
    let catalog = Catalog::load_dir(&settings.jobs_dir, &settings);
    assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
    assert_eq!(catalog.jobs.len(), JOBS);
    let from = Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap();
    let db = setup.path("state/slotcron.db");
    write_history(&db, &catalog, from);

    let store = slotcron::store::Store::open(&db).expect("store");
    let (load, history) =
        time(|| History::load(&store, settings.health.baseline_runs, from).expect("history"));
    let mut loads = vec![load];
    for _ in 1..rounds {
        loads.push(time(|| History::load(&store, settings.health.baseline_runs, from)).0);
    }
    assert_eq!(history.baselines.len(), WITH_HISTORY);

    let jobs: Vec<&Job> = catalog.jobs.values().map(|j| &**j).collect();
    let options = Options::new(from, &settings);
    let inputs = slotcron::plan::Inputs {
        jobs: &jobs,
        settings: &settings,
        history: &history,
        mem_available: None,
    };
    let mut sims = Vec::new();
    let mut plan = None;
    for _ in 0..rounds {
        let (took, p) = time(|| simulate(&inputs, &options));
        sims.push(took);
        plan = Some(black_box(p));
    }
    let plan = plan.expect("a round");
    let started = (plan.runs.iter())
        .filter(|r| matches!(r.fate, Fate::Runs { .. }))
        .count();
    let points: usize = plan.slots.iter().map(|s| s.points.len()).sum();

    let bin = std::env::var("SLOTCRON_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/slotcron").to_owned()
    });
    let whole = |extra: &[&str]| -> Vec<std::time::Duration> {
        (0..rounds)
            .map(|_| time(|| run(&bin, &setup.config, from, extra)).0)
            .collect()
    };
    let json = whole(&["--json"]);
    let text = whole(&[]);

    println!(
        "plan: {JOBS} jobs ({WITH_HISTORY} with {RUNS_PER_JOB} successful runs), 24 h from {from}, \
         median of {rounds}"
    );
    println!(
        "  {} fire times and chain starts, {started} runs start, {} findings, {points} slot points",
        plan.runs.len(),
        plan.findings.len()
    );
    row("(a) simulation, in memory", ms(median(&sims)), None);
    row(
        "(b) history read (controls, summaries, baselines)",
        ms(median(&loads)),
        None,
    );
    row(
        "(c) `slotcron plan --json`, whole process",
        ms(median(&json)),
        Some(TARGET_MS),
    );
    row(
        "(d) `slotcron plan` (text), whole process",
        ms(median(&text)),
        Some(TARGET_MS),
    );
}

fn name(i: usize) -> String {
    format!("job-{i:04}")
}

/// A job file: schedules, slots, priorities and relations mixed as on a busy machine.
fn job_text(i: usize) -> String {
    let (s, m, h) = (i % 60, (i / 7) % 60, (i / 11) % 24);
    let schedule = match i % 10 {
        0 | 1 => format!("{m} {h} * * *"),
        2 => format!("*/{} * * * *", [5, 10, 15, 20, 30][i % 5]),
        3 => format!("{s} */{} * * * *", 2 + i % 28),
        4 => format!("@every {}m", 3 + i % 88),
        5 => format!("{m} {h} * * *\"\ntimezone: \"Europe/Berlin"),
        6 => format!("{m} {} * * 1-5\"\ntimezone: \"America/New_York", 6 + i % 12),
        7 => "@hourly".into(),
        8 => format!("{m} */{} * * *", 2 + i % 5),
        _ => format!("{m} 2 * * *"),
    };
    let slot = [
        "default", "default", "light", "light", "heavy", "batch", "reports",
    ][i % 7];
    let priority = ["medium", "medium", "low", "high", "critical"][i % 5];
    let concurrency = ["forbid", "forbid", "allow", "replace"][i % 4];
    let mut text = format!(
        "command: [/usr/bin/env, \"true\"]\nschedule: \"{schedule}\"\nslot: {slot}\n\
         priority: {priority}\nconcurrency: {concurrency}\n\
         limits: {{ memory: {}M, timeout: {}m }}\n",
        32 + (i * 7) % 480,
        5 + i % 30
    );
    // Every 50th job follows the one before it; every 40th depends on job 0; every 100th
    // blocks the next one.
    if i % 50 == 49 {
        text = text.replace(&format!("schedule: \"{schedule}\"\n"), "");
        text.push_str(&format!("after: [{}]\n", name(i - 1)));
    }
    if i % 40 == 39 {
        text.push_str(&format!("depends_on: [{}]\n", name(0)));
    }
    if i % 100 == 10 {
        text.push_str(&format!("blocks: [{}]\n", name(i + 1)));
    }
    text
}

/// The jobs table as the daemon writes it, then [`RUNS_PER_JOB`] successful runs of each of
/// the first [`WITH_HISTORY`] jobs before `now`: durations from seconds to 20 minutes,
/// memory peaks from 20 MiB to 1 GiB, a little noise.
fn write_history(db: &Path, catalog: &Catalog, now: DateTime<Utc>) {
    std::fs::create_dir_all(db.parent().expect("state")).expect("state dir");
    let mut store = slotcron::store::Store::open(db).expect("store");
    slotcron::daemon::registry::sync_history(&mut store, catalog, now).expect("jobs table");
    drop(store);
    let mut conn = Connection::open(db).expect("open");
    let tx = conn.transaction().expect("transaction");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO runs (job, slot, status, trigger, enforcement, started_at, \
                 finished_at, duration_ms, exit_code, memory_peak_bytes, oom_kills) \
                 VALUES (?1, 'default', 'success', 'schedule', 'cgroup', ?2, ?3, ?4, 0, ?5, 0)",
            )
            .expect("prepare");
        let mut rng = fastrand::Rng::with_seed(17);
        let start = now.timestamp_millis() - 30 * 24 * 3600 * 1000;
        for k in 0..RUNS_PER_JOB {
            for i in 0..WITH_HISTORY {
                let base = [2_000, 15_000, 60_000, 300_000, 1_200_000][i % 5] as u64;
                let duration = base * 9 / 10 + rng.u64(0..base / 5);
                let memory = (20u64 << 20) + ((i as u64 * 7919) % 1004) * (1 << 20);
                let started = start + (k * WITH_HISTORY + i) as i64 * 60_000;
                insert
                    .execute(params![
                        name(i),
                        started,
                        started + duration as i64,
                        duration as i64,
                        (memory + rng.u64(0..1 << 22)) as i64,
                    ])
                    .expect("insert");
            }
        }
    }
    tx.commit().expect("commit");
}

/// One whole `slotcron plan` process, its output read to the end through a pipe.
fn run(bin: &str, config: &Path, from: DateTime<Utc>, extra: &[&str]) {
    let out = Command::new(bin)
        .arg("--config")
        .arg(config)
        .args(["plan", "--from", &from.to_rfc3339()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("slotcron plan");
    assert!(
        out.status.success(),
        "{bin}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    black_box(out.stdout.len());
}
