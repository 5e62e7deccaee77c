//! A script's schedule from what its comments and path say, tried in this order (the
//! first rule whose result slotcron's own schedule parser accepts wins):
//! 1. a directive: `# Schedule: 0 2 * * *`, `# Cron: */5 * * * *` (or a phrase after it);
//! 2. a nickname in a comment: `@daily`, `@hourly`, `@every 10m`, `@reboot` ...;
//! 3. a crontab line quoted in a comment (`# 30 4 * * * /opt/bin/sync.sh`);
//! 4. a phrase in a comment: "every 5 minutes", "hourly", "daily at 2am",
//!    "every day at 14:30", "every monday at 3am", "weekly", "nightly" ...;
//! 5. the path: a run-parts folder (`cron.daily/`) or a frequency word in the file name;
//!
//! else `manual`. Pure functions; no I/O.

use std::path::Path;

use super::Chosen;
use super::script::{Comment, directive};
use crate::config::Schedule;

/// What `manual` is written as.
pub const MANUAL: &str = "manual";

/// The schedule text for a script, validated by [`Schedule::parse`], with the reasons.
pub fn schedule(path: &Path, comments: &[Comment]) -> Chosen<String> {
    let mut reasons = Vec::new();
    for c in comments {
        if let Some(value) = directive(&c.text, &["schedule", "cron", "crontab"]) {
            let text = match cron_prefix(value) {
                text if Schedule::parse(&text).is_ok() => text,
                text => phrase(value).unwrap_or(text),
            };
            let why = format!("line {}: directive `{}`", c.line, c.text);
            if let Some(found) = accept(text, why, &mut reasons) {
                return Chosen::with(found, reasons);
            }
        }
    }
    for c in comments {
        if let Some(nick) = nickname(&c.text) {
            let why = format!("line {}: nickname in `{}`", c.line, c.text);
            if let Some(found) = accept(nick, why, &mut reasons) {
                return Chosen::with(found, reasons);
            }
        }
    }
    for c in comments {
        if let Some(expr) = crontab_line(&c.text) {
            let why = format!("line {}: crontab line `{}`", c.line, c.text);
            if let Some(found) = accept(expr, why, &mut reasons) {
                return Chosen::with(found, reasons);
            }
        }
    }
    for c in comments {
        if let Some(expr) = phrase(&c.text) {
            let why = format!("line {}: phrase in `{}`", c.line, c.text);
            if let Some(found) = accept(expr, why, &mut reasons) {
                return Chosen::with(found, reasons);
            }
        }
    }
    if let Some((expr, why)) = from_path(path)
        && let Some(found) = accept(expr, why, &mut reasons)
    {
        return Chosen::with(found, reasons);
    }
    reasons.push("no schedule in comments or path -> `manual`".to_owned());
    Chosen::with(MANUAL.to_owned(), reasons)
}

/// `text` if slotcron's schedule parser accepts it; either way a reason is recorded.
fn accept(text: String, why: String, reasons: &mut Vec<String>) -> Option<String> {
    match Schedule::parse(&text) {
        Ok(_) => {
            reasons.push(format!("{why} -> `{text}`"));
            Some(text)
        }
        Err(e) => {
            reasons.push(format!("{why}: `{text}` rejected ({e})"));
            None
        }
    }
}

/// A directive's value as a cron expression: all of it if it parses, else its first five
/// fields (`0 2 * * * /usr/bin/backup` -> `0 2 * * *`).
fn cron_prefix(value: &str) -> String {
    let value = value.trim().trim_matches(['"', '\'', '`']);
    if Schedule::parse(value).is_ok() {
        return value.to_owned();
    }
    let fields: Vec<&str> = value.split_whitespace().collect();
    if fields.len() > 5 && !value.starts_with('@') {
        return fields[..5].join(" ");
    }
    value.to_owned()
}

/// `@daily`, `@every 10m`, ... anywhere in a comment.
fn nickname(comment: &str) -> Option<String> {
    let mut words = comment.split_whitespace();
    while let Some(word) = words.next() {
        let word = word.trim_end_matches([',', '.', ';', ')']);
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight"
            | "@hourly" | "@reboot" => return Some(lower),
            "@every" => {
                let interval = words.next()?.trim_end_matches([',', '.', ';', ')']);
                return Some(format!("@every {interval}"));
            }
            _ => {}
        }
    }
    None
}

/// A comment that starts with five cron fields, at least one of them `*` (so "1 2 3 4 5"
/// in prose is not taken for a schedule).
fn crontab_line(comment: &str) -> Option<String> {
    let fields: Vec<&str> = comment.split_whitespace().take(5).collect();
    let cronish = |f: &&str| {
        f.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '/' | ',' | '-'))
    };
    (fields.len() == 5 && fields.iter().all(cronish) && fields.iter().any(|f| f.contains('*')))
        .then(|| fields.join(" "))
}

