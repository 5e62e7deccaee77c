//! The kernel's behaviour the fake imitates: default knob contents per controller, which
//! values a knob accepts, and the semantics of `cgroup.subtree_control` and `cgroup.procs`
//! writes (no-internal-process rule, top-down controllers, pid migration, `populated`).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use super::FakeFs;
use crate::cgroup::controller;
use crate::cgroup::fs::list_child_dirs;
use crate::cgroup::knob::*;
use crate::cgroup::parse::{parse_controllers, parse_procs};

/// Files every cgroup has, whatever its controllers, with their content; the controllers
/// add theirs ([`controller::Controller::core_files`], `cpu.stat`).
const CORE: &[(&str, &str)] = &[
    (CGROUP_PROCS, ""),
    (CGROUP_EVENTS, "populated 0\nfrozen 0\n"),
    (CGROUP_KILL, ""),
    (CGROUP_FREEZE, "0\n"),
    (CGROUP_SUBTREE_CONTROL, "\n"),
    (CGROUP_TYPE, "domain\n"),
];

/// Core files the kernel does not let anyone write.
const CORE_READ_ONLY: &[&str] = &[CGROUP_CONTROLLERS, CGROUP_EVENTS];

/// Rewrites a file in place (creating it if absent): a descriptor a waiter holds keeps
/// seeing the file, and a reader never sees it empty in between (as it could after a
/// truncating write); a same-length update is seen old or new, never torn.
pub(super) fn replace(path: &Path, content: &str) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    f.write_all(content.as_bytes())?;
    f.set_len(content.len() as u64)
}

pub(super) fn err(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

impl FakeFs {
    /// Creates the core files and the knobs of `controllers` in `dir`.
    pub(super) fn lay_out(&self, dir: &Path, controllers: &str) -> io::Result<()> {
        let controllers_core = controller::ALL.iter().flat_map(|c| c.core_files());
        for (name, content) in CORE.iter().chain(controllers_core) {
            fs::write(dir.join(name), content)?;
        }
        fs::write(dir.join(CGROUP_CONTROLLERS), format!("{controllers}\n"))?;
        for c in parse_controllers(controllers) {
            self.add_controller_knobs(dir, c)?;
        }
        Ok(())
    }

    /// Knob files of `name` (none for a controller slotcron does not drive, such as
    /// cpuset); a core file the controller fills in (`cpu.stat`) is rewritten.
    fn add_controller_knobs(&self, dir: &Path, name: &str) -> io::Result<()> {
        let Some(c) = controller::by_name(name) else {
            return Ok(());
        };
        for knob in c.knob_files() {
            let core = c.core_files().iter().any(|(n, _)| *n == knob.name);
            if core || !dir.join(knob.name).exists() {
                fs::write(dir.join(knob.name), knob.default)?;
            }
        }
        Ok(())
    }

    /// Removes the knob files of `name`; its core files go back to their core content.
    fn remove_controller_knobs(&self, dir: &Path, name: &str) -> io::Result<()> {
        let Some(c) = controller::by_name(name) else {
            return Ok(());
        };
        for knob in c.knob_files() {
            let _ = fs::remove_file(dir.join(knob.name));
        }
        for (name, content) in c.core_files() {
            fs::write(dir.join(name), content)?;
        }
        Ok(())
    }

    pub(super) fn write_subtree_control(&self, dir: &Path, value: &str) -> io::Result<()> {
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
    pub(super) fn write_procs(&self, dir: &Path, value: &str) -> io::Result<()> {
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

    /// `cgroup.kill`: the kernel kills every process below `dir`, so every `cgroup.procs`
    /// there ends up empty. (The fake signals nothing: it only records the outcome.)
    pub(super) fn kill_subtree(&self, dir: &Path) -> io::Result<()> {
        self.walk(dir, &mut |cg| replace(&cg.join(CGROUP_PROCS), ""))?;
        self.update_populated(&self.top.clone()).map(|_| ())
    }

    pub(super) fn update_populated(&self, dir: &Path) -> io::Result<bool> {
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

/// What writing `value` to the knob `name` leaves in it, or the errno the kernel answers:
/// core knobs here, controller knobs by their controller ([`controller::Controller::fake_write`]).
pub(super) fn knob_write(name: &str, current: &str, value: &str) -> Result<String, i32> {
    let v = value.trim();
    match name {
        _ if CORE_READ_ONLY.contains(&name) => Err(libc::EACCES),
        CGROUP_FREEZE if v == "0" || v == "1" => Ok(format!("{v}\n")),
        CGROUP_KILL if v == "1" => Ok(String::new()),
        CGROUP_FREEZE | CGROUP_KILL => Err(libc::EINVAL),
        _ => match controller::knob_file(name) {
            Some((_, knob)) if !knob.writable => Err(libc::EACCES),
            Some((c, _)) => c.fake_write(name, current, value),
            None => Ok(format!("{}\n", value.trim_end())),
        },
    }
}
