//! `slotcron.yaml`: where jobs and state live, how cgroups are used, and the slots.
//! With no file at all the built-in defaults apply, so a fresh checkout runs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::bounds::{MIN_LOG_MAX, MIN_MEMORY};
use super::effects;
use super::fields::Fields;
use super::io::{self, IoConfig};
use super::notifications;
use super::pressure::{self, Response};
use super::problem::{Problem, Problems};
use super::raw::{
    RawAlerting, RawConfig, RawDiscover, RawMetrics, RawProtect, RawRetention, RawSlot,
};
use super::resolve::System;
use super::units::{ByteSize, Scalar, format_duration};
use crate::baseline::effect::Judging;
use crate::channels::ChannelSpec;
use crate::model::RetentionMode;

/// Where the configuration is looked for when neither `--config` nor `$SLOTCRON_CONFIG` is set.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/slotcron/slotcron.yaml";
/// `jobs_dir` of the built-in defaults, relative to the working directory.
pub const DEFAULT_JOBS_DIR: &str = "jobs.d";
/// `state_dir` of the built-in defaults, relative to the working directory.
pub const DEFAULT_STATE_DIR: &str = ".slotcron";
/// How long a stopped run gets between SIGTERM and SIGKILL.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(10);
/// Where the daemon serves `/metrics` unless `metrics.listen` says otherwise: loopback
/// only, on the port registered for slotcron in Prometheus's default port allocations.
pub const DEFAULT_METRICS_LISTEN: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::LOCALHOST,
    9746,
));
/// How much of a run's output is kept (the tail).
pub const DEFAULT_LOG_MAX: ByteSize = ByteSize::new(1 << 20);

/// Whether cgroup enforcement is demanded, attempted, or never used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnforcementMode {
    /// Use cgroups where possible; otherwise run unconfined with a loud warning.
    Auto,
    /// Refuse to run without working cgroup v2 enforcement, saying why and how to fix it.
    Required,
    /// Never touch cgroups.
    Off,
}

/// Which cgroup slotcron builds its tree in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupRoot {
    /// The (delegated) cgroup slotcron itself runs in.
    Auto,
    /// This absolute path in the cgroup2 mount.
    Path(PathBuf),
}

/// One execution slot: a cgroup with hard limits and a cap on concurrent runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// The slot's name, which is also its cgroup's directory name.
    pub name: String,
    /// Runs admitted at once (>= 1).
    pub max_concurrent: u32,
    /// Hard memory cap of all runs in the slot together (`memory.max`).
    pub memory_max: ByteSize,
    /// Throttling threshold (`memory.high`), if any.
    pub memory_high: Option<ByteSize>,
    /// Share of the whole machine's CPU, in (0, 100].
    pub cpu_max_percent: f64,
    /// Cap on processes in the slot (`pids.max`); `None` is unlimited.
    pub pids_max: Option<u64>,
    /// Swap the slot may use (`memory.swap.max`); 0 by default so a capped job dies rather
    /// than thrashes.
    pub swap_max: ByteSize,
    /// How many due runs may wait for a free place in the slot (0 to [`MAX_QUEUE_LIMIT`]);
    /// 0: no queueing.
    pub queue_limit: u32,
    /// The slot's io weight and per-device caps (`io:`); `None`: none.
    pub io: Option<IoConfig>,
}

impl Slot {
    fn builtin(name: &str, max_concurrent: u32, gib: u64, cpu: f64) -> Slot {
        Slot {
            name: name.to_owned(),
            max_concurrent,
            memory_max: ByteSize::gib(gib),
            memory_high: None,
            cpu_max_percent: cpu,
            pids_max: Some(DEFAULT_SLOT_PIDS_MAX),
            swap_max: ByteSize::new(0),
            queue_limit: DEFAULT_QUEUE_LIMIT,
            io: None,
        }
    }
}

/// `pids_max` of a slot that does not set one: enough for any sane job, a wall for a fork bomb.
pub const DEFAULT_SLOT_PIDS_MAX: u64 = 4096;
/// `queue_limit` of a slot that does not set one.
pub const DEFAULT_QUEUE_LIMIT: u32 = 100;
/// The largest `queue_limit`.
pub const MAX_QUEUE_LIMIT: u32 = 1_000_000;

