//! A fake cgroupfs for tests: a temp dir laid out the way the kernel lays out cgroup v2.
//!
//! `create_dir` creates the knob files the kernel would (core files, plus the knobs of the
//! controllers the parent enabled in its `cgroup.subtree_control`, with kernel defaults).
//! Writes fail like the kernel's: ENOENT for an absent knob, EINVAL for a bad value, ENOENT
//! for a controller not in `cgroup.controllers`, EBUSY for the no-internal-process rule and
//! for `rmdir` of a cgroup with processes or children, EACCES for anything outside the
//! fake's top (so a stray write above the root fails loudly). Every attempted write is
//! recorded ([`FakeFs::writes`]). Public, not `cfg(test)`: other modules' tests use it.
//!
//! It does not run processes: pids in `cgroup.procs` are just text. Tests simulate the
//! kernel's side with [`FakeFs::set_knob`] (e.g. `memory.peak`, `populated 1`).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use super::fs::{CgroupFs, list_child_dirs};
use super::knob::*;
use super::parse::{parse_controllers, parse_procs};

const MEMORY_EVENTS_ZERO: &str = "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n";
const PSI_ZERO: &str = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n\
                        full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
const CPU_STAT_BASE: &str = "usage_usec 0\nuser_usec 0\nsystem_usec 0\n";
const CPU_STAT_FULL: &str = "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\n\
                             nr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n";

/// Knob files of each controller, with the kernel's defaults.
fn controller_knobs(controller: &str) -> &'static [(&'static str, &'static str)] {
    match controller {
        "memory" => &[
            (MEMORY_MAX, "max\n"),
            (MEMORY_HIGH, "max\n"),
            (MEMORY_SWAP_MAX, "max\n"),
            (MEMORY_OOM_GROUP, "0\n"),
            (MEMORY_CURRENT, "0\n"),
            (MEMORY_PEAK, "0\n"),
            (MEMORY_EVENTS, MEMORY_EVENTS_ZERO),
            (MEMORY_PRESSURE, PSI_ZERO),
        ],
        "cpu" => &[(CPU_MAX, "max 100000\n"), (CPU_WEIGHT, "100\n")],
        "pids" => &[
            (PIDS_MAX, "max\n"),
            (PIDS_CURRENT, "0\n"),
            (PIDS_PEAK, "0\n"),
            (PIDS_EVENTS, "max 0\n"),
        ],
        _ => &[],
    }
}

/// Knobs the kernel does not let anyone write.
const READ_ONLY: &[&str] = &[
    CGROUP_CONTROLLERS,
    CGROUP_EVENTS,
    MEMORY_CURRENT,
    MEMORY_PEAK,
    MEMORY_EVENTS,
    CPU_STAT,
    PIDS_CURRENT,
    PIDS_PEAK,
    PIDS_EVENTS,
];

/// Rewrites a file in place (creating it if absent): a descriptor a waiter holds keeps
/// seeing the file, and a reader never sees it empty in between (as it could after a
/// truncating write); a same-length update is seen old or new, never torn.
fn replace(path: &Path, content: &str) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    f.write_all(content.as_bytes())?;
    f.set_len(content.len() as u64)
}

