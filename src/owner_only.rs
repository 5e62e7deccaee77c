//! What slotcron creates under `state_dir` (the folder itself, the history database, the
//! run logs) is its owner's alone: folders 0700, files 0600, whatever the umask. Run logs
//! and history can hold what jobs print, secrets included. Existing files and folders keep
//! the modes they have (an administrator's choice).

use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Creates `dir` and any missing parents, each new one 0700.
///
/// # Errors
/// The I/O error of the folder that could not be created.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Options that create a file 0600 (the umask can only take bits away).
pub fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(0o600);
    options
}

/// Creates `file` empty and 0600 if it does not exist, so that whatever opens it next
/// (SQLite, which would create it 0644 and its `-wal` and `-shm` files like it) finds it
/// owner-only.
///
/// # Errors
/// The I/O error, except that the file exists already.
pub fn touch(file: &Path) -> io::Result<()> {
    match options().write(true).create_new(true).open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
