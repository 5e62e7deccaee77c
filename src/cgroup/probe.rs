//! Decides where slotcron can use cgroups, read-only: it never writes, it only looks at
//! `/proc/self/mountinfo`, `/proc/self/cgroup` and the candidate root's knob files, then
//! says which root to prepare or exactly why none is usable and how to fix that.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::SUPERVISOR_DIR;
use super::controller;
use super::fs::CgroupFs;
use super::knob::{CGROUP_CONTROLLERS, CGROUP_SUBTREE_CONTROL};
use super::parse::{parse_controllers, parse_mountinfo, parse_self_cgroup};

/// Where the configuration says the root is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSetting {
    /// slotcron's own cgroup, which must be delegated (systemd `Delegate=yes`).
    Auto,
    /// An explicit cgroup directory under the cgroup2 mount (created if absent).
    Path(PathBuf),
}

/// The contents of `/proc/self/mountinfo` and `/proc/self/cgroup` (parsing split from I/O).
#[derive(Debug, Clone, Copy)]
pub struct ProbeInput<'a> {
    pub mountinfo: &'a str,
    pub self_cgroup: &'a str,
}

/// The root to pass to [`super::Hierarchy::prepare`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The root cgroup directory (may not exist yet: `prepare` creates it).
    pub root: PathBuf,
    /// The root is the cgroup slotcron runs in: `prepare` must move it to `supervisor/`.
    pub move_self: bool,
    /// Optional controllers the root is not offered (`["io"]`): their limits will not be
    /// enforced, the others will.
    pub missing_optional: Vec<&'static str>,
}

/// Why cgroups cannot be used, with the fix in the message.
#[derive(Debug, thiserror::Error)]
pub enum Unusable {
    #[error(
        "no cgroup2 filesystem is mounted (a cgroup v1 host); slotcron needs the unified \
         cgroup v2 hierarchy: boot with systemd.unified_cgroup_hierarchy=1"
    )]
    NoCgroup2,
    #[error(
        "cgroup2 is mounted at {} but the {} controllers are bound to cgroup v1 (a hybrid \
         host), so cgroup v2 cannot use them: boot with systemd.unified_cgroup_hierarchy=1",
        mount.display(), controllers.join(" ")
    )]
    Hybrid {
        mount: PathBuf,
        controllers: Vec<String>,
    },
    #[error("/proc/self/cgroup has no cgroup v2 (0::) line; set cgroup.root explicitly")]
    NoOwnCgroup,
    #[error(
        "slotcron's own cgroup {} is not delegated to it; run it under systemd with \
         Delegate=yes (e.g. systemd-run -p Delegate=yes --scope slotcron ...), or set \
         cgroup.root to a cgroup you own",
        path.display()
    )]
    NotDelegated { path: PathBuf },
    #[error("cgroup.root {} is not under the cgroup2 mount {}", path.display(), mount.display())]
    OutsideMount { path: PathBuf, mount: PathBuf },
    #[error("cgroup.root {}: neither it nor its parent cgroup exists; create the parent first", path.display())]
    MissingParent { path: PathBuf },
    #[error(
        "{}/{file} lacks the {} controllers slotcron needs; enable them in the parent's \
         cgroup.subtree_control (for a systemd service: Delegate=yes or Delegate={})",
        path.display(), missing.join(" "), controller::all_names()
    )]
    MissingControllers {
        path: PathBuf,
        file: &'static str,
        missing: Vec<String>,
    },
    #[error(
        "{} is not writable by this user; delegate it (chown the cgroup directory and its \
         cgroup.procs and cgroup.subtree_control, as systemd Delegate=yes does) or run as \
         its owner",
        path.display()
    )]
    NotWritable { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Decides the root from `setting`, read-only. `is_delegated` tells whether a cgroup was
/// delegated to us ([`delegated_xattr`] in production).
///
/// # Errors
/// An [`Unusable`] naming what is wrong and how to fix it.
pub fn resolve(
    fs: &dyn CgroupFs,
    setting: &RootSetting,
    input: &ProbeInput<'_>,
    is_delegated: &dyn Fn(&Path) -> bool,
) -> Result<Resolved, Unusable> {
    let mounts = parse_mountinfo(input.mountinfo);
    let mount = mounts
        .iter()
        .find(|m| m.fs_type == "cgroup2")
        .map(|m| m.mount_point.clone());
    let mount = mount.ok_or(Unusable::NoCgroup2)?;
    let on_v1: Vec<String> = controller::required_names()
        .into_iter()
        .filter(|c| {
            mounts
                .iter()
                .any(|m| m.fs_type == "cgroup" && m.super_options.split(',').any(|o| o == *c))
        })
        .map(str::to_owned)
        .collect();
    if !on_v1.is_empty() {
        return Err(Unusable::Hybrid {
            mount,
            controllers: on_v1,
        });
    }
    let own =
        parse_self_cgroup(input.self_cgroup).map(|p| mount.join(p.strip_prefix("/").unwrap_or(&p)));

    let resolved = match setting {
        RootSetting::Auto => {
            let own = own.ok_or(Unusable::NoOwnCgroup)?;
            // systemd 254+ DelegateSubgroup=supervisor: we already sit in <delegated>/supervisor.
            let parent = own
                .parent()
                .filter(|_| own.file_name().is_some_and(|n| n == SUPERVISOR_DIR));
            match parent {
                Some(p) if p.starts_with(&mount) && is_delegated(p) => Resolved {
                    root: p.to_path_buf(),
                    move_self: false,
                    missing_optional: Vec::new(),
                },
                _ if is_delegated(&own) => Resolved {
                    root: own,
                    move_self: true,
                    missing_optional: Vec::new(),
                },
                _ => return Err(Unusable::NotDelegated { path: own }),
            }
        }
        RootSetting::Path(p) => {
            let plain = p.is_absolute()
                && p.components()
                    .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
            if !plain || !p.starts_with(&mount) {
                return Err(Unusable::OutsideMount {
                    path: p.clone(),
                    mount,
                });
            }
            Resolved {
                root: p.clone(),
                move_self: own.as_deref() == Some(p.as_path()),
                missing_optional: Vec::new(),
            }
        }
    };
    let missing_optional = check_root(fs, &resolved.root)?;
    Ok(Resolved {
        missing_optional,
        ..resolved
    })
}

/// Checks, read-only, that `root` (or, when absent, the parent that will create it) offers
/// the required controllers and is writable; returns the optional ones it is not offered.
fn check_root(fs: &dyn CgroupFs, root: &Path) -> Result<Vec<&'static str>, Unusable> {
    let (dir, file, missing_optional) = match fs.read(&root.join(CGROUP_CONTROLLERS)) {
        Ok(text) => (
            root,
            CGROUP_SUBTREE_CONTROL,
            require_controllers(root, CGROUP_CONTROLLERS, &text)?,
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let parent = root.parent().ok_or_else(|| Unusable::MissingParent {
                path: root.to_path_buf(),
            })?;
            let path = parent.join(CGROUP_SUBTREE_CONTROL);
            // A new child is offered exactly what its parent enabled for its children.
            let text = match fs.read(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(Unusable::MissingParent {
                        path: root.to_path_buf(),
                    });
                }
                Err(source) => return Err(Unusable::Unreadable { path, source }),
            };
            let missing_optional = require_controllers(parent, CGROUP_SUBTREE_CONTROL, &text)?;
            return if writable(parent) {
                Ok(missing_optional)
            } else {
                Err(Unusable::NotWritable {
                    path: parent.to_path_buf(),
                })
            };
        }
        Err(source) => {
            return Err(Unusable::Unreadable {
                path: root.join(CGROUP_CONTROLLERS),
                source,
            });
        }
    };
    for path in [dir.to_path_buf(), dir.join(file)] {
        if !writable(&path) {
            return Err(Unusable::NotWritable { path });
        }
    }
    Ok(missing_optional)
}

