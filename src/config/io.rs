//! `io:` of a slot or a job: `weight` (1 to 10000) and `max`, per-device caps on bytes
//! (`rbps`, `wbps`, sizes such as `10M`) and operations (`riops`, `wiops`) per second.
//!
//! Two steps, kept apart: [`parse`] checks the text alone (pure), [`resolve`] then asks
//! the system which device each `device:` names (a path such as `/dev/vda`, or its number
//! `253:0`) through [`BlockDevices`], so tests pass their own devices. A job file's `io:`
//! is resolved with its other lookups (`resolve.rs`), a slot's while the settings are
//! loaded, both through the same `System`. What the kernel is then told is
//! `runner::limits`' part (`io_limits`), as for every other knob.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::fields::Fields;
use super::raw::{RawIo, RawIoMax};
use super::units::Scalar;
use crate::cgroup::io::{DevNum, IoRates, MAX_WEIGHT};

/// The largest `riops`/`wiops` accepted (a billion operations a second: no disk is near).
pub const MAX_IOPS: u64 = 1_000_000_000;

/// A validated `io:`: every device resolved, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IoConfig {
    /// `io.weight`, 1 to 10000; `None`: the kernel's 100.
    pub weight: Option<u16>,
    /// Caps per device, in file order.
    pub max: Vec<DeviceMax>,
}

/// One entry of `io.max`: a device as written and as resolved, and its caps (`None`: no
/// cap; at least one is set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceMax {
    /// As written: `/dev/vda` or `253:0`.
    pub device: String,
    /// Its number.
    #[serde(serialize_with = "display")]
    pub number: DevNum,
    /// Bytes read per second.
    pub rbps: Option<u64>,
    /// Bytes written per second.
    pub wbps: Option<u64>,
    /// Read operations per second.
    pub riops: Option<u64>,
    /// Write operations per second.
    pub wiops: Option<u64>,
}

fn display<S: serde::Serializer>(v: &DevNum, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// How `device:` names a device, before it is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRef {
    /// A path to a block device node (`/dev/vda`, `/dev/disk/by-id/...`).
    Path(PathBuf),
    /// Its number, `MAJ:MIN`.
    Number(DevNum),
}

/// `io:` parsed, its devices not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoSpec {
    /// `io.weight`, 1 to 10000; `None`: the kernel's 100.
    pub weight: Option<u16>,
    /// `(device as written, how it names a device, caps)`, in file order.
    pub max: Vec<(String, DeviceRef, IoRates)>,
}

/// Checks `io:` as written; `prefix` is the field path above it (`io`,
/// `slots.default.io`). `None` when absent or when it has problems (recorded in `f`).
pub fn parse(f: &mut Fields<'_>, prefix: &str, raw: Option<&RawIo>) -> Option<IoSpec> {
    let raw = raw?;
    let before = f.problems.len();
    let weight = f
        .integer(
            &format!("{prefix}.weight"),
            raw.weight.as_ref(),
            1..=u64::from(MAX_WEIGHT),
        )
        .map(|w| w as u16);
    let max = raw
        .max
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, entry)| parse_entry(f, &format!("{prefix}.max[{i}]"), entry))
        .collect();
    (f.problems.len() == before).then_some(IoSpec { weight, max })
}

fn parse_entry(
    f: &mut Fields<'_>,
    field: &str,
    raw: &RawIoMax,
) -> Option<(String, DeviceRef, IoRates)> {
    let device = match &raw.device {
        None => {
            f.problem(
                &format!("{field}.device"),
                "",
                "every io.max entry names its device (/dev/vda or 253:0)",
            );
            None
        }
        Some(written) => device_ref(f, &format!("{field}.device"), written),
    };
    let bps = |f: &mut Fields<'_>, key: &str, value: Option<&Scalar>| {
        let size = f.size(&format!("{field}.{key}"), value)?;
        positive(f, &format!("{field}.{key}"), size.bytes(), value)
    };
    let iops = |f: &mut Fields<'_>, key: &str, value: Option<&Scalar>| {
        f.integer(&format!("{field}.{key}"), value, 1..=MAX_IOPS)
    };
    let rates = IoRates {
        rbps: bps(f, "rbps", raw.rbps.as_ref()),
        wbps: bps(f, "wbps", raw.wbps.as_ref()),
        riops: iops(f, "riops", raw.riops.as_ref()),
        wiops: iops(f, "wiops", raw.wiops.as_ref()),
    };
    let none_written = [&raw.rbps, &raw.wbps, &raw.riops, &raw.wiops]
        .iter()
        .all(|v| v.is_none());
    if none_written {
        let written = raw.device.as_ref().map(ToString::to_string);
        f.problem(
            field,
            written.unwrap_or_default(),
            "sets none of rbps, wbps, riops, wiops",
        );
    }
    let written = raw.device.as_ref()?.to_string();
    Some((written, device?, rates))
}

