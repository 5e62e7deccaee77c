//! `slotcron import-crontab`: crontabs (a user's, or the system's with its user field)
//! read as cronie reads them and turned into job files. Reading is pure and per line
//! ([`parse`]), conversion checks each job with the loader `slotcron check` uses
//! ([`convert`]), and writing never touches a file someone edited ([`write_job`]).
//! Decisions: `docs/adr/0020-crontab-import-and-export.md`.

mod convert;
mod name;
mod parse;
mod write;

pub use convert::{
    HASH_MARKER, Imported, Rejected, content_hash, convert, render, schedule_text, sh_quote,
};
pub use name::{Names, name_from_command};
pub use parse::{Entry, Flavor, LineError, Parsed, When, parse, split_percent, stdin_bytes};
pub use write::{WriteError, Written, is_unedited_import, write_job};
