//! Why a cron expression was rejected: every message names the field, the offending
//! element and what the field takes, like cronie's `crontab` errors but more precise (it
//! says only "bad minute").

use super::field::FieldKind;

/// The nicknames a schedule may start with, for messages.
pub const NICKNAMES: &str =
    "@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @reboot, @every <interval>";

/// A rejected cron expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error(
        "a cron expression has 5 fields (minute hour day-of-month month day-of-week), or 6 \
         with a leading second; this one has {0}"
    )]
    FieldCount(usize),
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("unknown nickname `{0}`, expected one of {NICKNAMES}")]
    UnknownNickname(String),
    #[error("never fires: no date matches its day-of-month, month and day-of-week fields")]
    Never,
}

/// A rejected field: which one, the element at fault, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} field: {}", self.explain())]
pub struct FieldError {
    pub field: FieldKind,
    /// The element at fault (the whole field for an empty field or element).
    pub token: String,
    pub problem: Problem,
}

/// What is wrong with an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The field is empty.
    Empty,
    /// `1,,2`, `1,`, `,1`.
    EmptyElement,
    /// `1-`, `-5`: a range needs a value on both sides.
    MissingValue,
    /// A number outside the field's range.
    OutOfRange,
    /// Neither a number nor one of the field's names (`MONDAY`, `x`).
    NotAValue,
    /// `5-1`.
    Backwards { from: u8, to: u8 },
    /// `5/15`: cron steps only `*` and ranges.
    StepAfterValue,
    /// `*/MON`, `*/`, `*/x`.
    BadStep,
    /// `*/0`.
    ZeroStep,
    /// Syntax of another cron dialect; the text says which.
    Extension(&'static str),
}

impl FieldError {
    fn explain(&self) -> String {
        let token = &self.token;
        let allowed = self.field.allowed();
        let (_, high) = self.field.bounds();
        match self.problem {
            Problem::Empty => "is empty".to_owned(),
            Problem::EmptyElement => format!("`{token}` has an empty element in its list"),
            Problem::MissingValue => {
                format!("`{token}`: a range needs a value on both sides of `-` ({allowed})")
            }
            Problem::OutOfRange => format!("`{token}` is out of range {allowed}"),
            Problem::NotAValue => format!("`{token}` is not a number {allowed}"),
            Problem::Backwards { from, to } => {
                format!("`{token}` runs backwards ({from} > {to}); write the range low to high")
            }
            Problem::StepAfterValue => {
                let start = token.split('/').next().unwrap_or_default();
                format!(
                    "`{token}`: cron takes a step only after `*` or a range (write `{start}-{high}/...`)"
                )
            }
            Problem::BadStep => {
                format!("`{token}`: the step after `/` must be a number, 1 or more")
            }
            Problem::ZeroStep => format!("`{token}`: a step of 0 never advances; use 1 or more"),
            Problem::Extension(what) => format!("`{token}`: {what}; cron does not have it"),
        }
    }
}
