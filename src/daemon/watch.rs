//! Noticing changes to `jobs_dir` with inotify. Each batch of events becomes one call of
//! `changed`; the daemon debounces and reloads. Editors save in many ways (write in place,
//! write a temp file and rename over, delete and create), so every event that can change
//! a job file's content or existence is watched.

use std::path::{Path, PathBuf};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use tokio::io::unix::AsyncFd;

use super::fd::{Owned, register};

/// The folder could not be watched.
#[derive(Debug, thiserror::Error)]
#[error("watching {path} for changes: {source}")]
pub struct WatchError {
    pub path: PathBuf,
    #[source]
    pub source: nix::Error,
}

/// An inotify watch on one folder.
pub struct DirWatch {
    fd: AsyncFd<Owned<Inotify>>,
}

impl DirWatch {
    /// Watches `dir` (not its subfolders).
    ///
    /// # Errors
    /// The folder does not exist or inotify is unavailable (limits reached).
    pub fn new(dir: &Path) -> Result<DirWatch, WatchError> {
        let err = |source| WatchError {
            path: dir.to_owned(),
            source,
        };
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).map_err(err)?;
        inotify
            .add_watch(
                dir,
                AddWatchFlags::IN_CLOSE_WRITE
                    | AddWatchFlags::IN_MODIFY
                    | AddWatchFlags::IN_CREATE
                    | AddWatchFlags::IN_DELETE
                    | AddWatchFlags::IN_MOVED_FROM
                    | AddWatchFlags::IN_MOVED_TO
                    | AddWatchFlags::IN_ATTRIB,
            )
            .map_err(err)?;
        let fd = register(inotify).map_err(|e| {
            err(nix::Error::from_raw(
                e.raw_os_error().unwrap_or(libc::EINVAL),
            ))
        })?;
        Ok(DirWatch { fd })
    }

    /// Waits for the next batch of changes; returns the file names involved.
    pub async fn changed(&mut self) -> Vec<String> {
        loop {
            let Ok(mut ready) = self.fd.readable().await else {
                return std::future::pending().await;
            };
            match ready.get_inner().0.read_events() {
                Ok(events) if !events.is_empty() => {
                    return events
                        .into_iter()
                        .filter_map(|e| e.name.map(|n| n.to_string_lossy().into_owned()))
                        .collect();
                }
                Ok(_) | Err(nix::Error::EAGAIN) => ready.clear_ready(),
                Err(_) => return std::future::pending().await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn reports_a_created_and_a_renamed_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut watch = DirWatch::new(dir.path()).unwrap();
        std::fs::write(dir.path().join(".tmp"), "x").unwrap();
        std::fs::rename(dir.path().join(".tmp"), dir.path().join("a.yaml")).unwrap();
        let mut seen = Vec::new();
        while !seen.iter().any(|n| n == "a.yaml") {
            let batch = tokio::time::timeout(Duration::from_secs(5), watch.changed())
                .await
                .expect("inotify reports the change");
            seen.extend(batch);
        }
        assert!(DirWatch::new(&dir.path().join("missing")).is_err());
    }
}
