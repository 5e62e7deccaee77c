//! A job as declared in one file of `jobs_dir`, validated against the slots it can use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::bounds::{MAX_COMMAND, MIN_MEMORY, MIN_TIMEOUT};
use super::effects::{self, EffectOverride};
use super::fields::Fields;
use super::io::{self, IoConfig};
use super::policy::{self, Breaker, CatchUp};
use super::pressure::{self, OnPressure};
use super::problem::Problem;
use super::raw::{RawCommand, RawJob};
use super::schedule::Schedule;
use super::settings::Settings;
use super::units::{ByteSize, Scalar, duration_text};
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
    /// At most [`policy::MAX_JITTER`].
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

impl Job {
    /// Validates a parsed job file against the slots of `settings`.
    ///
    /// # Errors
    /// Every problem in the file, each naming the field and value.
    pub fn from_raw(file: &Path, raw: RawJob, settings: &Settings) -> Result<Job, Vec<Problem>> {
        let mut f = Fields::new(file);
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let name = raw.name.clone().unwrap_or(stem);
        if !valid_name(&name) {
            f.problem(
                "name",
                &name,
                "a job name uses letters, digits, `-`, `_` and `.` (at most 128)",
            );
        }
        let command = command(&mut f, raw.command);
        let schedule_text = raw.schedule.unwrap_or_else(|| "manual".to_owned());
        let schedule = Schedule::parse(&schedule_text)
            .map_err(|e| f.problem("schedule", &schedule_text, e.to_string()))
            .ok();
        let timezone = raw.timezone.as_deref().and_then(|tz| {
            NamedZone::parse(tz)
                .ok_or_else(|| {
                    f.problem(
                        "timezone",
                        tz,
                        "not an IANA time zone name (e.g. Europe/Berlin, UTC)",
                    )
                })
                .ok()
        });
        let slot_name = raw.slot.unwrap_or_else(|| "default".to_owned());
        let slot = settings.slots.get(&slot_name);
        if slot.is_none() {
            let known: Vec<&str> = settings.slots.keys().map(String::as_str).collect();
            f.problem(
                "slot",
                &slot_name,
                format!("no such slot; known slots: {}", known.join(", ")),
            );
        }
        let priority = f
            .choice(
                "priority",
                raw.priority.as_deref(),
                &[
                    ("critical", Priority::Critical),
                    ("high", Priority::High),
                    ("medium", Priority::Medium),
                    ("low", Priority::Low),
                ],
            )
            .unwrap_or(Priority::Medium);
        let limits = JobLimits {
            memory: f.size_at_least("limits.memory", raw.limits.memory.as_ref(), MIN_MEMORY),
            cpu: f.number("limits.cpu", raw.limits.cpu.as_ref(), 0.01..=1024.0),
            pids: f.integer("limits.pids", raw.limits.pids.as_ref(), 1..=4_194_304),
            timeout: f.duration_at_least(
                "limits.timeout",
                raw.limits.timeout.as_ref(),
                MIN_TIMEOUT,
            ),
        };
        if let (Some(memory), Some(slot)) = (limits.memory, slot)
            && memory > slot.memory_max
        {
            f.problem(
                "limits.memory",
                memory,
                format!(
                    "is above slot `{}`'s memory_max {}",
                    slot.name, slot.memory_max
                ),
            );
        }
        if let (Some(pids), Some(Some(slot_pids))) = (limits.pids, slot.map(|s| s.pids_max))
            && pids > slot_pids
        {
            f.problem(
                "limits.pids",
                pids,
                format!("is above slot `{slot_name}`'s pids_max {slot_pids}"),
            );
        }
        let weights = Weights {
            cpu: f
                .number("weights.cpu", raw.weights.cpu.as_ref(), 0.1..=2.0)
                .unwrap_or(1.0),
            memory: f
                .number("weights.memory", raw.weights.memory.as_ref(), 0.1..=2.0)
                .unwrap_or(1.0),
        };
        let concurrency = f
            .choice(
                "concurrency",
                raw.concurrency.as_deref(),
                &[
                    ("forbid", Concurrency::Forbid),
                    ("allow", Concurrency::Allow),
                    ("replace", Concurrency::Replace),
                ],
            )
            .unwrap_or(Concurrency::Forbid);
        let env = raw
            .env
            .into_iter()
            .filter_map(|(key, value)| {
                if key.is_empty() || key.contains('=') || key.contains('\0') {
                    f.problem(
                        "env",
                        &key,
                        "an environment variable name cannot be empty or contain `=`",
                    );
                    return None;
                }
                let text = match value {
                    Scalar::Text(s) => s,
                    other => other.to_string(),
                };
                f.no_nul(&format!("env.{key}"), &text)
                    .then_some((key, text))
            })
            .collect();
        let [slower, bigger, faster, smaller] = effects::all(
            &mut f,
            "alerts",
            [
                &raw.alerts.slower,
                &raw.alerts.bigger,
                &raw.alerts.faster,
                &raw.alerts.smaller,
            ],
        );
        let alerts = AlertThresholds {
            max_duration: f.duration("alerts.max_duration", raw.alerts.max_duration.as_ref()),
            max_memory: f.size("alerts.max_memory", raw.alerts.max_memory.as_ref()),
            consecutive_failures: f
                .integer(
                    "alerts.consecutive_failures",
                    raw.alerts.consecutive_failures.as_ref(),
                    1..=10_000,
                )
                .map(|n| n as u32),
            slower,
            bigger,
            faster,
            smaller,
            too_fast: raw.alerts.too_fast.unwrap_or(false),
            too_small: raw.alerts.too_small.unwrap_or(false),
        };
        let retries = f
            .integer("retries", raw.retries.as_ref(), 0..=100)
            .unwrap_or(0) as u32;
        let retry_delay = f
            .duration("retry_delay", raw.retry_delay.as_ref())
            .unwrap_or(Duration::from_secs(10));
        let jitter = policy::jitter(&mut f, raw.jitter.as_ref());
        let catch_up = policy::catch_up(&mut f, raw.catch_up.as_deref());
        let breaker = policy::breaker(&mut f, raw.breaker.as_ref());
        let on_pressure = pressure::on_pressure(&mut f, raw.on_pressure.as_deref(), priority);
        for (field, names) in [
            ("depends_on", &raw.depends_on),
            ("blocks", &raw.blocks),
            ("after", &raw.after),
        ] {
            for other in names.iter().filter(|n| **n == name) {
                f.problem(field, other, "a job cannot name itself");
            }
        }
        let user = not_empty(&mut f, "user", raw.user);
        let group = not_empty(&mut f, "group", raw.group);
        let working_dir = working_dir(&mut f, raw.working_dir);
        let env_file = raw
            .env_file
            .filter(|p| f.no_nul("env_file", p))
            .map(|p| Fields::path(file.parent().unwrap_or(Path::new(".")), &p));
        if let Some(user) = &user
            && !matches!(nix::unistd::User::from_name(user), Ok(Some(_)))
        {
            f.problem("user", user, "no such user on this machine");
        }
        if let Some(group) = &group
            && !matches!(nix::unistd::Group::from_name(group), Ok(Some(_)))
        {
            f.problem("group", group, "no such group on this machine");
        }
        let io = io::parse(&mut f, "io", raw.io.as_ref())
            .and_then(|spec| io::resolve(&mut f, "io", spec, &io::SystemDevices));
        if !f.problems.is_empty() {
            return Err(f.problems);
        }
        let base = file.parent().unwrap_or(Path::new("."));
        Ok(Job {
            name,
            file: file.to_path_buf(),
            description: raw.description,
            command: command.expect("checked above"),
            schedule_text,
            schedule: schedule.expect("checked above"),
            timezone,
            slot: slot_name,
            priority,
            category: raw.category,
            tags: raw.tags,
            enabled: raw.enabled.unwrap_or(true),
            user,
            group,
            working_dir: working_dir.map(|d| Fields::path(base, &d)),
            env,
            env_file,
            limits,
            io,
            weights,
            retries,
            retry_delay,
            concurrency,
            depends_on: raw.depends_on,
            blocks: raw.blocks,
            after: raw.after,
            jitter,
            catch_up,
            breaker,
            on_pressure,
            alerts,
        })
    }
}

