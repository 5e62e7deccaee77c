//! `slotcron next JOB` and `slotcron next --expr EXPR`: fire times in the schedule's zone
//! and in UTC, from the configuration alone (no daemon needed), from now or from any
//! instant (`--from`), like `systemd-analyze calendar --iterations --base-time`.
//! Daylight-saving rules are those of [`crate::config::Schedule::next_fire`].

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::Args;
use serde::Serialize;

use crate::config::{Job, Loaded, Schedule, Zone};

use super::context;

#[derive(Debug, Args)]
pub struct NextArgs {
    /// The job's name (or give `--expr`).
    #[arg(required_unless_present = "expr", conflicts_with = "expr")]
    pub job: Option<String>,
    /// A schedule that is in no job file, as a job file would write it.
    #[arg(long, value_name = "SCHEDULE")]
    pub expr: Option<String>,
    /// With `--expr`: the IANA zone to read it in (default: the machine's).
    #[arg(long, value_name = "ZONE", requires = "expr")]
    pub tz: Option<String>,
    /// Count from this instant instead of now: RFC 3339 (`2026-03-29T00:30:00Z`), or
    /// `YYYY-MM-DD HH:MM[:SS]` on the schedule's wall clock.
    #[arg(long, value_name = "TIME", value_parser = parse_from, alias = "after")]
    pub from: Option<From>,
    /// How many fire times to print (1 to 1000).
    #[arg(long, short = 'n', default_value_t = 5,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub count: u16,
    /// Print a JSON array of `{"local": RFC 3339, "utc": RFC 3339}` objects.
    #[arg(long)]
    pub json: bool,
}

/// Where `--from` starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    /// An instant (RFC 3339 carries its offset).
    Instant(DateTime<Utc>),
    /// A wall-clock time, read in the schedule's zone.
    Wall(jiff::civil::DateTime),
}

/// One fire time of `next --json`.
#[derive(Debug, Serialize)]
struct Fire {
    /// On the schedule's zone's wall clock, with its offset.
    local: String,
    /// The same instant in UTC (`Z`).
    utc: String,
}

/// What is being previewed: a job, or an expression from the command line.
struct Subject {
    /// The job's name, or `--expr`.
    name: String,
    /// After the header: whether the daemon will start it.
    note: &'static str,
    schedule: Schedule,
    text: String,
    zone: Zone,
}

