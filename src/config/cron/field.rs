//! One field of a cron expression, read with cronie's grammar (`entry.c`'s `get_list`,
//! `get_range`, `get_number`): a comma list of elements, each `*`, a value or a range
//! `a-b`, the last two optionally followed by `/step`; values are numbers or, in the month
//! and day-of-week fields, three-letter English names in any case. Day of week 7 is Sunday,
//! and a range ending at 0 there ends at Sunday (`fri-sun`, `5-0`). A step may exceed its
//! range (`1-59/61` is minute 1, `*/100` the field's lowest value), as in cronie.
//!
//! Stricter than cronie, on purpose: a range that runs backwards (`5-1`) is an error here;
//! cronie accepts it and matches nothing (or, in any field, reads `N-0` as `N-7`).

use super::error::{FieldError, Problem};

/// Which field, with its range and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// slotcron's extension: a leading sixth field.
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl FieldKind {
    /// The five fields of cron, in order.
    pub const CRON: [FieldKind; 5] = [
        FieldKind::Minute,
        FieldKind::Hour,
        FieldKind::DayOfMonth,
        FieldKind::Month,
        FieldKind::DayOfWeek,
    ];

    /// Lowest and highest value written (day of week: 0 and 7 are both Sunday).
    pub fn bounds(self) -> (u8, u8) {
        match self {
            FieldKind::Second | FieldKind::Minute => (0, 59),
            FieldKind::Hour => (0, 23),
            FieldKind::DayOfMonth => (1, 31),
            FieldKind::Month => (1, 12),
            FieldKind::DayOfWeek => (0, 7),
        }
    }

    /// The names the field takes, lower case (none for numeric-only fields).
    pub fn names(self) -> &'static [&'static str] {
        match self {
            FieldKind::Month => &MONTHS,
            FieldKind::DayOfWeek => &DAYS,
            _ => &[],
        }
    }

    /// The value a name stands for.
    fn named(self, text: &str) -> Option<u8> {
        let base = if self == FieldKind::Month { 1 } else { 0 };
        let i = self
            .names()
            .iter()
            .position(|n| n.eq_ignore_ascii_case(text))?;
        Some(base + i as u8)
    }

    /// What the field takes, for messages: `0-59`, or `1-12 or jan-dec`.
    pub fn allowed(self) -> String {
        let (low, high) = self.bounds();
        match self.names() {
            [] => format!("{low}-{high}"),
            names => format!("{low}-{high} or a name ({})", names.join(", ")),
        }
    }

    /// The field's name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Second => "second",
            FieldKind::Minute => "minute",
            FieldKind::Hour => "hour",
            FieldKind::DayOfMonth => "day of month",
            FieldKind::Month => "month",
            FieldKind::DayOfWeek => "day of week",
        }
    }
}

impl std::fmt::Display for FieldKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed field: the values it matches, and whether it was written from `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSet {
    /// Bit `v` set: value `v` matches. Day of week: 0-6 only (7 is folded into 0).
    pub bits: u64,
    /// The field's text starts with `*` (`*`, `*/5`, `*,3`): cronie's test for "unrestricted".
    pub star: bool,
}

impl FieldSet {
    /// Whether `value` matches.
    pub fn has(&self, value: u8) -> bool {
        value < 64 && self.bits & (1 << value) != 0
    }

    /// The matching values, ascending.
    pub fn values(&self) -> impl Iterator<Item = u8> + '_ {
        (0u8..64).filter(|v| self.has(*v))
    }
}

/// Parses one field.
///
/// ```
/// use slotcron::config::{FieldKind, parse_field};
/// let f = parse_field("mon-fri", FieldKind::DayOfWeek).unwrap();
/// assert_eq!(f.values().collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
/// assert_eq!(parse_field("1-59/61", FieldKind::Minute).unwrap().bits, 1 << 1);
/// let err = parse_field("60", FieldKind::Minute).unwrap_err();
/// assert_eq!(err.to_string(), "minute field: `60` is out of range 0-59");
/// ```
///
/// # Errors
/// [`FieldError`] naming the field, the offending element and what the field takes.
pub fn parse_field(text: &str, kind: FieldKind) -> Result<FieldSet, FieldError> {
    let fail = |token: &str, problem: Problem| FieldError {
        field: kind,
        token: token.to_owned(),
        problem,
    };
    if text.is_empty() {
        return Err(fail(text, Problem::Empty));
    }
    let mut bits = 0u64;
    for element in text.split(',') {
        bits |= parse_element(element, kind).map_err(|(problem, token)| match problem {
            Problem::EmptyElement => fail(text, problem),
            _ => fail(token, problem),
        })?;
    }
    if kind == FieldKind::DayOfWeek && bits & (1 << 7) != 0 {
        bits = (bits & !(1 << 7)) | 1;
    }
    Ok(FieldSet {
        bits,
        star: text.starts_with('*'),
    })
}

