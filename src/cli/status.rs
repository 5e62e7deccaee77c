//! `slotcron status`: the running daemon's overview (enforcement, slots, runs in progress,
//! jobs, problems), as text or as the daemon's JSON report.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::{DateTime, TimeZone, Utc};
use clap::Args;

use crate::control::{JobState, JobStatus, Request, Response, StatusReport, call};

use super::request::{CALL_TIMEOUT, daemon_socket, refused};
use super::table::{bytes, pressure, render, time_in};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the daemon's report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn status(config: Option<&Path>, args: &StatusArgs) -> Result<ExitCode> {
    let socket = daemon_socket(config)?;
    let report = match call(&socket, &Request::Status, CALL_TIMEOUT)? {
        Response::Status(report) => report,
        Response::Error { message } => return Ok(refused(&message)),
        Response::Ok { message } => bail!(
            "the daemon on {} answered `{message}` instead of a status report",
            socket.display()
        ),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", overview(&report, &chrono::Local));
    }
    Ok(ExitCode::SUCCESS)
}

/// The text overview, times shown in `tz`.
pub fn overview<Tz: TimeZone>(report: &StatusReport, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let time = |t: &DateTime<Utc>| time_in(t, tz);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "daemon: pid {}, running since {}",
        report.pid,
        time(&report.started_at)
    );
    let _ = writeln!(out, "enforcement: {}", report.enforcement);
    if let Some(reason) = &report.paused {
        let _ = writeln!(out, "paused: new runs are deferred: {reason}");
    }
    if report.history != crate::store::HistoryHealth::default() {
        let _ = writeln!(out, "HISTORY: {}", report.history.describe());
    }

    out.push('\n');
    out.push_str(&slots_table(report));
    out.push('\n');
    out.push_str(&runs_table(report, &time));
    out.push('\n');
    out.push_str(&jobs_table(report, &time));
    omitted_and_problems(report, &mut out);
    out
}

/// Each slot's running, queued and memory figures.
fn slots_table(report: &StatusReport) -> String {
    let slots: Vec<Vec<String>> = report
        .slots
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                format!("{}/{}", s.running, s.max_concurrent),
                format!("{}/{}", s.queued, s.queue_limit),
                format!("{}/{}", bytes(s.memory_reserved), bytes(s.memory_max)),
            ]
        })
        .collect();
    render(&["SLOT", "RUNNING", "QUEUED", "MEMORY"], &slots)
}

/// The runs in progress.
fn runs_table(report: &StatusReport, time: &impl Fn(&DateTime<Utc>) -> String) -> String {
    if report.running.is_empty() {
        return "no runs in progress\n".into();
    }
    let runs: Vec<Vec<String>> = report
        .running
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.job.clone(),
                r.slot.clone(),
                r.pid.map_or("-".into(), |p| p.to_string()),
                time(&r.started_at),
                r.attempt.to_string(),
                pressure(r.pressure.as_ref()),
            ]
        })
        .collect();
    render(
        &[
            "RUN", "JOB", "SLOT", "PID", "STARTED", "ATTEMPT", "PRESSURE",
        ],
        &runs,
    )
}

/// Each job's state, next fire and last run.
fn jobs_table(report: &StatusReport, time: &impl Fn(&DateTime<Utc>) -> String) -> String {
    if report.jobs.is_empty() {
        return "no jobs\n".into();
    }
    let jobs: Vec<Vec<String>> = report
        .jobs
        .iter()
        .map(|j| {
            vec![
                j.name.clone(),
                j.slot.clone(),
                state(j, time),
                j.next_fire.as_ref().map_or("-".into(), time),
                last(j, time),
            ]
        })
        .collect();
    render(&["JOB", "SLOT", "STATE", "NEXT FIRE", "LAST RUN"], &jobs)
}

/// What the report left out, and the job files that fail to load.
fn omitted_and_problems(report: &StatusReport, out: &mut String) {
    if report.jobs_omitted > 0 {
        let _ = writeln!(
            out,
            "... and {} more jobs ({TOO_LONG})",
            report.jobs_omitted
        );
    }
    let failing = report.problems.len() + report.problems_omitted;
    if failing > 0 {
        let _ = writeln!(out, "\n{failing} job file(s) fail to load:");
        for problem in &report.problems {
            let _ = writeln!(out, "  {}", crate::printable::escape(problem));
        }
        if report.problems_omitted > 0 {
            let _ = writeln!(
                out,
                "  ... and {} more ({TOO_LONG})",
                report.problems_omitted
            );
        }
    }
}

/// Why a status report leaves some out.
const TOO_LONG: &str = "not shown: the answer would pass the control protocol's 16 MiB; \
                        `slotcron check` lists every problem";

/// `idle`, `tripped until ...`, `disabled (override)`, ...
fn state(job: &JobStatus, time: &impl Fn(&DateTime<Utc>) -> String) -> String {
    let base = match &job.state {
        JobState::Idle => "idle".to_owned(),
        JobState::Queued => "queued".to_owned(),
        JobState::Running => "running".to_owned(),
        JobState::Disabled => "disabled".to_owned(),
        JobState::Tripped { until: Some(t) } => format!("tripped until {}", time(t)),
        JobState::Tripped { until: None } => "tripped until reset".to_owned(),
        JobState::Broken => "broken (last good version scheduled)".to_owned(),
    };
    if job.override_enabled.is_some() {
        format!("{base} (override)")
    } else {
        base
    }
}

