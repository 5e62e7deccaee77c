//! The one error type of configuration loading: a problem in one file, naming the file, the
//! field and the value, so that `slotcron check` can print every problem of every file.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::printable::{escape, excerpt};

/// The most of a value (bytes) a problem quotes: a 10 MB command is named, not repeated.
pub const VALUE_EXCERPT: usize = 256;

fn quoted(value: &str) -> String {
    excerpt(value, VALUE_EXCERPT).into_owned()
}

/// One thing wrong with one configuration or job file.
///
/// Loading collects these instead of stopping at the first, so one bad file (or one bad
/// field) never hides the others.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problem {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line, when the YAML parser knows it.
    pub line: Option<usize>,
    /// Dotted path of the field (`limits.memory`), when the problem belongs to one field.
    pub field: Option<String>,
    /// The offending value as written, when there is one; at most [`VALUE_EXCERPT`] bytes
    /// of it, saying how much more there was.
    pub value: Option<String>,
    /// What is wrong, and where it helps, how to fix it.
    pub message: String,
}

impl Problem {
    /// A problem with one field's value.
    pub fn field(
        file: &Path,
        field: impl Into<String>,
        value: impl fmt::Display,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            file: file.to_path_buf(),
            line: None,
            field: Some(field.into()),
            value: Some(quoted(&value.to_string())),
            message: message.into(),
        }
    }

    /// A problem with the file as a whole (unreadable, not YAML).
    pub fn file(file: &Path, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_path_buf(),
            line: None,
            field: None,
            value: None,
            message: message.into(),
        }
    }

    /// Turns a YAML/serde error into a problem, keeping the parser's line and the text of
    /// the offending line (which names the field even when serde's message does not).
    pub fn yaml(file: &Path, text: &str, err: &serde_saphyr::Error) -> Problem {
        let line = err.location().map(|loc| loc.line() as usize);
        let first = err.to_string();
        let first = first.lines().next().unwrap_or_default();
        // serde-saphyr prefixes "error: line L column C: "; we print our own position.
        let message = match first.split_once(": ") {
            Some(("error", rest)) => rest
                .split_once(": ")
                .filter(|(pos, _)| pos.starts_with("line "))
                .map(|(_, msg)| msg)
                .unwrap_or(rest),
            _ => first,
        };
        let source_line = line
            .and_then(|l| text.lines().nth(l.saturating_sub(1)))
            .map(str::trim)
            .filter(|l| !l.is_empty());
        Problem {
            file: file.to_path_buf(),
            line,
            field: None,
            value: source_line.map(quoted),
            message: quoted(message),
        }
    }
}

/// Printed with every control character escaped ([`escape`]): file names, values and
/// parser messages all come from files.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.write_raw(&mut text)?;
        f.write_str(&escape(&text))
    }
}

impl Problem {
    fn write_raw(&self, f: &mut impl fmt::Write) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)?;
        match (&self.value, self.line) {
            (Some(value), None) => write!(f, " (value: `{value}`)"),
            (Some(value), Some(_)) => write!(f, " (in `{value}`)"),
            (None, _) => Ok(()),
        }
    }
}

/// Every problem found while loading, in file order. Non-empty by construction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}
