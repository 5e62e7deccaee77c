//! Which entries of `jobs_dir` can be read as job files, and why the others cannot: a
//! file named like a job file (`*.yaml`) that is a dangling link, a link loop, a folder, a
//! device, a FIFO or a socket is reported, never skipped in silence. Nothing is opened
//! before its type is known, and opening never waits (`O_NONBLOCK`: a FIFO swapped in
//! between the look and the open still cannot block a load).

use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use super::cache::Stamp;
use super::problem::Problem;

/// The stamp of the regular file `path` names (following links, as reading does).
///
/// # Errors
/// A problem naming the file and what it is instead.
pub fn stamp(path: &Path) -> Result<Stamp, Problem> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(Stamp::of(&meta)),
        Ok(meta) => Err(not_regular(path, meta.file_type())),
        Err(e) => Err(unreachable(path, &e)),
    }
}

/// The text of the regular file `path`.
///
/// # Errors
/// A problem naming the file: not a regular file (any more), unreadable, not UTF-8.
pub fn read(path: &Path) -> Result<String, Problem> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| unreachable(path, &e))?;
    let meta = file.metadata().map_err(|e| unreachable(path, &e))?;
    if !meta.is_file() {
        return Err(not_regular(path, meta.file_type()));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| Problem::file(path, format!("cannot read: {e}")))?;
    Ok(text)
}

fn not_regular(path: &Path, kind: std::fs::FileType) -> Problem {
    let what = if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    };
    Problem::file(path, format!("{what}, not a regular file: not read"))
}

/// Why `path` could not be looked at or opened, links explained.
fn unreachable(path: &Path, e: &std::io::Error) -> Problem {
    let link = std::fs::read_link(path).ok();
    let message = match (e.kind(), link) {
        (ErrorKind::NotFound, Some(target)) => format!(
            "a symbolic link to {}, which does not exist",
            target.display()
        ),
        _ if e.raw_os_error() == Some(libc::ELOOP) => {
            "a symbolic link loop (or too many levels of links)".to_owned()
        }
        _ => format!("cannot read: {e}"),
    };
    Problem::file(path, message)
}