fn err(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

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

    /// Creates the core files and the knobs of `controllers` in `dir`.
    fn lay_out(&self, dir: &Path, controllers: &str) -> io::Result<()> {
        let core = [
            (CGROUP_PROCS, ""),
            (CGROUP_EVENTS, "populated 0\nfrozen 0\n"),
            (CGROUP_KILL, ""),
            (CGROUP_FREEZE, "0\n"),
            (CGROUP_SUBTREE_CONTROL, "\n"),
            (CGROUP_TYPE, "domain\n"),
            (CPU_STAT, CPU_STAT_BASE),
        ];
        for (name, content) in core {
            fs::write(dir.join(name), content)?;
        }
        fs::write(dir.join(CGROUP_CONTROLLERS), format!("{controllers}\n"))?;
        for c in parse_controllers(controllers) {
            self.add_controller_knobs(dir, c)?;
        }
        Ok(())
    }

    fn add_controller_knobs(&self, dir: &Path, controller: &str) -> io::Result<()> {
        for (name, content) in controller_knobs(controller) {
            if !dir.join(name).exists() {
                fs::write(dir.join(name), content)?;
            }
        }
        if controller == "cpu" {
            fs::write(dir.join(CPU_STAT), CPU_STAT_FULL)?;
        }
        Ok(())
    }

    fn remove_controller_knobs(&self, dir: &Path, controller: &str) -> io::Result<()> {
        for (name, _) in controller_knobs(controller) {
            let _ = fs::remove_file(dir.join(name));
        }
        if controller == "cpu" {
            fs::write(dir.join(CPU_STAT), CPU_STAT_BASE)?;
        }
        Ok(())
    }

    fn write_subtree_control(&self, dir: &Path, value: &str) -> io::Result<()> {
        let available = fs::read_to_string(dir.join(CGROUP_CONTROLLERS))?;
        let available = parse_controllers(&available);
        let current = fs::read_to_string(dir.join(CGROUP_SUBTREE_CONTROL))?;
        let mut enabled: Vec<&str> = parse_controllers(&current);
        let (mut enable, mut disable) = (Vec::new(), Vec::new());
        for token in value.split_whitespace() {
            let (on, name) = match token.split_at_checked(1) {
                Some(("+", n)) => (true, n),
                Some(("-", n)) => (false, n),
                _ => return Err(err(libc::EINVAL)),
            };
            if !available.contains(&name) {
                return Err(err(libc::ENOENT));
            }
            if on {
                enable.push(name)
            } else {
                disable.push(name)
            }
        }
        enable.retain(|c| !enabled.contains(c));
        disable.retain(|c| enabled.contains(c));
        let has_procs = !fs::read_to_string(dir.join(CGROUP_PROCS))?
            .trim()
            .is_empty();
        if !enable.is_empty() && has_procs && dir != self.top {
            return Err(err(libc::EBUSY));
        }
        let children = list_child_dirs(dir)?;
        for child in &children {
            let theirs = fs::read_to_string(child.join(CGROUP_SUBTREE_CONTROL))?;
            if parse_controllers(&theirs)
                .iter()
                .any(|c| disable.contains(c))
            {
                return Err(err(libc::EBUSY));
            }
        }
        enabled.retain(|c| !disable.contains(c));
        enabled.extend(&enable);
        enabled.sort_by_key(|c| available.iter().position(|a| a == c));
        let line = enabled.join(" ");
        fs::write(dir.join(CGROUP_SUBTREE_CONTROL), format!("{line}\n"))?;
        for child in children.iter().filter(|c| Self::is_cgroup(c)) {
            fs::write(child.join(CGROUP_CONTROLLERS), format!("{line}\n"))?;
            for c in &enable {
                self.add_controller_knobs(child, c)?;
            }
            for c in &disable {
                self.remove_controller_knobs(child, c)?;
            }
        }
        Ok(())
    }

    /// Moves a pid into `dir` (removing it from every other cgroup) and updates `populated`.
    fn write_procs(&self, dir: &Path, value: &str) -> io::Result<()> {
        let pid = match value.trim().parse::<i32>() {
            Ok(0) => i32::try_from(std::process::id()).map_err(|_| err(libc::EINVAL))?,
            Ok(p) if p > 0 => p,
            _ => return Err(err(libc::EINVAL)),
        };
        let subtree = fs::read_to_string(dir.join(CGROUP_SUBTREE_CONTROL))?;
        if dir != self.top && !subtree.trim().is_empty() {
            return Err(err(libc::EBUSY));
        }
        self.walk(&self.top.clone(), &mut |cg| {
            let procs = fs::read_to_string(cg.join(CGROUP_PROCS))?;
            let mut pids = parse_procs(&procs).map_err(|_| err(libc::EIO))?;
            pids.retain(|p| *p != pid);
            if cg == dir {
                pids.push(pid);
            }
            let text: String = pids.iter().map(|p| format!("{p}\n")).collect();
            replace(&cg.join(CGROUP_PROCS), &text)
        })?;
        self.update_populated(&self.top.clone()).map(|_| ())
    }

    fn walk(&self, dir: &Path, f: &mut dyn FnMut(&Path) -> io::Result<()>) -> io::Result<()> {
        f(dir)?;
        for child in list_child_dirs(dir)?.iter().filter(|c| Self::is_cgroup(c)) {
            self.walk(child, f)?;
        }
        Ok(())
    }

    fn update_populated(&self, dir: &Path) -> io::Result<bool> {
        let mut populated = !fs::read_to_string(dir.join(CGROUP_PROCS))?
            .trim()
            .is_empty();
        for child in list_child_dirs(dir)?.iter().filter(|c| Self::is_cgroup(c)) {
            populated |= self.update_populated(child)?;
        }
        let frozen = fs::read_to_string(dir.join(CGROUP_FREEZE)).unwrap_or_default();
        let text = format!(
            "populated {}\nfrozen {}\n",
            u8::from(populated),
            frozen.trim()
        );
        replace(&dir.join(CGROUP_EVENTS), &text)?;
        Ok(populated)
    }
}

/// Whether `value` is one the kernel accepts for `knob`.
fn valid_value(knob: &str, value: &str) -> bool {
    let v = value.trim();
    let max_or_u64 = |s: &str| s == "max" || s.parse::<u64>().is_ok();
    match knob {
        MEMORY_MAX | MEMORY_HIGH | MEMORY_SWAP_MAX | PIDS_MAX => max_or_u64(v),
        MEMORY_OOM_GROUP | CGROUP_FREEZE => v == "0" || v == "1",
        CGROUP_KILL => v == "1",
        CPU_WEIGHT => v.parse::<u32>().is_ok_and(|w| (1..=10_000).contains(&w)),
        CPU_MAX => {
            let mut it = v.split_whitespace();
            let quota_ok = it.next().is_some_and(max_or_u64);
            let period_ok = it.next().is_none_or(|p| {
                p.parse::<u64>()
                    .is_ok_and(|p| (1000..=1_000_000).contains(&p))
            });
            quota_ok && period_ok && it.next().is_none()
        }
        _ => true,
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
        if READ_ONLY.contains(&name) {
            return Err(err(libc::EACCES));
        }
        if !valid_value(name, value) {
            return Err(err(libc::EINVAL));
        }
        match name {
            CGROUP_SUBTREE_CONTROL => self.write_subtree_control(dir, value),
            CGROUP_PROCS => self.write_procs(dir, value),
            _ => {
                replace(path, &format!("{}\n", value.trim_end()))?;
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
#[path = "fake_tests.rs"]
mod tests;