/// `protect:`: headroom the scheduler keeps for the rest of the machine. A run is not
/// started while a set threshold is crossed; unset thresholds are not checked.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Protect {
    /// What happens to runs already going when the machine runs short
    /// (`protect.response`); `None`: nothing (runs are left to their caps).
    pub response: Option<Response>,
    /// Memory that must stay available (`MemAvailable` in `/proc/meminfo`) beyond what
    /// the run is expected to use.
    pub reserve_memory: Option<ByteSize>,
    /// Memory pressure ceiling: PSI `some avg10` of `/proc/pressure/memory`, a percentage
    /// in (0, 100].
    pub max_memory_pressure: Option<f64>,
}

/// `alerting:`: machine-wide alert thresholds, read by the rules in `crate::alerts`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertSettings {
    /// When a figure is different enough from its baseline: `anomaly_z` (from 1 to 100)
    /// and the `slower`, `bigger`, `faster`, `smaller` thresholds. `too_fast` and
    /// `too_small` are off here: a job turns them on.
    pub judging: Judging,
    /// An alert raised again within this long of its resolution reopens (one episode, no
    /// new notification) instead of opening a new one.
    pub flap_window: Duration,
    /// A run that waited longer than this for a seat raises `slot_saturated`.
    pub queue_wait_threshold: Duration,
    /// A scheduled time with no run started this long after it raises `overdue`.
    pub overdue_grace: Duration,
}

/// `alerting.anomaly_z` when not set: how many spreads (robust standard deviations of the
/// logarithm) from the baseline a figure must be (ADR 0031).
pub const DEFAULT_ANOMALY_Z: f64 = crate::baseline::effect::DEFAULT_Z;
/// `alerting.flap_window` when not set: a quarter of a day, so an hourly job that toggles
/// stays one episode while a daily job's next failure is news (ADR 0031).
pub const DEFAULT_FLAP_WINDOW: Duration = Duration::from_secs(6 * 3600);
/// `alerting.queue_wait_threshold` when not set.
pub const DEFAULT_QUEUE_WAIT_THRESHOLD: Duration = Duration::from_secs(300);
/// `alerting.overdue_grace` when not set.
pub const DEFAULT_OVERDUE_GRACE: Duration = Duration::from_secs(300);

impl Default for AlertSettings {
    fn default() -> AlertSettings {
        AlertSettings {
            judging: Judging::default(),
            flap_window: DEFAULT_FLAP_WINDOW,
            queue_wait_threshold: DEFAULT_QUEUE_WAIT_THRESHOLD,
            overdue_grace: DEFAULT_OVERDUE_GRACE,
        }
    }
}

/// The built-in slots (seats, `memory_max`, `cpu_max_percent`): `default` 5, 3 GiB, 80 %;
/// `heavy` 2, 4 GiB, 90 %; `light` 10, 1 GiB, 50 %.
pub fn builtin_slots() -> BTreeMap<String, Slot> {
    [
        Slot::builtin("default", 5, 3, 80.0),
        Slot::builtin("heavy", 2, 4, 90.0),
        Slot::builtin("light", 10, 1, 50.0),
    ]
    .into_iter()
    .map(|slot| (slot.name.clone(), slot))
    .collect()
}

/// `api:` in `slotcron.yaml`: who may use the HTTP API (`docs/adr/0017-http-api.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiSettings {
    /// On a non-loopback `metrics.listen`, whether reads (GET) are open without the token
    /// (`api.public_read`, default `false`). Actions always need it; on loopback reads are
    /// open anyway.
    pub public_read: bool,
}

/// How job health is judged (`baseline_runs` at the top level of `slotcron.yaml`, and
/// from `alerting:` the grace of `overdue` and the thresholds of `degraded`); see
/// [`crate::stats`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthSettings {
    /// Successful runs a baseline is computed from, in
    /// [`BASELINE_RUNS_RANGE`](crate::baseline::BASELINE_RUNS_RANGE).
    pub baseline_runs: u32,
    /// How late a scheduled run may start before its job is `overdue`.
    pub overdue_grace: Duration,
    /// What makes a job `degraded`: `alerting:`'s thresholds (the same as its alerts').
    pub judging: Judging,
}

impl Default for HealthSettings {
    fn default() -> HealthSettings {
        HealthSettings {
            baseline_runs: crate::baseline::DEFAULT_BASELINE_RUNS,
            overdue_grace: crate::model::health::DEFAULT_OVERDUE_GRACE,
            judging: Judging::default(),
        }
    }
}

