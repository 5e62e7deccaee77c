//! The slot tree under the root: laid out once by [`Hierarchy::prepare`], then used to
//! create one run cgroup per run and to read a slot's usage.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::CgroupError;
use super::fs::CgroupFs;
use super::knob::{self, CGROUP_CONTROLLERS, CGROUP_PROCS, CGROUP_SUBTREE_CONTROL};
use super::limits::{self, Limits};
use super::parse::{parse_controllers, parse_max, parse_u64};
use super::run::RunCgroup;
use super::stats::{CpuStat, Pressure, SlotUsage};
use super::{CONTROLLERS, JOBS_DIR, SUPERVISOR_DIR};

/// The prepared tree `<root>/{supervisor,jobs/<slot>}`.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    fs: Arc<dyn CgroupFs>,
    /// The root cgroup; nothing above it is ever written.
    root: PathBuf,
    /// The slots laid out by `prepare`; `create_run` accepts only these.
    slots: Vec<String>,
}

impl Hierarchy {
    /// Lays out `<root>/supervisor`, `<root>/jobs` (with the `global` limits) and
    /// `<root>/jobs/<slot>` (with each slot's limits), enabling `cpu memory pids` top-down
    /// from the root's own `cgroup.subtree_control`. A missing root is created (its parent
    /// must exist). If `move_self`, first moves the calling process into
    /// `<root>/supervisor` (needed when the root is the cgroup slotcron runs in).
    ///
    /// Idempotent: existing cgroups are reused and all limits rewritten. Slots no longer
    /// configured are left alone (runs may still live in them).
    ///
    /// # Errors
    /// - [`CgroupError::ControllersUnavailable`]: the root's `cgroup.controllers` lacks one
    ///   of `cpu memory pids` (names the missing ones and the fix);
    /// - [`CgroupError::ProcessesInCgroup`]: EBUSY enabling controllers (processes live in
    ///   the root or a slot);
    /// - [`CgroupError::NotDelegated`]: EACCES/EPERM, the root is not ours;
    /// - [`CgroupError::InvalidName`] for a bad slot name; I/O errors with their path.
    pub fn prepare(
        fs: Arc<dyn CgroupFs>,
        root: &Path,
        move_self: bool,
        global: &Limits,
        slots: &[(String, Limits)],
    ) -> Result<Hierarchy, CgroupError> {
        for (name, _) in slots {
            knob::check_name(name)?;
        }
        let f = fs.as_ref();
        if knob::ensure_dir(f, root)? {
            tracing::info!(root = %root.display(), "created cgroup root");
        }
        check_available(f, root)?;
        let supervisor = root.join(SUPERVISOR_DIR);
        knob::ensure_dir(f, &supervisor)?;
        if move_self {
            knob::write(f, &supervisor, CGROUP_PROCS, "0")?;
            tracing::debug!(cgroup = %supervisor.display(), "moved self into supervisor cgroup");
        }
        enable_controllers(f, root)?;

        let jobs = root.join(JOBS_DIR);
        knob::ensure_dir(f, &jobs)?;
        limits::apply(f, &jobs, global, None)?;
        enable_controllers(f, &jobs)?;
        for (name, slot_limits) in slots {
            let slot = jobs.join(name);
            knob::ensure_dir(f, &slot)?;
            limits::apply(f, &slot, slot_limits, None)?;
            enable_controllers(f, &slot)?;
        }
        tracing::info!(root = %root.display(), slots = slots.len(), "cgroup hierarchy prepared");
        Ok(Hierarchy {
            fs,
            root: root.to_path_buf(),
            slots: slots.iter().map(|(n, _)| n.clone()).collect(),
        })
    }

    /// Uses a tree an earlier [`Hierarchy::prepare`] laid out, without writing anything
    /// (for status commands, or to look at runs left by a crash before preparing again).
    /// The slots are the cgroups found under `<root>/jobs`.
    ///
    /// # Errors
    /// [`CgroupError::NoSuchCgroup`] when `<root>/jobs` does not exist, I/O errors.
    pub fn attach(fs: Arc<dyn CgroupFs>, root: &Path) -> Result<Hierarchy, CgroupError> {
        let dirs = knob::child_dirs(fs.as_ref(), &root.join(JOBS_DIR))?;
        let slots = dirs
            .iter()
            .filter_map(|d| d.file_name()?.to_str().map(str::to_owned))
            .collect();
        Ok(Hierarchy {
            fs,
            root: root.to_path_buf(),
            slots,
        })
    }

    /// The filesystem seam the tree lives on (to re-attach to it, e.g. to see slots that
    /// are no longer configured).
    pub fn fs(&self) -> &Arc<dyn CgroupFs> {
        &self.fs
    }

    /// The root cgroup.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/jobs/<slot>` (whether or not the slot exists).
    pub fn slot_path(&self, slot: &str) -> PathBuf {
        self.root.join(JOBS_DIR).join(slot)
    }

    /// The slots laid out by `prepare`.
    pub fn slots(&self) -> &[String] {
        &self.slots
    }

    fn known_slot(&self, slot: &str) -> Result<PathBuf, CgroupError> {
        if self.slots.iter().any(|s| s == slot) {
            Ok(self.slot_path(slot))
        } else {
            Err(CgroupError::UnknownSlot {
                slot: slot.to_owned(),
            })
        }
    }

