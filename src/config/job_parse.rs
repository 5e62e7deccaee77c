//! The pure half of loading a job file (ADR 0039): its text checked field by field against
//! the slots of the settings, asking nothing of the system. What comes out, [`ParsedJob`],
//! is resolved by [`ParsedJob::resolve`] (`resolve.rs`), the one step that looks up users,
//! groups and block devices.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::bounds::{MAX_COMMAND, MIN_MEMORY, MIN_TIMEOUT};
use super::effects;
use super::fields::Fields;
use super::io::{self, IoSpec};
use super::job::valid_name;
use super::job::{AlertThresholds, Command, Concurrency, Job, JobLimits, Priority, Weights};
use super::policy;
use super::pressure;
use super::problem::Problem;
use super::raw::{RawAlerts, RawCommand, RawJob, RawLimits, RawWeights};
use super::schedule::Schedule;
use super::settings::{Settings, Slot};
use super::units::Scalar;
use super::zone::NamedZone;

/// A job file checked on its own. Nothing in it was asked of the system; what must be is
/// in [`ParsedJob::lookups`].
#[derive(Debug, Clone)]
pub struct ParsedJob {
    /// The file it was read from; the problems of resolution name it too.
    pub file: PathBuf,
    /// The job as far as its text decides it (its `io` is `None` until resolved); `Err`:
    /// every problem of the text. Private: only resolution turns it into a [`Job`].
    pub(super) job: Result<Job, Vec<Problem>>,
    /// What resolution looks up. Kept even when the text has problems, so that one report
    /// names a missing user next to a bad schedule.
    pub lookups: Lookups,
}

/// The names a job file gives that only the system can resolve, each as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookups {
    /// `user:`, never empty.
    pub user: Option<String>,
    /// `group:`, never empty.
    pub group: Option<String>,
    /// `io:`, checked, its devices not yet resolved.
    pub io: Option<IoSpec>,
}

impl ParsedJob {
    /// The problems of the text alone; empty when only resolution can still refuse it.
    pub fn problems(&self) -> &[Problem] {
        self.job.as_ref().err().map_or(&[], Vec::as_slice)
    }

    /// Parses and checks the text of one job file.
    pub fn parse(file: &Path, text: &str, settings: &Settings) -> ParsedJob {
        if text.trim().is_empty() {
            let problem = Problem::file(file, "the file is empty; a job needs at least `command:`");
            return ParsedJob::refused(file, problem);
        }
        match serde_saphyr::from_str::<RawJob>(text) {
            Ok(raw) => ParsedJob::from_raw(file, raw, settings),
            Err(e) => ParsedJob::refused(file, Problem::yaml(file, text, &e)),
        }
    }

    /// A file refused before its fields could be read (empty, not YAML): nothing to look up.
    fn refused(file: &Path, problem: Problem) -> ParsedJob {
        ParsedJob {
            file: file.to_path_buf(),
            job: Err(vec![problem]),
            lookups: Lookups::default(),
        }
    }

