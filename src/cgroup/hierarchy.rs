//! The slot tree under the root: laid out once by [`Hierarchy::prepare`], then used to
//! create one run cgroup per run and to read a slot's usage.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Pressure;
use super::controller::{self, Controller, Limits};
use super::error::CgroupError;
use super::fresh::Fresh;
use super::fs::CgroupFs;
use super::knob::{self, CGROUP_CONTROLLERS, CGROUP_PROCS, CGROUP_SUBTREE_CONTROL};
use super::parse::parse_controllers;
use super::run::RunCgroup;
use super::stats::SlotUsage;
use super::{JOBS_DIR, SUPERVISOR_DIR};

/// The prepared tree `<root>/{supervisor,jobs/<slot>}`.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    fs: Arc<dyn CgroupFs>,
    /// The root cgroup; nothing above it is ever written.
    root: PathBuf,
    /// The slots laid out by `prepare`; `create_run` accepts only these.
    slots: Vec<String>,
    /// The controllers enabled down the tree: every required one, and the optional ones
    /// the root is offered. Only these write limits and read figures.
    controllers: Vec<&'static dyn Controller>,
}

impl Hierarchy {
    /// Lays out `<root>/supervisor`, `<root>/jobs` (with the `global` limits) and
    /// `<root>/jobs/<slot>` (with each slot's limits), enabling every controller of
    /// [`controller::ALL`] that the root is offered, top-down from the root's own
    /// `cgroup.subtree_control`. A missing root is created (its parent must exist). If
    /// `move_self`, first moves the calling process into `<root>/supervisor` (needed when
    /// the root is the cgroup slotcron runs in). An optional controller the root is not
    /// offered (io) is left out, with a warning when limits ask for it.
    ///
    /// Idempotent: existing cgroups are reused and all limits rewritten. Slots no longer
    /// configured are left alone (runs may still live in them).
    ///
    /// # Errors
    /// - [`CgroupError::ControllersUnavailable`]: the root's `cgroup.controllers` lacks a
    ///   required controller (names the missing ones and the fix);
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
        let controllers = check_available(f, root)?;
        warn_unenforced(root, &controllers, global, slots);
        let supervisor = root.join(SUPERVISOR_DIR);
        knob::ensure_dir(f, &supervisor)?;
        if move_self {
            knob::write(f, &supervisor, CGROUP_PROCS, "0")?;
            tracing::debug!(cgroup = %supervisor.display(), "moved self into supervisor cgroup");
        }
        enable_controllers(f, root, &controllers)?;

