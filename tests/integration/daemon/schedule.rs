//! Time-driven runs: a seconds-field cron schedule, `catch_up: once` at start, `@reboot`
//! once per boot.

use std::time::Duration;

use chrono::Utc;
use slotcron::model::{Enforcement, RunStatus, RunUsage};
use slotcron::store::{NewRun, RunCompletion};

use super::{EVERY_SECOND, finished_runs};
use crate::helper::{PATIENCE, Sandbox, text, time};

#[test]
fn a_six_field_cron_job_runs_every_second() {
    let sb = Sandbox::new("");
    sb.job("tick.yaml", &format!("command: 'true'\n{EVERY_SECOND}"));
    let mut d = sb.daemon();
    let runs = finished_runs(&mut d, "tick", 2);
    for run in &runs {
        assert_eq!(
            (text(run, "trigger"), text(run, "status")),
            ("schedule", "success"),
            "{run}"
        );
    }
    let gap = time(&runs[1], "started_at") - time(&runs[0], "started_at");
    assert!(
        (500..2000).contains(&gap.num_milliseconds()),
        "consecutive scheduled runs started {gap} apart: {runs:?}"
    );
}

/// Records a successful `schedule` run of each job, started two days ago, as an earlier
/// daemon would have.
fn ran_two_days_ago(sb: &Sandbox, jobs: &[&str]) {
    let loaded = slotcron::config::load(Some(&sb.path().join("slotcron.yaml"))).unwrap();
    assert!(
        loaded.catalog.problems.is_empty(),
        "{:?}",
        loaded.catalog.problems
    );
    let mut store = sb.store();
    slotcron::daemon::registry::sync_history(&mut store, &loaded.catalog, Utc::now()).unwrap();
    let started_at = Utc::now() - chrono::Duration::days(2);
    for job in jobs {
        let id = store
            .start_run(&NewRun {
                job: (*job).to_owned(),
                slot: "default".into(),
                trigger: "schedule".into(),
                attempt: 1,
                retry_of: None,
                enforcement: Enforcement::None,
                memory_limit_bytes: None,
                queued_at: None,
                started_at,
            })
            .unwrap();
        let done = RunCompletion {
            status: RunStatus::Success,
            exit_code: Some(0),
            signal: None,
            finished_at: started_at + chrono::Duration::seconds(1),
            duration_ms: 1000,
            usage: RunUsage::default(),
            error: None,
            pressure: None,
        };
        store.finish_run(id, &done).unwrap();
    }
}

#[test]
fn catch_up_once_makes_one_run_for_all_missed_days_and_none_makes_none() {
    let sb = Sandbox::new("");
    sb.job(
        "daily.yaml",
        "command: 'true'\nschedule: '0 0 * * *'\ncatch_up: once\n",
    )
    .job("plain.yaml", "command: 'true'\nschedule: '0 0 * * *'\n");
    ran_two_days_ago(&sb, &["daily", "plain"]);

    let mut d = sb.daemon();
    let runs = finished_runs(&mut d, "daily", 2);
    let triggers: Vec<&str> = runs.iter().map(|r| text(r, "trigger")).collect();
    assert_eq!(triggers, ["schedule", "catch_up"], "{runs:?}");
    assert_eq!(text(&runs[1], "status"), "success", "{}", runs[1]);
    // Startup queued every catch-up before the daemon answered; nothing else follows.
    d.holds_for(
        "one catch-up run, none for `plain`",
        Duration::from_secs(1),
        |d| d.history("daily").len() == 2 && d.history("plain").len() == 1,
    );
}

#[test]
fn a_reboot_job_runs_at_the_first_start_after_boot_only() {
    assert!(
        std::path::Path::new(slotcron::daemon::startup::DEFAULT_BOOT_ID_PATH).exists(),
        "this test needs the kernel's boot id"
    );
    let sb = Sandbox::new("");
    sb.job("boot.yaml", "command: 'true'\nschedule: '@reboot'\n");
    let mut d = sb.daemon();
    let runs = finished_runs(&mut d, "boot", 1);
    assert_eq!(
        (text(&runs[0], "trigger"), text(&runs[0], "status")),
        ("reboot", "success")
    );
    let (exit, _) = d.stop(PATIENCE);
    assert!(exit.success(), "{exit}");
    drop(d);

    let d = sb.daemon();
    d.holds_for("no second @reboot run", Duration::from_secs(1), |d| {
        d.history("boot").len() == 1
    });
}
