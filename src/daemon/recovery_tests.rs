//! Recovery on a fake cgroupfs and an in-memory history: each kind of trace a crash leaves,
//! settled as the module doc says.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::*;
use crate::cgroup::fake::FakeFs;
use crate::cgroup::{CgroupFs, Limits};
use crate::model::{Enforcement, RunStatus};
use crate::store::{JobRow, NewRun};

/// A fake cgroup2 mount with a delegated root, a store that knows job `backup`.
struct Fixture {
    _dir: tempfile::TempDir,
    fake: Arc<FakeFs>,
    root: PathBuf,
    store: Store,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let fake = Arc::new(
        FakeFs::new_root(
            &dir.path().join("cgroup2"),
            &["cpu", "io", "memory", "pids"],
        )
        .unwrap(),
    );
    let root = fake
        .add_delegated("slotcron.service", &["cpu", "io", "memory", "pids"])
        .unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let job = JobRow {
        name: "backup".into(),
        file: "/etc/slotcron/jobs.d/backup.yaml".into(),
        slot: "batch".into(),
        schedule: "0 * * * *".into(),
        enabled: true,
        definition: serde_json::json!({ "name": "backup" }).to_string(),
    };
    store.sync_jobs(&[job], at(0)).unwrap();
    Fixture {
        _dir: dir,
        fake,
        root,
        store,
    }
}

impl Fixture {
    /// The tree as the restarted daemon prepares it, with these slots.
    fn tree(&self, slots: &[&str]) -> Hierarchy {
        let fs: Arc<dyn CgroupFs> = self.fake.clone();
        let slots: Vec<(String, Limits)> = slots
            .iter()
            .map(|s| ((*s).to_owned(), Limits::default()))
            .collect();
        Hierarchy::prepare(fs, &self.root, false, &Limits::default(), &slots).unwrap()
    }

    fn enforcer(&self) -> Enforcer {
        Enforcer::Cgroup(self.tree(&["batch"]))
    }

    /// A `running` row, as the crashed daemon left it.
    fn running_row(&mut self) -> i64 {
        let run = NewRun {
            job: "backup".into(),
            slot: "batch".into(),
            trigger: "schedule".into(),
            attempt: 1,
            retry_of: None,
            enforcement: Enforcement::Cgroup,
            memory_limit_bytes: None,
            queued_at: None,
            started_at: at(10_000),
        };
        self.store.start_run(&run).unwrap()
    }

    /// The run's cgroup, with the figures the kernel would report.
    fn run_cgroup(&self, slot: &str, name: &str) -> RunCgroup {
        let cg = self
            .tree(&[slot])
            .create_run(slot, name, &Limits::default())
            .unwrap();
        let knob = |file: &str, text: &str| self.fake.set_knob(&cg.path().join(file), text);
        knob("memory.peak", "7340032\n").unwrap();
        knob(
            "memory.events",
            "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\noom_group_kill 0\n",
        )
        .unwrap();
        knob(
            "cpu.stat",
            "usage_usec 900\nuser_usec 600\nsystem_usec 300\nnr_periods 4\nnr_throttled 1\n\
             throttled_usec 50\n",
        )
        .unwrap();
        knob("pids.peak", "3\n").unwrap();
        cg
    }

    /// Plays the kernel: `pid` lives in the cgroup (`populated 1`).
    fn add_process(&self, cg: &RunCgroup, pid: u32) {
        self.fake
            .write(&cg.path().join("cgroup.procs"), &pid.to_string())
            .unwrap();
        assert!(cg.is_populated().unwrap());
    }

    fn row(&self, id: i64) -> RunRecord {
        self.store.run(id).unwrap().unwrap()
    }
}

/// A timestamp `ms` milliseconds after 2026-01-01T00:00:00Z.
fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_767_225_600_000 + ms).unwrap()
}

/// The kernel figures `run_cgroup` sets, as recorded.
fn assert_figures(row: &RunRecord) {
    assert_eq!(row.usage.memory_peak_bytes, Some(7_340_032));
    assert_eq!(row.usage.cpu_usage_usec, Some(900));
    assert_eq!(row.usage.cpu_user_usec, Some(600));
    assert_eq!(row.usage.cpu_system_usec, Some(300));
    assert_eq!(row.usage.cpu_throttled_usec, Some(50));
    assert_eq!(row.usage.oom_kills, Some(1));
    assert_eq!(row.usage.pids_peak, Some(3));
}

