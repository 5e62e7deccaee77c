//! A run's output file, capped in size: the tail is kept, the head is dropped. A job that
//! prints gigabytes cannot fill the disk, and the part worth reading (how it ended) stays.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use tokio::io::AsyncReadExt;
use tracing::warn;

/// Appends output to a file and, whenever the file grows past twice the cap, rewrites it
/// to its last `max` bytes (amortised O(1) per byte written).
#[derive(Debug)]
pub struct CappedLog {
    path: PathBuf,
    file: File,
    /// Bytes currently in the file.
    len: u64,
    /// Bytes kept after a compaction (>= 1).
    max: u64,
    /// Bytes of output dropped from the head so far.
    dropped: u64,
}

impl CappedLog {
    /// Creates (or truncates) the log at `path`; its folder is created if missing.
    ///
    /// # Errors
    /// The folder or file cannot be created.
    pub fn create(path: &Path, max: u64) -> io::Result<CappedLog> {
        if let Some(dir) = path.parent() {
            crate::owner_only::create_dir_all(dir)?;
        }
        let file = crate::owner_only::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        Ok(CappedLog {
            path: path.to_path_buf(),
            file,
            len: 0,
            max: max.max(1),
            dropped: 0,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of output dropped from the head so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Appends `bytes`, compacting when the file has grown past twice the cap.
    ///
    /// # Errors
    /// A write fails (e.g. the disk is full).
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.seek(SeekFrom::End(0))?;
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        if self.len > self.max.saturating_mul(2) {
            self.compact()?;
        }
        Ok(())
    }

    /// Trims the file to the cap and notes how much was dropped at its head.
    ///
    /// # Errors
    /// Reading or rewriting the file fails.
    pub fn finish(mut self) -> io::Result<u64> {
        if self.len > self.max {
            self.compact()?;
        }
        if self.dropped > 0 {
            let note = format!(
                "[slotcron: output was {} bytes; only the last {} are kept]\n",
                self.dropped + self.len,
                self.len
            );
            let mut tail = Vec::with_capacity(self.len as usize);
            self.file.seek(SeekFrom::Start(0))?;
            self.file.read_to_end(&mut tail)?;
            self.file.set_len(0)?;
            self.file.seek(SeekFrom::Start(0))?;
            self.file.write_all(note.as_bytes())?;
            self.file.write_all(&tail)?;
        }
        self.file.flush()?;
        Ok(self.dropped)
    }

    fn compact(&mut self) -> io::Result<()> {
        let keep = self.max.min(self.len);
        let mut tail = vec![0; keep as usize];
        self.file.seek(SeekFrom::Start(self.len - keep))?;
        self.file.read_exact(&mut tail)?;
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&tail)?;
        self.dropped += self.len - keep;
        self.len = keep;
        Ok(())
    }
}

/// Copies the run's output into its capped log until every writer has closed the pipe.
pub async fn pump_output(read: OwnedFd, mut log: CappedLog) {
    let receiver = match tokio::net::unix::pipe::Receiver::from_owned_fd(read) {
        Ok(r) => r,
        Err(error) => {
            warn!(%error, "reading the run's output");
            return;
        }
    };
    let mut receiver = receiver;
    // Read into spare capacity: zeroing 64 KiB for every run cost more than most runs'
    // whole output (issue 15).
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        match receiver.read_buf(&mut buf).await {
            Ok(0) => break,
            // A plain file write: local, small and buffered by the kernel, so it is not
            // worth a blocking-pool hop per chunk.
            Ok(_) => {
                if let Err(error) = log.write(&buf) {
                    warn!(%error, path = %log.path().display(), "writing the run's log; output dropped");
                    return;
                }
            }
            Err(error) => {
                warn!(%error, "reading the run's output");
                break;
            }
        }
    }
    if let Err(error) = log.finish() {
        warn!(%error, "finishing the run's log");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_output_is_kept_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/job/1.log");
        let mut log = CappedLog::create(&path, 100).unwrap();
        log.write(b"hello\n").unwrap();
        log.write(b"world\n").unwrap();
        assert_eq!(log.finish().unwrap(), 0);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello\nworld\n");
    }

    #[test]
    fn large_output_keeps_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.log");
        let mut log = CappedLog::create(&path, 1000).unwrap();
        for i in 0..10_000 {
            log.write(format!("line {i:05}\n").as_bytes()).unwrap();
        }
        let dropped = log.finish().unwrap();
        assert_eq!(dropped, 11 * 10_000 - 1000);
        let text = std::fs::read_to_string(&path).unwrap();
        let (note, tail) = text.split_once('\n').unwrap();
        assert_eq!(
            note,
            "[slotcron: output was 110000 bytes; only the last 1000 are kept]"
        );
        assert_eq!(tail.len(), 1000);
        assert!(tail.ends_with("line 09999\n"));
    }
}
