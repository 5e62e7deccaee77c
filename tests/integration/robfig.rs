//! Exported CronJob schedules fire when slotcron fires, as Kubernetes reads them: a model
//! of Kubernetes' cron library (robfig/cron v3, `parser.go` and `spec.go`), written from
//! its source: `*` and `?` set a "star" bit that a step above 1 clears, `N/step` means
//! `N-max/step`, day of week is 0-6, and `dayMatches` ANDs the day fields when either has
//! the star bit, else ORs them. Random expressions from cron's grammar, in UTC.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use serde_json::Value;
use slotcron::config::{Settings, parse_job};

const STAR: u64 = 1 << 63;

/// A schedule as robfig/cron v3's standard parser reads it.
struct Robfig {
    /// minute, hour, day of month, month, day of week; bit `v` = value `v`, plus [`STAR`].
    fields: [u64; 5],
}

impl Robfig {
    fn parse(spec: &str) -> Robfig {
        let words: Vec<&str> = spec.split_whitespace().collect();
        assert_eq!(words.len(), 5, "{spec}");
        let bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)];
        let mut fields = [0; 5];
        for i in 0..5 {
            fields[i] = words[i]
                .split(',')
                .map(|r| range(r, bounds[i], spec))
                .fold(0, |a, b| a | b);
        }
        Robfig { fields }
    }

    fn has(&self, field: usize, v: u32) -> bool {
        self.fields[field] & (1 << v) != 0
    }

    fn day_matches(&self, t: DateTime<Utc>) -> bool {
        let dom = self.has(2, t.day());
        let dow = self.has(4, t.weekday().num_days_from_sunday());
        if self.fields[2] & STAR != 0 || self.fields[4] & STAR != 0 {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The first `n` activations after `after`, minute by minute (days that cannot match
    /// are stepped over).
    fn fires(&self, after: DateTime<Utc>, n: usize, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut t = after.with_second(0).unwrap() + Duration::minutes(1);
        let mut out = Vec::new();
        while out.len() < n && t <= until {
            if !(self.has(3, t.month()) && self.day_matches(t)) {
                t = (t + Duration::days(1))
                    .with_hour(0)
                    .unwrap()
                    .with_minute(0)
                    .unwrap();
                continue;
            }
            if self.has(1, t.hour()) && self.has(0, t.minute()) {
                out.push(t);
            }
            t += Duration::minutes(1);
        }
        out
    }
}

/// `getRange`: `*`/`?` or `a[-b]`, then `/step`.
fn range(expr: &str, (min, max): (u32, u32), spec: &str) -> u64 {
    let (range, step) = match expr.split_once('/') {
        Some((r, s)) => (r, Some(s.parse::<u32>().unwrap())),
        None => (expr, None),
    };
    let (mut start, mut end, mut extra) = (min, max, 0);
    if range == "*" || range == "?" {
        extra = STAR;
    } else {
        let parts: Vec<&str> = range.split('-').collect();
        start = parts[0]
            .parse()
            .unwrap_or_else(|_| panic!("{spec}: `{expr}` has a name"));
        end = match parts[..] {
            [_] if step.is_some() => max,
            [_] => start,
            [_, b] => b.parse().unwrap(),
            _ => panic!("{spec}: too many hyphens"),
        };
    }
    let step = step.unwrap_or(1);
    if step > 1 {
        extra = 0;
    }
    assert!(
        start >= min && end <= max && start <= end && step > 0,
        "{spec}: `{expr}` is refused by robfig"
    );
    (start..=end)
        .step_by(step as usize)
        .fold(extra, |bits, v| bits | 1 << v)
}

#[test]
fn exported_schedules_fire_when_slotcron_fires_as_kubernetes_reads_them() {
    let mut rng = fastrand::Rng::with_seed(8);
    let settings = Settings::builtin();
    let after: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let until = after + Duration::days(3 * 366);
    let (mut compared, mut refused) = (0, 0);
    for _ in 0..400 {
        let expr = crate::cron_conformance::random_expression(&mut rng);
        let text = format!("command: x\nschedule: '{expr}'\ntimezone: UTC\n");
        let Ok(job) = parse_job(std::path::Path::new("/jobs.d/j.yaml"), &text, &settings) else {
            continue;
        };
        let exported = match slotcron::export::kubernetes::export(&job, "img") {
            Ok(exported) => exported,
            Err(e) => {
                // Only an AND of two restricted day fields has no robfig form.
                assert!(
                    e.reason.contains("ANDs its day-of-month and day-of-week"),
                    "{expr}: {e}"
                );
                refused += 1;
                continue;
            }
        };
        let doc: Value = serde_saphyr::from_str(&exported.files[0].text).unwrap();
        let schedule = doc["spec"]["schedule"].as_str().unwrap();
        let ours: Vec<DateTime<Utc>> =
            std::iter::successors(job.next_fire(after), |t| job.next_fire(*t))
                .take_while(|t| *t <= until)
                .take(200)
                .collect();
        let theirs = Robfig::parse(schedule).fires(after, 200, until);
        assert_eq!(ours, theirs, "`{expr}` exported as `{schedule}`");
        compared += 1;
    }
    assert!(
        compared > 300 && refused > 0,
        "{compared} compared, {refused} refused"
    );
}
