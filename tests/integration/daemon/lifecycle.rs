//! The daemon's own life: SIGTERM with a run going, a crash and the recovery after it,
//! one daemon per state dir, and `slotcron kill`.

use std::time::{Duration, Instant};

use super::{finished_runs, running_id};
use crate::helper::{PATIENCE, Sandbox, alive, stderr, stdout, text};

#[test]
fn sigterm_stops_the_running_runs_and_exits_0() {
    let sb = Sandbox::new("");
    sb.job("slow.yaml", "command: sleep 30\n")
        .job("stubborn.yaml", "command: trap '' TERM; sleep 30\n");
    let mut d = sb.daemon();
    for job in ["slow", "stubborn"] {
        d.trigger(job);
        running_id(&mut d, job);
    }
    let (exit, took) = d.stop(PATIENCE);
    assert_eq!(exit.code(), Some(0), "{}", sb.daemon_log_text());
    // kill_grace is 1s in the sandbox: `stubborn` holds the daemon up that long, no more.
    assert!(
        (Duration::from_secs(1)..Duration::from_secs(5)).contains(&took),
        "stopping took {took:?}"
    );
    for job in ["slow", "stubborn"] {
        let runs = sb.history(&[job]);
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(text(&runs[0], "status"), "killed", "{}", runs[0]);
    }
    assert!(!sb.path().join("state/slotcron.sock").exists());
}

/// Issue 11 item 6: an unconfined run still going after a crash is adopted by the next
/// daemon (its pid and start time match the row): `concurrency: forbid` refuses a second
/// copy while it lives, and its row is completed `lost` once it has exited.
#[test]
fn after_a_crash_a_live_unconfined_run_is_adopted_and_forbids_a_second_copy() {
    let sb = Sandbox::new("");
    sb.job("slow.yaml", "command: sleep 4\nconcurrency: forbid\n");
    let mut d = sb.daemon();
    d.trigger("slow");
    let id = running_id(&mut d, "slow");
    d.crash();
    drop(d);
    let orphan = &sb.history(&["slow"])[0];
    assert_eq!(text(orphan, "status"), "running");
    let pid = orphan["pid"].as_u64().unwrap() as u32;
    // The run's process group outlives the daemon (and holds nothing the next one needs,
    // such as the state_dir lock).
    assert!(alive(pid));

    let mut d = sb.daemon();
    let out = d.slotcron(&["trigger", "slow"]);
    let still = alive(pid);
    let runs = d.history("slow");
    assert!(still, "the orphan ended too early for this test");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("concurrency forbid"),
        "{}",
        stderr(&out)
    );
    let first = runs.iter().find(|r| r["id"].as_i64() == Some(id)).unwrap();
    assert_eq!(text(first, "status"), "running", "{first}");
    assert!(
        runs.iter()
            .all(|r| r["id"].as_i64() == Some(id) || r["status"] == "skipped"),
        "a second copy started: {runs:#?}"
    );

    let done = d.wait_for("the adopted run completed", PATIENCE, |d| {
        d.history("slow")
            .into_iter()
            .find(|r| r["id"].as_i64() == Some(id) && r["status"] != "running")
    });
    assert!(!alive(pid));
    assert_eq!(text(&done, "status"), "lost", "{done}");
    assert!(done["finished_at"].is_string(), "{done}");
    let error = text(&done, "error");
    assert!(error.contains("adopted"), "{error}");
    assert!(
        sb.history(&[]).iter().all(|r| r["status"] != "running"),
        "a row stayed running"
    );
}

/// Issue 11 item 6: `concurrency: replace` stops an adopted unconfined run (through its
/// process group) before the new run starts.
#[test]
fn after_a_crash_replace_stops_the_adopted_unconfined_run() {
    let sb = Sandbox::new("");
    sb.job("swap.yaml", "command: sleep 30\nconcurrency: replace\n");
    let mut d = sb.daemon();
    d.trigger("swap");
    let id = running_id(&mut d, "swap");
    d.crash();
    drop(d);
    let pid = sb.history(&["swap"])[0]["pid"].as_u64().unwrap() as u32;
    assert!(alive(pid));

    let mut d = sb.daemon();
    d.trigger("swap");
    let done = d.wait_for("the adopted run stopped", PATIENCE, |d| {
        d.history("swap")
            .into_iter()
            .find(|r| r["id"].as_i64() == Some(id) && r["status"] != "running")
    });
    assert_eq!(text(&done, "status"), "lost", "{done}");
    assert!(text(&done, "error").contains("stopped"), "{done}");
    assert!(
        crate::helper::wait_until(PATIENCE, || !alive(pid)),
        "the orphan still runs"
    );
    let second = running_id(&mut d, "swap");
    assert_ne!(second, id);
}