#[test]
fn empty_cgroup_is_measured_removed_and_completed_lost() {
    let mut fx = fixture();
    let id = fx.running_row();
    let cg = fx.run_cgroup("batch", &format!("run-{id}"));
    let enforcer = fx.enforcer();

    let found = recover(&enforcer, &mut fx.store, at(70_000)).unwrap();

    assert_eq!(found.completed, vec![id]);
    assert!(found.adopted.is_empty() && found.removed_orphans.is_empty());
    let row = fx.row(id);
    assert_eq!(row.status, RunStatus::Lost);
    assert_eq!((row.exit_code, row.signal), (None, None));
    assert_eq!(row.finished_at, Some(at(70_000)));
    assert_eq!(row.duration_ms, Some(60_000));
    assert_eq!(row.error.as_deref(), Some(ENDED_TEXT));
    assert_figures(&row);
    assert!(!cg.path().exists(), "run cgroup removed");
}

#[test]
fn row_without_cgroup_is_completed_lost_without_figures() {
    let mut fx = fixture();
    let id = fx.running_row();
    let enforcer = fx.enforcer();

    let found = recover(&enforcer, &mut fx.store, at(20_000)).unwrap();

    assert_eq!(found.completed, vec![id]);
    let row = fx.row(id);
    assert_eq!(row.status, RunStatus::Lost);
    assert_eq!(row.exit_code, None);
    assert_eq!(row.usage.memory_peak_bytes, None);
    assert_eq!(row.error.as_deref(), Some(NO_CGROUP_TEXT));
}

#[test]
fn unconfined_daemon_completes_every_running_row_and_touches_no_cgroup() {
    let mut fx = fixture();
    let id = fx.running_row();
    let cg = fx.run_cgroup("batch", &format!("run-{id}"));
    let enforcer = Enforcer::Unconfined {
        reason: "test".into(),
    };
    let writes_before = fx.fake.writes().len();

    let found = recover(&enforcer, &mut fx.store, at(20_000)).unwrap();

    assert_eq!(found.completed, vec![id]);
    assert_eq!(fx.row(id).status, RunStatus::Lost);
    assert!(cg.path().exists());
    assert_eq!(fx.fake.writes().len(), writes_before, "nothing written");
}

#[tokio::test]
async fn populated_cgroup_is_adopted_then_completed_lost_when_empty() {
    let mut fx = fixture();
    let id = fx.running_row();
    let cg = fx.run_cgroup("batch", &format!("run-{id}"));
    fx.add_process(&cg, 4_000_001);
    let enforcer = fx.enforcer();

    let found = recover(&enforcer, &mut fx.store, at(20_000)).unwrap();

    assert!(found.completed.is_empty());
    assert_eq!(found.adopted.len(), 1);
    let adopted = found.adopted.into_iter().next().unwrap();
    assert_eq!(
        (adopted.run_id, adopted.job.as_str(), adopted.slot.as_str()),
        (id, "backup", "batch")
    );
    assert_eq!(fx.row(id).status, RunStatus::Running, "still going");

    let Fixture { fake, store, .. } = fx;
    let store = Arc::new(Mutex::new(store));
    let watcher = tokio::spawn(watch_adopted(
        adopted,
        store.clone(),
        crate::clock::system(),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!watcher.is_finished(), "watches while processes live");
    assert!(cg.path().exists());
    processes_exit(&fake, &cg);

    let row = tokio::time::timeout(Duration::from_secs(10), watcher)
        .await
        .expect("completed within 10 s")
        .unwrap()
        .unwrap();
    assert_eq!(row.status, RunStatus::Lost);
    assert_eq!(row.exit_code, None);
    assert_eq!(row.error.as_deref(), Some(ADOPTED_TEXT));
    assert_figures(&row);
    assert!(!cg.path().exists(), "run cgroup removed");
    assert_eq!(store.lock().unwrap().running_runs().unwrap(), vec![]);
}

/// Plays the kernel: every process of the cgroup exited.
fn processes_exit(fake: &FakeFs, cg: &RunCgroup) {
    fake.set_knob(&cg.path().join("cgroup.procs"), "").unwrap();
    fake.set_knob(&cg.path().join("cgroup.events"), "populated 0\nfrozen 0\n")
        .unwrap();
}

#[tokio::test]
async fn stop_terminates_an_adopted_run_then_kills_it_after_the_grace() {
    let mut fx = fixture();
    let id = fx.running_row();
    let cg = fx.run_cgroup("batch", &format!("run-{id}"));
    // A real process of ours stands for the run: the fake signals nothing itself.
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    fx.add_process(&cg, child.id());
    let enforcer = fx.enforcer();
    let adopted = recover(&enforcer, &mut fx.store, at(20_000))
        .unwrap()
        .adopted
        .pop()
        .unwrap();
    let fake = fx.fake.clone();
    let store = Arc::new(Mutex::new(fx.store));

    let row = watch_adopted(
        adopted,
        store,
        crate::clock::system(),
        async {},
        Duration::from_millis(200),
    )
    .await
    .unwrap();

    assert_eq!(row.status, RunStatus::Lost);
    assert_eq!(row.error.as_deref(), Some(ADOPTED_STOPPED_TEXT));
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM), "SIGTERM first");
    // The fake never saw it exit, so after the grace came cgroup.kill.
    assert!(
        fake.writes()
            .contains(&(cg.path().join("cgroup.kill"), "1".to_owned()))
    );
    assert!(!cg.path().exists());
}