/// The validated `slotcron.yaml`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The file this came from; `None` for the built-in defaults.
    pub source: Option<PathBuf>,
    /// Folder of job files (absolute, or relative to the working directory for defaults).
    pub jobs_dir: PathBuf,
    /// Folder for the database, run logs and locks.
    pub state_dir: PathBuf,
    pub enforcement: EnforcementMode,
    pub cgroup_root: CgroupRoot,
    /// Cap on all jobs together, across slots.
    pub memory_max: Option<ByteSize>,
    /// Slots by name. Always has `default`.
    pub slots: BTreeMap<String, Slot>,
    /// SIGTERM-to-SIGKILL grace when a run is stopped.
    pub kill_grace: Duration,
    /// Bytes of each run's output kept (the tail).
    pub log_max: ByteSize,
    /// Headroom kept for the rest of the machine; both thresholds off by default.
    pub protect: Protect,
    /// Where the daemon serves `GET /metrics` (`metrics.listen`); `None`: `off`.
    pub metrics_listen: Option<SocketAddr>,
    /// The HTTP API's access rules (`api:`).
    pub api: ApiSettings,
    /// Runs (and their logs) older than this are pruned; `None` (`retention: off`) keeps
    /// everything.
    pub retention: Option<Duration>,
    /// Whether pruned runs are deleted or moved to the archive table.
    pub retention_mode: RetentionMode,
    /// Machine-wide alert thresholds; [`AlertSettings::default`] when not set.
    pub alerting: AlertSettings,
    /// Where alerts are notified (`notifications:`); empty by default. Names are unique.
    pub notifications: Vec<ChannelSpec>,
    /// Baselines and health thresholds.
    pub health: HealthSettings,
    /// `discover.paths`: glob patterns (a plain folder is a pattern that matches itself)
    /// of the folders `slotcron discover` scans when given none; relative ones resolved
    /// against the file's folder (which is escaped, so its own `*` or `[` match literally).
    /// Each is a valid pattern. Empty by default.
    pub discover_paths: Vec<String>,
}

/// How long history is kept by default: a quarter, enough for seasonal baselines.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

impl Settings {
    /// The built-in defaults: three slots, `./jobs.d`, state in `./.slotcron`.
    pub fn builtin() -> Settings {
        Settings {
            source: None,
            jobs_dir: PathBuf::from(DEFAULT_JOBS_DIR),
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
            enforcement: EnforcementMode::Auto,
            cgroup_root: CgroupRoot::Auto,
            memory_max: None,
            slots: builtin_slots(),
            kill_grace: DEFAULT_KILL_GRACE,
            log_max: DEFAULT_LOG_MAX,
            protect: Protect::default(),
            metrics_listen: Some(DEFAULT_METRICS_LISTEN),
            api: ApiSettings::default(),
            retention: Some(DEFAULT_RETENTION),
            retention_mode: RetentionMode::Delete,
            alerting: AlertSettings::default(),
            notifications: Vec::new(),
            health: HealthSettings::default(),
            discover_paths: Vec::new(),
        }
    }

