//! Configuration: `slotcron.yaml` ([`Settings`]) and the job files of `jobs_dir`
//! ([`Catalog`]). Raw serde structs mirror the YAML; conversions validate them into domain
//! types that cannot hold an invalid value, collecting every [`Problem`] on the way.

mod bounds;
mod cache;
mod catalog;
mod cron;
mod effects;
mod env_file;
mod fields;
mod fire;
mod graph;
mod io;
mod job;
mod job_parse;
mod locate;
mod notifications;
mod one_job;
mod policy;
mod pressure;
mod problem;
mod raw;
mod readable;
mod resolve;
mod schedule;
mod settings;
mod units;
mod zone;

use std::path::{Path, PathBuf};

pub use bounds::{MAX_COMMAND, MIN_LOG_MAX, MIN_MEMORY, MIN_TIMEOUT};
pub use cache::{ParseCache, Stamp};
pub use catalog::{Catalog, parse_job, why_not_a_folder};
pub use cron::{
    CronError, CronExpr, FieldError, FieldKind, FieldSet, NICKNAMES, Problem as FieldProblem,
    parse_field,
};
pub use effects::EffectOverride;
pub use env_file::{parse as parse_env_file, read as read_env_file};
pub use fire::HORIZON_YEARS;
pub use io::{BlockDevices, DeviceError, DeviceMax, DeviceRef, IoConfig, IoSpec, SystemDevices};
pub use job::valid_name as valid_job_name;
pub use job::{AlertThresholds, Command, Concurrency, Job, JobLimits, Priority, Weights};
pub use job_parse::{Lookups, ParsedJob};
pub use locate::{Located, UserDirs, locate};
pub use policy::{Breaker, CatchUp, DEFAULT_BREAKER_COOLDOWN, MAX_JITTER};
pub use pressure::{Band, OnPressure, Response, Step};
pub use problem::{Problem, Problems};
pub use resolve::{Accounts, FixedAccounts, System, SystemAccounts};
pub use schedule::{MAX_INTERVAL, Schedule, ScheduleError};
pub use settings::{
    AlertSettings, ApiSettings, CgroupRoot, DEFAULT_ANOMALY_Z, DEFAULT_CONFIG_PATH,
    DEFAULT_FLAP_WINDOW, DEFAULT_JOBS_DIR, DEFAULT_KILL_GRACE, DEFAULT_LOG_MAX,
    DEFAULT_OVERDUE_GRACE, DEFAULT_QUEUE_LIMIT, DEFAULT_QUEUE_WAIT_THRESHOLD,
    DEFAULT_SLOT_PIDS_MAX, DEFAULT_STATE_DIR, EnforcementMode, HealthSettings, MAX_QUEUE_LIMIT,
    Protect, Settings, Slot, builtin_slots,
};
pub use units::{ByteSize, Scalar, UnitError, format_duration, parse_duration};
pub use zone::{NamedZone, Zone, from_jiff, to_jiff};

/// Loads the settings from the file [`locate`] picks for this process (`--config` /
/// `$SLOTCRON_CONFIG`, the user's own file, `/etc/slotcron/slotcron.yaml`), else the
/// built-in defaults.
///
/// # Errors
/// The problems of the chosen file; a named file that does not exist is one.
pub fn load_settings(explicit: Option<&Path>) -> Result<Settings, Problems> {
    let user = UserDirs::from_env();
    match locate(explicit, user.as_ref(), &|p: &Path| p.exists()) {
        Located::File { path, state_dir } => Settings::load(&path, state_dir.as_deref()),
        Located::Builtin => {
            // Absolute, so paths recorded in history (run logs) stay valid from any folder.
            let mut settings = Settings::builtin();
            if let Ok(cwd) = std::env::current_dir() {
                settings.jobs_dir = cwd.join(&settings.jobs_dir);
                settings.state_dir = cwd.join(&settings.state_dir);
            }
            Ok(settings)
        }
    }
}

/// The settings and every job, loaded together.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    pub catalog: Catalog,
}

/// Loads the settings (see [`load_settings`]) and then every job file.
///
/// # Errors
/// Only the settings' problems; job problems are in [`Catalog::problems`].
pub fn load(explicit: Option<&Path>) -> Result<Loaded, Problems> {
    let settings = load_settings(explicit)?;
    let catalog = Catalog::load_dir(&settings.jobs_dir, &settings);
    Ok(Loaded { settings, catalog })
}

/// Loads the settings and, of the job files, only what job `name` needs (see
/// [`Catalog::load_for_job`]): for commands that concern one job.
///
/// # Errors
/// Only the settings' problems; job problems are in [`Catalog::problems`].
pub fn load_for_job(explicit: Option<&Path>, name: &str) -> Result<Loaded, Problems> {
    let settings = load_settings(explicit)?;
    let catalog = Catalog::load_for_job(&settings.jobs_dir, &settings, name);
    Ok(Loaded { settings, catalog })
}

/// The path of the settings file in use, for messages.
pub fn describe_source(settings: &Settings) -> String {
    settings.source.as_deref().map_or_else(
        || "built-in defaults".to_owned(),
        |p: &Path| PathBuf::from(p).display().to_string(),
    )
}
