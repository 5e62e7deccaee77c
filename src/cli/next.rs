//! `slotcron next JOB`: the job's next fire times in its own zone and in UTC, from the
//! configuration alone (no daemon needed), like `systemd-analyze calendar --iterations`.
//! Daylight-saving rules are those of [`crate::config::Schedule::next_fire`].

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::Args;
use serde::Serialize;

use crate::config::{Job, Loaded, Schedule, Zone};

use super::context;

#[derive(Debug, Args)]
pub struct NextArgs {
    /// The job's name.
    pub job: String,
    /// How many fire times to print (1 to 1000).
    #[arg(long, short = 'n', default_value_t = 5,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub count: u16,
    /// Print a JSON array of `{"local": RFC 3339, "utc": RFC 3339}` objects.
    #[arg(long)]
    pub json: bool,
    /// Count from this instant (RFC 3339) instead of now, for reproducible output.
    #[arg(long, hide = true, value_name = "RFC3339", value_parser = parse_instant)]
    pub after: Option<DateTime<Utc>>,
}

/// One fire time of `next --json`.
#[derive(Debug, Serialize)]
struct Fire {
    /// On the job's zone's wall clock, with its offset.
    local: String,
    /// The same instant in UTC (`Z`).
    utc: String,
}

pub fn next(config: Option<&Path>, args: &NextArgs) -> Result<ExitCode> {
    let loaded = context::load(config)?;
    let job = find(&loaded, &args.job)?;
    let zone = job.zone();
    let after = args.after.unwrap_or_else(Utc::now);
    let times: Vec<DateTime<Utc>> =
        std::iter::successors(job.next_fire(after), |t| job.next_fire(*t))
            .take(usize::from(args.count))
            .collect();
    if args.json {
        let fires: Vec<Fire> = times
            .iter()
            .map(|t| Fire {
                local: zone.rfc3339(*t),
                utc: t.to_rfc3339_opts(SecondsFormat::Secs, true),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&fires)?);
        if times.is_empty() {
            eprintln!("{}", no_fire_times(job));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if times.is_empty() {
        println!("{}", no_fire_times(job));
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render(job, zone, &times));
    Ok(ExitCode::SUCCESS)
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

fn no_fire_times(job: &Job) -> String {
    let why = match job.schedule {
        Schedule::Reboot => "it runs once when the daemon starts after a boot",
        _ => "it runs only when asked (`slotcron run`)",
    };
    format!(
        "{}: schedule `{}` has no fire times: {why}",
        job.name, job.schedule_text
    )
}

/// A header, then one line per fire time: the zone's wall clock, then UTC.
fn render(job: &Job, zone: Zone, times: &[DateTime<Utc>]) -> String {
    let zone_name = match zone {
        Zone::Local => "the machine's local zone".to_owned(),
        Zone::Named(tz) => tz.name().to_owned(),
    };
    let disabled = if job.enabled {
        ""
    } else {
        " (disabled: the daemon will not start it)"
    };
    let mut out = format!(
        "{}: `{}` in {zone_name}{disabled}\n",
        job.name, job.schedule_text
    );
    for t in times {
        out.push_str(&format!(
            "  {}   {}\n",
            zone.format(*t, "%Y-%m-%d %H:%M:%S %Z"),
            t.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    out
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time such as 2026-11-27T10:00:00Z: {e}"))
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
            render(&job, job.zone(), &times),
            "nightly: `30 2 * * *` in Europe/Berlin (disabled: the daemon will not start it)\n  \
             2026-11-28 02:30:00 CET   2026-11-28 01:30:00 UTC\n"
        );
    }

    #[test]
    fn after_must_be_rfc3339() {
        assert_eq!(
            parse_instant("2026-11-27T11:00:00+01:00"),
            Ok(Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap())
        );
        assert!(parse_instant("tomorrow").is_err());
    }
}
