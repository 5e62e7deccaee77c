//! The grammar, the day rule and the messages, on the cases issue 12 reported.

use super::civil::DAY;
use super::*;

/// The first `n` matches in UTC from a date (wall time = UTC), as `YYYY-MM-DD HH:MM:SS`.
fn matches(expr: &str, from: (i64, u8, u8), n: usize) -> Vec<String> {
    let expr = CronExpr::parse(expr).unwrap();
    let mut at = days_from_civil(from.0, from.1, from.2) * DAY;
    let mut out = Vec::new();
    while out.len() < n {
        let found = expr.next_match(at, at + 400 * 366 * DAY).expect("a match");
        let c = civil::Civil::from_wall(found);
        out.push(format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        ));
        at = found + 1;
    }
    out
}

#[test]
fn day_fields_and_when_either_starts_with_a_star_and_or_otherwise() {
    // cronie: an odd day that is a Monday; 2027-03-03 is a Wednesday, 03-15 a Monday.
    assert_eq!(
        matches("0 0 */2 * 1", (2027, 3, 2), 1),
        ["2027-03-15 00:00:00"]
    );
    // The 1st that is a Sunday, Tuesday, Thursday or Saturday: 2027-04-01 is a Thursday.
    assert_eq!(
        matches("0 0 1 * */2", (2027, 3, 2), 1),
        ["2027-04-01 00:00:00"]
    );
    // Both restricted: the 13th or a Friday. 2026-11-14 is a Saturday.
    assert_eq!(
        matches("0 0 13 * 5", (2026, 11, 14), 3),
        [
            "2026-11-20 00:00:00",
            "2026-11-27 00:00:00",
            "2026-12-04 00:00:00"
        ]
    );
    // `1-31` is restricted as written (OR with Mondays: every day); `*` is not.
    assert_eq!(matches("0 0 1-31 * 1", (2026, 11, 3), 2).len(), 2);
    assert_eq!(
        matches("0 0 1-31 * 1", (2026, 11, 3), 1),
        ["2026-11-03 00:00:00"]
    );
    assert_eq!(
        matches("0 0 * * 1", (2026, 11, 3), 1),
        ["2026-11-09 00:00:00"]
    );
}

#[test]
fn nicknames_mean_what_they_mean_in_cronie() {
    for (nick, expr) in [
        ("@yearly", "0 0 1 1 *"),
        ("@ANNUALLY", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ] {
        assert_eq!(
            matches(nick, (2026, 2, 27), 5),
            matches(expr, (2026, 2, 27), 5),
            "{nick}"
        );
    }
    // cronie's flags: `@hourly` is a wildcard job, `@daily` a fixed-time one.
    assert!(CronExpr::parse("@hourly").unwrap().has_wildcard_time());
    assert!(!CronExpr::parse("@daily").unwrap().has_wildcard_time());
    let err = CronExpr::parse("@fortnightly").unwrap_err().to_string();
    assert_eq!(
        err,
        "unknown nickname `@fortnightly`, expected one of @yearly, @annually, @monthly, \
         @weekly, @daily, @midnight, @hourly, @reboot, @every <interval>"
    );
}

#[test]
fn the_grammar_is_cronies() {
    for (expr, first) in [
        // Names in any case, 7 and `sun` for Sunday, a range ending at Sunday.
        ("0 0 * JAN-mar Sun", "2026-03-01 00:00:00"),
        ("0 0 * * 7", "2026-03-01 00:00:00"),
        ("0 0 * * fri-sun", "2026-02-27 00:00:00"),
        // Steps larger than their range select the start only, as in cronie.
        ("1-59/61 * * * *", "2026-02-27 00:01:00"),
        ("*/100 5 * * *", "2026-02-27 05:00:00"),
        ("0,30 */5 * * *", "2026-02-27 00:00:00"),
        ("*/20 * * * * *", "2026-02-27 00:00:00"),
        ("10 0 12 * * *", "2026-02-27 12:00:10"),
        ("0 0 29 2 *", "2028-02-29 00:00:00"),
    ] {
        assert_eq!(matches(expr, (2026, 2, 27), 1), [first], "{expr}");
    }
}

#[test]
fn every_rejection_names_the_field_the_element_and_what_the_field_takes() {
    for (expr, message) in [
        ("60 * * * *", "minute field: `60` is out of range 0-59"),
        (
            "* * * * MONDAY",
            "day of week field: `MONDAY` is not a number 0-7 or a name (sun, mon, tue, wed, thu, fri, sat)",
        ),
        ("0 24 * * *", "hour field: `24` is out of range 0-23"),
        ("0 0 0 * *", "day of month field: `0` is out of range 1-31"),
        (
            "0 0 * 13 *",
            "month field: `13` is out of range 1-12 or a name (jan, feb, mar, apr, may, jun, jul, aug, sep, oct, nov, dec)",
        ),
        (
            "1,,2 * * * *",
            "minute field: `1,,2` has an empty element in its list",
        ),
        (
            "1, * * * *",
            "minute field: `1,` has an empty element in its list",
        ),
        (
            "0 0 * * */MON",
            "day of week field: `*/MON`: the step after `/` must be a number, 1 or more",
        ),
        (
            "*/0 * * * *",
            "minute field: `*/0`: a step of 0 never advances; use 1 or more",
        ),
        (
            "5/15 * * * *",
            "minute field: `5/15`: cron takes a step only after `*` or a range (write `5-59/...`)",
        ),
        (
            "0 5-1 * * *",
            "hour field: `5-1` runs backwards (5 > 1); write the range low to high",
        ),
        (
            "0 1- * * *",
            "hour field: `1-`: a range needs a value on both sides of `-` (0-23)",
        ),
        (
            "0 0 L * *",
            "day of month field: `L`: `L` (\"the last\") is Quartz syntax; cron does not have it",
        ),
        (
            "0 0 15W * *",
            "`W` (\"the nearest weekday\") is Quartz syntax",
        ),
        ("0 0 * * 5L", "`L` (\"the last\") is Quartz syntax"),
        ("0 0 * * 5#3", "`#` (\"the nth weekday\") is Quartz syntax"),
        (
            "0 0 ? * 1",
            "`?` (\"no specific value\") is Quartz syntax: write `*`",
        ),
        (
            "0 0~30 * * *",
            "`~` (cronie's random value) is not supported: use `jitter:`",
        ),
        ("60 * * * * *", "second field: `60` is out of range 0-59"),
        ("* * *", "a cron expression has 5 fields"),
        ("0 0 * * * * *", "this one has 7"),
        ("0 0 30 2 *", "never fires"),
        ("0 0 31 4,6,9,11 *", "never fires"),
    ] {
        let err = CronExpr::parse(expr).unwrap_err().to_string();
        assert!(err.contains(message), "{expr}: {err}");
    }
}

#[test]
fn an_expression_is_small() {
    // The daemon holds one per job (ADR 0012): bit sets, flags and the text.
    assert!(
        std::mem::size_of::<CronExpr>() <= 48,
        "{}",
        std::mem::size_of::<CronExpr>()
    );
}
