//! The io controller: a share of each disk among siblings (`io.weight`) and per-device
//! caps on bytes and operations per second (`io.max`); `io.stat` after a run. Optional:
//! where the root is not offered `io`, its limits are skipped and runs go on.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use super::{Controller, KnobFile, Limits, is_max_or_u64};
use crate::cgroup::error::CgroupError;
use crate::cgroup::fs::CgroupFs;
use crate::cgroup::knob;
use crate::cgroup::parse::{ParseError, parse_nested_keyed};
use crate::cgroup::stats::{Pressure, SlotUsage};
use crate::model::{IoStat, RunUsage};

/// `MAJ:MIN rbps=.. wbps=.. riops=.. wiops=..` per capped device; `max` is no cap.
pub const MAX: &str = "io.max";
/// `default 100`, then `MAJ:MIN W` overrides; 1..=10000 (needs the iocost controller).
pub const WEIGHT: &str = "io.weight";
/// `MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=..` per device used.
pub const STAT: &str = "io.stat";
/// PSI of the cgroup's io stalls.
pub const PRESSURE: &str = "io.pressure";

/// `io.weight` where none is set.
pub const DEFAULT_WEIGHT: u16 = 100;
/// The largest `io.weight`.
pub const MAX_WEIGHT: u16 = 10_000;

/// A block device's number, written `MAJ:MIN` (`253:0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DevNum {
    pub major: u32,
    pub minor: u32,
}

impl fmt::Display for DevNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

impl FromStr for DevNum {
    type Err = ParseError;

    /// Parses `MAJ:MIN`.
    ///
    /// ```
    /// use slotcron::cgroup::io::DevNum;
    /// assert_eq!("253:0".parse::<DevNum>().unwrap(), DevNum { major: 253, minor: 0 });
    /// assert!("/dev/vda".parse::<DevNum>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::new(None, s, "expected a device number MAJ:MIN");
        let (major, minor) = s.trim().split_once(':').ok_or_else(bad)?;
        Ok(DevNum {
            major: major.parse().map_err(|_| bad())?,
            minor: minor.parse().map_err(|_| bad())?,
        })
    }
}

/// The caps of one device in `io.max`; `None` is `max` (no cap).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoRates {
    /// Bytes read per second.
    pub rbps: Option<u64>,
    /// Bytes written per second.
    pub wbps: Option<u64>,
    /// Read operations per second.
    pub riops: Option<u64>,
    /// Write operations per second.
    pub wiops: Option<u64>,
}

impl IoRates {
    /// The four keys of `io.max`, in the kernel's order, with this value of each.
    pub fn keyed(&self) -> [(&'static str, Option<u64>); 4] {
        [
            ("rbps", self.rbps),
            ("wbps", self.wbps),
            ("riops", self.riops),
            ("wiops", self.wiops),
        ]
    }
}

/// One line of `io.max`: a device and its caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoMax {
    pub device: DevNum,
    pub rates: IoRates,
}

impl fmt::Display for IoMax {
    /// The line to write (and as the kernel shows it), every key present.
    ///
    /// ```
    /// use slotcron::cgroup::io::{DevNum, IoMax, IoRates};
    /// let line = IoMax {
    ///     device: DevNum { major: 253, minor: 0 },
    ///     rates: IoRates { wbps: Some(2 << 20), ..IoRates::default() },
    /// };
    /// assert_eq!(line.to_string(), "253:0 rbps=max wbps=2097152 riops=max wiops=max");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.device)?;
        for (key, value) in self.rates.keyed() {
            match value {
                Some(v) => write!(f, " {key}={v}")?,
                None => write!(f, " {key}=max")?,
            }
        }
        Ok(())
    }
}

