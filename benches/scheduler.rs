//! Issue 3, target 1: with 10,000 registered jobs, computing every next fire time and a
//! reload each take under 200 ms.
//!
//! Writes 10,000 job files (5- and 6-field cron, wildcard and fixed-time, `@every`,
//! nicknames, some in Europe/Berlin or America/New_York, some with `user: root`) into a
//! temp `jobs_dir`, then times, `BENCH_ROUNDS` times each (default 5), reporting medians:
//! (a) `Job::next_fire(now)` for every job, in memory; (b) a first reload into a fresh
//! history, as the daemon does at start; (c) a reload with nothing changed (what an inotify
//! event or SIGHUP costs) and with one file changed. (b) and (c) are timed end to end
//! through `daemon::reload::reload` on a real `Engine`; the first load also stage by stage
//! (catalog load, history sync, stored state, registry apply, next fire times) to show where
//! its time goes. Later reloads parse only changed files and write only changed rows.
//!
//! `cargo bench --bench scheduler`

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use slotcron::config::{Catalog, Settings};
use slotcron::daemon::engine::{Engine, Wake};
use slotcron::daemon::registry::{Registry, sync_history};
use slotcron::runner::{CgroupEnv, Enforcer};
use slotcron::scheduler::Timeline;
use slotcron::store::{JobControl, JobSummary, Store};

use support::{Setup, median, ms, row, time};

const JOBS: usize = 10_000;
const TARGET_MS: f64 = 200.0;
/// The file a "one file changed" reload edits.
const EDITED: &str = "job-00000";

fn main() {
    let rounds = support::rounds(5);
    let setup = Setup::new("");
    for i in 0..JOBS {
        setup.write_job(&format!("job-{i:05}"), &job_text(i, 0));
    }
    let settings = slotcron::config::load_settings(Some(&setup.config)).expect("settings");
    let catalog = Catalog::load_dir(&settings.jobs_dir, &settings);
    assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
    assert_eq!(catalog.jobs.len(), JOBS);
    let jobs: Vec<_> = catalog.jobs.values().collect();

    let now = Utc::now();
    let next_fire: Vec<Duration> = (0..rounds)
        .map(|_| {
            time(|| {
                let n = jobs.iter().filter_map(|j| j.next_fire(now)).count();
                assert_eq!(black_box(n), JOBS);
            })
            .0
        })
        .collect();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut first = Vec::new();
    let mut first_stages = Vec::new();
    let mut steady = Vec::new();
    let mut one_changed = Vec::new();
    for round in 0..rounds {
        // End to end, the daemon's own reload on a fresh engine and history.
        let mut engine = engine(&settings, setup.path(&format!("state/e2e-{round}.db")));
        first.push(time(|| rt.block_on(reload(&mut engine))).0);
        assert_eq!(engine.registry().jobs.len(), JOBS);
        steady.push(time(|| rt.block_on(reload(&mut engine))).0);
        edit(&setup, round);
        one_changed.push(time(|| rt.block_on(reload(&mut engine))).0);

        // The first load, stage by stage.
        let mut staged = Staged::new(&settings, setup.path(&format!("state/stages-{round}.db")));
        first_stages.push(staged.reload());
    }

    println!(
        "scheduler, {JOBS} jobs, median of {rounds} rounds (jobs_dir on {})",
        support::shown(&setup.jobs_dir)
    );
    row(
        "(a) next fire time of every job (in memory)",
        ms(median(&next_fire)),
        Some(TARGET_MS),
    );
    row(
        "(b) first load at start, fresh history",
        ms(median(&first)),
        Some(TARGET_MS),
    );
    for (i, stage) in STAGES.iter().enumerate() {
        let samples: Vec<Duration> = first_stages.iter().map(|s: &[Duration; 5]| s[i]).collect();
        row(&format!("    {stage}"), ms(median(&samples)), None);
    }
    row(
        "(c) reload, nothing changed",
        ms(median(&steady)),
        Some(TARGET_MS),
    );
    row(
        "(c) reload, one file changed",
        ms(median(&one_changed)),
        Some(TARGET_MS),
    );
}