        let jobs = root.join(JOBS_DIR);
        let levels = std::iter::once((jobs.clone(), global))
            .chain(slots.iter().map(|(name, limits)| (jobs.join(name), limits)));
        for (dir, limits) in levels {
            knob::ensure_dir(f, &dir)?;
            apply(f, &dir, limits, &controllers)?;
            enable_controllers(f, &dir, &controllers)?;
        }
        tracing::info!(root = %root.display(), slots = slots.len(), controllers = %names(&controllers), "cgroup hierarchy prepared");
        Ok(Hierarchy {
            fs,
            root: root.to_path_buf(),
            slots: slots.iter().map(|(n, _)| n.clone()).collect(),
            controllers,
        })
    }

    /// Uses a tree an earlier [`Hierarchy::prepare`] laid out, without writing anything
    /// (for status commands, or to look at runs left by a crash before preparing again).
    /// The slots are the cgroups found under `<root>/jobs`.
    ///
    /// # Errors
    /// [`CgroupError::NoSuchCgroup`] when `<root>/jobs` does not exist, I/O errors.
    pub fn attach(fs: Arc<dyn CgroupFs>, root: &Path) -> Result<Hierarchy, CgroupError> {
        let jobs = root.join(JOBS_DIR);
        let dirs = knob::child_dirs(fs.as_ref(), &jobs)?;
        let slots = dirs
            .iter()
            .filter_map(|d| d.file_name()?.to_str().map(str::to_owned))
            .collect();
        let enabled = knob::read(fs.as_ref(), &jobs, CGROUP_SUBTREE_CONTROL)?;
        Ok(Hierarchy {
            controllers: controller::usable(&parse_controllers(&enabled)),
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

    /// The controllers in use, in the kernel's order.
    pub fn controllers(&self) -> &[&'static dyn Controller] {
        &self.controllers
    }

    /// The optional controllers not in use because the root is not offered them
    /// (`["io"]` where io is not delegated).
    pub fn missing_optional(&self) -> Vec<&'static str> {
        let used: Vec<&str> = self.controllers.iter().map(|c| c.name()).collect();
        controller::missing_optional(&used)
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
        let mut limits = limits.clone();
        limits.memory.oom_group = true;
        // Just made: its knobs hold the kernel's defaults, which need not be written again.
        let fresh = Fresh {
            inner: self.fs.as_ref(),
            dir: &path,
            controllers: &self.controllers,
        };
        if let Err(e) = apply(&fresh, &path, &limits, &self.controllers) {
            if let Err(rm) = self.fs.remove_dir(&path) {
                tracing::warn!(cgroup = %path.display(), error = %rm, "cannot remove half-made run cgroup");
            }
            return Err(e);
        }
        Ok(RunCgroup::from_parts(
            Arc::clone(&self.fs),
            path,
            self.controllers.clone(),
        ))
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
        let mut usage = SlotUsage {
            runs: runs
                .iter()
                .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
                .collect(),
            ..SlotUsage::default()
        };
        for c in &self.controllers {
            c.read_usage(self.fs.as_ref(), &dir, &mut usage)?;
        }
        Ok(usage)
    }

    /// A slot's own `memory.pressure` (PSI), alone: what the pressure response reads each
    /// period. `None` where the file is absent (memory not enabled for the slot).
    ///
    /// # Errors
    /// [`CgroupError::UnknownSlot`], parse and I/O errors (with the path; a kernel with
    /// PSI off answers EOPNOTSUPP).
    pub fn slot_memory_pressure(&self, slot: &str) -> Result<Option<Pressure>, CgroupError> {
        let dir = self.known_slot(slot)?;
        knob::read_parsed_optional(
            self.fs.as_ref(),
            &dir,
            controller::memory::PRESSURE,
            Pressure::parse,
        )
    }
}

/// Has every controller in `controllers` write its part of `limits` to `dir`.
fn apply(
    fs: &dyn CgroupFs,
    dir: &Path,
    limits: &Limits,
    controllers: &[&'static dyn Controller],
) -> Result<(), CgroupError> {
    controllers
        .iter()
        .try_for_each(|c| c.apply(fs, dir, limits))
}

/// Names, space-separated, for messages.
fn names(controllers: &[&'static dyn Controller]) -> String {
    let names: Vec<&str> = controllers.iter().map(|c| c.name()).collect();
    names.join(" ")
}

/// Warns once for each optional controller left out whose limits some level sets: those
/// limits are not enforced (runs go on with the others).
fn warn_unenforced(
    root: &Path,
    used: &[&'static dyn Controller],
    global: &Limits,
    slots: &[(String, Limits)],
) {
    let left_out = controller::ALL
        .into_iter()
        .filter(|c| !used.iter().any(|u| u.name() == c.name()));
    for c in left_out {
        if std::iter::once(global)
            .chain(slots.iter().map(|(_, l)| l))
            .any(|l| c.is_limited(l))
        {
            tracing::warn!(
                controller = c.name(),
                root = %root.display(),
                "the {} controller is not delegated to the cgroup root: its limits are not enforced",
                c.name()
            );
        }
    }
}

/// The controllers to use below `dir`: every required one (an error naming those `dir`
/// is not offered), and the optional ones it is offered.
fn check_available(
    fs: &dyn CgroupFs,
    dir: &Path,
) -> Result<Vec<&'static dyn Controller>, CgroupError> {
    let text = knob::read(fs, dir, CGROUP_CONTROLLERS)?;
    let available = parse_controllers(&text);
    let missing: Vec<String> = controller::required_names()
        .into_iter()
        .filter(|c| !available.contains(c))
        .map(str::to_owned)
        .collect();
    if missing.is_empty() {
        Ok(controller::usable(&available))
    } else {
        Err(CgroupError::ControllersUnavailable {
            path: dir.to_path_buf(),
            missing,
        })
    }
}

/// Enables in `dir/cgroup.subtree_control` those of `controllers` not yet enabled.
fn enable_controllers(
    fs: &dyn CgroupFs,
    dir: &Path,
    controllers: &[&'static dyn Controller],
) -> Result<(), CgroupError> {
    let current = knob::read(fs, dir, CGROUP_SUBTREE_CONTROL)?;
    let enabled = parse_controllers(&current);
    let missing: Vec<&str> = controllers
        .iter()
        .map(|c| c.name())
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
