//! The kernel seam: the four (five) filesystem operations the module does on cgroupfs,
//! behind one small trait so tests can run on [`super::fake::FakeFs`].

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Filesystem operations on a cgroup v2 hierarchy.
///
/// Opening `cgroup.procs` or `cgroup.events` to keep a descriptor (for `pre_exec` and
/// poll(2)) is a plain `std::fs` open of the path and is not part of the trait: it works
/// the same on the kernel's files and on the fake's regular files.
pub trait CgroupFs: Send + Sync + std::fmt::Debug {
    /// `mkdir`: creates a cgroup (the kernel creates its knob files). EEXIST if present.
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    /// `rmdir`: removes an empty cgroup (EBUSY if it has processes or children).
    fn remove_dir(&self, path: &Path) -> io::Result<()>;
    /// Reads a whole knob file.
    fn read(&self, path: &Path) -> io::Result<String>;
    /// Writes `value` to an EXISTING knob file in one write; never creates it
    /// (ENOENT when the file is absent).
    fn write(&self, path: &Path, value: &str) -> io::Result<()>;
    /// The child cgroups (subdirectories) of `path`, sorted.
    fn child_dirs(&self, path: &Path) -> io::Result<Vec<PathBuf>>;
}

/// The real cgroupfs, through `std::fs`.
#[derive(Debug, Clone, Copy, Default)]
pub struct KernelFs;

impl CgroupFs for KernelFs {
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        fs::create_dir(path)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        fs::remove_dir(path)
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        fs::read_to_string(path)
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        // One write(2) of the whole value: the kernel parses each write on its own.
        let mut f = OpenOptions::new().write(true).open(path)?;
        let n = f.write(value.as_bytes())?;
        if n != value.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short write to a cgroup knob",
            ));
        }
        Ok(())
    }

    fn child_dirs(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        list_child_dirs(path)
    }
}

/// Sorted subdirectories of `path` (shared by both implementations).
pub(crate) fn list_child_dirs(path: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}
