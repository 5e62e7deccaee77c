//! History that cannot be written (ADR 0022): jobs go on running, the fault shows on
//! `/readyz`, `/metrics` and `slotcron status`, and the runs kept in memory are written
//! once the database takes writes again, with their true status.
//!
//! The fault is a real one, made without root or mounts: the daemon's `RLIMIT_FSIZE` is
//! lowered to 1 byte (`prlimit(2)` on its pid), so every write to the database or its WAL
//! fails with `EFBIG`, as writes fail on a full disk; raising it again ends the fault.
//! A damaged page is made by overwriting it in the file while no daemon runs; a deleted
//! database, by deleting it, with the daemon running and without.

use chrono::Utc;
use serde_json::Value;
use slotcron::store::{backup, identity};

use crate::channels::receivers::http_receiver;
use crate::helper::{PATIENCE, Sandbox};

use super::finished_runs;
use super::metrics::{get, metrics_addr};

/// Sets the soft `RLIMIT_FSIZE` of process `pid` (`None`: unlimited).
fn limit_file_size(pid: u32, bytes: Option<u64>) {
    let limit = libc::rlimit {
        rlim_cur: bytes.unwrap_or(libc::RLIM_INFINITY),
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: prlimit(2) reads `limit` and writes nothing (old limit pointer is null).
    let done = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(done, 0, "prlimit: {}", std::io::Error::last_os_error());
}

fn history_state(status: &Value) -> (bool, u64) {
    let history = &status["history"];
    (
        history["writable"].as_bool().expect("history.writable"),
        history["pending"].as_u64().expect("history.pending"),
    )
}

#[test]
fn jobs_run_while_history_cannot_be_written_and_are_recorded_once_it_can() {
    let sb = Sandbox::new("");
    sb.job(
        "tick.yaml",
        "schedule: '*/1 * * * * *'\ncommand: echo tick\n",
    );
    let mut d = sb.daemon();
    finished_runs(&mut d, "tick", 1);
    let addr = metrics_addr(&sb);
    assert_eq!(get(&addr, "/readyz").0, 200);

    let fault_began = Utc::now();
    limit_file_size(d.pid(), Some(1));
    let pending = d.wait_for("3 runs kept in memory", PATIENCE, |d| {
        let (writable, pending) = history_state(&d.status());
        (!writable && pending >= 3).then_some(pending)
    });
    let (code, _, body) = get(&addr, "/readyz");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("history is not writable since"), "{body}");
    let (_, _, metrics) = get(&addr, "/metrics");
    assert!(
        metrics.contains("slotcron_history_writable 0\n"),
        "{metrics}"
    );
    let text = String::from_utf8(sb.slotcron(&["status"]).stdout).unwrap();
    assert!(
        text.contains("HISTORY: history is not writable since"),
        "{text}"
    );

    limit_file_size(d.pid(), None);
    let fault_ended = Utc::now();
    d.wait_until("history writable with nothing kept", PATIENCE, |d| {
        history_state(&d.status()) == (true, 0)
    });
    assert_eq!(get(&addr, "/readyz").0, 200);
    let (_, _, metrics) = get(&addr, "/metrics");
    assert!(
        metrics.contains("slotcron_history_writable 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("slotcron_history_pending_runs 0\n"),
        "{metrics}"
    );

    let runs = d.history("tick");
    let during: Vec<&Value> = runs
        .iter()
        .filter(|r| {
            let started = crate::helper::time(r, "started_at");
            started > fault_began && started < fault_ended
        })
        .collect();
    assert!(
        during.len() as u64 >= pending,
        "{pending} runs were kept, {} recorded: {runs:#?}",
        during.len()
    );
    for run in &during {
        assert_eq!(run["status"], "success", "{run:#}");
        assert_eq!(run["exit_code"], 0, "{run:#}");
    }
    assert!(
        !runs.iter().any(|r| r["status"] == "lost"),
        "no run is called lost: {runs:#?}"
    );
    assert!(
        sb.daemon_log_text().contains("history is writable again"),
        "{}",
        sb.daemon_log_text()
    );
}

/// Waits for a daemon that must refuse to start; returns its exit status.
fn refused(mut child: std::process::Child) -> std::process::ExitStatus {
    let mut exit = None;
    let gone = crate::helper::wait_until(PATIENCE, || {
        exit = child.try_wait().unwrap();
        exit.is_some()
    });
    if !gone {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the daemon did not refuse to start");
    }
    exit.unwrap()
}

#[test]
fn a_damaged_database_is_refused_saying_how_to_restore_the_daily_backup() {
    let sb = Sandbox::new("");
    sb.job(
        "tick.yaml",
        "schedule: '*/1 * * * * *'\ncommand: echo tick\n",
    );
    let backups = sb.path().join("state").join(backup::BACKUP_DIR);
    let mut d = sb.daemon();
    finished_runs(&mut d, "tick", 2);
    d.wait_until("the first daily backup", PATIENCE, |_| {
        backup::backups(&backups).len() == 1
    });
    d.stop(PATIENCE);
    drop(d);
    let (newest, _) = backup::backups(&backups).remove(0);
    let in_backup = slotcron::store::Store::open(&newest)
        .unwrap()
        .runs(&Default::default())
        .unwrap()
        .len();
    // Made at the daemon's start, before any run.
    assert_eq!(in_backup, 0);

    let db = sb
        .path()
        .join("state")
        .join(slotcron::store::DEFAULT_DB_FILE);
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() >= 3 * 4096, "{} bytes", bytes.len());
    bytes[4096..8192].fill(0xa5); // page 2
    std::fs::write(&db, &bytes).unwrap();

    let exit = refused(sb.spawn_daemon());
    assert!(!exit.success());
    let log = sb.daemon_log_text();
    assert!(
        log.contains(&format!("history database {} is", db.display())),
        "{log}"
    );
    let restore = format!("cp {} {}", newest.display(), db.display());
    assert!(log.contains(&restore), "{log}");

    // The documented restore works: the damaged file aside, the backup in its place.
    std::fs::rename(&db, db.with_extension("db.damaged")).unwrap();
    std::fs::copy(&newest, &db).unwrap();
    let mut d = sb.daemon();
    finished_runs(&mut d, "tick", 1);
}

