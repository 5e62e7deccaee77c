//! Which file the history is (ADR 0022). An open SQLite connection keeps writing to the
//! file it opened even after that file was deleted or replaced (`mv`, a restore done with
//! the daemon running), so the daemon compares the path's device and inode with those it
//! opened ([`FileId`]). A marker next to the database, [`MARKER_FILE`], says a history
//! existed here, so a start that finds none (deleted while no daemon ran) says so instead
//! of silently beginning a new one.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The marker's name inside the state directory; it holds when the history was first seen.
pub const MARKER_FILE: &str = "history.marker";

/// A file's identity: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    /// The identity of the file at `path` now; `None` if there is none.
    pub fn of(path: &Path) -> Option<FileId> {
        let meta = std::fs::metadata(path).ok()?;
        Some(FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
}

/// Leaves the marker in `state_dir` if it is not there yet.
///
/// # Errors
/// The marker cannot be written.
pub fn mark(state_dir: &Path) -> std::io::Result<()> {
    let path = state_dir.join(MARKER_FILE);
    if path.exists() {
        return Ok(());
    }
    let text = format!(
        "slotcron kept its history in this folder since {}; if slotcron.db is missing, it was lost\n",
        chrono::Utc::now().to_rfc3339()
    );
    std::fs::write(path, text)
}

/// Before opening: why a missing database at `db` is a loss, not a first start (the
/// marker is there, or run logs are), in words; `None` when `db` exists or nothing says a
/// history existed.
pub fn missing_history(state_dir: &Path, db: &Path) -> Option<String> {
    if db.exists() {
        return None;
    }
    let marker = state_dir.join(MARKER_FILE);
    let logs = state_dir.join("logs");
    let has_logs = std::fs::read_dir(&logs).is_ok_and(|mut d| d.next().is_some());
    let evidence = if marker.exists() {
        format!("{} says one was kept here", marker.display())
    } else if has_logs {
        format!("{} holds run logs", logs.display())
    } else {
        return None;
    };
    Some(format!(
        "no history database at {}, but {evidence}: it was deleted or moved while no daemon \
         ran; a new, empty one is made (restore one from {} with the daemon stopped, see \
         README \"When things go wrong\")",
        db.display(),
        state_dir.join(super::backup::BACKUP_DIR).display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_is_a_loss_only_where_a_history_was_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("slotcron.db");
        assert_eq!(missing_history(dir.path(), &db), None);
        mark(dir.path()).unwrap();
        let said = missing_history(dir.path(), &db).unwrap();
        assert!(
            said.contains("history.marker says one was kept here"),
            "{said}"
        );
        std::fs::write(&db, b"").unwrap();
        assert_eq!(missing_history(dir.path(), &db), None);
        let id = FileId::of(&db).unwrap();
        // Held open, as the daemon's connection holds its file: the inode is not reused.
        let _open = std::fs::File::open(&db).unwrap();
        std::fs::remove_file(&db).unwrap();
        std::fs::write(dir.path().join("other"), b"").unwrap();
        std::fs::rename(dir.path().join("other"), &db).unwrap();
        assert_ne!(FileId::of(&db), Some(id));
    }
}