#[test]
fn a_second_daemon_on_the_same_state_dir_refuses_to_start() {
    let sb = Sandbox::new("");
    let d = sb.daemon();
    let mut second = sb
        .command(&["daemon"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while second.try_wait().unwrap().is_none() {
        if start.elapsed() > PATIENCE {
            let _ = second.kill();
            let _ = second.wait();
            panic!("a second daemon kept running on the same state_dir");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = second.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("another slotcron daemon already uses state_dir"),
        "{}",
        stderr(&out)
    );
    // The first one is unharmed.
    assert_eq!(d.status()["pid"].as_u64(), Some(u64::from(d.pid())));
}

#[test]
fn kill_stops_a_run_and_refuses_an_unknown_id() {
    let sb = Sandbox::new("");
    sb.job("slow.yaml", "command: sleep 30\n");
    let mut d = sb.daemon();
    d.trigger("slow");
    let id = running_id(&mut d, "slow");
    let out = d.slotcron(&["kill", &id.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with(&format!("stopping run {id} of `slow`")),
        "{}",
        stdout(&out)
    );
    let runs = finished_runs(&mut d, "slow", 1);
    assert_eq!(text(&runs[0], "status"), "killed", "{}", runs[0]);

    let out = d.slotcron(&["kill", "9999"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(stderr(&out), "slotcron: run 9999 is not running\n");
}

#[test]
fn a_run_lost_in_a_crash_counts_as_a_failure_at_the_next_start() {
    let sb = Sandbox::new("");
    sb.job(
        "slow.yaml",
        "command: sleep 30\nbreaker: { failures: 1, cooldown: 1h }\n",
    )
    .job("next.yaml", "command: 'true'\ndepends_on: [slow]\n");
    let mut d = sb.daemon();
    d.trigger("slow");
    let id = running_id(&mut d, "slow");
    let pid = d.history("slow")[0]["pid"].as_u64().unwrap() as i32;
    d.crash();
    drop(d);

    let mut d = sb.daemon();
    // The run is adopted (its process lives on); killing it ends it, and the next daemon
    // completes it `lost` within a second or so.
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    let job = d.wait_for("the adopted run completed", PATIENCE, |d| {
        d.job_status("slow").filter(|j| !j["last_status"].is_null())
    });
    assert_eq!(job["last_status"], "lost", "{job}");
    assert_eq!(job["consecutive_failures"], 1, "{job}");
    assert_eq!(text(&job["state"], "kind"), "tripped", "{job}");
    // `depends_on` sees the lost run too.
    let out = d.slotcron(&["trigger", "next"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(
        stderr(&out),
        format!("slotcron: `next` skipped: depends_on: `slow`'s latest run ({id}) ended lost\n")
    );
}

/// Issue 11 item 7: a `working_dir` that goes away after the job loaded fails the run with
/// that reason, not as "starting `/bin/sh`: No such file or directory".
#[test]
fn a_working_dir_removed_after_loading_fails_the_run_naming_it() {
    let sb = Sandbox::new("");
    let work = sb.path().join("work");
    std::fs::create_dir(&work).unwrap();
    sb.job(
        "here.yaml",
        &format!("command: pwd\nworking_dir: {}\n", work.display()),
    );
    let mut d = sb.daemon();
    d.trigger("here");
    let first = &finished_runs(&mut d, "here", 1)[0];
    assert_eq!(text(first, "status"), "success", "{first}");
    std::fs::remove_dir(&work).unwrap();
    d.trigger("here");
    let runs = finished_runs(&mut d, "here", 2);
    let failed = runs.iter().find(|r| r["id"] != first["id"]).unwrap();
    assert_eq!(text(failed, "status"), "failed", "{failed}");
    assert_eq!(
        text(failed, "error"),
        format!("working_dir {}: no such folder", work.display()),
        "{failed}"
    );
}