/// `command:`: a program to run, no NUL byte, at most [`MAX_COMMAND`] bytes.
fn command(f: &mut Fields<'_>, raw: RawCommand) -> Option<Command> {
    let (parts, command) = match raw {
        RawCommand::Shell(s) if s.is_empty() => {
            f.problem("command", "", "must not be empty");
            return None;
        }
        RawCommand::Shell(s) if s.trim().is_empty() => {
            f.problem(
                "command",
                &s,
                "is only whitespace; a command needs a program",
            );
            return None;
        }
        RawCommand::Argv(v) if v.is_empty() => {
            f.problem("command", "[]", "an argv list needs at least the program");
            return None;
        }
        RawCommand::Argv(v) if v[0].trim().is_empty() => {
            f.problem("command", &v[0], "an argv list needs a program first");
            return None;
        }
        RawCommand::Shell(s) => (vec![s.clone()], Command::Shell(s)),
        RawCommand::Argv(v) => (v.clone(), Command::Argv(v)),
    };
    let free_of_nul = parts.iter().all(|part| f.no_nul("command", part));
    let size: usize = parts.iter().map(String::len).sum();
    if size > MAX_COMMAND {
        f.problem(
            "command",
            parts.join(" "),
            format!(
                "longer than {MAX_COMMAND} bytes ({size}); put the script in a file and run that"
            ),
        );
        return None;
    }
    free_of_nul.then_some(command)
}

/// `user:` or `group:`: absent, or a name; an empty string cannot be meant.
fn not_empty(f: &mut Fields<'_>, field: &str, value: Option<String>) -> Option<String> {
    if value.as_deref() == Some("") {
        f.problem(
            field,
            "",
            "is empty; leave the field out to run as slotcron's own user",
        );
        return None;
    }
    value
}

/// `working_dir:` as written: a string without NUL (whether it exists is checked where
/// the catalog reads the disk).
fn working_dir(f: &mut Fields<'_>, value: Option<Scalar>) -> Option<String> {
    match value? {
        Scalar::Text(dir) => f.no_nul("working_dir", &dir).then_some(dir),
        other => {
            f.problem(
                "working_dir",
                other,
                "must be a path (a string); quote a folder named like a number",
            );
            None
        }
    }
}
