//! `slotcron next JOB`: fire times from the configuration alone, no daemon.

use serde_json::Value;

use crate::helper::{Sandbox, stderr, stdout};

#[test]
fn json_lists_the_next_fire_times_in_the_zone_and_in_utc() {
    let sb = Sandbox::new("");
    sb.job(
        "nightly.yaml",
        "command: echo x\nschedule: \"0 3 * * *\"\ntimezone: UTC\n",
    );
    let out = sb.slotcron(&[
        "next",
        "nightly",
        "--count",
        "3",
        "--json",
        "--from",
        "2026-11-27T03:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let fires: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let pairs: Vec<(&str, &str)> = fires
        .iter()
        .map(|f| (f["local"].as_str().unwrap(), f["utc"].as_str().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("2026-11-28T03:00:00+00:00", "2026-11-28T03:00:00Z"),
            ("2026-11-29T03:00:00+00:00", "2026-11-29T03:00:00Z"),
            ("2026-11-30T03:00:00+00:00", "2026-11-30T03:00:00Z"),
        ]
    );
}

#[test]
fn text_shows_a_header_then_wall_clock_and_utc_across_a_dst_change() {
    let sb = Sandbox::new("");
    sb.job(
        "early.yaml",
        "command: echo x\nschedule: \"30 2 * * *\"\ntimezone: Europe/Berlin\n",
    );
    let out = sb.slotcron(&["next", "early", "-n", "2", "--from", "2026-03-28T12:00:00Z"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "early: `30 2 * * *` in Europe/Berlin\n  \
         2026-03-29 03:00:00 CEST   2026-03-29 01:00:00 UTC\n  \
         2026-03-30 02:30:00 CEST   2026-03-30 00:30:00 UTC\n"
    );
}

#[test]
fn a_manual_job_has_no_fire_times_and_an_unknown_job_is_an_error() {
    let sb = Sandbox::new("");
    sb.job("adhoc.yaml", "command: echo x\n");
    let out = sb.slotcron(&["next", "adhoc"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "adhoc: schedule `manual` has no fire times: it runs only when asked (`slotcron run`)\n"
    );
    let out = sb.slotcron(&["next", "ghost"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).starts_with("slotcron: no job named `ghost` in "),
        "{}",
        stderr(&out)
    );
    let out = sb.slotcron(&["next", "adhoc", "--count", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn expr_tz_and_from_preview_a_schedule_in_no_file() {
    let sb = Sandbox::new("");
    // A wall-clock --from in the schedule's zone; the 2100 spring-forward of Berlin.
    let out = sb.slotcron(&[
        "next",
        "--expr",
        "30 2 28 3 *",
        "--tz",
        "Europe/Berlin",
        "--from",
        "2100-01-01 00:00",
        "-n",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "--expr: `30 2 28 3 *` in Europe/Berlin\n  \
         2100-03-28 03:00:00 CEST   2100-03-28 01:00:00 UTC\n"
    );
    // A job's --from is read in the job's zone.
    sb.job(
        "ny.yaml",
        "command: x\nschedule: \"0 12 * * *\"\ntimezone: America/New_York\n",
    );
    let out = sb.slotcron(&[
        "next",
        "ny",
        "--from",
        "2026-07-01 12:00",
        "-n",
        "1",
        "--json",
    ]);
    let fires: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fires[0]["utc"], "2026-07-02T16:00:00Z", "{}", stderr(&out));
}

#[test]
fn bad_expressions_zones_and_times_are_refused_with_the_reason() {
    let sb = Sandbox::new("");
    for (args, code, message) in [
        (
            vec!["--expr", "60 * * * *"],
            125,
            "--expr `60 * * * *`: minute field: `60` is out of range 0-59",
        ),
        (
            vec!["--expr", "@fortnightly"],
            125,
            "unknown nickname `@fortnightly`, expected one of @yearly,",
        ),
        (
            vec!["--expr", "0 0 * * *", "--tz", "Mars/Olympus"],
            125,
            "--tz `Mars/Olympus`: not an IANA time zone name",
        ),
        (
            vec!["--expr", "0 0 * * *", "--from", "tomorrow"],
            2,
            "`tomorrow` is not a time: write RFC 3339",
        ),
        (
            vec![
                "--expr",
                "0 0 * * *",
                "--tz",
                "Europe/Berlin",
                "--from",
                "2026-03-29 02:30",
            ],
            125,
            "--from `2026-03-29T02:30:00` does not exist in Europe/Berlin: the clock skips it",
        ),
        (vec!["--tz", "UTC"], 2, "--expr"),
    ] {
        let mut full = vec!["next"];
        full.extend(args.iter());
        let out = sb.slotcron(&full);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}
