//! The five time fields of a crontab line, read as Vixie cron / cronie read them: numbers,
//! `*`, ranges `a-b`, steps `*/n` and `a-b/n`, comma lists, and English names for months
//! and days of the week (`jan`, `mon-fri`). Anything cronie rejects is rejected here with a
//! reason, so a line that croner would read differently never becomes a job.
//!
//! Each field becomes a bit set of the values it matches; the day-of-month and
//! day-of-week fields also remember whether they start with `*`, which decides (as in
//! cronie's `DOM_STAR`/`DOW_STAR`) whether the two combine with AND or OR.

use std::fmt;

/// Which of the five fields, with its range and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl FieldKind {
    /// All five, in crontab order.
    pub const ALL: [FieldKind; 5] = [
        FieldKind::Minute,
        FieldKind::Hour,
        FieldKind::DayOfMonth,
        FieldKind::Month,
        FieldKind::DayOfWeek,
    ];

    /// Lowest and highest value (day of week: 0 and 7 are both Sunday).
    pub fn bounds(self) -> (u8, u8) {
        match self {
            FieldKind::Minute => (0, 59),
            FieldKind::Hour => (0, 23),
            FieldKind::DayOfMonth => (1, 31),
            FieldKind::Month => (1, 12),
            FieldKind::DayOfWeek => (0, 7),
        }
    }

    fn names(self) -> &'static [&'static str] {
        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        match self {
            FieldKind::Month => &MONTHS,
            FieldKind::DayOfWeek => &DAYS,
            _ => &[],
        }
    }

    /// The first value a name stands for (`jan` is 1, `sun` is 0).
    fn name_base(self) -> u8 {
        if self == FieldKind::Month { 1 } else { 0 }
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldKind::Minute => "minute",
            FieldKind::Hour => "hour",
            FieldKind::DayOfMonth => "day-of-month",
            FieldKind::Month => "month",
            FieldKind::DayOfWeek => "day-of-week",
        })
    }
}

/// One parsed field: the values it matches and whether it was written from `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Bit `v` set: value `v` matches. Day of week: bit 7 is folded into bit 0.
    pub bits: u64,
    /// The field starts with `*` (`*`, `*/5`): cronie's test for "unrestricted".
    pub star: bool,
}

impl Field {
    /// Whether `value` matches.
    pub fn has(&self, value: u8) -> bool {
        self.bits & (1 << value) != 0
    }

    /// The matching values, ascending.
    pub fn values(&self) -> impl Iterator<Item = u8> + '_ {
        (0u8..64).filter(|v| self.has(*v))
    }
}

/// Parses one field as cronie does.
///
/// ```
/// use slotcron::crontab::{FieldKind, parse_field};
/// let f = parse_field("mon-fri", FieldKind::DayOfWeek).unwrap();
/// assert_eq!(f.values().collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
/// assert!(parse_field("5-1", FieldKind::Hour).is_err());
/// ```
///
/// # Errors
/// The reason, naming the field and the offending part.
pub fn parse_field(text: &str, kind: FieldKind) -> Result<Field, String> {
    if text.is_empty() {
        return Err(format!("the {kind} field is empty"));
    }
    let mut bits = 0u64;
    for part in text.split(',') {
        bits |= parse_part(part, kind).map_err(|why| format!("{kind} field `{text}`: {why}"))?;
    }
    if kind == FieldKind::DayOfWeek && bits & (1 << 7) != 0 {
        bits = (bits & !(1 << 7)) | 1;
    }
    Ok(Field {
        bits,
        star: text.starts_with('*'),
    })
}