pub fn next(config: Option<&Path>, args: &NextArgs) -> Result<ExitCode> {
    let subject = match (&args.job, &args.expr) {
        (_, Some(expr)) => expression(expr, args.tz.as_deref())?,
        (Some(name), None) => {
            let loaded = context::load_for_job(config, name)?;
            let job = find(&loaded, name)?;
            job_subject(job)
        }
        (None, None) => bail!("give a job's name or --expr"),
    };
    let after = match &args.from {
        None => Utc::now(),
        Some(From::Instant(at)) => *at,
        Some(From::Wall(wall)) => subject.zone.instant_of(*wall).with_context(|| {
            format!(
                "--from `{wall}` does not exist in {}: the clock skips it",
                subject.zone
            )
        })?,
    };
    let times: Vec<DateTime<Utc>> =
        std::iter::successors(subject.schedule.next_fire(&subject.zone, after), |t| {
            subject.schedule.next_fire(&subject.zone, *t)
        })
        .take(usize::from(args.count))
        .collect();
    if args.json {
        let fires: Vec<Fire> = times
            .iter()
            .map(|t| Fire {
                local: subject.zone.rfc3339(*t),
                utc: t.to_rfc3339_opts(SecondsFormat::Secs, true),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&fires)?);
        if times.is_empty() {
            eprintln!("{}", no_fire_times(&subject));
        }
    } else if times.is_empty() {
        println!("{}", no_fire_times(&subject));
    } else {
        print!("{}", render(&subject, &times));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--expr` and `--tz`, checked as a job file's `schedule:` and `timezone:` would be.
fn expression(expr: &str, tz: Option<&str>) -> Result<Subject> {
    let schedule = Schedule::parse(expr).with_context(|| format!("--expr `{expr}`"))?;
    let zone = match tz {
        None => Zone::Local,
        Some(name) => Zone::named(name).with_context(|| {
            format!("--tz `{name}`: not an IANA time zone name (e.g. Europe/Berlin, UTC)")
        })?,
    };
    Ok(Subject {
        name: "--expr".to_owned(),
        note: "",
        schedule,
        text: expr.trim().to_owned(),
        zone,
    })
}

fn job_subject(job: &Job) -> Subject {
    let note = if job.enabled {
        ""
    } else {
        " (disabled: the daemon will not start it)"
    };
    Subject {
        name: job.name.clone(),
        note,
        schedule: job.schedule.clone(),
        text: job.schedule_text.clone(),
        zone: job.zone(),
    }
}

/// The loaded job, or an error naming it (with its file's problems if it does not load).
fn find<'a>(loaded: &'a Loaded, name: &str) -> Result<&'a Job> {
    if let Some(job) = loaded.catalog.jobs.get(name) {
        return Ok(job);
    }
    let broken: Vec<String> = loaded
        .catalog
        .problems
        .iter()
        .filter(|p| p.file.file_stem().is_some_and(|s| s == name))
        .map(ToString::to_string)
        .collect();
    if broken.is_empty() {
        bail!(
            "no job named `{name}` in {}",
            loaded.settings.jobs_dir.display()
        );
    }
    bail!("job `{name}` does not load:\n{}", broken.join("\n"));
}

fn no_fire_times(subject: &Subject) -> String {
    let why = match subject.schedule {
        Schedule::Reboot => "it runs once when the daemon starts after a boot",
        _ => "it runs only when asked (`slotcron run`)",
    };
    format!(
        "{}: schedule `{}` has no fire times: {why}",
        subject.name, subject.text
    )
}

/// A header, then one line per fire time: the zone's wall clock, then UTC.
fn render(subject: &Subject, times: &[DateTime<Utc>]) -> String {
    let zone_name = match &subject.zone {
        Zone::Local => "the machine's local zone".to_owned(),
        Zone::Named(zone) => zone.name().to_owned(),
    };
    let mut out = format!(
        "{}: `{}` in {zone_name}{}\n",
        subject.name, subject.text, subject.note
    );
    for t in times {
        out.push_str(&format!(
            "  {}   {}\n",
            subject.zone.format(*t, "%Y-%m-%d %H:%M:%S %Z"),
            t.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    out
}

/// `--from`: RFC 3339, or a wall-clock `YYYY-MM-DD HH:MM[:SS]` (a `T` may stand for the space).
pub(super) fn parse_from(text: &str) -> Result<From, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(From::Instant(at.with_timezone(&Utc)));
    }
    let normalized = text.trim().replacen('T', " ", 1);
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(wall) = jiff::civil::DateTime::strptime(format, &normalized) {
            return Ok(From::Wall(wall));
        }
    }
    Err(format!(
        "`{text}` is not a time: write RFC 3339 (2026-03-29T00:30:00Z, 2026-03-29T02:30:00+02:00) \
         or `YYYY-MM-DD HH:MM[:SS]` on the schedule's wall clock"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Settings, parse_job};
    use chrono::TimeZone;

    #[test]
    fn lines_show_the_zone_and_utc() {
        let job = parse_job(
            Path::new("/jobs.d/nightly.yaml"),
            "command: x\nschedule: \"30 2 * * *\"\ntimezone: Europe/Berlin\nenabled: false\n",
            &Settings::builtin(),
        )
        .unwrap();
        let times = [Utc.with_ymd_and_hms(2026, 11, 28, 1, 30, 0).unwrap()];
        assert_eq!(
            render(&job_subject(&job), &times),
            "nightly: `30 2 * * *` in Europe/Berlin (disabled: the daemon will not start it)\n  \
             2026-11-28 02:30:00 CET   2026-11-28 01:30:00 UTC\n"
        );
    }

    #[test]
    fn from_is_rfc3339_or_a_wall_clock_time() {
        assert_eq!(
            parse_from("2026-11-27T11:00:00+01:00"),
            Ok(From::Instant(
                Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap()
            ))
        );
        let wall = |s: &str| s.parse::<jiff::civil::DateTime>().unwrap();
        assert_eq!(
            parse_from("2026-03-29 02:30"),
            Ok(From::Wall(wall("2026-03-29T02:30")))
        );
        assert_eq!(
            parse_from("2026-03-29T02:30:15"),
            Ok(From::Wall(wall("2026-03-29T02:30:15")))
        );
        for bad in [
            "tomorrow",
            "2026-13-01 00:00",
            "2026-03-29",
            "29.03.2026 02:30",
        ] {
            let err = parse_from(bad).unwrap_err();
            assert!(err.contains(&format!("`{bad}` is not a time")), "{err}");
        }
    }
}
