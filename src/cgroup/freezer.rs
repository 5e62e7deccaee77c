//! The cgroup v2 freezer: `cgroup.freeze` stops every process of a cgroup (and below)
//! where it stands, `0` lets them go on; `cgroup.events` `frozen` says when the kernel
//! has finished. Part of the core, not a controller: nothing to enable, every cgroup but
//! the root has the file. The pressure response freezes runs with it (ADR 0036); SIGKILL
//! and `cgroup.kill` still reach frozen processes.

use std::path::Path;

use super::error::CgroupError;
use super::fs::CgroupFs;
use super::knob::{self, CGROUP_EVENTS, CGROUP_FREEZE};
use super::parse::{ParseError, parse_flat_keyed};

/// Writes `1` (freeze) or `0` (thaw) to `dir/cgroup.freeze`. Returns at once: the kernel
/// freezes asynchronously (see [`is_frozen`]).
///
/// # Errors
/// [`CgroupError::NoSuchCgroup`] when the cgroup is gone, write errors with the path.
pub fn set_frozen(fs: &dyn CgroupFs, dir: &Path, frozen: bool) -> Result<(), CgroupError> {
    knob::write(fs, dir, CGROUP_FREEZE, if frozen { "1" } else { "0" })
}

/// Whether `dir/cgroup.freeze` holds `1`: a freeze was asked for (the kernel may still be
/// finishing it). An absent file (no freezer) is `false`.
///
/// # Errors
/// Read errors with the path.
pub fn is_freeze_set(fs: &dyn CgroupFs, dir: &Path) -> Result<bool, CgroupError> {
    Ok(knob::read_optional(fs, dir, CGROUP_FREEZE)?.is_some_and(|v| v.trim() == "1"))
}

/// Whether the kernel reports `dir` frozen (`cgroup.events` `frozen 1`).
///
/// # Errors
/// Read and parse errors with the path.
pub fn is_frozen(fs: &dyn CgroupFs, dir: &Path) -> Result<bool, CgroupError> {
    knob::read_parsed(fs, dir, CGROUP_EVENTS, parse_frozen)
}

/// Reads `frozen` from `cgroup.events`; a kernel without the freezer (before 5.2) has no
/// such key: not frozen.
///
/// ```
/// use slotcron::cgroup::freezer::parse_frozen;
/// assert_eq!(parse_frozen("populated 1\nfrozen 1\n").unwrap(), true);
/// assert_eq!(parse_frozen("populated 1\nfrozen 0\n").unwrap(), false);
/// assert_eq!(parse_frozen("populated 1\n").unwrap(), false);
/// assert!(parse_frozen("populated 1\nfrozen 2\n").is_err());
/// ```
///
/// # Errors
/// When the value is not 0 or 1.
pub fn parse_frozen(s: &str) -> Result<bool, ParseError> {
    match parse_flat_keyed(s)?
        .into_iter()
        .find(|(k, _)| *k == "frozen")
    {
        None | Some((_, 0)) => Ok(false),
        Some((_, 1)) => Ok(true),
        Some(_) => Err(ParseError::new(None, s, "frozen must be 0 or 1")),
    }
}