/// Errs naming the required controllers `text` lacks; else returns the optional ones it
/// lacks.
fn require_controllers(
    dir: &Path,
    file: &'static str,
    text: &str,
) -> Result<Vec<&'static str>, Unusable> {
    let have = parse_controllers(text);
    let missing: Vec<String> = controller::required_names()
        .into_iter()
        .filter(|c| !have.contains(c))
        .map(str::to_owned)
        .collect();
    if missing.is_empty() {
        Ok(controller::missing_optional(&have))
    } else {
        Err(Unusable::MissingControllers {
            path: dir.to_path_buf(),
            file,
            missing,
        })
    }
}

/// Whether the effective user may write `path` (faccessat W_OK, AT_EACCESS).
fn writable(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) == 0 }
}

/// Reads `/proc/self/mountinfo` and `/proc/self/cgroup`, in that order.
///
/// # Errors
/// The I/O error, with the file named in its message.
pub fn read_probe_input() -> io::Result<(String, String)> {
    let read = |p: &str| {
        std::fs::read_to_string(p).map_err(|e| io::Error::new(e.kind(), format!("{p}: {e}")))
    };
    Ok((read("/proc/self/mountinfo")?, read("/proc/self/cgroup")?))
}

/// Whether systemd marked the cgroup as delegated: xattr `trusted.delegate` or
/// `user.delegate` equal to `1` (set on `Delegate=yes` units).
pub fn delegated_xattr(path: &Path) -> bool {
    let Ok(cpath) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    ["trusted.delegate", "user.delegate"].iter().any(|name| {
        let Ok(cname) = CString::new(*name) else {
            return false;
        };
        let mut buf = [0u8; 8];
        // SAFETY: both strings are NUL-terminated and `buf` is valid for `buf.len()` bytes.
        let n = unsafe {
            libc::getxattr(
                cpath.as_ptr(),
                cname.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        usize::try_from(n).is_ok_and(|n| buf[..n.min(buf.len())] == *b"1")
    })
}

#[cfg(test)]
#[path = "probe_tests.rs"]
mod tests;