    /// Reads and validates `path`. Relative paths in it resolve against its folder; an
    /// unset `state_dir` is `state_dir` when given (the user's own file keeps its state in
    /// `$XDG_STATE_HOME/slotcron`), else `.slotcron` beside the file.
    ///
    /// # Errors
    /// Every problem in the file, each naming the field and value.
    pub fn load(path: &Path, state_dir: Option<&Path>) -> Result<Settings, Problems> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Problems(vec![Problem::file(path, format!("cannot read: {e}"))]))?;
        Settings::parse_with(path, &text, state_dir, System::THIS_MACHINE)
    }

    /// Validates the text of a `slotcron.yaml` that lives at `path`.
    ///
    /// # Errors
    /// Every problem in the text, each naming the field and value.
    pub fn parse(path: &Path, text: &str) -> Result<Settings, Problems> {
        Settings::parse_with(path, text, None, System::THIS_MACHINE)
    }

    /// As [`Settings::parse`], with the slots' `io.max` devices looked up on `system`
    /// rather than this machine (ADR 0039), so a test passes its own devices.
    ///
    /// # Errors
    /// Every problem in the text and every device `system` does not know, each naming the
    /// field and value.
    pub fn parse_on(path: &Path, text: &str, system: System<'_>) -> Result<Settings, Problems> {
        Settings::parse_with(path, text, None, system)
    }

    /// As [`Settings::parse_on`], with an unset `state_dir` becoming `state_dir` when given.
    fn parse_with(
        path: &Path,
        text: &str,
        state_dir: Option<&Path>,
        system: System<'_>,
    ) -> Result<Settings, Problems> {
        let raw: RawConfig = if text.trim().is_empty() {
            RawConfig::default()
        } else {
            serde_saphyr::from_str(text)
                .map_err(|e| Problems(vec![Problem::yaml(path, text, &e)]))?
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let mut f = Fields::new(path);
        let defaults = Settings::builtin();
        let enforcement = enforcement(&mut f, raw.enforcement.as_deref());
        let cgroup = raw.cgroup.unwrap_or_default();
        let cgroup_root = cgroup_root(&mut f, cgroup.root.as_deref());
        let memory_max =
            f.size_at_least("cgroup.memory_max", cgroup.memory_max.as_ref(), MIN_MEMORY);
        let slots = slots(&mut f, raw.slots, defaults.slots, system);
        let alerting = alerting(&mut f, raw.alerting.as_ref());
        let health = health(
            &mut f,
            [&raw.baseline_runs, &raw.degraded_factor],
            &alerting,
        );
        let settings = Settings {
            source: Some(path.to_path_buf()),
            jobs_dir: raw
                .jobs_dir
                .map_or_else(|| base.join(DEFAULT_JOBS_DIR), |p| Fields::path(base, &p)),
            state_dir: match (raw.state_dir, state_dir) {
                (Some(p), _) => Fields::path(base, &p),
                (None, Some(dir)) => dir.to_path_buf(),
                (None, None) => base.join(DEFAULT_STATE_DIR),
            },
            enforcement,
            cgroup_root,
            memory_max,
            slots,
            kill_grace: f
                .duration("kill_grace", raw.kill_grace.as_ref())
                .unwrap_or(DEFAULT_KILL_GRACE),
            log_max: f
                .size_at_least("log_max", raw.log_max.as_ref(), MIN_LOG_MAX)
                .unwrap_or(DEFAULT_LOG_MAX),
            protect: protect(&mut f, raw.protect.as_ref()),
            metrics_listen: metrics_listen(&mut f, raw.metrics.as_ref()),
            api: ApiSettings {
                public_read: raw.api.and_then(|a| a.public_read).unwrap_or(false),
            },
            retention: retention(&mut f, raw.retention.as_ref()),
            retention_mode: retention_mode(&mut f, raw.retention_mode.as_deref()),
            alerting,
            notifications: notifications::channels(&mut f, raw.notifications.as_deref()),
            health,
            discover_paths: discover_paths(&mut f, base, raw.discover.as_ref()),
        };
        if f.problems.is_empty() {
            Ok(settings)
        } else {
            Err(Problems(f.problems))
        }
    }
}

/// `enforcement:`, `auto` when absent.
fn enforcement(f: &mut Fields<'_>, written: Option<&str>) -> EnforcementMode {
    f.choice(
        "enforcement",
        written,
        &[
            ("auto", EnforcementMode::Auto),
            ("required", EnforcementMode::Required),
            ("off", EnforcementMode::Off),
        ],
    )
    .unwrap_or(EnforcementMode::Auto)
}

/// `cgroup.root`: `auto` (the default) or an absolute path.
fn cgroup_root(f: &mut Fields<'_>, written: Option<&str>) -> CgroupRoot {
    match written {
        None | Some("auto") => CgroupRoot::Auto,
        Some(p) if Path::new(p).is_absolute() => CgroupRoot::Path(PathBuf::from(p)),
        Some(p) => {
            f.problem(
                "cgroup.root",
                p,
                "must be `auto` or an absolute path (e.g. /sys/fs/cgroup/slotcron)",
            );
            CgroupRoot::Auto
        }
    }
}

/// `slots:`, each checked, `builtin` when absent; one must be `default` (said only when
/// nothing else is wrong, since a bad `default` slot is its own problem).
fn slots(
    f: &mut Fields<'_>,
    raw: Option<BTreeMap<String, RawSlot>>,
    builtin: BTreeMap<String, Slot>,
    system: System<'_>,
) -> BTreeMap<String, Slot> {
    let slots: BTreeMap<String, Slot> = match raw {
        None => builtin,
        Some(raw_slots) => raw_slots
            .into_iter()
            .filter_map(|(name, raw)| slot(f, &name, &raw, system).map(|s| (name, s)))
            .collect(),
    };
    if !slots.contains_key("default") && f.problems.is_empty() {
        f.problem(
            "slots",
            "",
            "must define a slot named `default` (jobs without `slot:` run there)",
        );
    }
    slots
}

/// `retention_mode:`, `delete` when absent.
fn retention_mode(f: &mut Fields<'_>, written: Option<&str>) -> RetentionMode {
    f.choice(
        "retention_mode",
        written,
        &[
            ("delete", RetentionMode::Delete),
            ("archive", RetentionMode::Archive),
        ],
    )
    .unwrap_or(RetentionMode::Delete)
}

