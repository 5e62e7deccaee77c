//! Field-by-field conversion of raw YAML values, collecting a [`Problem`] for each bad field
//! instead of stopping at the first, so `slotcron check` shows everything wrong at once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::problem::Problem;
use super::units::{ByteSize, Scalar, format_duration, parse_duration};

/// Converts the fields of one file and remembers what was wrong with them.
pub struct Fields<'a> {
    /// The file being converted; every problem names it.
    pub file: &'a Path,
    /// Problems found so far, in field order.
    pub problems: Vec<Problem>,
}

impl<'a> Fields<'a> {
    pub fn new(file: &'a Path) -> Fields<'a> {
        Fields {
            file,
            problems: Vec::new(),
        }
    }

    /// Records a problem with `field`'s `value`.
    pub fn problem(
        &mut self,
        field: &str,
        value: impl std::fmt::Display,
        message: impl Into<String>,
    ) {
        self.problems
            .push(Problem::field(self.file, field, value, message));
    }

    /// A size, if present and valid.
    pub fn size(&mut self, field: &str, value: Option<&Scalar>) -> Option<ByteSize> {
        let value = value?;
        ByteSize::try_from(value)
            .map_err(|e| self.problem(field, value, e.0))
            .ok()
    }

    /// A size of at least `min`, if present and valid.
    pub fn size_at_least(
        &mut self,
        field: &str,
        value: Option<&Scalar>,
        min: ByteSize,
    ) -> Option<ByteSize> {
        let size = self.size(field, value)?;
        if size < min {
            self.problem(
                field,
                value.expect("parsed above"),
                format!("below the minimum {min}; a size needs a unit (e.g. 512M)"),
            );
            return None;
        }
        Some(size)
    }

    /// A duration of at least `min`, if present and valid.
    pub fn duration_at_least(
        &mut self,
        field: &str,
        value: Option<&Scalar>,
        min: Duration,
    ) -> Option<Duration> {
        let duration = self.duration(field, value)?;
        if duration < min {
            self.problem(
                field,
                value.expect("parsed above"),
                format!("below the minimum {}", format_duration(min)),
            );
            return None;
        }
        Some(duration)
    }

    /// Whether `text` is free of NUL bytes (which no path, argument or environment value
    /// can hold); records a problem if not.
    pub fn no_nul(&mut self, field: &str, text: &str) -> bool {
        if text.contains('\0') {
            self.problem(
                field,
                text,
                "contains a NUL byte, which no command, path or environment value can hold",
            );
            return false;
        }
        true
    }

    /// A duration, if present and valid.
    pub fn duration(&mut self, field: &str, value: Option<&Scalar>) -> Option<Duration> {
        let value = value?;
        match value {
            Scalar::Text(text) => parse_duration(text)
                .map_err(|e| self.problem(field, value, e.0))
                .ok(),
            _ => {
                self.problem(
                    field,
                    value,
                    "a duration needs a unit: ms, s, m, h or d (e.g. 30s, 10m)",
                );
                None
            }
        }
    }

    /// A whole number within `range`, if present and valid.
    pub fn integer(
        &mut self,
        field: &str,
        value: Option<&Scalar>,
        range: std::ops::RangeInclusive<u64>,
    ) -> Option<u64> {
        let value = value?;
        let number = match value {
            Scalar::Int(n) => u64::try_from(*n).ok(),
            Scalar::Text(text) => text.trim().parse().ok(),
            Scalar::Float(_) => None,
        };
        match number {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                self.problem(
                    field,
                    value,
                    format!(
                        "must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// A number within `range`, if present and valid.
    pub fn number(
        &mut self,
        field: &str,
        value: Option<&Scalar>,
        range: std::ops::RangeInclusive<f64>,
    ) -> Option<f64> {
        let value = value?;
        let number = match value {
            Scalar::Int(n) => Some(*n as f64),
            Scalar::Float(x) => Some(*x),
            Scalar::Text(text) => text.trim().parse().ok(),
        };
        match number {
            Some(x) if range.contains(&x) => Some(x),
            _ => {
                self.problem(
                    field,
                    value,
                    format!("must be a number from {} to {}", range.start(), range.end()),
                );
                None
            }
        }
    }

    /// One of a fixed set of names, if present and valid.
    pub fn choice<T: Copy>(
        &mut self,
        field: &str,
        value: Option<&str>,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let value = value?;
        let found = choices
            .iter()
            .find(|(name, _)| *name == value)
            .map(|(_, v)| *v);
        if found.is_none() {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            self.problem(
                field,
                value,
                format!("must be one of: {}", names.join(", ")),
            );
        }
        found
    }

    /// A path; relative paths resolve against `base` (the folder of the file that names it).
    pub fn path(base: &Path, value: &str) -> PathBuf {
        let path = Path::new(value);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            base.join(path)
        }
    }
}
