//! Opening the database: pragmas, migrations, files that are not ours, several processes
//! at once, and what a crash leaves behind.

use std::path::Path;
use std::sync::{Arc, Barrier};

use rusqlite::Connection;

use super::*;
use crate::store::{MIGRATIONS, RunFilter, StoreError};

fn pragma(store: &Store, name: &str) -> String {
    store
        .conn
        .pragma_query_value(None, name, |row| row.get::<_, rusqlite::types::Value>(0))
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .unwrap()
}

#[test]
fn a_store_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<Store>();
}

#[test]
fn migrations_are_valid() {
    rusqlite_migration::Migrations::from_slice(MIGRATIONS)
        .validate()
        .unwrap();
}

#[test]
fn open_sets_the_pragmas_and_schema_version() {
    let (_dir, store) = file_store();
    assert_eq!(pragma(&store, "journal_mode"), "wal");
    assert_eq!(pragma(&store, "busy_timeout"), "5000");
    assert_eq!(pragma(&store, "foreign_keys"), "1");
    assert_eq!(pragma(&store, "synchronous"), "1", "NORMAL");
    assert_eq!(pragma(&store, "user_version"), MIGRATIONS.len().to_string());
    assert_eq!(pragma(&store, "application_id"), 0x736c_6f74.to_string());
}

#[test]
fn open_creates_the_parent_directory_and_reopens_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("state/nested")
        .join(crate::store::DEFAULT_DB_FILE);
    let mut store = Store::open(&path).unwrap();
    store.sync_jobs(&[job("a", "@daily")], at(0)).unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.path(), path);
    assert_eq!(store.jobs().unwrap().len(), 1);
}

#[test]
fn an_uncreatable_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let err = Store::open(&file.join("slotcron.db")).unwrap_err();
    assert!(
        matches!(&err, StoreError::CreateDir { path, .. } if path == &file),
        "{err:?}"
    );
}

#[test]
fn a_corrupt_file_is_refused_naming_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slotcron.db");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..65_536)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 56) as u8
        })
        .collect();
    std::fs::write(&path, &noise).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { path: p, .. } if p == &path),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        noise,
        "the file is left as it was"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let (dir, store) = file_store();
    let path = store.path().to_owned();
    drop(store);
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(&err, StoreError::SchemaTooNew { path: p, found: 99, supported } if p == &path && *supported == MIGRATIONS.len()),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade slotcron"), "{err}");
    drop(dir);
}

#[test]
fn another_applications_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA application_id = 42; CREATE TABLE t (x);")
        .unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::ForeignDatabase { found: 42, .. }),
        "{err:?}"
    );
}

#[test]
fn an_in_memory_store_has_the_schema() {
    let mut store = Store::open_in_memory().unwrap();
    store.sync_jobs(&[job("a", "@daily")], at(0)).unwrap();
    let id = store.start_run(&new_run("a")).unwrap();
    assert_eq!(store.running_runs().unwrap()[0].id, id);
    assert_eq!(store.path(), Path::new(":memory:"));
}

#[test]
fn a_run_left_running_by_a_crash_is_found_on_reopen() {
    let (_dir, mut store) = store_with_jobs(&["backup"]);
    let path = store.path().to_owned();
    let done = store.start_run(&new_run("backup")).unwrap();
    store.finish_run(done, &success(at(10_500), 500)).unwrap();
    let id = store.start_run(&new_run("backup")).unwrap();
    store
        .set_run_process(id, Some(31337), Some("/sys/fs/cgroup/x"), None)
        .unwrap();
    drop(store); // the supervisor dies before finish_run

    let store = Store::open(&path).unwrap();
    let running = store.running_runs().unwrap();
    assert_eq!(running.len(), 1);
    let run = &running[0];
    assert_eq!(
        (run.id, run.status, run.pid),
        (id, RunStatus::Running, Some(31337))
    );
    assert_eq!(
        (run.finished_at, run.exit_code, run.duration_ms),
        (None, None, None)
    );
    assert_eq!(store.runs(&RunFilter::default()).unwrap().len(), 2);
}

