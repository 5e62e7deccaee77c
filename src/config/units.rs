//! Sizes and durations as people write them in YAML (`1500M`, `3G`, `30m`, `500ms`), parsed
//! into types that cannot hold an invalid value.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

/// A scalar as written in YAML, before we know which unit-bearing type it should become.
/// Numbers and strings are both accepted so that `memory: 1024` and `memory: 1G` both work
/// and every conversion error can name the field and the value itself.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A YAML integer.
    Int(i64),
    /// A YAML float.
    Float(f64),
    /// A YAML string (or anything else that is not a number).
    Text(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Int(n) => write!(f, "{n}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Text(s) => f.write_str(s),
        }
    }
}

/// A number of bytes. Written as plain bytes or with a K/M/G/T suffix (powers of 1024;
/// `Ki`, `KiB` and `KB` forms are accepted too, all meaning 1024).
///
/// ```
/// use slotcron::config::ByteSize;
/// assert_eq!("1500M".parse::<ByteSize>().unwrap().bytes(), 1500 * 1024 * 1024);
/// assert_eq!("1.5G".parse::<ByteSize>().unwrap().bytes(), 1536 * 1024 * 1024);
/// assert_eq!("4096".parse::<ByteSize>().unwrap().bytes(), 4096);
/// assert!("3X".parse::<ByteSize>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ByteSize(u64);

impl ByteSize {
    /// A size of `bytes` bytes.
    pub const fn new(bytes: u64) -> ByteSize {
        ByteSize(bytes)
    }

    /// `n` GiB.
    pub const fn gib(n: u64) -> ByteSize {
        ByteSize(n << 30)
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ByteSize {
    /// The largest unit that divides exactly, so values round-trip (`3G`, `1500M`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u64); 4] = [
            ("T", 1 << 40),
            ("G", 1 << 30),
            ("M", 1 << 20),
            ("K", 1 << 10),
        ];
        for (unit, size) in UNITS {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}", self.0)
    }
}

/// Why a size or duration could not be parsed; the caller adds file and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(pub &'static str);

impl FromStr for ByteSize {
    type Err = UnitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const HELP: &str = "not a size: use bytes or a number with K, M, G or T (powers of 1024)";
        let s = s.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, unit) = s.split_at(split);
        let multiplier: u64 = match unit.trim().to_ascii_uppercase().as_str() {
            "" | "B" => 1,
            "K" | "KB" | "KI" | "KIB" => 1 << 10,
            "M" | "MB" | "MI" | "MIB" => 1 << 20,
            "G" | "GB" | "GI" | "GIB" => 1 << 30,
            "T" | "TB" | "TI" | "TIB" => 1 << 40,
            _ => return Err(UnitError(HELP)),
        };
        if number.is_empty() {
            return Err(UnitError(HELP));
        }
        if let Ok(whole) = number.parse::<u64>() {
            return whole
                .checked_mul(multiplier)
                .map(ByteSize)
                .ok_or(UnitError("size too large"));
        }
        let value: f64 = number.parse().map_err(|_| UnitError(HELP))?;
        let bytes = value * multiplier as f64;
        if !bytes.is_finite() || bytes >= u64::MAX as f64 {
            return Err(UnitError("size too large"));
        }
        Ok(ByteSize(bytes.round() as u64))
    }
}

impl TryFrom<&Scalar> for ByteSize {
    type Error = UnitError;

    fn try_from(value: &Scalar) -> Result<Self, Self::Error> {
        match value {
            Scalar::Int(n) if *n >= 0 => Ok(ByteSize(*n as u64)),
            Scalar::Int(_) => Err(UnitError("a size cannot be negative")),
            Scalar::Float(x) => x.to_string().parse(),
            Scalar::Text(s) => s.parse(),
        }
    }
}

/// Parses a duration written as one or more `<number><unit>` groups, units `ms`, `s`, `m`,
/// `h`, `d` (`30m`, `1h30m`, `500ms`).
///
/// ```
/// use std::time::Duration;
/// use slotcron::config::parse_duration;
/// assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
/// assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
/// assert!(parse_duration("30").is_err()); // a unit is required
/// ```
///
/// # Errors
/// Returns [`UnitError`] for an empty string, a number without a unit, or an unknown unit.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    const HELP: &str = "not a duration: use a number with ms, s, m, h or d (e.g. 30s, 1h30m)";
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(UnitError(HELP));
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or(UnitError(HELP))?;
        if digits == 0 {
            return Err(UnitError(HELP));
        }
        let number: u64 = rest[..digits].parse().map_err(|_| UnitError(HELP))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_millis: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(UnitError(HELP)),
        };
        rest = &rest[unit_len..];
        let millis = number
            .checked_mul(unit_millis)
            .ok_or(UnitError("duration too large"))?;
        total = total
            .checked_add(Duration::from_millis(millis))
            .ok_or(UnitError("duration too large"))?;
    }
    Ok(total)
}

pub use crate::model::duration::format_duration;

/// Serializes a duration as [`format_duration`] text (`30m`), for JSON views of a job.
pub mod duration_text {
    use std::time::Duration;

    /// For `#[serde(serialize_with = ...)]` on a `Duration`.
    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_duration(*d))
    }

    /// For `#[serde(serialize_with = ...)]` on an `Option<Duration>`.
    pub fn option<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&super::format_duration(*d)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!("3G".parse::<ByteSize>().unwrap(), ByteSize::gib(3));
        assert_eq!("512k".parse::<ByteSize>().unwrap().bytes(), 512 * 1024);
        assert_eq!("2GiB".parse::<ByteSize>().unwrap(), ByteSize::gib(2));
        assert_eq!("1T".parse::<ByteSize>().unwrap().bytes(), 1 << 40);
        for bad in ["", "G", "1.2.3G", "-5M", "12Q", "99999999999T"] {
            assert!(bad.parse::<ByteSize>().is_err(), "{bad} should be rejected");
        }
        assert_eq!(
            ByteSize::try_from(&Scalar::Int(1024)).unwrap().bytes(),
            1024
        );
        assert!(ByteSize::try_from(&Scalar::Int(-1)).is_err());
    }

    #[test]
    fn sizes_display_round_trip() {
        for text in ["3G", "1500M", "7K", "1000"] {
            let size: ByteSize = text.parse().unwrap();
            assert_eq!(size.to_string(), text);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        for bad in ["", "m", "10", "10x", "1.5h", "s10"] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
    }
}
