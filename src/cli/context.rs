//! What most subcommands start from: the loaded configuration and the history database.

use std::path::Path;

use anyhow::{Context, Result};

use crate::config::{self, Job, Loaded};
use crate::store::{DEFAULT_DB_FILE, JobRow, Store};

/// Loads the settings and jobs; settings problems are fatal, job problems are not.
pub fn load(config: Option<&Path>) -> Result<Loaded> {
    config::load(config)
        .map_err(|problems| anyhow::anyhow!("configuration has problems:\n{problems}"))
}

/// Opens (creating if needed) the history database in `state_dir`.
pub fn open_store(loaded: &Loaded) -> Result<Store> {
    let dir = &loaded.settings.state_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating state_dir {}", dir.display()))?;
    Ok(Store::open(&dir.join(DEFAULT_DB_FILE))?)
}

/// Opens the history database only if it exists (read-only commands never create state).
pub fn existing_store(loaded: &Loaded) -> Result<Option<Store>> {
    let path = loaded.settings.state_dir.join(DEFAULT_DB_FILE);
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(Store::open(&path)?))
}

/// Mirrors the loaded jobs into the history's jobs table. A job whose file still exists but
/// no longer loads keeps its last good row (it is not marked removed for a typo); a job
/// whose file is gone is marked removed.
///
/// # Errors
/// The database cannot be written.
pub fn sync_jobs(store: &mut Store, loaded: &Loaded) -> Result<()> {
    let mut rows: Vec<JobRow> = loaded
        .catalog
        .jobs
        .values()
        .map(job_row)
        .collect::<Result<_>>()?;
    let broken: Vec<&Path> = loaded
        .catalog
        .problems
        .iter()
        .map(|p| p.file.as_path())
        .collect();
    for kept in store.jobs()? {
        let still_there = kept.removed_at.is_none()
            && broken.contains(&Path::new(&kept.file))
            && !rows.iter().any(|r| r.name == kept.name);
        if still_there {
            rows.push(JobRow {
                name: kept.name,
                file: kept.file,
                slot: kept.slot,
                schedule: kept.schedule,
                enabled: kept.enabled,
                definition: kept.definition,
            });
        }
    }
    store.sync_jobs(&rows, chrono::Utc::now())?;
    Ok(())
}

fn job_row(job: &Job) -> Result<JobRow> {
    Ok(JobRow {
        name: job.name.clone(),
        file: job.file.display().to_string(),
        slot: job.slot.clone(),
        schedule: job.schedule_text.clone(),
        enabled: job.enabled,
        definition: serde_json::to_value(job)?,
    })
}
