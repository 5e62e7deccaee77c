//! A parsed cron expression, kept small for a daemon that holds thousands of them.
//!
//! croner 4.0.3 stores each field of an expression as a bitfield vector indexed by value.
//! The year field spans 1..=5000, so every parsed `Cron` owns a 5,001-byte vector: about
//! 5 KB of the 5.5 KB a parsed expression takes. slotcron disallows a year field, so that
//! component is the same wildcard in every expression. [`CronExpr`] keeps it once, in
//! [`ANY_YEAR`], and lends croner a complete `Cron` for the length of one search
//! (`docs/adr/0012-daemon-memory.md`).

use std::fmt;
use std::sync::LazyLock;

use croner::Cron;
use croner::errors::CronError;
use croner::parser::{CronParser, Seconds, Year};

/// A cron expression that parsed: 5 fields, or 6 with a leading seconds field; nicknames
/// (`@daily`) expanded by croner.
#[derive(Clone)]
pub struct CronExpr {
    /// croner's parse (boxed: a `Cron` is 312 bytes, and a [`Schedule`](super::Schedule)
    /// of another kind need not carry them). Invariant: its year component is either empty,
    /// standing for [`ANY_YEAR`]'s (the only year field slotcron's parser yields), or
    /// exactly what croner parsed.
    cron: Box<Cron>,
}

/// The parser every job's schedule goes through: optional seconds, no year field.
fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
}

/// A parse whose year component is the one every expression gets: "every year".
static ANY_YEAR: LazyLock<Cron> = LazyLock::new(|| {
    parser()
        .parse("* * * * *")
        .expect("a valid cron expression")
});

impl CronExpr {
    /// Parses `expr`, without a year field.
    ///
    /// # Errors
    /// croner's error for a malformed expression.
    pub fn parse(expr: &str) -> Result<CronExpr, CronError> {
        let mut cron = parser().parse(expr)?;
        if cron.pattern.years == ANY_YEAR.pattern.years {
            cron.pattern.years = Default::default();
        }
        Ok(CronExpr {
            cron: Box::new(cron),
        })
    }

    /// Runs `f` on the complete `Cron`, its year component restored. The restore is a
    /// 5 KB copy, small next to a search.
    pub fn with_cron<R>(&self, f: impl FnOnce(&Cron) -> R) -> R {
        if self.cron.pattern.years != Default::default() {
            return f(&self.cron);
        }
        let mut cron = Cron::clone(&self.cron);
        cron.pattern.years = ANY_YEAR.pattern.years.clone();
        f(&cron)
    }

    /// Whether the minute or hour field (or, with seconds, the seconds field) starts from
    /// `*`: cronie's line between wildcard and fixed-time jobs.
    pub fn has_wildcard_time(&self) -> bool {
        let pattern = &self.cron.pattern;
        pattern.seconds.from_wildcard
            || pattern.minutes.from_wildcard
            || pattern.hours.from_wildcard
    }

    /// The expression as croner read it (nicknames as written).
    pub fn as_str(&self) -> &str {
        self.cron.pattern.as_str()
    }
}

impl fmt::Debug for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CronExpr").field(&self.as_str()).finish()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn the_year_component_is_shared_and_searches_see_it_whole() {
        for expr in ["17 3 * * *", "*/20 * * * * *", "0 0 29 2 *", "@weekly"] {
            let parsed = CronExpr::parse(expr).unwrap();
            assert!(
                parsed.cron.pattern.years == Default::default(),
                "{expr}: the year component is not kept per expression"
            );
            let full = parser().parse(expr).unwrap();
            parsed.with_cron(|cron| assert!(*cron == full, "{expr}: restored as parsed"));
        }
        // 2027 and 2028 are searched through to reach the next February 29th.
        let leap = CronExpr::parse("0 0 29 2 *").unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let next = leap.with_cron(|c| c.find_next_occurrence(&after, false).unwrap());
        assert_eq!(next, Utc.with_ymd_and_hms(2028, 2, 29, 0, 0, 0).unwrap());
    }
}
