//! The core knob names (`cgroup.*`; each controller names its own, see
//! [`super::controller`]), and reading/writing knobs with errors that say what went wrong.
//!
//! A knob write opens the existing file and writes the whole value once. A knob file that
//! is absent means its controller is not enabled in that cgroup (the kernel creates the
//! files of enabled controllers only), so ENOENT becomes
//! [`CgroupError::ControllerNotEnabled`], or [`CgroupError::NoSuchCgroup`] when the cgroup
//! itself is gone.

use std::io;
use std::path::{Path, PathBuf};

use super::error::{CgroupError, Op};
use super::fs::CgroupFs;

pub const CGROUP_PROCS: &str = "cgroup.procs";
pub const CGROUP_EVENTS: &str = "cgroup.events";
pub const CGROUP_KILL: &str = "cgroup.kill";
pub const CGROUP_FREEZE: &str = "cgroup.freeze";
pub const CGROUP_CONTROLLERS: &str = "cgroup.controllers";
pub const CGROUP_SUBTREE_CONTROL: &str = "cgroup.subtree_control";
pub const CGROUP_TYPE: &str = "cgroup.type";

/// The controller a knob belongs to (`memory.max` -> `memory`).
pub(crate) fn controller_of(knob: &str) -> &str {
    knob.split('.').next().unwrap_or(knob)
}

/// Maps ENOENT on `dir/knob` to the error that explains it.
fn missing(fs: &dyn CgroupFs, dir: &Path, knob: &str) -> CgroupError {
    match fs.read(&dir.join(CGROUP_CONTROLLERS)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => CgroupError::NoSuchCgroup {
            path: dir.to_path_buf(),
        },
        _ => CgroupError::ControllerNotEnabled {
            path: dir.join(knob),
            controller: controller_of(knob).to_owned(),
        },
    }
}

/// Writes `value` to the existing knob `dir/knob`.
///
/// # Errors
/// ControllerNotEnabled / NoSuchCgroup on ENOENT, NotDelegated on EACCES/EPERM,
/// [`CgroupError::Write`] (with the value) otherwise.
pub(crate) fn write(
    fs: &dyn CgroupFs,
    dir: &Path,
    knob: &str,
    value: &str,
) -> Result<(), CgroupError> {
    let path = dir.join(knob);
    tracing::debug!(path = %path.display(), value, "cgroup write");
    fs.write(&path, value).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) => missing(fs, dir, knob),
        Some(libc::EACCES) | Some(libc::EPERM) => CgroupError::io(Op::Write, path, e),
        _ => CgroupError::Write {
            path,
            value: value.to_owned(),
            source: e,
        },
    })
}

/// Like [`write`], but an absent knob is skipped (returns `Ok(false)`).
pub(crate) fn write_if_present(
    fs: &dyn CgroupFs,
    dir: &Path,
    knob: &str,
    value: &str,
) -> Result<bool, CgroupError> {
    match write(fs, dir, knob, value) {
        Ok(()) => Ok(true),
        Err(CgroupError::ControllerNotEnabled { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads the knob `dir/knob`.
///
/// # Errors
/// ControllerNotEnabled / NoSuchCgroup on ENOENT, the I/O error with its path otherwise.
pub(crate) fn read(fs: &dyn CgroupFs, dir: &Path, knob: &str) -> Result<String, CgroupError> {
    let path = dir.join(knob);
    fs.read(&path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => missing(fs, dir, knob),
        _ => CgroupError::io(Op::Read, path, e),
    })
}

/// Reads a knob that older kernels lack: `Ok(None)` when the file is absent but the cgroup
/// exists.
pub(crate) fn read_optional(
    fs: &dyn CgroupFs,
    dir: &Path,
    knob: &str,
) -> Result<Option<String>, CgroupError> {
    match read(fs, dir, knob) {
        Ok(s) => Ok(Some(s)),
        Err(CgroupError::ControllerNotEnabled { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads and parses a knob, attaching the path to a parse error.
pub(crate) fn read_parsed<T>(
    fs: &dyn CgroupFs,
    dir: &Path,
    knob: &str,
    parse: impl FnOnce(&str) -> Result<T, super::parse::ParseError>,
) -> Result<T, CgroupError> {
    let s = read(fs, dir, knob)?;
    parse(&s).map_err(|e| CgroupError::parse(dir.join(knob), e))
}

/// Like [`read_parsed`] for a knob that may be absent.
pub(crate) fn read_parsed_optional<T>(
    fs: &dyn CgroupFs,
    dir: &Path,
    knob: &str,
    parse: impl FnOnce(&str) -> Result<T, super::parse::ParseError>,
) -> Result<Option<T>, CgroupError> {
    match read_optional(fs, dir, knob)? {
        Some(s) => parse(&s)
            .map(Some)
            .map_err(|e| CgroupError::parse(dir.join(knob), e)),
        None => Ok(None),
    }
}

/// Creates the cgroup `path` unless it exists. Returns whether it was created.
///
/// # Errors
/// NotDelegated on EACCES/EPERM, the I/O error with its path otherwise.
pub(crate) fn ensure_dir(fs: &dyn CgroupFs, path: &Path) -> Result<bool, CgroupError> {
    match fs.create_dir(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(CgroupError::io(Op::CreateDir, path, e)),
    }
}

/// Sorted child cgroups of `dir`.
///
/// # Errors
/// NoSuchCgroup when `dir` is absent, the I/O error with its path otherwise.
pub(crate) fn child_dirs(fs: &dyn CgroupFs, dir: &Path) -> Result<Vec<PathBuf>, CgroupError> {
    fs.child_dirs(dir).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => CgroupError::NoSuchCgroup {
            path: dir.to_path_buf(),
        },
        _ => CgroupError::io(Op::ListDir, dir, e),
    })
}

/// Prefixes of kernel knob files: a child cgroup must not be named like one.
const KNOB_PREFIXES: [&str; 9] = [
    "cgroup", "cpu", "cpuset", "io", "memory", "hugetlb", "pids", "rdma", "misc",
];

/// Checks that `name` is one plain path component, usable as a cgroup name.
///
/// # Errors
/// [`CgroupError::InvalidName`] saying why not.
pub(crate) fn check_name(name: &str) -> Result<(), CgroupError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name == "." || name == ".." {
        "reserved"
    } else if name.contains('/') || name.contains('\0') {
        "contains '/' or NUL"
    } else if name.contains('.') && KNOB_PREFIXES.contains(&controller_of(name)) {
        "looks like a knob file name"
    } else if name.len() > 255 {
        "longer than 255 bytes"
    } else {
        return Ok(());
    };
    Err(CgroupError::InvalidName {
        name: name.to_owned(),
        reason,
    })
}