/// One slot of `slots:`, its `io.max` devices looked up on `system`; `None` when it has
/// problems (recorded in `f`).
fn slot(f: &mut Fields<'_>, name: &str, raw: &RawSlot, system: System<'_>) -> Option<Slot> {
    let before = f.problems.len();
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name != "supervisor";
    if !valid_name {
        f.problem(
            "slots",
            name,
            "a slot name uses letters, digits, `-` and `_` (and is not `supervisor`)",
        );
    }
    let field = |knob: &str| format!("slots.{name}.{knob}");
    let max_concurrent = f.integer(
        &field("max_concurrent"),
        raw.max_concurrent.as_ref(),
        1..=10_000,
    );
    let memory_max = f.size_at_least(&field("memory_max"), raw.memory_max.as_ref(), MIN_MEMORY);
    if raw.memory_max.is_none() {
        f.problem(
            &field("memory_max"),
            "",
            "every slot needs a memory_max (e.g. 2G)",
        );
    }
    let memory_high = f.size_at_least(&field("memory_high"), raw.memory_high.as_ref(), MIN_MEMORY);
    let cpu = f.number(
        &field("cpu_max_percent"),
        raw.cpu_max_percent.as_ref(),
        1.0..=100.0,
    );
    let pids_max = f.integer(&field("pids_max"), raw.pids_max.as_ref(), 1..=4_194_304);
    let swap_max = f.size(&field("swap_max"), raw.swap_max.as_ref());
    let queue_limit = f.integer(
        &field("queue_limit"),
        raw.queue_limit.as_ref(),
        0..=u64::from(MAX_QUEUE_LIMIT),
    );
    let io = io::parse(f, &field("io"), raw.io.as_ref())
        .and_then(|spec| io::resolve(f, &field("io"), spec, system.devices));
    if let (Some(high), Some(max)) = (memory_high, memory_max)
        && high > max
    {
        f.problem(
            &field("memory_high"),
            high,
            format!("is above the slot's memory_max {max}"),
        );
    }
    if f.problems.len() > before {
        return None;
    }
    Some(Slot {
        name: name.to_owned(),
        max_concurrent: max_concurrent.unwrap_or(1) as u32,
        memory_max: memory_max?,
        memory_high,
        cpu_max_percent: cpu.unwrap_or(100.0),
        pids_max: pids_max.or(Some(DEFAULT_SLOT_PIDS_MAX)),
        swap_max: swap_max.unwrap_or(ByteSize::new(0)),
        queue_limit: queue_limit.map_or(DEFAULT_QUEUE_LIMIT, |n| n as u32),
        io,
    })
}

/// `discover.paths`: each a glob pattern; relative ones are joined to `base`, escaped.
fn discover_paths(f: &mut Fields<'_>, base: &Path, raw: Option<&RawDiscover>) -> Vec<String> {
    let Some(paths) = raw.and_then(|d| d.paths.as_ref()) else {
        return Vec::new();
    };
    paths
        .iter()
        .filter_map(|written| {
            if written.trim().is_empty() {
                f.problem("discover.paths", written, "a path must not be empty");
                return None;
            }
            if let Err(e) = glob::Pattern::new(written) {
                f.problem(
                    "discover.paths",
                    written,
                    format!("not a valid glob pattern: {}", e.msg),
                );
                return None;
            }
            if Path::new(written).is_absolute() {
                return Some(written.clone());
            }
            let base = glob::Pattern::escape(&base.to_string_lossy());
            Some(
                Path::new(&base)
                    .join(written)
                    .to_string_lossy()
                    .into_owned(),
            )
        })
        .collect()
}

/// `retention: 90d`, or `off` to keep every run.
fn retention(f: &mut Fields<'_>, raw: Option<&RawRetention>) -> Option<Duration> {
    match raw {
        None => Some(DEFAULT_RETENTION),
        Some(RawRetention::Switch(false)) => None,
        Some(RawRetention::Value(Scalar::Text(t))) if t.trim().eq_ignore_ascii_case("off") => None,
        Some(RawRetention::Switch(true)) => {
            f.problem(
                "retention",
                "on",
                "say how long runs are kept (e.g. `90d`), or `off` to keep every run",
            );
            None
        }
        Some(RawRetention::Value(value)) => {
            let kept = f.duration("retention", Some(value))?;
            if kept < Duration::from_secs(3600) {
                f.problem(
                    "retention",
                    format_duration(kept),
                    "must be at least 1h (or `off` to keep every run)",
                );
                return None;
            }
            Some(kept)
        }
    }
}

