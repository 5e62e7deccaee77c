//! The run history: an SQLite database holding every job slotcron has loaded and every run
//! it has started, skipped or finished, plus the scheduler daemon's state: per-job controls
//! (`control`), its key/value state (`control`), events that are not runs (`events`),
//! the per-job summaries it loads at start (`summary`), alerts (`alerts`), and what
//! `slotcron jobs` shows of each job's health: baselines (`baselines`), the 24-hour
//! figures (`rolling`) and the newest runs of every job at once (`recent`); and the runs
//! kept in memory while the database cannot take writes (`backlog`); the start's
//! `quick_check` and the daily backup (`backup`).
//!
//! Async code reaches the store through [`handle::with`] (ADR 0038), which runs the work
//! on tokio's blocking pool under the shared `Store`'s lock, so no SQLite call runs on an
//! async thread; the daemon's engine, its crash recovery and the HTTP server all use it.
//!
//! One [`Store`] is one SQLite connection. The database is opened in WAL mode with a 5 s
//! busy timeout, so several `slotcron run` processes, each with its own `Store`, can write
//! to one file at once: readers never block, and a writer waits for another writer's short
//! transaction instead of failing. Every write is one `BEGIN IMMEDIATE` transaction, so a
//! crash leaves either the whole change or none of it.
//!
//! The schema lives in `schema/NNNN_*.sql`, applied in order by `rusqlite_migration` at
//! [`Store::open`]; the applied version is `PRAGMA user_version`. A database written by a
//! newer slotcron is refused ([`StoreError::SchemaTooNew`]). See
//! `docs/adr/0004-sqlite-history.md` for why it is built this way.

mod alert_list;
mod alerts;
pub mod backlog;
pub mod backup;
mod baselines;
mod daemon_state;
mod error;
mod events;
pub mod handle;
pub mod identity;
mod jobs;
mod metrics;
mod page;
mod process;
mod recent;
mod record;
mod retention;
mod rolling;
mod runs;
mod summary;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use rusqlite_migration::{M, Migrations};

pub use alert_list::{AlertRecord, AlertState};
pub use alerts::AlertChange;
pub use backlog::{Backlog, HistoryHealth, SharedBacklog, Unrecorded};
pub use baselines::BaselineChange;
pub use daemon_state::JobControl;
pub use error::StoreError;
pub use events::{EventRecord, NewEvent};
pub use metrics::RunTotals;
pub use page::{MAX_PAGE, RunPage, RunQuery};
pub use record::{JobRecord, JobRow, NewRun, RunCompletion, RunFilter, RunRecord, SyncSummary};
pub use retention::{PRUNE_BATCH, PruneReport};
pub use rolling::Rolling;
pub use summary::{JobSummary, LastRun, PEAK_MEMORY_RUNS, STREAK_SCAN_LIMIT, SuccessPeaks};

use error::is_corruption;

/// The database file name inside slotcron's state directory.
pub const DEFAULT_DB_FILE: &str = "slotcron.db";

/// How long a statement waits for another process's write lock before failing with
/// `SQLITE_BUSY`. Write transactions are a few rows, so 5 s means something is wrong.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// `PRAGMA application_id` of a slotcron database: `slot` in ASCII. Set by migration 1.
const APPLICATION_ID: i32 = 0x736c_6f74;

/// The schema, one entry per `schema/NNNN_*.sql` file, in order. Entry `n` (from 0) takes
/// the database from `user_version` n to n + 1. Never edit or reorder a released entry.
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../../schema/0001_initial.sql")),
    M::up(include_str!("../../schema/0002_scheduler.sql")),
    M::up(include_str!("../../schema/0003_retention.sql")),
    M::up(include_str!("../../schema/0004_alerts.sql")),
    M::up(include_str!("../../schema/0005_baselines.sql")),
    M::up(include_str!("../../schema/0006_io.sql")),
    M::up(include_str!("../../schema/0007_alert_evidence.sql")),
    M::up(include_str!("../../schema/0008_requeued.sql")),
    M::up(include_str!("../../schema/0009_pid_start.sql")),
    M::up(include_str!("../../schema/0010_trouble.sql")),
    M::up(include_str!("../../schema/0011_pressure_times.sql")),
];

