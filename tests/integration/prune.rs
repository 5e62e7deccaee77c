//! `slotcron prune`: runs past `retention` leave the history with their logs.

use crate::helper::{Sandbox, stderr, stdout};

#[test]
fn prune_removes_old_runs_and_their_logs_and_dry_run_only_counts() {
    let sb = Sandbox::new("retention: 1d\n");
    sb.job("old.yaml", "command: echo old\n");
    sb.job("new.yaml", "command: echo new\n");
    let (old, code) = sb.run("old");
    assert_eq!(code, 0);
    sb.run("new");
    let log = std::path::PathBuf::from(old["log_path"].as_str().unwrap());
    assert!(log.exists());
    // Age the first run by three days, as time would.
    let db = rusqlite::Connection::open(sb.path().join("state/slotcron.db")).unwrap();
    db.execute(
        "UPDATE runs SET started_at = started_at - 259200000, \
         finished_at = finished_at - 259200000 WHERE id = ?1",
        [old["id"].as_i64().unwrap()],
    )
    .unwrap();

    let out = sb.slotcron(&["prune", "--dry-run", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dry: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (dry["runs"].as_u64(), dry["dry_run"].as_bool()),
        (Some(1), Some(true))
    );
    assert!(log.exists(), "a dry run deletes nothing");

    let out = sb.slotcron(&["prune"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(": 1 deleted, 0 events deleted, 1 run logs deleted"),
        "{}",
        stdout(&out)
    );
    assert!(!log.exists());
    let out = sb.slotcron(&["history", "--json"]);
    let runs: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let jobs: Vec<&str> = runs.iter().map(|r| r["job"].as_str().unwrap()).collect();
    assert_eq!(jobs, ["new"]);
}