/// `metrics.listen`: an `ip:port` (port 0 picks a free one), or `off`.
fn metrics_listen(f: &mut Fields<'_>, raw: Option<&RawMetrics>) -> Option<SocketAddr> {
    match raw.and_then(|m| m.listen.as_deref()) {
        None => Some(DEFAULT_METRICS_LISTEN),
        Some("off") => None,
        Some(text) => match text.parse() {
            Ok(addr) => Some(addr),
            Err(_) => {
                f.problem(
                    "metrics.listen",
                    text,
                    "must be `ip:port` (e.g. 127.0.0.1:9746, [::1]:9746) or `off`",
                );
                None
            }
        },
    }
}

/// `baseline_runs` as written; a job is overdue after `alerting.overdue_grace`, the grace
/// its `overdue` alert uses, and degraded by the thresholds its alerts use.
fn health(
    f: &mut Fields<'_>,
    [runs, factor]: [&Option<Scalar>; 2],
    alerting: &AlertSettings,
) -> HealthSettings {
    if let Some(factor) = factor {
        f.problem(
            "degraded_factor",
            factor,
            "was replaced by `alerting.slower` and `alerting.bigger` (e.g. \
             `alerting: { slower: { by: 50%, at_least: 5s } }`); see ADR 0031",
        );
    }
    HealthSettings {
        baseline_runs: f
            .integer(
                "baseline_runs",
                runs.as_ref(),
                crate::baseline::BASELINE_RUNS_RANGE,
            )
            .map_or(HealthSettings::default().baseline_runs, |n| n as u32),
        overdue_grace: alerting.overdue_grace,
        judging: alerting.judging,
    }
}

fn protect(f: &mut Fields<'_>, raw: Option<&RawProtect>) -> Protect {
    let Some(raw) = raw else {
        return Protect::default();
    };
    let max_memory_pressure = f.number(
        "protect.max_memory_pressure",
        raw.max_memory_pressure.as_ref(),
        0.0..=100.0,
    );
    // The range above admits 0 so its message reads "from 0 to 100"; 0 itself would stop
    // every run on any pressure at all, which is never what is meant.
    if let (Some(0.0), Some(written)) = (max_memory_pressure, &raw.max_memory_pressure) {
        f.problem(
            "protect.max_memory_pressure",
            written,
            "must be above 0 (a percentage of PSI `some avg10`, up to 100)",
        );
    }
    Protect {
        reserve_memory: f.size("protect.reserve_memory", raw.reserve_memory.as_ref()),
        max_memory_pressure: max_memory_pressure.filter(|p| *p > 0.0),
        response: pressure::response(f, raw.response.as_ref()),
    }
}