/// Parses `io.max` (or one line written to it): unknown keys are ignored, `max` is no
/// cap, a key left out is `None`.
///
/// ```
/// use slotcron::cgroup::io::{DevNum, parse_io_max};
/// let lines = parse_io_max("8:16 rbps=2097152 wbps=max riops=max wiops=120\n").unwrap();
/// assert_eq!(lines[0].device, DevNum { major: 8, minor: 16 });
/// assert_eq!((lines[0].rates.rbps, lines[0].rates.wbps, lines[0].rates.wiops), (Some(2097152), None, Some(120)));
/// assert!(parse_io_max("8:16 wbps=fast\n").is_err());
/// ```
///
/// # Errors
/// On a line whose device is not `MAJ:MIN` or whose value is neither `max` nor a number.
pub fn parse_io_max(s: &str) -> Result<Vec<IoMax>, ParseError> {
    let mut out = Vec::new();
    for line in parse_nested_keyed(s)? {
        let device = line
            .key
            .parse()
            .map_err(|_| line.error("expected a device number MAJ:MIN"))?;
        let mut rates = IoRates::default();
        for &(key, value) in &line.pairs {
            let value = match value {
                "max" => None,
                v => Some(
                    v.parse()
                        .map_err(|_| line.error("expected `max` or a number"))?,
                ),
            };
            match key {
                "rbps" => rates.rbps = value,
                "wbps" => rates.wbps = value,
                "riops" => rates.riops = value,
                "wiops" => rates.wiops = value,
                _ => {}
            }
        }
        out.push(IoMax { device, rates });
    }
    Ok(out)
}

/// The io knobs of one level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IoLimits {
    /// `io.weight` default, 1..=10000; `None`: 100.
    pub weight: Option<u16>,
    /// `io.max`, one entry per capped device (each device once).
    pub max: Vec<IoMax>,
}

impl IoStat {
    /// Parses `io.stat`, summing over its devices and ignoring keys it does not know
    /// (`dbytes`, `dios`, ...). An empty file (no io yet) is all zeros.
    ///
    /// ```
    /// use slotcron::model::IoStat;
    /// let s = IoStat::parse(
    ///     "8:16 rbytes=4096 wbytes=1048576 rios=1 wios=8 dbytes=0 dios=0\n\
    ///      253:0 rbytes=0 wbytes=2097152 rios=0 wios=16 dbytes=0 dios=0\n",
    /// ).unwrap();
    /// assert_eq!((s.rbytes, s.wbytes, s.rios, s.wios), (4096, 3 << 20, 1, 24));
    /// assert_eq!(IoStat::parse("").unwrap(), IoStat::default());
    /// ```
    ///
    /// # Errors
    /// On a line that is not nested-keyed or a counter that is not a number.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let mut sum = IoStat::default();
        for line in parse_nested_keyed(s)? {
            for &(key, value) in &line.pairs {
                let field = match key {
                    "rbytes" => &mut sum.rbytes,
                    "wbytes" => &mut sum.wbytes,
                    "rios" => &mut sum.rios,
                    "wios" => &mut sum.wios,
                    _ => continue,
                };
                let n: u64 = value.parse().map_err(|_| line.error("expected a number"))?;
                *field = field.saturating_add(n);
            }
        }
        Ok(sum)
    }
}

/// The knob files of a cgroup with the io controller enabled (kernel 6.1 with iocost).
const KNOBS: &[KnobFile] = &[
    KnobFile::rw(MAX, ""),
    KnobFile::rw(WEIGHT, "default 100\n"),
    KnobFile::ro(STAT, ""),
    KnobFile::rw(
        PRESSURE,
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n\
         full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    ),
];

/// The io controller.
#[derive(Debug, Clone, Copy)]
pub struct Io;