/// `failed 2025-03-01 09:00:00, 3 in a row`, or `never`.
fn last(job: &JobStatus, time: &impl Fn(&DateTime<Utc>) -> String) -> String {
    let mut text = match (&job.last_status, &job.last_started_at) {
        (Some(status), Some(at)) => format!("{status} {}", time(at)),
        (Some(status), None) => status.clone(),
        (None, Some(at)) => time(at),
        (None, None) => return "never".into(),
    };
    if job.consecutive_failures > 1 {
        let _ = write!(text, ", {} in a row", job.consecutive_failures);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::{RunningRun, SlotStatus};
    use crate::model::{PressureState, PressureView};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn job(name: &str, state: JobState) -> JobStatus {
        JobStatus {
            name: name.into(),
            slot: "default".into(),
            schedule: "@hourly".into(),
            state,
            enabled: true,
            override_enabled: None,
            next_fire: None,
            last_status: None,
            last_started_at: None,
            consecutive_failures: 0,
            health: Default::default(),
            memory: Default::default(),
        }
    }

    /// Two runs in progress: one untouched, one the pressure response holds frozen.
    fn running() -> Vec<RunningRun> {
        vec![
            RunningRun {
                id: 17,
                job: "index".into(),
                slot: "heavy".into(),
                started_at: at("2025-03-01T11:00:00Z"),
                pid: Some(4242),
                attempt: 2,
                pressure: None,
            },
            RunningRun {
                id: 18,
                job: "batch".into(),
                slot: "heavy".into(),
                started_at: at("2025-03-01T11:00:00Z"),
                pid: Some(4243),
                attempt: 1,
                pressure: Some(PressureView {
                    state: Some(PressureState::Frozen),
                    throttled_since: Some(at("2025-03-01T11:01:00Z")),
                    frozen_since: Some(at("2025-03-01T11:01:02Z")),
                    throttled_ms: 62_000,
                    frozen_ms: 60_000,
                }),
            },
        ]
    }

    #[test]
    fn the_overview_shows_every_part() {
        let mut disabled = job("quiet", JobState::Disabled);
        disabled.override_enabled = Some(false);
        disabled.enabled = false;
        let mut flaky = job(
            "flaky",
            JobState::Tripped {
                until: Some(at("2025-03-01T12:00:00Z")),
            },
        );
        flaky.last_status = Some("failed".into());
        flaky.last_started_at = Some(at("2025-03-01T10:00:00Z"));
        flaky.consecutive_failures = 3;
        let mut idle = job("backup", JobState::Idle);
        idle.next_fire = Some(at("2025-03-02T00:00:00Z"));
        let report = StatusReport {
            pid: 99,
            started_at: at("2025-03-01T08:00:00Z"),
            enforcement: "none: cgroup v2 not mounted".into(),
            cgroup_root: None,
            paused: Some("memory pressure 60% > 40%".into()),
            history: Default::default(),
            slots: vec![SlotStatus {
                name: "heavy".into(),
                running: 1,
                max_concurrent: 2,
                queued: 4,
                queue_limit: 10,
                memory_reserved: 1 << 30,
                memory_max: 4 << 30,
            }],
            jobs: vec![idle, flaky, disabled],
            running: running(),
            problems: vec!["jobs.d/bad.yaml: schedule: never fires".into()],
            problems_omitted: 0,
            jobs_omitted: 0,
        };
        let text = overview(&report, &Utc);
        let expected = "\
daemon: pid 99, running since 2025-03-01 08:00:00
enforcement: none: cgroup v2 not mounted
paused: new runs are deferred: memory pressure 60% > 40%

SLOT   RUNNING  QUEUED  MEMORY
heavy  1/2      4/10    1G/4G

RUN  JOB    SLOT   PID   STARTED              ATTEMPT  PRESSURE
17   index  heavy  4242  2025-03-01 11:00:00  2        -
18   batch  heavy  4243  2025-03-01 11:00:00  1        frozen (throttled 1m02s, frozen 1m00s)

JOB     SLOT     STATE                              NEXT FIRE            LAST RUN
backup  default  idle                               2025-03-02 00:00:00  never
flaky   default  tripped until 2025-03-01 12:00:00  -                    failed 2025-03-01 10:00:00, 3 in a row
quiet   default  disabled (override)                -                    never

1 job file(s) fail to load:
  jobs.d/bad.yaml: schedule: never fires
";
        assert_eq!(text, expected, "\n{text}");
    }

    #[test]
    fn an_idle_daemon_says_so() {
        let report = StatusReport {
            pid: 1,
            started_at: at("2025-03-01T08:00:00Z"),
            enforcement: "cgroup at /sys/fs/cgroup/slotcron.service".into(),
            cgroup_root: None,
            paused: None,
            history: Default::default(),
            slots: vec![],
            jobs: vec![],
            running: vec![],
            problems: vec![],
            problems_omitted: 0,
            jobs_omitted: 0,
        };
        let text = overview(&report, &Utc);
        assert!(text.contains("\nno runs in progress\n"), "{text}");
        assert!(text.ends_with("\nno jobs\n"), "{text}");
        assert!(!text.contains("paused"), "{text}");
    }
}
