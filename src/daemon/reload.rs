//! Reloading `jobs_dir` (inotify, SIGHUP, `slotcron reload`, and the first load at start).
//! Only what changed costs anything: files whose stamps are unchanged are not parsed again
//! ([`ParseCache`]), and only the rows of changed, new and removed jobs are written to
//! history. A file that no longer loads keeps its job's last good version scheduled.

use std::collections::HashMap;

use tracing::{debug, info, warn};

use crate::config::{Catalog, ParseCache};
use crate::store::{JobControl, JobRow, JobSummary, Store, StoreError};

use super::engine::Engine;
use super::registry::{job_row, sync_history};

/// What asked for a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// inotify saw a change: when no file's stamp changed, nothing is read at all.
    Files,
    /// SIGHUP or `slotcron reload`: files with problems are read again even if unchanged
    /// (the user they name may exist now).
    Asked,
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// A summary for the user.
    pub message: String,
    /// Whether any job file was new, edited, mended, newly broken or gone.
    pub changed: bool,
}

/// Loads `jobs_dir` again and takes the result in: new and changed jobs are
/// (re)scheduled, deleted ones unscheduled, broken ones kept in their last good version.
pub async fn reload(engine: &mut Engine, cause: Cause) -> Reloaded {
    let first = !engine.has_loaded_jobs();
    if !first && cause == Cause::Files && engine.job_files_unchanged() {
        debug!("reload: no job file changed");
        return no_change(engine);
    }
    let loaded = match load(engine, first).await {
        Ok(loaded) => loaded,
        Err(error) => return failed(engine, &error).await,
    };
    let unchanged = !first && !loaded.cache.changed();
    engine.keep_parse_cache(loaded.cache);
    if unchanged {
        debug!("reload: no job file changed");
        return no_change(engine);
    }
    take_in(engine, loaded.catalog, loaded.rows, loaded.stored, first).await
}

/// What one pass over `jobs_dir` and history found.
struct Loaded {
    catalog: Catalog,
    /// The parse cache after this pass.
    cache: ParseCache,
    /// The jobs-table rows of the files parsed again (none on the first load, which writes
    /// the whole table itself).
    rows: Vec<JobRow>,
    /// The stored control and summary of jobs the registry does not have yet.
    stored: Stored,
}

/// The stored control and summary of jobs, by name.
struct Stored {
    controls: HashMap<String, JobControl>,
    summaries: HashMap<String, JobSummary>,
}

/// Reads `jobs_dir` (parsing only what changed) and what history stores about the jobs,
/// on the history's blocking thread.
async fn load(engine: &mut Engine, first: bool) -> Result<Loaded, StoreError> {
    let settings = engine.settings().clone();
    // The cache goes with the attempt: when it fails, the next reload parses everything.
    let mut cache = engine.take_parse_cache();
    let known: Vec<String> = engine.registry().jobs.keys().cloned().collect();
    let now = engine.now();
    engine
        .db(move |store| {
            let catalog = Catalog::load_dir_cached(&settings.jobs_dir, &settings, &mut cache);
            let mut rows = Vec::new();
            if first {
                // Also marks jobs removed whose files went while no daemon ran.
                sync_history(store, &catalog, now)?;
            } else {
                rows = catalog
                    .jobs
                    .values()
                    .filter(|job| cache.parsed().contains(&job.file))
                    .map(|job| job_row(job))
                    .collect();
            }
            let stored = Stored {
                controls: store.job_controls()?,
                summaries: if first {
                    store.job_summaries()?
                } else {
                    summaries_of_new(store, &catalog, &known)?
                },
            };
            // The page cache filled up reading the jobs table; an idle daemon needs none of
            // it, and the pages come back from the file when next read.
            if let Err(error) = store.release_memory() {
                warn!(%error, "SQLite kept its cache");
            }
            Ok(Loaded {
                catalog,
                cache,
                rows,
                stored,
            })
        })
        .await
}

/// The stored summaries of the catalog's jobs that are not in `known` (sorted).
fn summaries_of_new(
    store: &mut Store,
    catalog: &Catalog,
    known: &[String],
) -> Result<HashMap<String, JobSummary>, StoreError> {
    let mut map = HashMap::new();
    for name in catalog
        .jobs
        .keys()
        .filter(|n| known.binary_search(n).is_err())
    {
        let summary = match store.job_summary(name) {
            // A job new to history has none yet; its row is written by the reload.
            Err(StoreError::UnknownJob { .. }) => JobSummary::default(),
            other => other?,
        };
        map.insert(name.clone(), summary);
    }
    Ok(map)
}

/// The reload could not read history: the jobs stay as they were, and the failure is an
/// event.
async fn failed(engine: &Engine, error: &StoreError) -> Reloaded {
    warn!(%error, "reload failed; keeping the jobs as they were");
    let message = format!("reload failed: {error}");
    engine
        .event("reload_error", None, None, message.clone())
        .await;
    Reloaded {
        message,
        changed: false,
    }
}

/// Brings the registry, history's jobs table and the timeline in step with `catalog`,
/// and records new problems.
async fn take_in(
    engine: &mut Engine,
    catalog: Catalog,
    rows: Vec<JobRow>,
    mut stored: Stored,
    first: bool,
) -> Reloaded {
    let problems_before = problems(engine);
    let changes = engine.take_in(catalog, |name| {
        (
            stored.controls.remove(name).unwrap_or_default(),
            stored.summaries.remove(name).unwrap_or_default(),
        )
    });
    if !first && (!rows.is_empty() || !changes.removed.is_empty()) {
        write_changes(engine, rows, changes.removed.clone()).await;
    }
    engine.reschedule(&changes);
    let problems = problems(engine);
    if !problems.is_empty() && problems != problems_before {
        engine
            .event("reload_error", None, None, problems.join("\n"))
            .await;
    }
    let message = format!(
        "{} jobs scheduled ({} new or rescheduled, {} removed, {} kept in their last good version); {} problems",
        engine.registry().jobs.len(),
        changes.rescheduled.len(),
        changes.removed.len(),
        changes.broken.len(),
        problems.len()
    );
    info!(%message, "reloaded");
    Reloaded {
        message,
        changed: true,
    }
}

/// The registry's problems, in words.
fn problems(engine: &Engine) -> Vec<String> {
    engine
        .registry()
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn no_change(engine: &Engine) -> Reloaded {
    Reloaded {
        message: format!(
            "{} jobs scheduled; no job file changed",
            engine.registry().jobs.len()
        ),
        changed: false,
    }
}

/// Writes the rows of changed and new jobs, and marks removed ones, in one transaction.
async fn write_changes(engine: &Engine, rows: Vec<JobRow>, removed: Vec<String>) {
    let now = engine.now();
    let result = engine
        .db(move |store| store.sync_some_jobs(&rows, &removed, now))
        .await;
    if let Err(error) = result {
        // Scheduling goes on with the files as loaded; history catches up at the next
        // change or start.
        warn!(%error, "recording the changed jobs in history");
    }
}
