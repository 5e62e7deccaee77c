//! Configuration: `slotcron.yaml` ([`Settings`]) and the job files of `jobs_dir`
//! ([`Catalog`]). Raw serde structs mirror the YAML; conversions validate them into domain
//! types that cannot hold an invalid value, collecting every [`Problem`] on the way.

mod cache;
mod catalog;
mod cron;
mod fields;
mod fire;
mod graph;
mod job;
mod notifications;
mod policy;
mod problem;
mod raw;
mod schedule;
mod settings;
mod units;

use std::path::{Path, PathBuf};

pub use cache::{ParseCache, Stamp};
pub use catalog::{Catalog, parse_job};
pub use cron::CronExpr;
pub use fire::Zone;
pub use job::{AlertThresholds, Command, Concurrency, Job, JobLimits, Priority, Weights};
pub use policy::{Breaker, CatchUp, DEFAULT_BREAKER_COOLDOWN, MAX_JITTER};
pub use problem::{Problem, Problems};
pub use schedule::{Schedule, ScheduleError};
pub use settings::{
    AlertSettings, ApiSettings, CgroupRoot, DEFAULT_ANOMALY_Z, DEFAULT_CONFIG_PATH,
    DEFAULT_JOBS_DIR, DEFAULT_KILL_GRACE, DEFAULT_LOG_MAX, DEFAULT_OVERDUE_GRACE,
    DEFAULT_QUEUE_LIMIT, DEFAULT_QUEUE_WAIT_THRESHOLD, DEFAULT_SLOT_PIDS_MAX, DEFAULT_STATE_DIR,
    EnforcementMode, HealthSettings, MAX_QUEUE_LIMIT, Protect, Settings, Slot, builtin_slots,
};
pub use units::{ByteSize, Scalar, UnitError, format_duration, parse_duration};

/// Where the settings come from: `--config` / `$SLOTCRON_CONFIG` if given (it must exist),
/// else [`DEFAULT_CONFIG_PATH`] if it exists, else the built-in defaults.
///
/// # Errors
/// The problems of the chosen file; a named file that does not exist is one.
pub fn load_settings(explicit: Option<&Path>) -> Result<Settings, Problems> {
    match explicit {
        Some(path) => Settings::load(path),
        None if Path::new(DEFAULT_CONFIG_PATH).exists() => {
            Settings::load(Path::new(DEFAULT_CONFIG_PATH))
        }
        None => {
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

/// The path of the settings file in use, for messages.
pub fn describe_source(settings: &Settings) -> String {
    settings.source.as_deref().map_or_else(
        || "built-in defaults".to_owned(),
        |p: &Path| PathBuf::from(p).display().to_string(),
    )
}