#[test]
fn orphan_cgroups_are_killed_and_removed_other_dirs_left_alone() {
    let mut fx = fixture();
    // A slot dropped from the configuration still holds a run cgroup.
    let _ = fx.tree(&["batch", "old"]);
    let in_old_slot = fx.run_cgroup("old", "run-7");
    let empty = fx.run_cgroup("batch", "run-999");
    let busy = fx.run_cgroup("batch", "run-998");
    fx.add_process(&busy, 4_000_002);
    let stranger = fx.root.join("jobs/batch/keep-me");
    fx.fake.create_dir(&stranger).unwrap();
    // A row that was completed, whose cgroup was left.
    let done = fx.running_row();
    fx.store
        .finish_run(done, &lost(None, at(10_000), at(11_000), "x".into()))
        .unwrap();
    let finished = fx.run_cgroup("batch", &format!("run-{done}"));
    let enforcer = fx.enforcer();

    let found = recover(&enforcer, &mut fx.store, at(20_000)).unwrap();

    let mut removed = found.removed_orphans.clone();
    removed.sort();
    let mut expected = vec![
        in_old_slot.path().to_path_buf(),
        empty.path().to_path_buf(),
        busy.path().to_path_buf(),
        finished.path().to_path_buf(),
    ];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(expected.iter().all(|p| !p.exists()));
    assert!(
        fx.fake
            .writes()
            .contains(&(busy.path().join("cgroup.kill"), "1".to_owned())),
        "the populated orphan was killed"
    );
    assert!(stranger.exists(), "not a run-<id> dir: left alone");
    assert_eq!(fx.row(done).error.as_deref(), Some("x"), "row untouched");
    assert!(found.completed.is_empty() && found.adopted.is_empty());
}

#[test]
fn a_second_recover_finds_nothing_to_do() {
    let mut fx = fixture();
    let with_cgroup = fx.running_row();
    fx.run_cgroup("batch", &format!("run-{with_cgroup}"));
    let without = fx.running_row();
    fx.run_cgroup("batch", "run-555");
    let enforcer = fx.enforcer();
    let first = recover(&enforcer, &mut fx.store, at(20_000)).unwrap();
    assert_eq!(first.completed, vec![with_cgroup, without]);
    assert_eq!(first.removed_orphans.len(), 1);

    let second = recover(&enforcer, &mut fx.store, at(30_000)).unwrap();

    assert!(second.completed.is_empty());
    assert!(second.adopted.is_empty());
    assert!(second.removed_orphans.is_empty());
    assert!(second.supervised_elsewhere.is_empty());
    assert_eq!(fx.row(without).finished_at, Some(at(20_000)));
}

#[test]
fn run_ids_come_only_from_run_dash_digits() {
    let id = |name: &str| run_id(&PathBuf::from("/cg/jobs/batch").join(name));
    assert_eq!(id("run-42"), Some(42));
    assert_eq!(id("run-0"), Some(0));
    for name in [
        "run-",
        "run-4x",
        "run--1",
        "run-+1",
        "backup",
        "RUN-1",
        "run-99999999999999999999",
    ] {
        assert_eq!(id(name), None, "{name}");
    }
}

#[test]
fn parent_pid_is_read_after_the_last_parenthesis() {
    assert_eq!(parent_pid("42 (sleep) S 1 42 42 0 -1"), Some(1));
    assert_eq!(parent_pid("42 (a) b) (c) R 977 42 42"), Some(977));
    assert_eq!(parent_pid("garbage"), None);
}

#[test]
fn a_run_of_this_process_child_is_not_supervised_elsewhere() {
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    // Its parent is this test binary, not a `slotcron` process.
    assert_eq!(live_supervisor(child.id()), None);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(live_supervisor(u32::MAX), None);
}