fn alerting(f: &mut Fields<'_>, raw: Option<&RawAlerting>) -> AlertSettings {
    let Some(raw) = raw else {
        return AlertSettings::default();
    };
    let z = f
        .number("alerting.anomaly_z", raw.anomaly_z.as_ref(), 1.0..=100.0)
        .unwrap_or(DEFAULT_ANOMALY_Z);
    let overrides = effects::all(
        f,
        "alerting",
        [&raw.slower, &raw.bigger, &raw.faster, &raw.smaller],
    );
    AlertSettings {
        judging: effects::machine(z, overrides),
        flap_window: f
            .duration("alerting.flap_window", raw.flap_window.as_ref())
            .unwrap_or(DEFAULT_FLAP_WINDOW),
        queue_wait_threshold: f
            .duration(
                "alerting.queue_wait_threshold",
                raw.queue_wait_threshold.as_ref(),
            )
            .unwrap_or(DEFAULT_QUEUE_WAIT_THRESHOLD),
        overdue_grace: f
            .duration("alerting.overdue_grace", raw.overdue_grace.as_ref())
            .unwrap_or(DEFAULT_OVERDUE_GRACE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, Problems> {
        Settings::parse(Path::new("/etc/slotcron/slotcron.yaml"), text)
    }

    #[test]
    fn empty_file_means_builtin_slots_and_paths_beside_the_file() {
        let s = parse("").unwrap();
        assert_eq!(s.slots["default"].max_concurrent, 5);
        assert_eq!(s.slots["heavy"].memory_max, ByteSize::gib(4));
        assert_eq!(s.slots["light"].cpu_max_percent, 50.0);
        assert_eq!(s.jobs_dir, PathBuf::from("/etc/slotcron/jobs.d"));
        assert_eq!(s.state_dir, PathBuf::from("/etc/slotcron/.slotcron"));
    }

    #[test]
    fn full_file() {
        let s = parse(
            "jobs_dir: jobs\nstate_dir: /var/lib/slotcron\nenforcement: required\n\
             cgroup: { root: /sys/fs/cgroup/slotcron, memory_max: 7G }\n\
             slots:\n  default: { max_concurrent: 3, memory_max: 2G, cpu_max_percent: 40, pids_max: 100, swap_max: 128M }\n",
        )
        .unwrap();
        assert_eq!(s.jobs_dir, PathBuf::from("/etc/slotcron/jobs"));
        assert_eq!(s.state_dir, PathBuf::from("/var/lib/slotcron"));
        assert_eq!(s.enforcement, EnforcementMode::Required);
        assert_eq!(
            s.cgroup_root,
            CgroupRoot::Path("/sys/fs/cgroup/slotcron".into())
        );
        assert_eq!(s.memory_max, Some(ByteSize::gib(7)));
        let d = &s.slots["default"];
        assert_eq!(
            (d.max_concurrent, d.pids_max, d.swap_max.bytes()),
            (3, Some(100), 128 << 20)
        );
        assert_eq!(s.slots.len(), 1);
    }

    #[test]
    fn every_bad_field_is_named_with_its_value() {
        let err = parse(
            "enforcement: sometimes\ncgroup: { root: relative/path }\n\
             slots:\n  default: { max_concurrent: 0, memory_max: 3X, cpu_max_percent: 150 }\n",
        )
        .unwrap_err();
        let text = err.to_string();
        for needle in [
            "field `enforcement`: must be one of: auto, required, off (value: `sometimes`)",
            "field `cgroup.root`",
            "field `slots.default.max_concurrent`",
            "(value: `3X`)",
            "field `slots.default.cpu_max_percent`: must be a number from 1 to 100 (value: `150`)",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        assert_eq!(err.0.len(), 5);
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_line() {
        let err = parse("jobs_dir: x\nslot:\n  default: {}\n").unwrap_err();
        assert_eq!(err.0[0].line, Some(2));
        assert!(err.0[0].message.contains("unknown field `slot`"), "{}", err);
    }

    #[test]
    fn queue_limit_and_protect_default_and_are_read() {
        let s = parse("").unwrap();
        assert_eq!(s.slots["heavy"].queue_limit, DEFAULT_QUEUE_LIMIT);
        assert_eq!(s.protect, Protect::default());
        let s = parse(
            "protect: { reserve_memory: 2G, max_memory_pressure: 20 }\n\
             slots:\n  default: { memory_max: 2G, queue_limit: 0 }\n  batch: { memory_max: 1G }\n",
        )
        .unwrap();
        assert_eq!(s.slots["default"].queue_limit, 0);
        assert_eq!(s.slots["batch"].queue_limit, 100);
        assert_eq!(s.protect.reserve_memory, Some(ByteSize::gib(2)));
        assert_eq!(s.protect.max_memory_pressure, Some(20.0));
    }

    #[test]
    fn bad_queue_limit_and_protect_are_named_with_their_values() {
        let text = parse(
            "protect: { reserve_memory: lots, max_memory_pressure: 0 }\n\
             slots:\n  default: { memory_max: 2G, queue_limit: -1 }\n",
        )
        .unwrap_err()
        .to_string();
        for needle in [
            "field `slots.default.queue_limit`: must be a whole number from 0 to 1000000 (value: `-1`)",
            "field `protect.max_memory_pressure`: must be above 0 (a percentage of PSI `some avg10`, up to 100) (value: `0`)",
            "field `protect.reserve_memory`: not a size",
            "(value: `lots`)",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        let err = parse("protect: { max_memory_pressure: 100.5 }\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("must be a number from 0 to 100 (value: `100.5`)"),
            "{err}"
        );
        let err = parse("protect: { reserve: 1G }\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `reserve`"), "{err}");
    }

    #[test]
    fn alerting_defaults_are_read_and_checked() {
        assert_eq!(parse("").unwrap().alerting, AlertSettings::default());
        let s = parse("alerting: { anomaly_z: 4, queue_wait_threshold: 90s, flap_window: 1h }\n")
            .unwrap();
        assert_eq!(s.alerting.judging.z, 4.0);
        assert_eq!(s.alerting.queue_wait_threshold, Duration::from_secs(90));
        assert_eq!(s.alerting.flap_window, Duration::from_secs(3600));
        assert_eq!(s.alerting.overdue_grace, DEFAULT_OVERDUE_GRACE);
        assert_eq!(
            s.health.judging, s.alerting.judging,
            "degraded judges as alerts do"
        );
        let text = parse("alerting: { anomaly_z: 0.5 }\n")
            .unwrap_err()
            .to_string();
        assert!(
            text.contains(
                "field `alerting.anomaly_z`: must be a number from 1 to 100 (value: `0.5`)"
            ),
            "{text}"
        );
        let err = parse("alerting: { z: 3 }\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `z`"), "{err}");
    }

    #[test]
    fn health_settings_default_are_read_and_checked() {
        let s = parse("").unwrap();
        assert_eq!(s.health, HealthSettings::default());
        assert_eq!(
            (s.health.baseline_runs, s.health.overdue_grace),
            (30, Duration::from_secs(300))
        );
        let s = parse("baseline_runs: 20\nalerting: { overdue_grace: 90s }\n").unwrap();
        assert_eq!(
            (s.health.baseline_runs, s.health.overdue_grace),
            (20, Duration::from_secs(90))
        );
        let text = parse("baseline_runs: 2\n").unwrap_err().to_string();
        assert!(
            text.contains(
                "field `baseline_runs`: must be a whole number from 3 to 1000 (value: `2`)"
            ),
            "{text}"
        );
    }

    #[test]
    fn discover_paths_resolve_against_the_file_and_keep_their_globs() {
        assert!(parse("").unwrap().discover_paths.is_empty());
        let s = Settings::parse(
            Path::new("/etc/[x]/slotcron.yaml"),
            "discover: { paths: [\"services/*/cron/\", /opt/scripts] }\n",
        )
        .unwrap();
        assert_eq!(
            s.discover_paths,
            ["/etc/[[]x[]]/services/*/cron/", "/opt/scripts"]
        );
        let pattern = glob::Pattern::new(&s.discover_paths[0]).unwrap();
        assert!(pattern.matches("/etc/[x]/services/web/cron/"));
        let text = parse("discover: { paths: [\"a/[b\", \"\"] }\n")
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("field `discover.paths`: not a valid glob pattern")
                && text.contains("(value: `a/[b`)"),
            "{text}"
        );
        assert!(text.contains("a path must not be empty"), "{text}");
        let err = parse("discover: { path: [x] }\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `path`"), "{err}");
    }

    #[test]
    fn slots_without_default_are_rejected() {
        let err = parse("slots:\n  heavy: { max_concurrent: 1, memory_max: 1G }\n").unwrap_err();
        assert!(err.to_string().contains("`default`"));
    }

    #[test]
    fn retention_defaults_to_ninety_days_and_can_be_off_or_archived() {
        let s = parse("").unwrap();
        assert_eq!(s.retention, Some(DEFAULT_RETENTION));
        assert_eq!(s.retention_mode, RetentionMode::Delete);
        let s = parse("retention: 30d\nretention_mode: archive\n").unwrap();
        assert_eq!(s.retention, Some(Duration::from_secs(30 * 24 * 3600)));
        assert_eq!(s.retention_mode, RetentionMode::Archive);
        assert_eq!(parse("retention: off\n").unwrap().retention, None);
        let err = parse("retention: 5m\nretention_mode: shred\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("field `retention`: must be at least 1h"),
            "{err}"
        );
        assert!(err.contains("field `retention_mode`"), "{err}");
        assert!(err.contains("shred"), "{err}");
    }

    #[test]
    fn api_public_read_defaults_to_off_and_refuses_other_keys_and_values() {
        assert!(!parse("").unwrap().api.public_read);
        assert!(!parse("api: {}\n").unwrap().api.public_read);
        assert!(
            parse("api: { public_read: true }\n")
                .unwrap()
                .api
                .public_read
        );
        let err = parse("api: { public: true }\n").unwrap_err().to_string();
        assert!(err.contains("unknown field `public`"), "{err}");
        let err = parse("api: { public_read: sometimes }\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sometimes") || err.contains("bool"), "{err}");
    }

    #[test]
    fn metrics_listen_defaults_to_loopback_and_can_be_moved_or_turned_off() {
        assert_eq!(
            parse("").unwrap().metrics_listen,
            Some(DEFAULT_METRICS_LISTEN)
        );
        assert_eq!(
            parse("metrics: { listen: \"0.0.0.0:9100\" }\n")
                .unwrap()
                .metrics_listen,
            Some("0.0.0.0:9100".parse().unwrap())
        );
        assert_eq!(
            parse("metrics: { listen: off }\n").unwrap().metrics_listen,
            None
        );
        let err = parse("metrics: { listen: localhost }\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("field `metrics.listen`: must be `ip:port`")
                && err.contains("`localhost`"),
            "{err}"
        );
    }
}
