//! The one error type of the history store. Every variant says what failed and where: the
//! database path while opening, the operation once open, the run id or job name when the
//! caller asked for something the database does not allow.

use std::path::PathBuf;

use crate::model::RunStatus;

/// Why a [`Store`](super::Store) operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory that should hold the database could not be created.
    #[error("cannot create directory {path} for the history database")]
    CreateDir {
        /// The directory slotcron tried to create.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// SQLite could not open the file or set up the connection (permissions, locked, ...).
    #[error("cannot open history database {path}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The underlying SQLite error.
        #[source]
        source: rusqlite::Error,
    },

    /// The file exists but is not a usable SQLite database (random bytes, truncated,
    /// damaged pages).
    #[error("history database {path} is corrupt or not an SQLite database")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// The underlying SQLite error (`SQLITE_NOTADB` or `SQLITE_CORRUPT`).
        #[source]
        source: rusqlite::Error,
    },

    /// `PRAGMA quick_check` found damage (bad pages, malformed records).
    #[error("history database {path} is damaged: {problems}")]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// SQLite's first findings, `; `-separated.
        problems: String,
    },

    /// The file is an SQLite database that belongs to another application.
    #[error("{path} is an SQLite database of another application (application_id {found:#x})")]
    ForeignDatabase {
        /// The database file.
        path: PathBuf,
        /// The `PRAGMA application_id` found in the file.
        found: i64,
    },

    /// The database was written by a newer slotcron; this binary refuses to touch it rather
    /// than misread it.
    #[error(
        "history database {path} has schema version {found}, but this slotcron knows only \
         up to version {supported}; upgrade slotcron"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The `PRAGMA user_version` found in the file.
        found: i64,
        /// The highest schema version this binary has migrations for.
        supported: usize,
    },

    /// Applying the schema migrations failed; the database is left at its old version.
    #[error("cannot migrate history database {path} to schema version {target}")]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// The version the migration aimed at.
        target: usize,
        /// The underlying migration error.
        #[source]
        source: rusqlite_migration::Error,
    },

    /// A statement failed on an open database.
    #[error("history database error while {op}")]
    Sql {
        /// What the store was doing, e.g. `"inserting a run"`.
        op: &'static str,
        /// The underlying SQLite error.
        #[source]
        source: rusqlite::Error,
    },

    /// No run has this id.
    #[error("run {id} does not exist")]
    NoSuchRun {
        /// The run id asked for.
        id: i64,
    },

    /// The run is no longer `running`, so it cannot be completed (again) or updated.
    #[error("run {id} is already {status}, not running")]
    NotRunning {
        /// The run id asked for.
        id: i64,
        /// The status the run has.
        status: RunStatus,
    },

    /// No alert has this id.
    #[error("alert {id} does not exist")]
    NoSuchAlert {
        /// The alert id asked for.
        id: i64,
    },

    /// A run, a control setting or a summary names a job that is not in the `jobs` table;
    /// call `sync_jobs` first.
    #[error("job `{job}` is not in the history database; sync the job files first")]
    UnknownJob {
        /// The job name asked for.
        job: String,
    },

    /// A value given to the store is not acceptable (empty trigger, duplicate job name,
    /// a figure above `i64::MAX`, a completion status of `running`, ...).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field that was refused, e.g. `"trigger"`.
        field: &'static str,
        /// Why, including the value where it helps.
        reason: String,
    },
}

impl StoreError {
    /// A closure for `map_err` that wraps a SQLite error with the operation it broke.
    pub(crate) fn sql(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
        move |source| StoreError::Sql { op, source }
    }

    /// A [`StoreError::Invalid`] for `field`.
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> StoreError {
        StoreError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// Whether SQLite says the file itself is broken or not a database at all.
pub(crate) fn is_corruption(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}