/// Job `i`'s file; `version` varies the schedule of an edited file.
fn job_text(i: usize, version: usize) -> String {
    let (s, m, h) = (i % 60, (i / 7) % 60, (i / 11) % 24);
    let (schedule, extra) = match i % 10 {
        0 => (format!("{m} {h} * * *"), String::new()),
        1 => (
            format!("*/{} * * * *", [5, 10, 15, 20, 30][i % 5]),
            String::new(),
        ),
        2 => (format!("{s} {m} {h} * * *"), String::new()),
        3 => (format!("{s} */{} * * * *", 1 + i % 29), String::new()),
        4 => (format!("@every {}m", 1 + i % 90), String::new()),
        5 => (format!("{m} {h} * * *"), "timezone: Europe/Berlin\n".into()),
        6 => (
            format!("{m} {} * * 1-5", 6 + i % 12),
            "timezone: America/New_York\n".into(),
        ),
        7 => (format!("0 {h} {} * *", 1 + i % 28), String::new()),
        8 => (
            ["@daily", "@hourly", "@weekly"][i % 3].into(),
            String::new(),
        ),
        _ => (
            format!("{m} 2 * * {}", i % 7),
            "timezone: Europe/Berlin\nuser: root\n".into(),
        ),
    };
    let schedule = if version == 0 {
        schedule
    } else {
        format!("{} {} * * *", version % 60, (version / 60) % 24)
    };
    format!(
        "description: benchmark job {i}\ncommand: [/usr/bin/env, echo, \"{i}\"]\n\
         schedule: \"{schedule}\"\n{extra}limits: {{ memory: {}M, timeout: 10m }}\n",
        64 + i % 512
    )
}

/// Changes the schedule of one file (a new value each call).
fn edit(setup: &Setup, n: usize) {
    setup.write_job(EDITED, &job_text(0, n + 1));
}

fn engine(settings: &Settings, db: PathBuf) -> Engine {
    let store = Store::open(&db).expect("history");
    let enforcer = Enforcer::setup(settings, &CgroupEnv::kernel()).expect("enforcement off");
    let (events, _) = tokio::sync::mpsc::unbounded_channel();
    Engine::new(
        Arc::new(settings.clone()),
        Arc::new(enforcer),
        Arc::new(Mutex::new(store)),
        Arc::new(slotcron::daemon::machine::ProcMemory::default()),
        events,
    )
}

async fn reload(engine: &mut Engine) {
    black_box(
        slotcron::daemon::reload::reload(engine, slotcron::daemon::reload::Cause::Files).await,
    );
}

const STAGES: [&str; 5] = [
    "Catalog::load_dir (read, parse, validate)",
    "sync_history (jobs table)",
    "stored controls and summaries",
    "Registry::apply",
    "next fire times onto the timeline",
];

/// The first load of `daemon::reload::reload`, written out stage by stage.
struct Staged {
    settings: Settings,
    store: Store,
    registry: Registry,
    timeline: Timeline<Wake>,
}

impl Staged {
    fn new(settings: &Settings, db: PathBuf) -> Staged {
        Staged {
            settings: settings.clone(),
            store: Store::open(&db).expect("history"),
            registry: Registry::default(),
            timeline: Timeline::new(),
        }
    }

    fn reload(&mut self) -> [Duration; 5] {
        let known: Vec<String> = self.registry.jobs.keys().cloned().collect();
        let (load, catalog) = time(|| Catalog::load_dir(&self.settings.jobs_dir, &self.settings));
        let store = &mut self.store;
        let (sync, synced) = time(|| sync_history(store, &catalog, Utc::now()));
        synced.expect("sync");
        let (state, (mut controls, mut summaries)) = time(|| {
            let controls = store.job_controls().expect("controls");
            let summaries: HashMap<String, JobSummary> = if known.is_empty() {
                store.job_summaries().expect("summaries")
            } else {
                catalog
                    .jobs
                    .keys()
                    .filter(|n| known.binary_search(n).is_err())
                    .map(|n| (n.clone(), store.job_summary(n).expect("summary")))
                    .collect()
            };
            (controls, summaries)
        });
        let (apply, changes) = time(|| {
            self.registry.apply(catalog, |name| {
                (
                    controls.remove(name).unwrap_or_else(JobControl::default),
                    summaries.remove(name).unwrap_or_default(),
                )
            })
        });
        let now = Utc::now();
        let (schedule, ()) = time(|| {
            for name in &changes.rescheduled {
                let entry = &self.registry.jobs[name];
                match entry.job.next_fire(now) {
                    Some(at) => self.timeline.set(Wake::Fire(name.clone()), at),
                    None => {
                        self.timeline.remove(&Wake::Fire(name.clone()));
                    }
                }
            }
        });
        [load, sync, state, apply, schedule]
    }
}