    /// Creates `<slot>/<run_name>` with `limits` and `memory.oom.group = 1`. On a failed
    /// limit write the new cgroup is removed again.
    ///
    /// # Errors
    /// [`CgroupError::UnknownSlot`], [`CgroupError::InvalidName`],
    /// [`CgroupError::AlreadyExists`], limit write errors (see [`Hierarchy::prepare`]).
    pub fn create_run(
        &self,
        slot: &str,
        run_name: &str,
        limits: &Limits,
    ) -> Result<RunCgroup, CgroupError> {
        knob::check_name(run_name)?;
        let path = self.known_slot(slot)?.join(run_name);
        if !knob::ensure_dir(self.fs.as_ref(), &path)? {
            return Err(CgroupError::AlreadyExists { path });
        }
        if let Err(e) = limits::apply(self.fs.as_ref(), &path, limits, Some(true)) {
            if let Err(rm) = self.fs.remove_dir(&path) {
                tracing::warn!(cgroup = %path.display(), error = %rm, "cannot remove half-made run cgroup");
            }
            return Err(e);
        }
        Ok(RunCgroup::from_parts(Arc::clone(&self.fs), path))
    }

    /// The run cgroups present in a slot (for adopting or cleaning up after a crash).
    ///
    /// # Errors
    /// [`CgroupError::UnknownSlot`], [`CgroupError::NoSuchCgroup`], I/O errors.
    pub fn run_dirs(&self, slot: &str) -> Result<Vec<PathBuf>, CgroupError> {
        let slot = self.known_slot(slot)?;
        let dirs = knob::child_dirs(self.fs.as_ref(), &slot)?;
        // Directories without cgroup.procs are not cgroups (only possible on a fake).
        Ok(dirs
            .into_iter()
            .filter(|d| self.fs.read(&d.join(CGROUP_PROCS)).is_ok())
            .collect())
    }

    /// A slot's current memory, CPU and pids use and its run cgroups.
    ///
    /// # Errors
    /// [`CgroupError::UnknownSlot`], missing knobs, parse and I/O errors (with the path).
    pub fn slot_usage(&self, slot: &str) -> Result<SlotUsage, CgroupError> {
        let runs = self.run_dirs(slot)?;
        let dir = self.slot_path(slot);
        let f = self.fs.as_ref();
        Ok(SlotUsage {
            memory_current: knob::read_parsed(f, &dir, knob::MEMORY_CURRENT, parse_u64)?,
            memory_max: knob::read_parsed(f, &dir, knob::MEMORY_MAX, parse_max)?,
            memory_peak: knob::read_parsed_optional(f, &dir, knob::MEMORY_PEAK, parse_u64)?,
            memory_pressure: knob::read_parsed_optional(
                f,
                &dir,
                knob::MEMORY_PRESSURE,
                Pressure::parse,
            )?,
            cpu_pressure: knob::read_parsed_optional(f, &dir, knob::CPU_PRESSURE, Pressure::parse)?,
            io_pressure: knob::read_parsed_optional(f, &dir, knob::IO_PRESSURE, Pressure::parse)?,
            cpu: knob::read_parsed(f, &dir, knob::CPU_STAT, CpuStat::parse)?,
            pids_current: knob::read_parsed(f, &dir, knob::PIDS_CURRENT, parse_u64)?,
            runs: runs
                .iter()
                .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
                .collect(),
        })
    }
}

/// Checks that `dir` is offered every controller slotcron needs.
fn check_available(fs: &dyn CgroupFs, dir: &Path) -> Result<(), CgroupError> {
    let text = knob::read(fs, dir, CGROUP_CONTROLLERS)?;
    let available = parse_controllers(&text);
    let missing: Vec<String> = CONTROLLERS
        .iter()
        .filter(|c| !available.contains(c))
        .map(|c| (*c).to_owned())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CgroupError::ControllersUnavailable {
            path: dir.to_path_buf(),
            missing,
        })
    }
}

/// Enables in `dir/cgroup.subtree_control` those of `cpu memory pids` not yet enabled.
fn enable_controllers(fs: &dyn CgroupFs, dir: &Path) -> Result<(), CgroupError> {
    let current = knob::read(fs, dir, CGROUP_SUBTREE_CONTROL)?;
    let enabled = parse_controllers(&current);
    let missing: Vec<&str> = CONTROLLERS
        .iter()
        .copied()
        .filter(|c| !enabled.contains(c))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let value: Vec<String> = missing.iter().map(|c| format!("+{c}")).collect();
    let path = dir.join(CGROUP_SUBTREE_CONTROL);
    fs.write(&path, &value.join(" "))
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::EINVAL) => CgroupError::ControllersUnavailable {
                path: dir.to_path_buf(),
                missing: missing.iter().map(|c| (*c).to_owned()).collect(),
            },
            Some(libc::EBUSY) => CgroupError::ProcessesInCgroup {
                path: dir.to_path_buf(),
            },
            _ => CgroupError::io(super::Op::Write, path, e),
        })
}

#[cfg(test)]
#[path = "hierarchy_tests.rs"]
mod tests;