/// One element of a comma list: `*`, `n`, `a-b`, each optionally `/step` (not `n/step`).
fn parse_part(part: &str, kind: FieldKind) -> Result<u64, String> {
    let (low, high) = kind.bounds();
    if part.is_empty() {
        return Err("an empty element in the list".into());
    }
    let (range, step) = match part.split_once('/') {
        Some((range, step)) => {
            let step: u8 = step
                .parse()
                .map_err(|_| format!("`{step}` is not a step (a number after `/`)"))?;
            if step == 0 || step > high {
                return Err(format!("step {step} is out of range 1-{high}"));
            }
            (range, Some(step))
        }
        None => (part, None),
    };
    let (start, end) = if range == "*" {
        (low, high)
    } else if let Some((a, b)) = range.split_once('-') {
        let (a, b) = (value(a, kind)?, value(b, kind)?);
        if a > b {
            return Err(format!("range `{range}` runs backwards ({a} > {b})"));
        }
        (a, b)
    } else {
        let v = value(range, kind)?;
        if step.is_some() {
            return Err(format!(
                "`{part}`: cron takes a step only after `*` or a range (write `{range}-{high}/..`)"
            ));
        }
        (v, v)
    };
    let step = step.unwrap_or(1);
    let mut bits = 0u64;
    let mut v = start;
    while v <= end {
        bits |= 1 << v;
        v = match v.checked_add(step) {
            Some(next) => next,
            None => break,
        };
    }
    Ok(bits)
}

/// A number within the field's bounds, or a name where the field has names.
fn value(text: &str, kind: FieldKind) -> Result<u8, String> {
    let (low, high) = kind.bounds();
    if text.is_empty() {
        return Err("a range needs a value on both sides of `-`".into());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let v: u32 = text
            .parse()
            .map_err(|_| format!("`{text}` is not a number"))?;
        if v < u32::from(low) || v > u32::from(high) {
            return Err(format!("{v} is out of range {low}-{high}"));
        }
        return Ok(v as u8);
    }
    let lower = text.to_ascii_lowercase();
    match kind.names().iter().position(|n| *n == lower) {
        Some(i) => Ok(kind.name_base() + i as u8),
        None if kind.names().is_empty() => Err(format!("`{text}` is not a number")),
        None => Err(format!(
            "`{text}` is neither a number nor a name ({} ...)",
            kind.names()[..3].join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, kind: FieldKind) -> Vec<u8> {
        parse_field(text, kind).unwrap().values().collect()
    }

    #[test]
    fn numbers_ranges_steps_lists_and_names() {
        assert_eq!(values("*/15", FieldKind::Minute), [0, 15, 30, 45]);
        assert_eq!(values("1-10/3", FieldKind::Minute), [1, 4, 7, 10]);
        assert_eq!(values("0,30", FieldKind::Minute), [0, 30]);
        assert_eq!(values("9-17", FieldKind::Hour).len(), 9);
        assert_eq!(values("JAN,jul-Aug", FieldKind::Month), [1, 7, 8]);
        assert_eq!(values("sat-7", FieldKind::DayOfWeek), [0, 6]);
        assert_eq!(values("7", FieldKind::DayOfWeek), [0]);
        assert_eq!(values("*/2", FieldKind::DayOfMonth)[..3], [1, 3, 5]);
        assert!(parse_field("*/2", FieldKind::DayOfMonth).unwrap().star);
        assert!(!parse_field("1-31", FieldKind::DayOfMonth).unwrap().star);
    }

    #[test]
    fn each_rejection_names_its_reason() {
        for (text, kind, reason) in [
            ("60", FieldKind::Minute, "60 is out of range 0-59"),
            ("5-1", FieldKind::Hour, "runs backwards"),
            ("*/0", FieldKind::Minute, "step 0 is out of range"),
            (
                "5/15",
                FieldKind::Minute,
                "a step only after `*` or a range",
            ),
            ("moon", FieldKind::DayOfWeek, "neither a number nor a name"),
            ("jan", FieldKind::Minute, "`jan` is not a number"),
            ("0", FieldKind::DayOfMonth, "0 is out of range 1-31"),
            ("1-", FieldKind::Hour, "both sides"),
            ("1,,2", FieldKind::Hour, "an empty element"),
            ("*/x", FieldKind::Hour, "not a step"),
            ("L", FieldKind::DayOfMonth, "not a number"),
        ] {
            let err = parse_field(text, kind).unwrap_err();
            assert!(err.contains(reason), "{text}: {err}");
            assert!(err.contains(&kind.to_string()), "{text}: {err}");
        }
    }
}