/// A byte rate above 0 (0 would stop all io; leave the key out for no cap).
fn positive(f: &mut Fields<'_>, field: &str, n: u64, written: Option<&Scalar>) -> Option<u64> {
    if n == 0 {
        let written = written.map(ToString::to_string).unwrap_or_default();
        f.problem(field, written, "must be above 0 (leave it out for no cap)");
        return None;
    }
    Some(n)
}

/// `/dev/vda` or `253:0`; anything else is a problem.
fn device_ref(f: &mut Fields<'_>, field: &str, written: &Scalar) -> Option<DeviceRef> {
    let text = written.to_string();
    if text.starts_with('/') {
        return Some(DeviceRef::Path(PathBuf::from(text)));
    }
    match text.parse::<DevNum>() {
        Ok(number) => Some(DeviceRef::Number(number)),
        Err(_) => {
            f.problem(
                field,
                &text,
                "must be a block device's path (/dev/vda) or its number MAJ:MIN (253:0)",
            );
            None
        }
    }
}

/// Why a `device:` does not name a block device of this machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("no such device: {0}")]
    Missing(String),
    #[error("is not a block device (it is {0})")]
    NotBlock(&'static str),
    #[error("no block device {0} on this machine")]
    UnknownNumber(DevNum),
}

/// The system's block devices, as [`resolve`] asks about them.
pub trait BlockDevices {
    /// The number of the block device node at `path`.
    ///
    /// # Errors
    /// [`DeviceError::Missing`] or [`DeviceError::NotBlock`].
    fn number(&self, path: &Path) -> Result<DevNum, DeviceError>;

    /// Whether a block device with this number exists.
    fn exists(&self, number: DevNum) -> bool;
}

/// This machine: `stat` of the node, `/sys/dev/block/MAJ:MIN` for a number.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemDevices;

impl BlockDevices for SystemDevices {
    fn number(&self, path: &Path) -> Result<DevNum, DeviceError> {
        let meta = std::fs::metadata(path).map_err(|e| DeviceError::Missing(e.to_string()))?;
        let kind = meta.file_type();
        if !kind.is_block_device() {
            return Err(DeviceError::NotBlock(if kind.is_char_device() {
                "a character device"
            } else if kind.is_dir() {
                "a directory"
            } else {
                "not a device"
            }));
        }
        let rdev = meta.rdev();
        Ok(DevNum {
            major: libc::major(rdev),
            minor: libc::minor(rdev),
        })
    }

    fn exists(&self, number: DevNum) -> bool {
        Path::new("/sys/dev/block")
            .join(number.to_string())
            .exists()
    }
}

/// Resolves every device of `spec` through `devices`; each problem names the field and
/// the device as written. `None` when one does not resolve.
pub fn resolve(
    f: &mut Fields<'_>,
    prefix: &str,
    spec: IoSpec,
    devices: &dyn BlockDevices,
) -> Option<IoConfig> {
    let before = f.problems.len();
    let mut max: Vec<DeviceMax> = Vec::with_capacity(spec.max.len());
    for (i, (written, device, rates)) in spec.max.into_iter().enumerate() {
        let field = format!("{prefix}.max[{i}].device");
        let number = match device {
            DeviceRef::Path(path) => devices.number(&path),
            DeviceRef::Number(n) if devices.exists(n) => Ok(n),
            DeviceRef::Number(n) => Err(DeviceError::UnknownNumber(n)),
        };
        let number = match number {
            Ok(n) => n,
            Err(e) => {
                f.problem(&field, &written, e.to_string());
                continue;
            }
        };
        if let Some(j) = max.iter().position(|m| m.number == number) {
            let message = format!("names device {number} again (as {prefix}.max[{j}] does)");
            f.problem(&field, &written, message);
            continue;
        }
        max.push(DeviceMax {
            device: written,
            number,
            rbps: rates.rbps,
            wbps: rates.wbps,
            riops: rates.riops,
            wiops: rates.wiops,
        });
    }
    (f.problems.len() == before).then_some(IoConfig {
        weight: spec.weight,
        max,
    })
}

#[cfg(test)]
#[path = "io_tests.rs"]
mod tests;
