//! A fake cgroupfs for tests: a temp dir laid out the way the kernel lays out cgroup v2.
//!
//! `create_dir` creates the knob files the kernel would (core files, plus the knobs of the
//! controllers the parent enabled in its `cgroup.subtree_control`, with kernel defaults;
//! each controller describes its own, see [`crate::cgroup::Controller::knob_files`]).
//! Writes fail like the kernel's: ENOENT for an absent knob, EINVAL for a bad value, ENOENT
//! for a controller not in `cgroup.controllers`, EBUSY for the no-internal-process rule and
//! for `rmdir` of a cgroup with processes or children, EACCES for anything outside the
//! fake's top (so a stray write above the root fails loudly). Every attempted write is
//! recorded ([`FakeFs::writes`]). Public, not `cfg(test)`: other modules' tests use it.
//!
//! It does not run processes: pids in `cgroup.procs` are just text. Tests simulate the
//! kernel's side with [`FakeFs::set_knob`] (e.g. `memory.peak`, `populated 1`).

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use super::fs::{CgroupFs, list_child_dirs};
use super::knob::{
    CGROUP_EVENTS, CGROUP_FREEZE, CGROUP_KILL, CGROUP_PROCS, CGROUP_SUBTREE_CONTROL,
};
use kernel::{err, knob_write, replace};

mod kernel;

/// A cgroupfs in a temp dir. See the module doc.
#[derive(Debug)]
pub struct FakeFs {
    /// The top cgroup (like a cgroup2 mount: exempt from the no-internal-process rule).
    top: PathBuf,
    /// Every attempted write, in order; the lock also serialises compound operations.
    writes: Mutex<Vec<(PathBuf, String)>>,
}

impl FakeFs {
    /// Makes `dir` (created if absent) the top cgroup, offering `controllers`.
    ///
    /// # Errors
    /// I/O errors creating the files.
    pub fn new_root(dir: &Path, controllers: &[&str]) -> io::Result<FakeFs> {
        fs::create_dir_all(dir)?;
        let fake = FakeFs {
            top: dir.to_path_buf(),
            writes: Mutex::new(Vec::new()),
        };
        fake.lay_out(dir, &controllers.join(" "))?;
        Ok(fake)
    }

    /// The top cgroup.
    pub fn top(&self) -> &Path {
        &self.top
    }

    /// Test helper: a delegated cgroup `top/name` offered `controllers` (enables them in
    /// the top's `cgroup.subtree_control`, like systemd does for `Delegate=yes`).
    ///
    /// # Errors
    /// As [`CgroupFs::write`] and [`CgroupFs::create_dir`].
    pub fn add_delegated(&self, name: &str, controllers: &[&str]) -> io::Result<PathBuf> {
        let on: Vec<String> = controllers.iter().map(|c| format!("+{c}")).collect();
        if !on.is_empty() {
            self.write(&self.top.join(CGROUP_SUBTREE_CONTROL), &on.join(" "))?;
        }
        let path = self.top.join(name);
        self.create_dir(&path)?;
        Ok(path)
    }

    /// Test helper: sets a file's content directly (creating it), bypassing the kernel
    /// rules; simulates what the kernel reports (`memory.peak`, `populated 1`, pids).
    ///
    /// # Errors
    /// I/O errors.
    pub fn set_knob(&self, path: &Path, content: &str) -> io::Result<()> {
        replace(path, content)
    }

    /// Test helper: deletes a knob file, as on kernels or configurations that lack it
    /// (`cgroup.kill` before 5.14, `memory.swap.max` without swap accounting).
    ///
    /// # Errors
    /// I/O errors.
    pub fn remove_knob(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    /// Test helper: a file's content, trimmed.
    ///
    /// # Errors
    /// I/O errors.
    pub fn knob(&self, path: &Path) -> io::Result<String> {
        Ok(fs::read_to_string(path)?.trim().to_owned())
    }

    /// Every write attempted so far (path, value), in order, failed ones included.
    pub fn writes(&self) -> Vec<(PathBuf, String)> {
        self.writes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn check_inside(&self, path: &Path) -> io::Result<()> {
        let plain = path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
        if plain && path.starts_with(&self.top) {
            Ok(())
        } else {
            Err(err(libc::EACCES))
        }
    }

    fn is_cgroup(dir: &Path) -> bool {
        dir.join(CGROUP_PROCS).is_file()
    }
}

impl CgroupFs for FakeFs {
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let _guard = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        self.check_inside(path)?;
        let parent = path.parent().ok_or_else(|| err(libc::EEXIST))?;
        if !Self::is_cgroup(parent) {
            return Err(err(libc::ENOENT));
        }
        fs::create_dir(path)?;
        let controllers = fs::read_to_string(parent.join(CGROUP_SUBTREE_CONTROL))?;
        self.lay_out(path, controllers.trim())
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        let _guard = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        self.check_inside(path)?;
        if path == self.top {
            return Err(err(libc::EBUSY));
        }
        let procs = fs::read_to_string(path.join(CGROUP_PROCS))?;
        if !procs.trim().is_empty() || !list_child_dirs(path)?.is_empty() {
            return Err(err(libc::EBUSY));
        }
        for entry in fs::read_dir(path)? {
            fs::remove_file(entry?.path())?;
        }
        fs::remove_dir(path)
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        self.check_inside(path)?;
        // A child enters its cgroup by writing to `cgroup.procs` through an fd the fake
        // never sees; the kernel's `populated` follows the processes, so it is worked out
        // from the pids now.
        if path.file_name().is_some_and(|n| n == CGROUP_EVENTS)
            && let Some(dir) = path.parent()
        {
            self.update_populated(dir)?;
        }
        fs::read_to_string(path)
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        let mut log = self.writes.lock().unwrap_or_else(|e| e.into_inner());
        log.push((path.to_path_buf(), value.to_owned()));
        self.check_inside(path)?;
        if !path.is_file() {
            return Err(err(libc::ENOENT));
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let dir = path.parent().ok_or_else(|| err(libc::EINVAL))?;
        let current = fs::read_to_string(path)?;
        let content = knob_write(name, &current, value).map_err(err)?;
        match name {
            CGROUP_SUBTREE_CONTROL => self.write_subtree_control(dir, value),
            CGROUP_PROCS => self.write_procs(dir, value),
            CGROUP_KILL => self.kill_subtree(dir),
            _ => {
                replace(path, &content)?;
                if name == CGROUP_FREEZE {
                    self.update_populated(dir)?;
                }
                Ok(())
            }
        }
    }

    fn child_dirs(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        self.check_inside(path)?;
        list_child_dirs(path)
    }
}

#[cfg(test)]
mod tests;
