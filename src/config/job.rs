//! A job as declared in one file of `jobs_dir`, validated against the slots it can use
//! (checked in `job_parse.rs`, its accounts and devices looked up in `resolve.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::effects::EffectOverride;
use super::io::IoConfig;
use super::policy::{Breaker, CatchUp};
use super::pressure::OnPressure;
use super::schedule::Schedule;
use super::units::{ByteSize, duration_text};
use super::zone::NamedZone;
use crate::baseline::effect::Judging;

/// What to execute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Command {
    /// Runs under `/bin/sh -c`.
    Shell(String),
    /// Executed directly; the first element is the program (looked up in `PATH`).
    Argv(Vec<String>),
}

impl Command {
    /// The argv that is executed.
    pub fn argv(&self) -> Vec<String> {
        match self {
            Command::Shell(script) => vec!["/bin/sh".into(), "-c".into(), script.clone()],
            Command::Argv(argv) => argv.clone(),
        }
    }
}

/// Scheduling and alert priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Critical,
    High,
    Medium,
    Low,
}

/// What happens when a run is due while the previous one still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Concurrency {
    /// The new run is skipped.
    Forbid,
    /// Both run.
    Allow,
    /// The old run is killed, then the new one starts.
    Replace,
}

/// Per-run limits; each must fit within the slot's.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JobLimits {
    /// Hard memory cap of the run (`memory.max`); `None`: only the slot's applies.
    pub memory: Option<ByteSize>,
    /// CPU cores (`cpu.max` quota = cores x period).
    pub cpu: Option<f64>,
    /// Processes (`pids.max`).
    pub pids: Option<u64>,
    /// Wall-clock limit; the run is stopped and recorded `timeout` after it.
    #[serde(serialize_with = "duration_text::option")]
    pub timeout: Option<Duration>,
}

/// Relative weights, 0.1 to 2.0 (1.0 = normal).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Weights {
    /// Maps to `cpu.weight` (x100).
    pub cpu: f64,
    /// Scales the expected memory used by admission (scheduler).
    pub memory: f64,
}

/// Alert thresholds of a job.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlertThresholds {
    #[serde(serialize_with = "duration_text::option")]
    pub max_duration: Option<Duration>,
    pub max_memory: Option<ByteSize>,
    pub consecutive_failures: Option<u32>,
    /// The job's changes to `alerting.slower`, `bigger`, `faster` and `smaller`.
    pub slower: EffectOverride,
    pub bigger: EffectOverride,
    pub faster: EffectOverride,
    pub smaller: EffectOverride,
    /// Whether a run much faster than the baseline raises `too_fast` (off by default).
    pub too_fast: bool,
    /// Whether a run with a much smaller memory peak raises `too_small` (off by default).
    pub too_small: bool,
}

impl AlertThresholds {
    /// What this job's figures are judged by: `machine` (the `alerting:` thresholds) with
    /// the job's overrides and switches laid over it.
    pub fn judging(&self, machine: &Judging) -> Judging {
        Judging {
            z: machine.z,
            slower: self.slower.over(machine.slower),
            bigger: self.bigger.over(machine.bigger),
            faster: self.faster.over(machine.faster),
            smaller: self.smaller.over(machine.smaller),
            too_fast: self.too_fast || machine.too_fast,
            too_small: self.too_small || machine.too_small,
        }
    }
}

/// A validated job. Every field holds a usable value; its slot exists.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// Unique name: `name:` or the file name without `.yaml`.
    pub name: String,
    /// The file it was loaded from.
    pub file: PathBuf,
    pub description: Option<String>,
    pub command: Command,
    /// The schedule as written (the parsed form is [`Job::schedule`]).
    pub schedule_text: String,
    #[serde(skip)]
    pub schedule: Schedule,
    /// IANA zone the schedule is read in; `None`: the machine's local zone.
    #[serde(serialize_with = "serialize_tz")]
    pub timezone: Option<NamedZone>,
    pub slot: String,
    pub priority: Priority,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub user: Option<String>,
    pub group: Option<String>,
    pub working_dir: Option<PathBuf>,
    /// Never serialized with the job: values may be secrets, so what is shown of them is
    /// decided in one place, `views::shown_env` (names only unless asked).
    #[serde(skip)]
    pub env: BTreeMap<String, String>,
    /// More variables, read from this owner-only file for each run (`env` wins over it);
    /// their values are never kept in the job.
    pub env_file: Option<PathBuf>,
    pub limits: JobLimits,
    /// The run's io weight and per-device caps (`io:`); `None`: none (the slot's hold).
    pub io: Option<IoConfig>,
    pub weights: Weights,
    pub retries: u32,
    #[serde(serialize_with = "duration_text::serialize")]
    pub retry_delay: Duration,
    pub concurrency: Concurrency,
    /// Jobs this one depends on: names of loaded jobs, never itself, never on a cycle.
    pub depends_on: Vec<String>,
    /// Jobs this one blocks: names of loaded jobs, never itself.
    pub blocks: Vec<String>,
    /// A chain: this job starts when any of these (loaded jobs, not itself) succeeds.
    /// With `depends_on`, forms a graph that the catalog keeps free of cycles.
    pub after: Vec<String>,
    /// Each scheduled start waits a random delay up to this; `None` (or `0s`): none.
    /// At most [`super::policy::MAX_JITTER`].
    #[serde(serialize_with = "duration_text::option")]
    pub jitter: Option<Duration>,
    /// What happens to fire times missed while the daemon was not running.
    pub catch_up: CatchUp,
    /// Pauses the job after repeated failures; `None`: never paused.
    pub breaker: Option<Breaker>,
    /// The pressure steps the job accepts (`on_pressure:`); none for a critical job.
    pub on_pressure: OnPressure,
    pub alerts: AlertThresholds,
}

fn serialize_tz<S: serde::Serializer>(tz: &Option<NamedZone>, s: S) -> Result<S::Ok, S::Error> {
    match tz {
        Some(tz) => s.serialize_some(tz.name()),
        None => s.serialize_none(),
    }
}

/// A job name may be used in paths and cgroup names: keep it to a safe alphabet (ASCII
/// letters, digits, `-`, `_`, `.`; not leading `.`; at most 128 bytes).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