    /// Checks a deserialized job file against the slots of `settings`; every problem
    /// names the field and value.
    fn from_raw(file: &Path, raw: RawJob, settings: &Settings) -> ParsedJob {
        let mut f = Fields::new(file);
        let (retries, retry_delay) = retries(&mut f, &raw);
        let name = job_name(&mut f, file, raw.name);
        let command = command(&mut f, raw.command);
        let schedule_text = raw.schedule.unwrap_or_else(|| "manual".to_owned());
        let schedule = schedule(&mut f, &schedule_text);
        let timezone = timezone(&mut f, raw.timezone.as_deref());
        let slot = slot_name(&mut f, raw.slot, settings);
        let priority = priority(&mut f, raw.priority.as_deref());
        let limits = limits(&mut f, &raw.limits, &slot, settings.slots.get(&slot));
        let weights = weights(&mut f, &raw.weights);
        let concurrency = concurrency(&mut f, raw.concurrency.as_deref());
        let env = env(&mut f, raw.env);
        let alerts = alerts(&mut f, &raw.alerts);
        let jitter = policy::jitter(&mut f, raw.jitter.as_ref());
        let catch_up = policy::catch_up(&mut f, raw.catch_up.as_deref());
        let breaker = policy::breaker(&mut f, raw.breaker.as_ref());
        let on_pressure = pressure::on_pressure(
            &mut f,
            raw.on_pressure.as_deref(),
            priority == Priority::Critical,
        );
        not_itself(&mut f, &name, [&raw.depends_on, &raw.blocks, &raw.after]);
        let user = not_empty(&mut f, "user", raw.user);
        let group = not_empty(&mut f, "group", raw.group);
        let (working_dir, env_file) = paths(&mut f, file, raw.working_dir, raw.env_file);
        let io = io::parse(&mut f, "io", raw.io.as_ref());
        let lookups = Lookups {
            user: user.clone(),
            group: group.clone(),
            io,
        };
        let (Some(command), Some(schedule), true) = (command, schedule, f.problems.is_empty())
        else {
            return ParsedJob {
                file: file.to_path_buf(),
                job: Err(f.problems),
                lookups,
            };
        };
        let job = Job {
            name,
            file: file.to_path_buf(),
            description: raw.description,
            command,
            schedule_text,
            schedule,
            timezone,
            slot,
            priority,
            category: raw.category,
            tags: raw.tags,
            enabled: raw.enabled.unwrap_or(true),
            user,
            group,
            working_dir,
            env,
            env_file,
            limits,
            io: None,
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
        };
        ParsedJob {
            file: file.to_path_buf(),
            job: Ok(job),
            lookups,
        }
    }
}

/// `retries:` (0 to 100, default 0) and `retry_delay:` (default 10 s).
fn retries(f: &mut Fields, raw: &RawJob) -> (u32, Duration) {
    let retries = f.integer("retries", raw.retries.as_ref(), 0..=100);
    let delay = f.duration("retry_delay", raw.retry_delay.as_ref());
    (
        retries.unwrap_or(0) as u32,
        delay.unwrap_or(Duration::from_secs(10)),
    )
}

/// `name:`, or the file name without its extension; a name safe in paths and cgroups.
fn job_name(f: &mut Fields<'_>, file: &Path, written: Option<String>) -> String {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    let name = written.unwrap_or(stem);
    if !valid_name(&name) {
        f.problem(
            "name",
            &name,
            "a job name uses letters, digits, `-`, `_` and `.` (at most 128)",
        );
    }
    name
}

/// `schedule:` (`manual` when absent) as a [`Schedule`].
fn schedule(f: &mut Fields<'_>, text: &str) -> Option<Schedule> {
    Schedule::parse(text)
        .map_err(|e| f.problem("schedule", text, e.to_string()))
        .ok()
}

/// `timezone:`, an IANA zone name.
fn timezone(f: &mut Fields<'_>, written: Option<&str>) -> Option<NamedZone> {
    let tz = written?;
    let zone = NamedZone::parse(tz);
    if zone.is_none() {
        f.problem(
            "timezone",
            tz,
            "not an IANA time zone name (e.g. Europe/Berlin, UTC)",
        );
    }
    zone
}

/// `slot:` (`default` when absent), which must be a slot of the settings.
fn slot_name(f: &mut Fields<'_>, written: Option<String>, settings: &Settings) -> String {
    let name = written.unwrap_or_else(|| "default".to_owned());
    if !settings.slots.contains_key(&name) {
        let known: Vec<&str> = settings.slots.keys().map(String::as_str).collect();
        f.problem(
            "slot",
            &name,
            format!("no such slot; known slots: {}", known.join(", ")),
        );
    }
    name
}

/// `priority:`, `medium` when absent.
fn priority(f: &mut Fields<'_>, written: Option<&str>) -> Priority {
    f.choice(
        "priority",
        written,
        &[
            ("critical", Priority::Critical),
            ("high", Priority::High),
            ("medium", Priority::Medium),
            ("low", Priority::Low),
        ],
    )
    .unwrap_or(Priority::Medium)
}