#[test]
fn a_database_deleted_under_the_daemon_is_reported_and_made_again() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut hook = rt.block_on(http_receiver(vec![Some(200); 4]));
    let sb = Sandbox::new(&format!(
        "notifications:\n  - type: webhook\n    url: {}\n    retries: 0\n",
        hook.url
    ));
    sb.job(
        "tick.yaml",
        "schedule: '*/1 * * * * *'\ncommand: echo tick\n",
    );
    let state = sb.path().join("state");
    let db = state.join(slotcron::store::DEFAULT_DB_FILE);
    let mut d = sb.daemon();
    finished_runs(&mut d, "tick", 1);
    assert!(state.join(identity::MARKER_FILE).is_file());

    std::fs::remove_file(&db).unwrap();
    let request = rt
        .block_on(async { tokio::time::timeout(PATIENCE, hook.requests.recv()).await })
        .expect("the webhook is called")
        .expect("a request");
    let body = request.json();
    assert_eq!(body["kind"], "history_replaced", "{body}");
    assert_eq!(body["severity"], "critical", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("was deleted while the daemon ran"),
        "{body}"
    );
    // A new database, the job in it, and runs recorded there again.
    let runs = finished_runs(&mut d, "tick", 1);
    assert!(db.is_file());
    assert!(runs.iter().all(|r| r["status"] == "success"), "{runs:#?}");
    d.stop(PATIENCE);
    drop(d);

    // Deleted while no daemon runs: the next start says a history existed.
    for name in ["slotcron.db", "slotcron.db-wal", "slotcron.db-shm"] {
        let _ = std::fs::remove_file(state.join(name));
    }
    let mut d = sb.daemon();
    finished_runs(&mut d, "tick", 1);
    let log = sb.daemon_log_text();
    assert!(
        log.contains(&format!(
            "ERROR slotcron::cli::daemon: no history database at {}, but {} says one was kept here",
            db.display(),
            state.join(identity::MARKER_FILE).display()
        )),
        "{log}"
    );
}
