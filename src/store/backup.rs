//! The database's health and its rolling backup (ADR 0022): [`Store::quick_check`] at the
//! daemon's start refuses a damaged file, and [`backup`] copies the history daily with
//! `VACUUM INTO` to `<state_dir>/backups/slotcron-YYYY-MM-DD.db`, keeping the newest
//! [`BACKUPS_KEPT`]. Restoring is copying one back while no daemon runs (README, "When
//! things go wrong").

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};

use super::{Store, StoreError};

/// The folder of the backups, inside the state directory.
pub const BACKUP_DIR: &str = "backups";

/// How many daily backups are kept.
pub const BACKUPS_KEPT: usize = 3;

/// How often a backup is made.
pub const BACKUP_EVERY: chrono::Duration = chrono::Duration::days(1);

/// The most problems `quick_check` reports (it lists one per damaged page or index).
const PROBLEMS_SHOWN: usize = 5;

impl Store {
    /// `PRAGMA quick_check`: the file's pages and records are well formed (indexes are not
    /// compared with their tables; that is `integrity_check`, too slow for every start).
    ///
    /// # Errors
    /// [`StoreError::Damaged`] with SQLite's first problems; [`StoreError::Corrupt`] when
    /// the check itself cannot read the file.
    pub fn quick_check(&self) -> Result<(), StoreError> {
        let problems: Result<Vec<String>, rusqlite::Error> = self
            .conn
            .prepare("PRAGMA quick_check")
            .and_then(|mut stmt| stmt.query_map([], |row| row.get::<_, String>(0))?.collect());
        let problems = problems.map_err(|source| StoreError::Corrupt {
            path: self.path.clone(),
            source,
        })?;
        if problems.len() == 1 && problems[0] == "ok" {
            return Ok(());
        }
        let mut shown: Vec<String> = problems.iter().take(PROBLEMS_SHOWN).cloned().collect();
        if problems.len() > PROBLEMS_SHOWN {
            shown.push(format!("and {} more", problems.len() - PROBLEMS_SHOWN));
        }
        Err(StoreError::Damaged {
            path: self.path.clone(),
            problems: shown.join("; "),
        })
    }
}

/// Copies the database at `db` to `<dir>/slotcron-DATE.db` (`now`'s UTC date) with
/// `VACUUM INTO` on a connection of its own (readers never block the daemon's writes),
/// through a temporary name so a backup is whole or absent; then removes all but the
/// newest [`BACKUPS_KEPT`]. Returns the new backup's path.
///
/// # Errors
/// [`StoreError::CreateDir`] for the folder; [`StoreError::Sql`] if SQLite fails
/// (a damaged database, a full disk).
pub fn backup(db: &Path, dir: &Path, now: DateTime<Utc>) -> Result<PathBuf, StoreError> {
    const OP: &str = "backing up history";
    std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let target = dir.join(format!("slotcron-{}.db", now.format("%Y-%m-%d")));
    let partial = target.with_extension("db.partial");
    let _ = std::fs::remove_file(&partial);
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(StoreError::sql(OP))?;
    conn.execute("VACUUM INTO ?1", [partial.display().to_string()])
        .map_err(StoreError::sql(OP))?;
    std::fs::rename(&partial, &target).map_err(|source| StoreError::CreateDir {
        path: target.clone(),
        source,
    })?;
    for old in backups(dir).into_iter().skip(BACKUPS_KEPT) {
        let _ = std::fs::remove_file(old.0);
    }
    Ok(target)
}

/// The backups in `dir`, newest first, with when each was written.
pub fn backups(dir: &Path) -> Vec<(PathBuf, SystemTime)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(PathBuf, SystemTime)> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("slotcron-") && name.ends_with(".db")
        })
        .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
        .collect();
    found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    found
}

/// What to do about a damaged database at `db`, whose backups are in `dir`: the restore
/// command with the newest backup, or how to start with an empty history.
pub fn recovery_advice(db: &Path, dir: &Path) -> String {
    let aside = format!("mv {0} {0}.damaged", db.display());
    match backups(dir).first() {
        Some((newest, _)) => format!(
            "to recover, with the daemon stopped: `{aside}; cp {} {}` (the newest daily \
             backup; runs since it are lost), or `{aside}` alone to start with an empty history",
            newest.display(),
            db.display()
        ),
        None => format!(
            "no backup exists in {}; to start with an empty history, with the daemon \
             stopped: `{aside}` (or try `sqlite3 {} .recover`)",
            dir.display(),
            db.display()
        ),
    }
}