#[test]
fn a_run_the_crashed_daemon_left_frozen_and_throttled_is_thawed_and_lifted_on_adoption() {
    let mut fx = fixture();
    let id = fx.running_row();
    let cg = fx.run_cgroup("batch", &format!("run-{id}"));
    fx.add_process(&cg, 4_000_002);
    cg.set_memory_high(Some(1 << 20)).unwrap();
    cg.set_frozen(true).unwrap();
    let enforcer = fx.enforcer();

    let found = recover(&enforcer, &mut fx.store, at(20_000)).unwrap();

    assert_eq!(found.adopted.len(), 1);
    assert_eq!(fx.fake.knob(&cg.path().join("cgroup.freeze")).unwrap(), "0");
    assert_eq!(fx.fake.knob(&cg.path().join("memory.high")).unwrap(), "max");
    assert!(!crate::cgroup::freezer::is_frozen(fx.fake.as_ref(), cg.path()).unwrap());
}

/// A `running` row of an unconfined run whose main process is `pid`, recorded as started
/// at tick `start`.
fn unconfined_row(fx: &mut Fixture, pid: u32, start: u64) -> i64 {
    let id = fx.running_row();
    fx.store.set_run_process(id, Some(pid), None, None).unwrap();
    fx.store.set_run_pid_start(id, start).unwrap();
    id
}

/// A `sleep 30` in a process group of its own, as the runner starts a run (setsid).
fn sleeper() -> std::process::Child {
    use std::os::unix::process::CommandExt;
    Command::new("sleep")
        .arg("30")
        .process_group(0)
        .spawn()
        .unwrap()
}

#[test]
fn unconfined_row_whose_pid_now_names_another_process_is_completed_lost() {
    let mut fx = fixture();
    let mut child = sleeper();
    let start = process_start(child.id()).unwrap();
    // Same pid, another start time: the pid was reused.
    let id = unconfined_row(&mut fx, child.id(), start + 1);
    let enforcer = Enforcer::Unconfined {
        reason: "test".into(),
    };

    let found = recover(&enforcer, &mut fx.store, at(20_000)).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();

    assert!(found.adopted.is_empty());
    assert_eq!(found.completed, vec![id]);
    assert_eq!(fx.row(id).status, RunStatus::Lost);
}

#[tokio::test]
async fn unconfined_run_still_going_is_adopted_then_completed_lost_when_it_exits() {
    let mut fx = fixture();
    let mut child = sleeper();
    let pid = child.id();
    let start = process_start(pid).unwrap();
    let id = unconfined_row(&mut fx, pid, start);
    let enforcer = Enforcer::Unconfined {
        reason: "test".into(),
    };

    let found = recover(&enforcer, &mut fx.store, at(20_000)).unwrap();

    assert!(found.completed.is_empty());
    let adopted = found.adopted.into_iter().next().expect("adopted");
    assert_eq!((adopted.run_id, adopted.slot.as_str()), (id, "batch"));
    assert!(
        matches!(adopted.watched, Watched::Process { pid: p, start: s } if p == pid && s == start)
    );
    let store = Arc::new(Mutex::new(fx.store));
    let watcher = tokio::spawn(watch_adopted(
        adopted,
        store.clone(),
        crate::clock::system(),
        std::future::pending(),
        Duration::from_secs(1),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!watcher.is_finished(), "watches while the process lives");
    child.kill().unwrap();
    child.wait().unwrap();

    let row = tokio::time::timeout(Duration::from_secs(10), watcher)
        .await
        .expect("completed within 10 s")
        .unwrap()
        .unwrap();
    assert_eq!(row.status, RunStatus::Lost);
    assert_eq!(row.error.as_deref(), Some(ADOPTED_TEXT));
    assert_eq!(row.usage.memory_peak_bytes, None);
}

#[tokio::test]
async fn an_adopted_unconfined_run_is_stopped_through_its_process_group() {
    let mut fx = fixture();
    let mut child = sleeper();
    let pid = child.id();
    let id = unconfined_row(&mut fx, pid, process_start(pid).unwrap());
    let enforcer = Enforcer::Unconfined {
        reason: "test".into(),
    };
    let found = recover(&enforcer, &mut fx.store, at(20_000)).unwrap();
    let adopted = found.adopted.into_iter().next().expect("adopted");
    let store = Arc::new(Mutex::new(fx.store));

    let row = watch_adopted(
        adopted,
        store,
        crate::clock::system(),
        async {},
        Duration::from_secs(1),
    )
    .await
    .unwrap();

    let exit = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&exit),
        Some(libc::SIGTERM)
    );
    assert_eq!((row.id, row.status), (id, RunStatus::Lost));
    assert_eq!(row.error.as_deref(), Some(ADOPTED_STOPPED_TEXT));
}
