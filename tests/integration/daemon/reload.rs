//! Job files changing under a running daemon (inotify, `slotcron reload`), files that do
//! not load, and `enable`/`disable` overrides that outlive the daemon.

use std::time::Duration;

use serde_json::Value;

use super::{EVERY_SECOND, finished_runs, state};
use crate::helper::{PATIENCE, Sandbox, stderr, stdout, text};

#[test]
fn job_files_added_broken_and_deleted_are_noticed_without_a_reload() {
    let sb = Sandbox::new("");
    sb.job("tick.yaml", &format!("command: 'true'\n{EVERY_SECOND}"));
    let mut d = sb.daemon();

    sb.job("late.yaml", "command: 'true'\n");
    d.wait_until("the new job `late` in status", PATIENCE, |d| {
        d.job_status("late").is_some()
    });
    assert_eq!(state(&d, "late"), "idle");

    sb.job("tick.yaml", "command: [unterminated\n");
    let problems = d.wait_for("the broken file's problem in status", PATIENCE, |d| {
        let status = d.status();
        let problems = status["problems"].as_array().unwrap().clone();
        (!problems.is_empty()).then_some(problems)
    });
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].as_str().unwrap().contains("tick.yaml"),
        "{problems:?}"
    );
    assert_eq!(state(&d, "tick"), "broken");
    // Its last good version is still scheduled.
    let before = finished_runs(&mut d, "tick", 1).len();
    finished_runs(&mut d, "tick", before + 2);

    // Mended the way editors save: a temp file renamed over the job file.
    sb.job("tick.tmp", &format!("command: 'true'\n{EVERY_SECOND}"));
    std::fs::rename(
        sb.jobs_dir().join("tick.tmp"),
        sb.jobs_dir().join("tick.yaml"),
    )
    .unwrap();
    d.wait_until("`tick` mended", PATIENCE, |d| {
        state(d, "tick") != "broken" && d.status()["problems"] == Value::Array(vec![])
    });

    std::fs::remove_file(sb.jobs_dir().join("tick.yaml")).unwrap();
    d.wait_until("`tick` gone from status", PATIENCE, |d| {
        d.job_status("tick").is_none()
    });
    assert_eq!(d.status()["problems"], Value::Array(vec![]));

    let out = d.slotcron(&["reload"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "1 jobs scheduled; no job file changed\n",
        "a reload with nothing changed says so and costs nothing"
    );
}

#[test]
fn disable_stops_a_job_across_restarts_and_enable_brings_it_back() {
    let sb = Sandbox::new("");
    sb.job("tick.yaml", &format!("command: 'true'\n{EVERY_SECOND}"));
    let mut d = sb.daemon();
    finished_runs(&mut d, "tick", 1);

    let out = d.slotcron(&["disable", "tick"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let count = d.history("tick").len();
    d.holds_for("no run while disabled", Duration::from_millis(2500), |d| {
        d.history("tick").len() == count
    });
    let job = d.job_status("tick").unwrap();
    assert_eq!(text(&job["state"], "kind"), "disabled", "{job}");
    assert_eq!(
        (&job["enabled"], &job["override_enabled"], &job["next_fire"]),
        (&Value::Bool(false), &Value::Bool(false), &Value::Null)
    );
    let out = sb.slotcron(&["jobs", "--json"]);
    let jobs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        jobs[0]["enabled_override"],
        Value::Bool(false),
        "{}",
        jobs[0]
    );

    let (exit, _) = d.stop(PATIENCE);
    assert!(exit.success(), "{exit}");
    drop(d);
    let mut d = sb.daemon();
    assert_eq!(state(&d, "tick"), "disabled");
    d.holds_for(
        "no run after the restart",
        Duration::from_millis(1500),
        |d| d.history("tick").len() == count,
    );

    let out = d.slotcron(&["enable", "tick"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let runs = finished_runs(&mut d, "tick", count + 1);
    assert_eq!(text(&runs[count], "trigger"), "schedule", "{}", runs[count]);
}

#[test]
fn files_that_do_not_load_are_reported_and_the_good_job_runs() {
    let sb = Sandbox::new("");
    sb.job("never.yaml", "command: 'true'\nschedule: '0 0 30 2 *'\n")
        .job(
            "nobody.yaml",
            "command: 'true'\nuser: no-such-user-slotcron\n",
        )
        .job("nocmd.yaml", "schedule: '@daily'\n")
        .job("good.yaml", &format!("command: 'true'\n{EVERY_SECOND}"));
    let mut d = sb.daemon();
    let status = d.status();
    let jobs: Vec<&str> = status["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| text(j, "name"))
        .collect();
    assert_eq!(jobs, ["good"]);
    assert!(status["jobs"][0]["next_fire"].is_string(), "{status}");
    let problems: Vec<&str> = status["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    for (file, field) in [
        ("never.yaml", "field `schedule`"),
        ("nobody.yaml", "field `user`"),
        ("nocmd.yaml", "command"),
    ] {
        assert!(
            problems
                .iter()
                .any(|p| p.contains(file) && p.contains(field)),
            "no problem naming {file} and {field}: {problems:?}"
        );
    }
    let runs = finished_runs(&mut d, "good", 1);
    assert_eq!(text(&runs[0], "status"), "success", "{}", runs[0]);
}

#[test]
fn sighup_reloads_and_does_not_stop_the_daemon() {
    let sb = Sandbox::new("");
    sb.job("a.yaml", "command: 'true'\n");
    let mut d = sb.daemon();
    let pid = nix::unistd::Pid::from_raw(d.pid() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    d.wait_until("the SIGHUP reload in the log", PATIENCE, |d| {
        d.sandbox
            .daemon_log_text()
            .contains("SIGHUP: reloading job files")
    });
    // SIGHUP's default action would have ended the process: it must still answer.
    assert!(d.job_status("a").is_some());
}

/// Issue 11 item 5: a FIFO or a dangling link named like a job file, appearing under a
/// running daemon, is a problem in `status` (and the FIFO never blocks the reload); once
/// removed, the problem goes.
#[test]
fn special_files_appearing_in_jobs_dir_are_problems_in_status() {
    let sb = Sandbox::new("");
    sb.job("ok.yaml", "command: 'true'\n");
    let mut d = sb.daemon();
    let fifo = sb.jobs_dir().join("pipe.yaml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    std::os::unix::fs::symlink("/nonexistent/x.yaml", sb.jobs_dir().join("gone.yaml")).unwrap();
    let problems = d.wait_for("both in status", PATIENCE, |d| {
        let problems = d.status()["problems"].as_array().unwrap().clone();
        (problems.len() == 2).then_some(problems)
    });
    assert!(
        problems[0]
            .as_str()
            .unwrap()
            .ends_with("gone.yaml: a symbolic link to /nonexistent/x.yaml, which does not exist"),
        "{problems:?}"
    );
    assert!(
        problems[1]
            .as_str()
            .unwrap()
            .ends_with("pipe.yaml: a FIFO (named pipe), not a regular file: not read"),
        "{problems:?}"
    );
    assert_eq!(state(&d, "ok"), "idle");
    std::fs::remove_file(&fifo).unwrap();
    std::fs::remove_file(sb.jobs_dir().join("gone.yaml")).unwrap();
    d.wait_until("the problems gone", PATIENCE, |d| {
        d.status()["problems"] == Value::Array(vec![])
    });
}
