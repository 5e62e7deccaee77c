//! What the scheduler does around a job's fire times: a random delay (`jitter`), whether a
//! missed run is made up (`catch_up`), and when repeated failures pause the job (`breaker`).
//! Parsed here from the raw fields so [`super::job`] only assembles them.

use std::time::Duration;

use serde::Serialize;

use super::fields::Fields;
use super::raw::RawBreaker;
use super::units::{Scalar, duration_text, format_duration};

/// The largest `jitter`: a delay longer than an hour is a different schedule, not jitter.
pub const MAX_JITTER: Duration = Duration::from_secs(3600);
/// `breaker.cooldown` when the breaker is on and no cooldown is given.
pub const DEFAULT_BREAKER_COOLDOWN: Duration = Duration::from_secs(600);

/// Whether runs missed while the daemon was down (or the machine asleep) are made up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CatchUp {
    /// Missed runs are skipped; the next run is the next fire time (cron's behaviour).
    #[default]
    None,
    /// However many fire times were missed, the job runs once on start, then on schedule.
    Once,
}

/// A circuit breaker: after `failures` failed runs in a row the job is not started for
/// `cooldown`; the first run after it decides whether the breaker closes again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Breaker {
    /// Consecutive failed runs that open the breaker, 1 to 1000.
    pub failures: u32,
    /// How long an open breaker keeps the job from starting; at least 1s.
    #[serde(serialize_with = "duration_text::serialize")]
    pub cooldown: Duration,
}

/// `jitter:`; `0s` means none.
pub fn jitter(f: &mut Fields<'_>, value: Option<&Scalar>) -> Option<Duration> {
    let jitter = f.duration("jitter", value)?;
    if jitter > MAX_JITTER {
        f.problem(
            "jitter",
            written(value),
            format!("must be at most {}", format_duration(MAX_JITTER)),
        );
        return None;
    }
    Some(jitter).filter(|j| !j.is_zero())
}

/// `catch_up:`, default [`CatchUp::None`].
pub fn catch_up(f: &mut Fields<'_>, value: Option<&str>) -> CatchUp {
    f.choice(
        "catch_up",
        value,
        &[("none", CatchUp::None), ("once", CatchUp::Once)],
    )
    .unwrap_or_default()
}

/// `breaker:`; `None` (off) when absent or invalid (then with a problem).
pub fn breaker(f: &mut Fields<'_>, raw: Option<&RawBreaker>) -> Option<Breaker> {
    let raw = raw?;
    if raw.failures.is_none() {
        f.problem(
            "breaker.failures",
            "",
            "is required when `breaker` is given (e.g. `breaker: { failures: 3, cooldown: 10m }`)",
        );
    }
    let failures = f.integer("breaker.failures", raw.failures.as_ref(), 1..=1000);
    let cooldown = f.duration("breaker.cooldown", raw.cooldown.as_ref());
    if let Some(cooldown) = cooldown
        && cooldown < Duration::from_secs(1)
    {
        f.problem(
            "breaker.cooldown",
            written(raw.cooldown.as_ref()),
            "must be at least 1s",
        );
        return None;
    }
    Some(Breaker {
        failures: u32::try_from(failures?).ok()?,
        cooldown: cooldown.unwrap_or(DEFAULT_BREAKER_COOLDOWN),
    })
}

/// A value as the file wrote it, for a problem.
fn written(value: Option<&Scalar>) -> String {
    value.map(ToString::to_string).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Job, Problem, Settings, parse_job};

    fn job(text: &str) -> Result<Job, Vec<Problem>> {
        parse_job(Path::new("/jobs.d/sync.yaml"), text, &Settings::builtin())
    }

    fn problems(text: &str) -> String {
        let problems = job(text).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        text.join("\n")
    }

    #[test]
    fn the_scheduler_fields_default_to_off() {
        let j = job("command: x\n").unwrap();
        assert_eq!(
            (j.jitter, j.catch_up, j.breaker),
            (None, CatchUp::None, None)
        );
        assert!(j.after.is_empty());
    }

    #[test]
    fn the_scheduler_fields_are_read() {
        let j = job(
            "command: x\njitter: 30s\ncatch_up: once\nafter: [extract]\n\
             breaker: { failures: 3, cooldown: 15m }\n",
        )
        .unwrap();
        assert_eq!(j.jitter, Some(Duration::from_secs(30)));
        assert_eq!(j.catch_up, CatchUp::Once);
        assert_eq!(j.after, ["extract"]);
        assert_eq!(
            j.breaker,
            Some(Breaker {
                failures: 3,
                cooldown: Duration::from_secs(900)
            })
        );
        let json = serde_json::to_value(&j).unwrap();
        assert_eq!(json["jitter"], "30s");
        assert_eq!(json["catch_up"], "once");
        assert_eq!(json["breaker"]["cooldown"], "15m");
    }

    #[test]
    fn zero_jitter_is_none_and_the_cooldown_has_a_default() {
        let j = job("command: x\njitter: 0s\nbreaker: { failures: 1 }\n").unwrap();
        assert_eq!(j.jitter, None);
        assert_eq!(j.breaker.unwrap().cooldown, DEFAULT_BREAKER_COOLDOWN);
    }

    #[test]
    fn bad_values_name_field_and_value() {
        let all = problems(
            "command: x\njitter: 2h\ncatch_up: all\nafter: [sync]\n\
             breaker: { failures: 0, cooldown: 500ms }\n",
        );
        for needle in [
            "/jobs.d/sync.yaml: field `jitter`: must be at most 1h (value: `2h`)",
            "field `catch_up`: must be one of: none, once (value: `all`)",
            "field `after`: a job cannot name itself (value: `sync`)",
            "field `breaker.failures`: must be a whole number from 1 to 1000 (value: `0`)",
            "field `breaker.cooldown`: must be at least 1s (value: `500ms`)",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in:\n{all}");
        }
    }

    #[test]
    fn a_breaker_needs_failures_and_a_jitter_needs_a_unit() {
        let all = problems("command: x\njitter: 30\nbreaker: { cooldown: 5m }\n");
        assert!(
            all.contains("field `jitter`: a duration needs a unit"),
            "{all}"
        );
        assert!(
            all.contains("field `breaker.failures`: is required when `breaker` is given"),
            "{all}"
        );
        let unknown = problems("command: x\nbreaker: { failures: 2, coldown: 5m }\n");
        assert!(unknown.contains("unknown field `coldown`"), "{unknown}");
    }
}