/// Two `Store`s on one file, as two `slotcron run` processes would have, open at the same
/// moment (racing to create the schema) and write 200 runs each.
#[test]
fn two_stores_on_one_file_write_concurrently() {
    const RUNS: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("slotcron.db"));
    let barrier = Arc::new(Barrier::new(2));
    let workers: Vec<_> = ["left", "right"]
        .into_iter()
        .map(|name| {
            let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let mut store = Store::open(&path).unwrap();
                store
                    .sync_jobs(&[job("left", "@daily"), job("right", "@daily")], at(0))
                    .unwrap();
                for i in 0..RUNS as u64 {
                    let id = store.start_run(&new_run(name)).unwrap();
                    store.finish_run(id, &success(at(20_000), i)).unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let store = Store::open(&path).unwrap();
    let all = store.runs(&RunFilter::default()).unwrap();
    assert_eq!(all.len(), 2 * RUNS);
    assert!(all.iter().all(|r| r.status == RunStatus::Success));
    for name in ["left", "right"] {
        let mine = store
            .runs(&RunFilter {
                job: Some(name.to_owned()),
                limit: None,
            })
            .unwrap();
        let mut durations: Vec<u64> = mine.iter().map(|r| r.duration_ms.unwrap()).collect();
        durations.sort_unstable();
        assert_eq!(
            durations,
            (0..RUNS as u64).collect::<Vec<_>>(),
            "every run of {name} arrived once"
        );
    }
}

/// A database written by the previous release (schema 1) is brought to the current schema
/// at open, keeping its jobs and runs.
#[test]
fn a_version_1_database_is_migrated_with_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slotcron.db");
    let mut conn = Connection::open(&path).unwrap();
    rusqlite_migration::Migrations::from_slice(&MIGRATIONS[..1])
        .to_latest(&mut conn)
        .unwrap();
    conn.execute_batch(
        "INSERT INTO jobs (name, file, slot, schedule, enabled, definition, first_seen_at, \
         updated_at) VALUES ('old', 'old.yaml', 'batch', '@daily', 1, '{}', 0, 0); \
         INSERT INTO runs (job, slot, status, trigger, queued_at, started_at, finished_at, \
         duration_ms, enforcement) \
         VALUES ('old', 'batch', 'failed', 'schedule', 1000, 1500, 2500, 1000, 'none');",
    )
    .unwrap();
    drop(conn);

    let mut store = Store::open(&path).unwrap();
    assert_eq!(pragma(&store, "user_version"), MIGRATIONS.len().to_string());
    let run = &store.runs(&RunFilter::default()).unwrap()[0];
    assert_eq!((run.job.as_str(), run.wait_ms), ("old", Some(500)));
    assert_eq!(store.job_summary("old").unwrap().consecutive_failures, 1);
    assert!(store.job_controls().unwrap().is_empty());
    store.set_meta("boot_id", "b1").unwrap();
    assert_eq!(store.meta("boot_id").unwrap().as_deref(), Some("b1"));
    assert!(store.baselines().unwrap().is_empty());
    assert_eq!(
        store.rolling(DateTime::UNIX_EPOCH).unwrap()["old"].failures,
        1
    );
}

/// A database of schema 5 keeps its alerts and baselines: the alerts gain no evidence and
/// no reopening, the baselines no spread (so they are due for recomputation).
#[test]
fn a_version_5_database_keeps_its_alerts_and_its_baselines_become_due() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slotcron.db");
    let mut conn = Connection::open(&path).unwrap();
    rusqlite_migration::Migrations::from_slice(&MIGRATIONS[..5])
        .to_latest(&mut conn)
        .unwrap();
    conn.execute_batch(
        "INSERT INTO jobs (name, file, slot, schedule, enabled, definition, first_seen_at, \
         updated_at) VALUES ('old', 'old.yaml', 'batch', '@daily', 1, '{}', 0, 0); \
         INSERT INTO alerts (job, kind, severity, message, count, opened_at, last_at) \
         VALUES ('old', 'anomaly', 'warning', 'duration 10s against a usual 4s (z = 8.1)', 4, 0, 10); \
         INSERT INTO baselines (job, runs, newest_run_id, duration_median_ms, duration_p95_ms, \
         duration_mad_ms, computed_at) VALUES ('old', 30, 7, 4000, 4400, 100, 0);",
    )
    .unwrap();
    drop(conn);

    let store = Store::open(&path).unwrap();
    let alert = &store.alerts(true).unwrap()[0];
    assert_eq!(
        (alert.count, alert.reopened, alert.evidence.len()),
        (4, 0, 0)
    );
    let b = store.baseline("old").unwrap().unwrap();
    assert_eq!(
        (b.duration_spread, b.checked_run_id, b.held),
        (None, 7, false)
    );
    assert!(store.baseline_due("old", 30, 10).unwrap(), "no spread: due");
}