/// Lower-case words of a text; `:` kept inside words so `14:30` stays one.
fn words(text: &str) -> Vec<String> {
    text.to_ascii_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .map(|w| w.trim_matches(':'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// A frequency phrase as a schedule, if the text holds one.
pub fn phrase(text: &str) -> Option<String> {
    let w = words(text);
    let at = |i: usize| w.get(i).map(String::as_str);
    let time = time_after(&w);
    for i in 0..w.len() {
        match (at(i), at(i + 1), at(i + 2)) {
            (Some("every"), Some("minute"), _) => return Some("* * * * *".into()),
            (Some("every"), Some(n), Some(unit)) if n.parse::<u32>().is_ok() => {
                let n: u32 = n.parse().ok()?;
                if let Some(expr) = interval(n, unit) {
                    return Some(expr);
                }
            }
            (Some("every"), Some("hour"), _) | (Some("hourly"), _, _) => {
                return Some("0 * * * *".into());
            }
            (Some("every"), Some(day), _) if WEEKDAYS.contains(&day) => {
                let (h, m) = time.unwrap_or((0, 0));
                let dow = WEEKDAYS.iter().position(|d| d == &day)?;
                return Some(format!("{m} {h} * * {dow}"));
            }
            (Some("daily" | "nightly"), _, _)
            | (Some("every" | "each" | "once"), Some("day" | "night" | "evening"), _)
            | (Some("once"), Some("a"), Some("day")) => {
                let default = if matches!(at(i), Some("nightly")) || at(i + 1) == Some("night") {
                    (2, 0)
                } else {
                    (0, 0)
                };
                let (h, m) = time.unwrap_or(default);
                return Some(format!("{m} {h} * * *"));
            }
            (Some("weekly"), _, _) | (Some("every" | "once"), Some("week"), _) => {
                let (h, m) = time.unwrap_or((0, 0));
                let dow = w.iter().find_map(|d| WEEKDAYS.iter().position(|x| x == d));
                return Some(format!("{m} {h} * * {}", dow.unwrap_or(0)));
            }
            (Some("monthly"), _, _) | (Some("every" | "once"), Some("month"), _) => {
                let (h, m) = time.unwrap_or((0, 0));
                return Some(format!("{m} {h} 1 * *"));
            }
            (Some("yearly" | "annually"), _, _) | (Some("every"), Some("year"), _) => {
                return Some("0 0 1 1 *".into());
            }
            _ => {}
        }
    }
    None
}

/// "every N minutes/hours/days" as cron when N divides its unit evenly, else `@every`.
fn interval(n: u32, unit: &str) -> Option<String> {
    if n == 0 {
        return None;
    }
    Some(match unit {
        "minute" | "minutes" | "min" | "mins" if 60 % n == 0 => format!("*/{n} * * * *"),
        "minute" | "minutes" | "min" | "mins" => format!("@every {n}m"),
        "hour" | "hours" | "hrs" if 24 % n == 0 => format!("0 */{n} * * *"),
        "hour" | "hours" | "hrs" => format!("@every {n}h"),
        "second" | "seconds" | "secs" if 60 % n == 0 => format!("*/{n} * * * * *"),
        "second" | "seconds" | "secs" => format!("@every {n}s"),
        "day" | "days" => format!("@every {n}d"),
        _ => return None,
    })
}

/// The time after an "at" (`at 2am`, `at 2 am`, `at 14:30`, `at 2:30pm`, `at noon`,
/// `at midnight`) as (hour, minute).
fn time_after(w: &[String]) -> Option<(u32, u32)> {
    let i = w.iter().position(|x| x == "at")?;
    let first = w.get(i + 1)?.as_str();
    match first {
        "noon" => return Some((12, 0)),
        "midnight" => return Some((0, 0)),
        _ => {}
    }
    let (clock, suffix) = match first.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => (&first[..at], &first[at..]),
        None => (first, w.get(i + 2).map_or("", String::as_str)),
    };
    let (h, m) = match clock.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None => (clock.parse::<u32>().ok()?, 0),
    };
    let h = match suffix {
        "am" if h == 12 => 0,
        "am" => h,
        "pm" if h == 12 => 12,
        "pm" => h + 12,
        _ => h,
    };
    (h < 24 && m < 60).then_some((h, m))
}

/// A run-parts folder (`cron.daily`) above the script, or a frequency word in its name.
fn from_path(path: &Path) -> Option<(String, String)> {
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    if let Some(dir) = parent {
        let nick = match dir {
            "cron.hourly" => Some("@hourly"),
            "cron.daily" => Some("@daily"),
            "cron.weekly" => Some("@weekly"),
            "cron.monthly" => Some("@monthly"),
            _ => None,
        };
        if let Some(nick) = nick {
            return Some((nick.to_owned(), format!("run-parts folder `{dir}`")));
        }
    }
    let stem = path.file_stem()?.to_str()?;
    let spaced = super::classify::split_name(stem).join(" ");
    let expr = phrase(&spaced)?;
    Some((expr, format!("file name `{stem}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(lines: &[&str]) -> Vec<Comment> {
        lines
            .iter()
            .enumerate()
            .map(|(i, t)| Comment {
                line: i + 2,
                text: (*t).to_owned(),
            })
            .collect()
    }

    fn sched(path: &str, lines: &[&str]) -> String {
        schedule(Path::new(path), &c(lines)).value
    }

    #[test]
    fn directives_come_first_and_take_cron_or_phrases() {
        assert_eq!(
            sched("a.sh", &["every hour", "Schedule: 0 2 * * *"]),
            "0 2 * * *"
        );
        assert_eq!(sched("a.sh", &["Cron: */5 * * * *"]), "*/5 * * * *");
        assert_eq!(
            sched("a.sh", &["crontab: 0 2 * * * /usr/bin/backup --all"]),
            "0 2 * * *"
        );
        assert_eq!(
            sched("a.sh", &["Schedule: every 15 minutes"]),
            "*/15 * * * *"
        );
        assert_eq!(sched("a.sh", &["Schedule: @weekly"]), "@weekly");
    }

    #[test]
    fn an_invalid_directive_is_reported_and_the_next_rule_is_tried() {
        let got = schedule(
            Path::new("a.sh"),
            &c(&["Schedule: 0 25 * * *", "runs hourly"]),
        );
        assert_eq!(got.value, "0 * * * *");
        assert!(got.reasons[0].contains("rejected"), "{:?}", got.reasons);
    }

    #[test]
    fn nicknames_and_crontab_lines_in_comments() {
        assert_eq!(sched("a.sh", &["Runs @daily, quietly."]), "@daily");
        assert_eq!(sched("a.sh", &["see @every 90s)"]), "@every 90s");
        assert_eq!(
            sched("a.sh", &["30 4 * * 1-5 /opt/sync.sh"]),
            "30 4 * * 1-5"
        );
        assert_eq!(sched("a.sh", &["1 2 3 4 5 reasons to run this"]), "manual");
    }

    #[test]
    fn phrases() {
        for (text, want) in [
            ("Runs every 5 minutes.", "*/5 * * * *"),
            ("every 7 minutes", "@every 7m"),
            ("every minute", "* * * * *"),
            ("every 6 hours", "0 */6 * * *"),
            ("Hourly stats refresh", "0 * * * *"),
            ("Nightly backup of the DB", "0 2 * * *"),
            ("daily at 2am", "0 2 * * *"),
            ("Daily at 2 pm", "0 14 * * *"),
            ("every day at 14:30", "30 14 * * *"),
            ("runs daily at 12am", "0 0 * * *"),
            ("every night at 11:15pm", "15 23 * * *"),
            ("once a day", "0 0 * * *"),
            ("weekly", "0 0 * * 0"),
            ("weekly on friday at 6pm", "0 18 * * 5"),
            ("every monday at 3am", "0 3 * * 1"),
            ("monthly at noon", "0 12 1 * *"),
            ("every 30 seconds", "*/30 * * * * *"),
            ("every 2 days", "@every 2d"),
        ] {
            assert_eq!(phrase(text).as_deref(), Some(want), "{text}");
        }
        for text in ["the daily-ish... no", "every 0 minutes", "at 2am"] {
            let got = phrase(text);
            assert!(got.is_none() || text.contains("daily"), "{text}: {got:?}");
        }
        assert_eq!(phrase("every 0 minutes"), None);
    }

    #[test]
    fn impossible_times_are_not_read() {
        assert_eq!(phrase("daily at 25:00").as_deref(), Some("0 0 * * *"));
    }

    #[test]
    fn path_rules_run_parts_folders_and_name_words() {
        assert_eq!(sched("/etc/cron.daily/logrotate", &[]), "@daily");
        assert_eq!(sched("/etc/cron.hourly/x", &[]), "@hourly");
        assert_eq!(sched("/srv/jobs/hourly-sync.sh", &[]), "0 * * * *");
        assert_eq!(sched("/srv/jobs/nightlyBackup.php", &[]), "0 2 * * *");
        let got = schedule(Path::new("/srv/jobs/reindex.sh"), &[]);
        assert_eq!(got.value, MANUAL);
        assert_eq!(got.reasons, ["no schedule in comments or path -> `manual`"]);
    }
}
