//! The kernel's behaviour the fake imitates: default knob contents per controller, which
//! values a knob accepts, and the semantics of `cgroup.subtree_control` and `cgroup.procs`
//! writes (no-internal-process rule, top-down controllers, pid migration, `populated`).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use super::FakeFs;
use crate::cgroup::fs::list_child_dirs;
use crate::cgroup::knob::*;
use crate::cgroup::parse::{parse_controllers, parse_procs};

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
pub(super) const READ_ONLY: &[&str] = &[
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

/// Whether `value` is one the kernel accepts for `knob`.
pub(super) fn valid_value(knob: &str, value: &str) -> bool {
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