/// A connection to the history database.
///
/// `Store` is `Send` but not `Sync`. Use it from one thread, or share it behind a
/// `std::sync::Mutex`: every method is synchronous and returns before the caller can
/// `.await`, so the guard is never held across an await point and a std mutex is right (no
/// async mutex needed). Since a call can wait up to [`BUSY_TIMEOUT`] for another process,
/// async code should call it from `spawn_blocking` or a dedicated thread.
#[derive(Debug)]
pub struct Store {
    /// The open connection; configured (WAL, busy timeout, foreign keys, immediate
    /// transactions) and migrated to the latest schema before `Store` is handed out.
    conn: Connection,
    /// The database file, or `:memory:`; for error messages.
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the history database at `path` and brings its schema up
    /// to date. The parent directory is created if missing.
    ///
    /// # Errors
    ///
    /// [`StoreError::CreateDir`] if the parent directory cannot be created;
    /// [`StoreError::Open`] if SQLite cannot open or configure the file;
    /// [`StoreError::Corrupt`] if the file is not an SQLite database;
    /// [`StoreError::ForeignDatabase`] if it is another application's database;
    /// [`StoreError::SchemaTooNew`] if a newer slotcron wrote it;
    /// [`StoreError::Migrate`] if applying the schema fails.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::owner_only::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        // Owner-only from its creation (SQLite would make it 0644 and its -wal and -shm
        // files like it). A failure here shows again, as SQLite's, in the open below.
        let _ = crate::owner_only::touch(path);
        let conn = Connection::open(path).map_err(|e| open_error(path, e))?;
        Store::setup(conn, path.to_owned())
    }

    /// Opens a private, empty database in memory, with the same schema; for tests and
    /// dry runs.
    ///
    /// # Errors
    ///
    /// [`StoreError::Open`] or [`StoreError::Migrate`] if SQLite fails, which only happens
    /// when memory runs out.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| open_error(&path, e))?;
        Store::setup(conn, path)
    }

    /// The database file this store writes (`:memory:` for an in-memory store).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frees this connection's page cache and other memory SQLite can rebuild
    /// (`sqlite3_db_release_memory`). Pages are read again, usually from the kernel's page
    /// cache, when next needed. For a long-lived connection after a burst of reads, such as
    /// the daemon's reload.
    ///
    /// # Errors
    /// [`StoreError::Sql`] if SQLite fails.
    pub fn release_memory(&self) -> Result<(), StoreError> {
        self.conn
            .release_memory()
            .map_err(StoreError::sql("releasing cached memory"))
    }

    /// Configures a fresh connection, checks the file is ours and not too new, migrates.
    fn setup(mut conn: Connection, path: PathBuf) -> Result<Store, StoreError> {
        configure(&mut conn).map_err(|e| open_error(&path, e))?;
        let found = check_version(&conn, &path)?;
        migrate(&mut conn, &path, found)?;
        Ok(Store { conn, path })
    }
}

/// Sets the connection options every `Store` relies on. The first pragma is the first read
/// of the file, so a corrupt file fails here.
fn configure(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Writers take the write lock at BEGIN: a deferred transaction that reads and then
    // writes can fail with SQLITE_BUSY without waiting when another process wrote meanwhile.
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    let mode = enable_wal(conn)?;
    if mode != "wal" && mode != "memory" {
        tracing::warn!(journal_mode = %mode, "SQLite refused WAL; concurrent writers will wait longer");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Switches the file to WAL (a persistent setting) and returns the journal mode in effect.
///
/// The switch needs an exclusive lock and SQLite answers `SQLITE_BUSY` at once, without
/// the busy handler, when another connection holds any lock. That only happens while
/// several processes create the database together, so retry until [`BUSY_TIMEOUT`].
fn enable_wal(conn: &Connection) -> rusqlite::Result<String> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        let mode: String = conn.pragma_query_value(None, "journal_mode", |row| row.get(0))?;
        if mode == "wal" || mode == "memory" {
            return Ok(mode);
        }
        match conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0)) {
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return result,
        }
    }
}

/// Refuses another application's database and one from a newer slotcron; returns the
/// schema version found.
fn check_version(conn: &Connection, path: &Path) -> Result<usize, StoreError> {
    // One statement, so both come from one snapshot even while another process migrates.
    let (app_id, version): (i64, i64) = conn
        .query_row(
            "SELECT a.application_id, v.user_version \
             FROM pragma_application_id() AS a, pragma_user_version() AS v",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(|e| open_error(path, e))?;
    let ours = app_id == i64::from(APPLICATION_ID) || (app_id == 0 && version == 0);
    if !ours {
        return Err(StoreError::ForeignDatabase {
            path: path.to_owned(),
            found: app_id,
        });
    }
    match usize::try_from(version) {
        Ok(v) if v <= MIGRATIONS.len() => Ok(v),
        _ => Err(StoreError::SchemaTooNew {
            path: path.to_owned(),
            found: version,
            supported: MIGRATIONS.len(),
        }),
    }
}

/// Applies the missing migrations in one transaction.
///
/// Two processes opening a new database at once both see version 0; the second one's
/// migration then fails on the tables the first created. That is not an error: if the
/// database is now at the latest version, another process migrated it.
fn migrate(conn: &mut Connection, path: &Path, found: usize) -> Result<(), StoreError> {
    let target = MIGRATIONS.len();
    if found == target {
        return Ok(());
    }
    let Err(source) = Migrations::from_slice(MIGRATIONS).to_latest(conn) else {
        tracing::info!(path = %path.display(), from = found, to = target, "migrated history database");
        return Ok(());
    };
    let now: rusqlite::Result<i64> =
        conn.pragma_query_value(None, "user_version", |row| row.get(0));
    if now.is_ok_and(|v| v == target as i64) {
        return Ok(());
    }
    Err(StoreError::Migrate {
        path: path.to_owned(),
        target,
        source,
    })
}

/// Classifies an SQLite error met while opening `path`.
fn open_error(path: &Path, source: rusqlite::Error) -> StoreError {
    let path = path.to_owned();
    if is_corruption(&source) {
        StoreError::Corrupt { path, source }
    } else {
        StoreError::Open { path, source }
    }
}