/// `limits:`, each within its range and memory and pids within the slot's (when the slot
/// exists; a missing slot is its own problem).
fn limits(f: &mut Fields<'_>, raw: &RawLimits, slot_name: &str, slot: Option<&Slot>) -> JobLimits {
    let limits = JobLimits {
        memory: f.size_at_least("limits.memory", raw.memory.as_ref(), MIN_MEMORY),
        cpu: f.number("limits.cpu", raw.cpu.as_ref(), 0.01..=1024.0),
        pids: f.integer("limits.pids", raw.pids.as_ref(), 1..=4_194_304),
        timeout: f.duration_at_least("limits.timeout", raw.timeout.as_ref(), MIN_TIMEOUT),
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
    limits
}

/// `weights:`, each 0.1 to 2.0, 1.0 when absent.
fn weights(f: &mut Fields<'_>, raw: &RawWeights) -> Weights {
    Weights {
        cpu: f
            .number("weights.cpu", raw.cpu.as_ref(), 0.1..=2.0)
            .unwrap_or(1.0),
        memory: f
            .number("weights.memory", raw.memory.as_ref(), 0.1..=2.0)
            .unwrap_or(1.0),
    }
}

/// `concurrency:`, `forbid` when absent.
fn concurrency(f: &mut Fields<'_>, written: Option<&str>) -> Concurrency {
    f.choice(
        "concurrency",
        written,
        &[
            ("forbid", Concurrency::Forbid),
            ("allow", Concurrency::Allow),
            ("replace", Concurrency::Replace),
        ],
    )
    .unwrap_or(Concurrency::Forbid)
}

/// `env:`: names usable as variable names, values as text without NUL.
fn env(f: &mut Fields<'_>, raw: BTreeMap<String, Scalar>) -> BTreeMap<String, String> {
    raw.into_iter()
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
        .collect()
}

/// `alerts:`: the thresholds, the effect-size overrides and the two switches.
fn alerts(f: &mut Fields<'_>, raw: &RawAlerts) -> AlertThresholds {
    let [slower, bigger, faster, smaller] = effects::all(
        f,
        "alerts",
        [&raw.slower, &raw.bigger, &raw.faster, &raw.smaller],
    );
    AlertThresholds {
        max_duration: f.duration("alerts.max_duration", raw.max_duration.as_ref()),
        max_memory: f.size("alerts.max_memory", raw.max_memory.as_ref()),
        consecutive_failures: f
            .integer(
                "alerts.consecutive_failures",
                raw.consecutive_failures.as_ref(),
                1..=10_000,
            )
            .map(|n| n as u32),
        slower,
        bigger,
        faster,
        smaller,
        too_fast: raw.too_fast.unwrap_or(false),
        too_small: raw.too_small.unwrap_or(false),
    }
}

/// `depends_on`, `blocks` and `after` (in that order) do not name the job itself.
fn not_itself(f: &mut Fields<'_>, name: &str, [depends_on, blocks, after]: [&Vec<String>; 3]) {
    for (field, names) in [
        ("depends_on", depends_on),
        ("blocks", blocks),
        ("after", after),
    ] {
        for other in names.iter().filter(|n| *n == name) {
            f.problem(field, other, "a job cannot name itself");
        }
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

/// `working_dir` and `env_file`, each relative to the job file's folder `file.parent()`.
fn paths(
    f: &mut Fields<'_>,
    file: &Path,
    working_dir_value: Option<Scalar>,
    env_file: Option<String>,
) -> (Option<PathBuf>, Option<PathBuf>) {
    let base = file.parent().unwrap_or(Path::new("."));
    let dir = working_dir(f, working_dir_value).map(|d| Fields::path(base, &d));
    let env_file = env_file
        .filter(|p| f.no_nul("env_file", p))
        .map(|p| Fields::path(base, &p));
    (dir, env_file)
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
