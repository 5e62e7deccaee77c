//! `slotcron plan` on the example `jobs.d`: the forecast from the job files and history, no
//! daemon (issue 17).

use serde_json::Value;

use crate::helper::{Sandbox, stderr, stdout};

/// A sandbox holding a copy of the repository's example `jobs.d`.
pub fn examples() -> Sandbox {
    let sb = Sandbox::new("");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/jobs.d");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, sb.jobs_dir().join(path.file_name().unwrap())).unwrap();
    }
    sb
}

fn plan_json(sb: &Sandbox, extra: &[&str]) -> Value {
    let mut args = vec!["plan", "--json", "--from", "2026-12-06T00:00:00Z"];
    args.extend_from_slice(extra);
    let out = sb.slotcron(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The runs of `job`: `(trigger, status, due, started_at, wait_ms)`.
fn runs_of<'a>(plan: &'a Value, job: &str) -> Vec<(&'a str, &'a str, &'a str, &'a str, u64)> {
    (plan["runs"].as_array().unwrap().iter())
        .filter(|r| r["job"] == job)
        .map(|r| {
            (
                r["trigger"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["due"].as_str().unwrap(),
                r["started_at"].as_str().unwrap_or("-"),
                r["wait_ms"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn the_examples_day_shows_sync_held_by_the_backup_it_blocks() {
    let sb = examples();
    let plan = plan_json(&sb, &[]);
    assert_eq!(plan["until"], "2026-12-07T00:00:00Z");
    let counts: Vec<(&str, u64)> = (plan["jobs"].as_array().unwrap().iter())
        .map(|j| (j["name"].as_str().unwrap(), j["runs"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        counts,
        [
            ("backup", 1),
            ("cleanup", 0),
            ("heartbeat", 2879),
            ("import", 1),
            ("report", 95),
            ("startup", 0),
            ("sync", 287)
        ]
    );
    // Nothing in history: backup lasts its 10m timeout; `sync` (blocks: [backup]) due at
    // 02:00 waits for it, and its 02:05 fire is skipped while that run waits.
    assert_eq!(
        runs_of(&plan, "backup"),
        [(
            "schedule",
            "runs",
            "2026-12-06T02:00:00Z",
            "2026-12-06T02:00:00Z",
            0
        )]
    );
    assert_eq!(
        runs_of(&plan, "import"),
        [(
            "after:backup",
            "runs",
            "2026-12-06T02:10:00Z",
            "2026-12-06T02:10:00Z",
            0
        )]
    );
    let sync = runs_of(&plan, "sync");
    assert_eq!(
        sync[23],
        (
            "schedule",
            "runs",
            "2026-12-06T02:00:00Z",
            "2026-12-06T02:10:00Z",
            600_000
        )
    );
    assert_eq!(sync[24].1, "skipped");
    let kinds: Vec<(&str, &str)> = (plan["findings"].as_array().unwrap().iter())
        .filter(|f| f["kind"] != "guess")
        .map(|f| (f["at"].as_str().unwrap(), f["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("2026-12-06T02:00:00Z", "long_wait"),
            ("2026-12-06T02:05:00Z", "still_running"),
            ("2026-12-06T02:05:00Z", "overdue"),
            ("2026-12-06T02:10:00Z", "still_running"),
        ]
    );
    let guesses = (plan["findings"].as_array().unwrap().iter())
        .filter(|f| f["kind"] == "guess")
        .count();
    assert_eq!(guesses, 5, "every job that runs: no history yet");
}

#[test]
fn history_gives_the_estimate_and_text_shows_the_findings_first() {
    let sb = examples();
    for _ in 0..3 {
        let out = sb.slotcron(&["run", "backup"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let plan = plan_json(&sb, &["--hours", "3", "--pessimistic"]);
    assert_eq!(plan["percentile"], "p95");
    let backup = (plan["jobs"].as_array().unwrap().iter())
        .find(|j| j["name"] == "backup")
        .unwrap();
    assert_eq!(backup["estimate"]["duration_from"], "baseline");
    assert_eq!(backup["estimate"]["baseline_runs"], 3);
    let ms = backup["estimate"]["duration_ms"].as_u64().unwrap();
    assert!(
        ms < 60_000,
        "three quick tar runs, not the 10m timeout: {ms}"
    );
    // `import` follows backup's predicted end.
    let import = &runs_of(&plan, "import")[0];
    let backup_end = (plan["runs"].as_array().unwrap().iter())
        .find(|r| r["job"] == "backup")
        .map(|r| r["ended_at"].as_str().unwrap())
        .unwrap();
    assert_eq!(import.2, backup_end);

    let out = sb.slotcron(&[
        "plan",
        "--from",
        "2026-12-06T00:00:00Z",
        "--hours",
        "3",
        "--summary",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let sections: Vec<&str> = (text.lines())
        .filter(|l| {
            l.starts_with("FINDINGS (") || ["SLOTS", "JOBS"].contains(l) || l.starts_with("RUNS (")
        })
        .collect();
    assert_eq!(
        sections,
        ["FINDINGS (4)", "SLOTS", "JOBS"],
        "--summary leaves out the runs:\n{text}"
    );
    assert!(text.starts_with("Forecast "), "{text}");
    assert!(
        text.contains("`heartbeat`: no successful run in history"),
        "{text}"
    );
}

#[test]
fn a_window_out_of_range_and_a_bad_time_are_refused() {
    let sb = examples();
    let out = sb.slotcron(&["plan", "--hours", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--hours"), "{}", stderr(&out));
    let out = sb.slotcron(&["plan", "--from", "tonight"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`tonight` is not a time"),
        "{}",
        stderr(&out)
    );
}