impl Controller for Io {
    fn name(&self) -> &'static str {
        "io"
    }

    fn required(&self) -> bool {
        false
    }

    fn is_limited(&self, limits: &Limits) -> bool {
        limits.io != IoLimits::default()
    }

    fn apply(&self, fs: &dyn CgroupFs, dir: &Path, limits: &Limits) -> Result<(), CgroupError> {
        let io = &limits.io;
        let weight = format!("default {}", io.weight.unwrap_or(DEFAULT_WEIGHT));
        if !knob::write_if_present(fs, dir, WEIGHT, &weight)? && io.weight.is_some() {
            tracing::warn!(cgroup = %dir.display(), "io.weight absent (no iocost in this kernel): io weight not applied");
        }
        let current = knob::read_parsed(fs, dir, MAX, parse_io_max)?;
        let stale = current
            .iter()
            .filter(|old| !io.max.iter().any(|new| new.device == old.device))
            .map(|old| IoMax {
                device: old.device,
                rates: IoRates::default(),
            });
        // The kernel reads one device per write.
        for line in io.max.iter().copied().chain(stale) {
            knob::write(fs, dir, MAX, &line.to_string())?;
        }
        Ok(())
    }

    fn read_stats(
        &self,
        fs: &dyn CgroupFs,
        dir: &Path,
        stats: &mut RunUsage,
    ) -> Result<(), CgroupError> {
        stats.io = Some(knob::read_parsed(fs, dir, STAT, IoStat::parse)?);
        Ok(())
    }

    fn read_usage(
        &self,
        fs: &dyn CgroupFs,
        dir: &Path,
        usage: &mut SlotUsage,
    ) -> Result<(), CgroupError> {
        usage.io_pressure = knob::read_parsed_optional(fs, dir, PRESSURE, Pressure::parse)?;
        Ok(())
    }

    fn knob_files(&self) -> &'static [KnobFile] {
        KNOBS
    }

    fn fake_write(&self, knob: &str, current: &str, value: &str) -> Result<String, i32> {
        match knob {
            MAX => fake_write_max(current, value),
            WEIGHT => fake_write_weight(current, value),
            _ => Ok(format!("{}\n", value.trim_end())),
        }
    }
}

/// `io.max` as the kernel keeps it: the keys written merge into the device's line, which
/// shows all four keys, and a line whose keys are all `max` disappears.
fn fake_write_max(current: &str, value: &str) -> Result<String, i32> {
    let mut fields = value.split_whitespace();
    let device: DevNum = fields
        .next()
        .and_then(|d| d.parse().ok())
        .ok_or(libc::EINVAL)?;
    let mut lines = parse_io_max(current).map_err(|_| libc::EIO)?;
    let mut rates = lines
        .iter()
        .find(|l| l.device == device)
        .map_or_else(IoRates::default, |l| l.rates);
    for pair in fields {
        let (key, v) = pair.split_once('=').ok_or(libc::EINVAL)?;
        if !is_max_or_u64(v) {
            return Err(libc::EINVAL);
        }
        let v = v.parse().ok();
        match key {
            "rbps" => rates.rbps = v,
            "wbps" => rates.wbps = v,
            "riops" => rates.riops = v,
            "wiops" => rates.wiops = v,
            _ => return Err(libc::EINVAL),
        }
    }
    lines.retain(|l| l.device != device);
    if rates != IoRates::default() {
        lines.push(IoMax { device, rates });
    }
    lines.sort_by_key(|l| l.device);
    Ok(lines.iter().map(|l| format!("{l}\n")).collect())
}

/// `io.weight` as the kernel keeps it: `N` or `default N` sets the first line,
/// `MAJ:MIN N` an override; weights are 1..=10000.
fn fake_write_weight(current: &str, value: &str) -> Result<String, i32> {
    let mut fields: Vec<&str> = value.split_whitespace().collect();
    let weight = fields
        .pop()
        .and_then(|w| w.parse::<u16>().ok())
        .filter(|w| (1..=MAX_WEIGHT).contains(w))
        .ok_or(libc::EINVAL)?;
    let key = match fields.as_slice() {
        [] | ["default"] => "default".to_owned(),
        [device] => device
            .parse::<DevNum>()
            .map_err(|_| libc::EINVAL)?
            .to_string(),
        _ => return Err(libc::EINVAL),
    };
    let mut lines: Vec<String> = current
        .lines()
        .filter(|l| l.split_whitespace().next() != Some(key.as_str()))
        .map(str::to_owned)
        .collect();
    lines.push(format!("{key} {weight}"));
    lines.sort_by_key(|l| !l.starts_with("default"));
    Ok(lines.iter().map(|l| format!("{l}\n")).collect())
}
