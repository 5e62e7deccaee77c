//! A run's log tail for `GET /runs/{id}/log`: the last `bytes` of the file, starting after
//! the first newline when the cut falls inside a line (unless the tail holds no newline at
//! all, then as cut). Reading is split from choosing: [`cut`] works on bytes, so the tests
//! feed it strings.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// A log tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    /// The text (invalid UTF-8 replaced).
    pub text: String,
    /// Whether the start of the file was left out.
    pub truncated: bool,
}

/// The tail of `bytes` read from the end of a file of `size` bytes: the whole file when it
/// fits, else from the first line boundary in it.
pub fn cut(tail: &[u8], truncated: bool) -> Tail {
    let start = if truncated {
        tail.iter()
            .position(|&b| b == b'\n')
            .map_or(0, |newline| newline + 1)
    } else {
        0
    };
    Tail {
        text: String::from_utf8_lossy(&tail[start..]).into_owned(),
        truncated,
    }
}

/// Reads the last `max` bytes of `path` (from a line boundary when cut).
///
/// # Errors
/// The file cannot be opened or read.
pub fn read_tail(path: &Path, max: u64) -> io::Result<Tail> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let truncated = size > max;
    // One byte more than asked: if it is a newline, the cut is already at a boundary.
    let from = if truncated { size - max - 1 } else { 0 };
    file.seek(SeekFrom::Start(from))?;
    let mut buffer = Vec::with_capacity((size - from) as usize);
    file.take(size - from).read_to_end(&mut buffer)?;
    Ok(cut(&buffer, truncated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_tail_starts_at_a_line() {
        assert_eq!(cut(b"ne one\nline two\n", true).text, "line two\n");
        assert_eq!(cut(b"no newline at all", true).text, "no newline at all");
        assert_eq!(cut(b"whole\nfile\n", false).text, "whole\nfile\n");
    }

    #[test]
    fn files_are_read_from_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.log");
        std::fs::write(&path, "first line\nsecond line\nthird\n").unwrap();
        let whole = read_tail(&path, 1000).unwrap();
        assert_eq!(whole.text, "first line\nsecond line\nthird\n");
        assert!(!whole.truncated);
        // The last 18 bytes are "second line\nthird\n" (12 + 6): exactly at a boundary.
        let at_boundary = read_tail(&path, 18).unwrap();
        assert_eq!(at_boundary.text, "second line\nthird\n");
        assert!(at_boundary.truncated);
        let inside = read_tail(&path, 10).unwrap();
        assert_eq!(inside.text, "third\n");
        assert!(read_tail(&dir.path().join("none"), 10).is_err());
    }
}
