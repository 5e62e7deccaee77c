//! Synthetic histories for the alert rules, run through what the daemon does after each
//! run (`followup::record`: the alert rules, the alerts store, the baseline refresh) on a
//! real SQLite file, with runs drawn from a seeded generator. Shared by the scenario tests
//! (`tests/integration/alerting`) and `cargo bench --bench alerts`, which runs them over
//! many seeds.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use slotcron::alerts::{AlertKind, AlertNotice};
use slotcron::config::{Job, Settings, parse_job};
use slotcron::model::{Enforcement, RunStatus, RunUsage};
use slotcron::stats::{Figures, Performance, assess};
use slotcron::store::{JobRow, NewRun, RunCompletion, Store};

pub const MIB: f64 = 1024.0 * 1024.0;
/// How far apart the synthetic runs start.
pub const CADENCE: chrono::Duration = chrono::Duration::minutes(10);

/// One job's history being written, run by run, with what came of it.
pub struct Sim {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub job: Job,
    pub settings: Settings,
    clock: DateTime<Utc>,
    /// Runs recorded so far.
    pub runs: usize,
    /// Every notice (what the notification channels would send), in order, with the
    /// index of the run that raised it.
    pub notices: Vec<(usize, AlertNotice)>,
    /// The job's performance after each run, as `followup::record` judged it.
    pub performance: Vec<Performance>,
}

/// What one scenario raised: per kind, the notifications, the alerts (episodes) and the
/// findings (runs that raised it, repeats included); the runs judged `degraded`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub notified: BTreeMap<AlertKind, usize>,
    pub episodes: BTreeMap<AlertKind, usize>,
    pub findings: BTreeMap<AlertKind, u64>,
    pub reopened: BTreeMap<AlertKind, u64>,
    pub degraded_runs: usize,
}

impl Sim {
    /// A job from `job_yaml` under a `slotcron.yaml` of `settings_yaml`, with an empty
    /// history in a temporary folder.
    pub fn new(job_yaml: &str, settings_yaml: &str) -> Sim {
        let dir = tempfile::tempdir().expect("a temp dir");
        let settings = Settings::parse(&dir.path().join("slotcron.yaml"), settings_yaml)
            .expect("valid settings");
        let job = parse_job(Path::new("/jobs.d/job.yaml"), job_yaml, &settings).expect("a job");
        let mut store = Store::open(&dir.path().join("slotcron.db")).expect("a database");
        let clock = DateTime::from_timestamp(1_767_225_600, 0).expect("a time");
        let row = JobRow {
            name: job.name.clone(),
            file: "/jobs.d/job.yaml".into(),
            slot: job.slot.clone(),
            schedule: job.schedule_text.clone(),
            enabled: true,
            definition: "{}".into(),
        };
        store.sync_jobs(&[row], clock).expect("job synced");
        Sim {
            _dir: dir,
            store,
            job,
            settings,
            clock,
            runs: 0,
            notices: Vec::new(),
            performance: Vec::new(),
        }
    }

    /// Records a successful run of `duration_ms` peaking at `memory` bytes and follows it
    /// up as the daemon does.
    pub fn success(&mut self, duration_ms: f64, memory: Option<f64>) {
        self.clock += CADENCE;
        let run = NewRun {
            job: self.job.name.clone(),
            slot: self.job.slot.clone(),
            trigger: "schedule".into(),
            attempt: 1,
            retry_of: None,
            enforcement: Enforcement::Cgroup,
            memory_limit_bytes: None,
            queued_at: None,
            started_at: self.clock,
        };
        let duration_ms = duration_ms.round().max(0.0) as u64;
        let id = self.store.start_run(&run).expect("run started");
        let done = RunCompletion {
            status: RunStatus::Success,
            exit_code: Some(0),
            signal: None,
            finished_at: self.clock + chrono::Duration::milliseconds(duration_ms as i64),
            duration_ms,
            usage: RunUsage {
                memory_peak_bytes: memory.map(|m| m.round().max(0.0) as u64),
                oom_kills: Some(0),
                ..RunUsage::default()
            },
            error: None,
            pressure: None,
        };
        self.store.finish_run(id, &done).expect("run finished");
        let record = self.store.run(id).expect("readable").expect("the run");
        let now = record.finished_at.expect("finished");
        let done =
            slotcron::followup::record(&mut self.store, &self.job, &record, &self.settings, now);
        for notice in done.alerts.notices {
            self.notices.push((self.runs, notice));
        }
        self.performance.push(done.performance);
        self.runs += 1;
    }

    /// The job's health as `slotcron jobs` and the API compute it, now.
    pub fn health(&self) -> slotcron::stats::Health {
        let figures =
            Figures::load(&self.store, self.settings.health, self.clock).expect("figures");
        assess(&self.job, &figures.inputs(&self.job.name, true), self.clock)
    }

    /// The index of the first run that notified `kind`, if any did.
    pub fn first_notice(&self, kind: AlertKind) -> Option<usize> {
        self.notices
            .iter()
            .find(|(_, n)| n.kind == kind)
            .map(|(i, _)| *i)
    }

