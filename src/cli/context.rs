//! What most subcommands start from: the loaded configuration and the history database.

use std::path::Path;

use anyhow::{Context, Result};

use crate::config::{self, Loaded, Settings};
use crate::store::{DEFAULT_DB_FILE, Store};

/// Loads the settings and jobs; settings problems are fatal, job problems are not.
pub fn load(config: Option<&Path>) -> Result<Loaded> {
    config::load(config).map_err(problems_error)
}

/// Loads the settings and what job `name` needs of the job files (ADR 0035): for commands
/// that concern one job, whose cost must not grow with the number of job files.
pub fn load_for_job(config: Option<&Path>, name: &str) -> Result<Loaded> {
    config::load_for_job(config, name).map_err(problems_error)
}

/// Loads only the settings (for commands that leave the job files to the daemon).
pub fn load_settings(config: Option<&Path>) -> Result<Settings> {
    config::load_settings(config).map_err(problems_error)
}

/// The one wording of a configuration that does not load.
fn problems_error(problems: config::Problems) -> anyhow::Error {
    anyhow::anyhow!("configuration has problems:\n{problems}")
}

/// Opens (creating if needed) the history database in `state_dir`.
pub fn open_store(loaded: &Loaded) -> Result<Store> {
    open_store_at(&loaded.settings.state_dir)
}

/// Opens (creating if needed) the history database in the state directory `dir`.
pub fn open_store_at(dir: &Path) -> Result<Store> {
    create_state_dir(dir)?;
    open_store_in(dir)
}

/// Creates the state directory `dir` if it does not exist yet.
pub fn create_state_dir(dir: &Path) -> Result<()> {
    crate::owner_only::create_dir_all(dir)
        .with_context(|| format!("creating state_dir {}", dir.display()))
}

/// Opens (creating if needed) the history database in `dir`, which must already exist.
pub fn open_store_in(dir: &Path) -> Result<Store> {
    Ok(Store::open(&dir.join(DEFAULT_DB_FILE))?)
}

/// Opens the history database only if it exists (read-only commands never create state).
pub fn existing_store(loaded: &Loaded) -> Result<Option<Store>> {
    existing_store_at(&loaded.settings.state_dir)
}

/// As [`existing_store`], for the state directory `dir`.
pub fn existing_store_at(dir: &Path) -> Result<Option<Store>> {
    let path = dir.join(DEFAULT_DB_FILE);
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(Store::open(&path)?))
}

/// Brings only `job`'s row of the history's jobs table in step (a one-job command has not
/// read the other files, so it must not mark them removed).
///
/// # Errors
/// The database cannot be written.
pub fn sync_job(store: &mut Store, job: &config::Job) -> Result<()> {
    let row = crate::daemon::registry::job_row(job);
    store.sync_some_jobs(&[row], &[], chrono::Utc::now())?;
    Ok(())
}