/// One element of the list: `*`, `v` or `a-b`, the first and last optionally `/step`.
/// An error comes with the part at fault: a value of a range, else the element.
fn parse_element(element: &str, kind: FieldKind) -> Result<u64, (Problem, &str)> {
    let whole = |problem| (problem, element);
    if element.is_empty() {
        return Err(whole(Problem::EmptyElement));
    }
    if let Some(problem) = extension(element, kind) {
        return Err(whole(problem));
    }
    let (low, high) = kind.bounds();
    let (range, step) = match element.split_once('/') {
        Some((range, step)) => (range, Some(parse_step(step).map_err(whole)?)),
        None => (element, None),
    };
    let (start, end) = if range == "*" {
        (low, high)
    } else if let Some((a, b)) = range.split_once('-') {
        let one = |v| match value(v, kind) {
            Err(Problem::MissingValue) => Err(whole(Problem::MissingValue)),
            other => other.map_err(|problem| (problem, v)),
        };
        let (a, mut b) = (one(a)?, one(b)?);
        if kind == FieldKind::DayOfWeek && b == 0 && a > 0 {
            b = 7; // cronie: `fri-sun` is 5-7
        }
        if a > b {
            return Err(whole(Problem::Backwards { from: a, to: b }));
        }
        (a, b)
    } else {
        let v = value(range, kind).map_err(|problem| (problem, range))?;
        if step.is_some() {
            return Err(whole(Problem::StepAfterValue));
        }
        (v, v)
    };
    let step = step.unwrap_or(1);
    Ok((u32::from(start)..=u32::from(end))
        .step_by(step as usize)
        .fold(0u64, |bits, v| bits | (1 << v)))
}

/// The step after `/`: a number, at least 1, of any size (cronie only warns when it
/// exceeds the range).
fn parse_step(text: &str) -> Result<u32, Problem> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::BadStep);
    }
    match text.parse::<u32>() {
        Ok(0) => Err(Problem::ZeroStep),
        Ok(step) => Ok(step),
        // More digits than a u32: larger than any range, so it selects only the start.
        Err(_) => Ok(u32::MAX),
    }
}

/// A number within the field's bounds, or one of its names.
fn value(text: &str, kind: FieldKind) -> Result<u8, Problem> {
    if text.is_empty() {
        return Err(Problem::MissingValue);
    }
    let (low, high) = kind.bounds();
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(v) if (u32::from(low)..=u32::from(high)).contains(&v) => Ok(v as u8),
            _ => Err(Problem::OutOfRange),
        };
    }
    kind.named(text).ok_or(Problem::NotAValue)
}

/// Syntax of other cron dialects (Quartz, croner) or of cronie's random `~`: recognised
/// to say so, never accepted.
fn extension(element: &str, kind: FieldKind) -> Option<Problem> {
    let upper = element.to_ascii_uppercase();
    let what = if element.contains('~') {
        "`~` (cronie's random value) is not supported: use `jitter:` for a random delay"
    } else if element == "?" {
        "`?` (\"no specific value\") is Quartz syntax: write `*`"
    } else if element.contains('#') {
        "`#` (\"the nth weekday\") is Quartz syntax"
    } else if kind == FieldKind::DayOfMonth && (upper == "LW" || upper.ends_with('W')) {
        "`W` (\"the nearest weekday\") is Quartz syntax"
    } else if matches!(kind, FieldKind::DayOfMonth | FieldKind::DayOfWeek)
        && upper.ends_with('L')
        && upper[..upper.len() - 1].bytes().all(|b| b.is_ascii_digit())
    {
        "`L` (\"the last\") is Quartz syntax"
    } else {
        return None;
    };
    Some(Problem::Extension(what))
}
