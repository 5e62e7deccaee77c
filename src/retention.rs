//! Retention: runs older than `retention` leave the history (deleted, or moved to the
//! archive table) together with their run logs, so the database and the log folder stay
//! bounded. The daemon prunes at start and once a day; `slotcron prune` does it by hand.

use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::config::Settings;
use crate::store::{PruneReport, Store, StoreError};

/// How often the daemon prunes.
pub const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(24);

/// What a prune did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Runs that started before this left the history.
    pub cutoff: DateTime<Utc>,
    pub report: PruneReport,
    /// Run logs deleted (a log already gone is not counted).
    pub logs_removed: usize,
}

/// The instant before which runs are pruned; `None` when `retention: off`.
pub fn cutoff(settings: &Settings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let keep = chrono::Duration::from_std(settings.retention?).ok()?;
    now.checked_sub_signed(keep)
}

/// Prunes the history and the logs of the pruned runs. `None` when retention is off.
///
/// # Errors
/// The database cannot be written; logs that cannot be deleted are only logged.
pub fn prune(
    store: &mut Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Option<Pruned>, StoreError> {
    let Some(cutoff) = cutoff(settings, now) else {
        return Ok(None);
    };
    let report = store.prune(cutoff, settings.retention_mode, now)?;
    let logs_removed = remove_logs(&report.logs, &settings.state_dir.join("logs"));
    if report.runs > 0 || report.events > 0 {
        info!(
            runs = report.runs,
            events = report.events,
            logs = logs_removed,
            mode = ?settings.retention_mode,
            %cutoff,
            "pruned history"
        );
    }
    Ok(Some(Pruned {
        cutoff,
        report,
        logs_removed,
    }))
}

/// Deletes run logs, but only inside `logs_dir`: a log path recorded in history never
/// makes slotcron delete a file elsewhere. Empty per-job folders stay (a job's next run
/// writes there again).
pub fn remove_logs(paths: &[PathBuf], logs_dir: &Path) -> usize {
    let mut removed = 0;
    for path in paths {
        if !path.starts_with(logs_dir) {
            warn!(log = %path.display(), "run log outside the state folder's logs; left alone");
            continue;
        }
        match std::fs::remove_file(path) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(error) => warn!(log = %path.display(), %error, "deleting a pruned run's log"),
        }
    }
    removed
}