    /// What the history holds now, per kind.
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for (_, notice) in &self.notices {
            *t.notified.entry(notice.kind).or_default() += 1;
        }
        for alert in self.store.alerts(true).expect("alerts") {
            *t.episodes.entry(alert.kind).or_default() += 1;
            *t.findings.entry(alert.kind).or_default() += alert.count;
            *t.reopened.entry(alert.kind).or_default() += alert.reopened;
        }
        t.degraded_runs = self
            .performance
            .iter()
            .filter(|p| **p == Performance::Degraded)
            .count();
        t
    }
}

/// Draws from the distributions of the scenarios, seeded: the same seed, the same runs.
pub struct Draw(fastrand::Rng);

impl Draw {
    pub fn new(seed: u64) -> Draw {
        Draw(fastrand::Rng::with_seed(seed))
    }

    /// A standard normal draw (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (1.0 - self.0.f64(), self.0.f64());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Lognormal around `median`: `ln` of the draw has standard deviation `spread`.
    pub fn lognormal(&mut self, median: f64, spread: f64) -> f64 {
        median * (spread * self.normal()).exp()
    }

    /// Normal with mean `mean` and standard deviation `sd`, never below `floor`.
    pub fn jitter(&mut self, mean: f64, sd: f64, floor: f64) -> f64 {
        (mean + sd * self.normal()).max(floor)
    }
}

/// One run's figures from a draw: duration (ms) and memory peak (bytes).
pub type RunDraw = Box<dyn Fn(&mut Draw) -> (f64, Option<f64>)>;

/// The noise scenarios of issue 14: 1,000 runs of a job whose runs only jitter, with
/// `too_fast` and `too_small` turned on so the downward rules are tried too.
pub fn noise_scenarios() -> Vec<(&'static str, RunDraw)> {
    vec![
        (
            "lognormal 20 % (10 min), memory ±15 %",
            Box::new(|d: &mut Draw| {
                (
                    d.lognormal(600_000.0, 0.2),
                    Some(d.lognormal(512.0 * MIB, 0.15)),
                )
            }),
        ),
        (
            "lognormal 35 % (10 min), memory ±15 %",
            Box::new(|d: &mut Draw| {
                (
                    d.lognormal(600_000.0, 0.35),
                    Some(d.lognormal(512.0 * MIB, 0.15)),
                )
            }),
        ),
        (
            "lognormal 50 % (10 min), memory ±15 %",
            Box::new(|d: &mut Draw| {
                (
                    d.lognormal(600_000.0, 0.5),
                    Some(d.lognormal(512.0 * MIB, 0.15)),
                )
            }),
        ),
        (
            "5 ms ± 3 ms, 4.4 MiB ±15 %",
            Box::new(|d: &mut Draw| (d.jitter(5.0, 3.0, 1.0), Some(d.lognormal(4.4 * MIB, 0.15)))),
        ),
        (
            "2 h ± 10 min, 2 GiB ±15 %",
            Box::new(|d: &mut Draw| {
                (
                    d.jitter(7_200_000.0, 600_000.0, 1.0),
                    Some(d.lognormal(2048.0 * MIB, 0.15)),
                )
            }),
        ),
    ]
}

/// The job of the noise scenarios: both downward rules on.
pub const NOISE_JOB: &str = "command: 'true'\nalerts: { too_fast: true, too_small: true }\n";

/// Runs `runs` draws of `draw` through a fresh [`Sim`] of [`NOISE_JOB`] under the
/// `slotcron.yaml` text `settings`.
pub fn noise(
    seed: u64,
    runs: usize,
    settings: &str,
    draw: &dyn Fn(&mut Draw) -> (f64, Option<f64>),
) -> Sim {
    let mut sim = Sim::new(NOISE_JOB, settings);
    let mut d = Draw::new(seed);
    for _ in 0..runs {
        let (ms, memory) = draw(&mut d);
        sim.success(ms, memory);
    }
    sim
}

/// A steady job of `usual_ms` and 512 MiB (`ln` spread `spread` in duration, 5 % in
/// memory) for `before` runs, then `after` runs scaled by `level(i)` (duration factor,
/// memory factor; `i` counts from 0 at the change), with the same noise.
pub fn change(
    seed: u64,
    job_yaml: &str,
    (usual_ms, spread): (f64, f64),
    (before, after): (usize, usize),
    level: impl Fn(usize) -> (f64, f64),
) -> Sim {
    let mut sim = Sim::new(job_yaml, "");
    let mut d = Draw::new(seed);
    for i in 0..before + after {
        let (ms, memory) = if i < before {
            (1.0, 1.0)
        } else {
            level(i - before)
        };
        let noise = (d.lognormal(1.0, spread), d.lognormal(1.0, 0.05));
        sim.success(
            usual_ms * ms * noise.0,
            Some(512.0 * MIB * memory * noise.1),
        );
    }
    sim
}
