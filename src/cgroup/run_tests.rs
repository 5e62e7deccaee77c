//! Tests of one run cgroup on the fake: placement fd, signals (on real child processes of
//! the test), kill and its fallback, waiting for empty, stats, removal.

use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use std::os::unix::process::ExitStatusExt;

use super::*;
use crate::cgroup::test_support::{Fixture, fixture, my_pid};
use crate::cgroup::{Hierarchy, Limits};
use crate::model::{IoStat, RunUsage};

fn run(fx: &Fixture) -> RunCgroup {
    let slots = vec![("s".to_owned(), Limits::default())];
    let h =
        Hierarchy::prepare(fx.fs(), &fx.root, false, &Limits::default(), &slots).expect("prepare");
    h.create_run("s", "run-1", &Limits::default())
        .expect("create_run")
}

fn set(fx: &Fixture, run: &RunCgroup, knob: &str, content: &str) {
    fx.fake
        .set_knob(&run.path().join(knob), content)
        .expect("set_knob");
}

fn sleeper() -> Child {
    Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn sleep")
}

fn pid_of(child: &Child) -> i32 {
    i32::try_from(child.id()).expect("pid")
}

/// Waits for the child and returns the signal that ended it.
fn killed_by(child: &mut Child) -> Option<Signal> {
    let status = child.wait().expect("wait");
    status.signal().and_then(|s| Signal::try_from(s).ok())
}

#[test]
fn open_procs_gives_a_writable_fd_for_pre_exec() {
    let fx = fixture();
    let run = run(&fx);
    let fd = run.open_procs().expect("open_procs");
    // What the runner's pre_exec does after fork.
    let n = unsafe {
        libc::write(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            b"0".as_ptr().cast(),
            1,
        )
    };
    assert_eq!(n, 1);
    assert_eq!(fx.knob(run.path().join("cgroup.procs")), "0");
    assert!(
        run.pids().unwrap().is_empty(),
        "0 means 'self', never a pid"
    );
}

#[test]
fn open_adopts_existing_and_rejects_missing() {
    let fx = fixture();
    let run = run(&fx);
    let adopted = RunCgroup::open(fx.fs(), run.path()).expect("open");
    assert_eq!(adopted.path(), run.path());
    let err = RunCgroup::open(fx.fs(), &fx.root.join("jobs/s/gone")).unwrap_err();
    assert!(matches!(err, CgroupError::NoSuchCgroup { .. }), "{err:?}");
}

#[test]
fn pids_and_populated_are_read_from_knobs() {
    let fx = fixture();
    let run = run(&fx);
    assert!(!run.is_populated().unwrap());
    set(&fx, &run, "cgroup.procs", "101\n202\n");
    set(&fx, &run, "cgroup.events", "populated 1\nfrozen 0\n");
    assert_eq!(run.pids().unwrap(), vec![101, 202]);
    assert!(run.is_populated().unwrap());
}

#[test]
fn kill_writes_one_to_cgroup_kill() {
    let fx = fixture();
    let run = run(&fx);
    set(&fx, &run, "cgroup.procs", "101\n202\n");
    run.kill().expect("kill");
    // The fake plays the kernel: every process below is gone, the cgroup unpopulated.
    assert_eq!(fx.knob(run.path().join("cgroup.procs")), "");
    assert!(!run.is_populated().unwrap());
    assert!(
        fx.fake
            .writes()
            .contains(&(run.path().join("cgroup.kill"), "1".to_owned()))
    );
}

#[test]
fn kill_without_cgroup_kill_freezes_sigkills_and_thaws() {
    let fx = fixture();
    let run = run(&fx);
    fx.fake
        .remove_knob(&run.path().join("cgroup.kill"))
        .unwrap();
    let mut child = sleeper();
    set(&fx, &run, "cgroup.procs", &format!("{}\n", pid_of(&child)));
    // Plays the kernel: once the child is dead, it leaves cgroup.procs.
    let (fake, procs) = (Arc::clone(&fx.fake), run.path().join("cgroup.procs"));
    let reaper = std::thread::spawn(move || {
        let sig = killed_by(&mut child);
        fake.set_knob(&procs, "").unwrap();
        sig
    });
    run.kill().expect("fallback kill");
    assert_eq!(reaper.join().unwrap(), Some(Signal::SIGKILL));
    let freeze = run.path().join("cgroup.freeze");
    let writes = fx.fake.writes();
    let freezes: Vec<_> = writes
        .iter()
        .filter(|(p, _)| p == &freeze)
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(freezes, ["1", "0"]);
    assert_eq!(fx.knob(&freeze), "0");
}

#[test]
fn kill_fallback_gives_up_with_a_typed_error() {
    let fx = fixture();
    let run = run(&fx);
    fx.fake
        .remove_knob(&run.path().join("cgroup.kill"))
        .unwrap();
    // A zombie child of ours: SIGKILL succeeds but it "stays" in the fake's cgroup.procs.
    let mut zombie = Command::new("true").spawn().unwrap();
    set(&fx, &run, "cgroup.procs", &format!("{}\n", pid_of(&zombie)));
    let err = run.kill().unwrap_err();
    assert!(
        matches!(err, CgroupError::KillIncomplete { remaining: 1, .. }),
        "{err:?}"
    );
    assert_eq!(fx.knob(run.path().join("cgroup.freeze")), "0");
    zombie.wait().unwrap();
}

#[test]
fn signal_all_signals_members_and_skips_init_and_self() {
    let fx = fixture();
    let run = run(&fx);
    let mut child = sleeper();
    set(
        &fx,
        &run,
        "cgroup.procs",
        &format!("1\n{}\n{}\n", my_pid(), pid_of(&child)),
    );
    assert_eq!(run.signal_all(Signal::SIGTERM).expect("signal_all"), 1);
    assert_eq!(killed_by(&mut child), Some(Signal::SIGTERM));
    // Reaped now: ESRCH is not an error.
    set(&fx, &run, "cgroup.procs", &format!("{}\n", pid_of(&child)));
    assert_eq!(run.signal_all(Signal::SIGCONT).expect("ESRCH ignored"), 0);
}

#[test]
fn wait_empty_true_at_once_when_unpopulated() {
    let fx = fixture();
    let run = run(&fx);
    let start = Instant::now();
    assert!(run.wait_empty(Duration::from_secs(5)).unwrap());
    assert!(start.elapsed() < Duration::from_millis(500));
}

#[test]
fn wait_empty_false_after_timeout_when_populated() {
    let fx = fixture();
    let run = run(&fx);
    set(&fx, &run, "cgroup.events", "populated 1\nfrozen 0\n");
    let start = Instant::now();
    assert!(!run.wait_empty(Duration::from_millis(300)).unwrap());
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn wait_empty_sees_the_cgroup_empty_out() {
    let fx = fixture();
    let run = run(&fx);
    let events = run.path().join("cgroup.events");
    set(&fx, &run, "cgroup.events", "populated 1\nfrozen 0\n");
    let fake = Arc::clone(&fx.fake);
    let emptier = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        fake.set_knob(&events, "populated 0\nfrozen 0\n").unwrap();
    });
    let start = Instant::now();
    assert!(run.wait_empty(Duration::from_secs(10)).unwrap());
    let took = start.elapsed();
    emptier.join().unwrap();
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[test]
fn stats_parse_knob_contents() {
    let fx = fixture();
    let run = run(&fx);
    set(&fx, &run, "memory.peak", "268435456\n");
    set(
        &fx,
        &run,
        "memory.events",
        "low 0\nhigh 2\nmax 7\noom 1\noom_kill 1\noom_group_kill 1\n",
    );
    set(
        &fx,
        &run,
        "cpu.stat",
        "usage_usec 900\nuser_usec 600\nsystem_usec 300\nnr_periods 10\nnr_throttled 4\n\
         throttled_usec 1234\nnr_bursts 0\nburst_usec 0\n",
    );
    set(&fx, &run, "pids.peak", "12\n");
    let s = run.stats().expect("stats");
    assert_eq!(
        s,
        RunUsage {
            memory_peak_bytes: Some(256 << 20),
            cpu_usage_usec: Some(900),
            cpu_user_usec: Some(600),
            cpu_system_usec: Some(300),
            cpu_throttled_usec: Some(1234),
            oom_kills: Some(1),
            pids_peak: Some(12),
            io: Some(IoStat::default()),
        }
    );
    assert!(s.oom_killed());
}

#[test]
fn stats_without_peak_files_are_none() {
    let fx = fixture();
    let run = run(&fx);
    fx.fake
        .remove_knob(&run.path().join("memory.peak"))
        .unwrap();
    fx.fake.remove_knob(&run.path().join("pids.peak")).unwrap();
    let s = run.stats().expect("stats");
    assert_eq!((s.memory_peak_bytes, s.pids_peak), (None, None));
    assert!(!s.oom_killed());
}

#[test]
fn stats_name_the_bad_line() {
    let fx = fixture();
    let run = run(&fx);
    set(&fx, &run, "memory.events", "low 0\noom_kill lots\n");
    match run.stats().unwrap_err() {
        CgroupError::Parse { path, source } => {
            assert_eq!(path, run.path().join("memory.events"));
            assert_eq!(source.line, Some(2));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn remove_is_busy_while_processes_remain_then_succeeds() {
    let fx = fixture();
    let run = run(&fx);
    let path = run.path().to_path_buf();
    set(&fx, &run, "cgroup.procs", "4242\n");
    let err = run.clone().remove().unwrap_err();
    assert!(
        matches!(&err, CgroupError::Busy { path: p } if p == &path),
        "{err:?}"
    );
    assert!(path.is_dir());
    set(&fx, &run, "cgroup.procs", "");
    run.remove().expect("remove");
    assert!(!path.exists());
}

#[test]
fn freeze_and_thaw_write_cgroup_freeze_and_the_kernel_reports_it() {
    let fx = fixture();
    let run = run(&fx);
    run.set_frozen(true).expect("freeze");
    assert_eq!(fx.knob(run.path().join("cgroup.freeze")), "1");
    assert!(crate::cgroup::freezer::is_frozen(fx.fake.as_ref(), run.path()).unwrap());
    run.set_frozen(false).expect("thaw");
    assert_eq!(fx.knob(run.path().join("cgroup.freeze")), "0");
    assert!(!crate::cgroup::freezer::is_frozen(fx.fake.as_ref(), run.path()).unwrap());
    let gone = run.path().to_path_buf();
    run.remove().unwrap();
    let again = RunCgroup::from_parts(fx.fs(), gone.clone(), Vec::new());
    assert!(
        matches!(again.set_frozen(true), Err(CgroupError::NoSuchCgroup { path }) if path == gone)
    );
}

#[test]
fn throttle_sets_memory_high_below_current_and_lifting_writes_max() {
    let fx = fixture();
    let run = run(&fx);
    set(&fx, &run, "memory.current", "104857600\n");
    assert_eq!(run.memory_current().unwrap(), 100 << 20);
    run.set_memory_high(Some(90 << 20)).expect("throttle");
    assert_eq!(fx.knob(run.path().join("memory.high")), "94371840");
    run.set_memory_high(None).expect("lift");
    assert_eq!(fx.knob(run.path().join("memory.high")), "max");
}

#[test]
fn throttle_without_the_memory_controller_says_so() {
    let fx = crate::cgroup::test_support::fixture_with(&["cpu", "pids"]);
    let slots = vec![("s".to_owned(), Limits::default())];
    let h = Hierarchy::prepare(fx.fs(), &fx.root, false, &Limits::default(), &slots);
    // memory is required: preparing fails, so build the run's path by hand.
    assert!(h.is_err());
    let dir = fx.root.join("lonely");
    fx.fake.create_dir(&dir).unwrap();
    let run = RunCgroup::from_parts(fx.fs(), dir.clone(), Vec::new());
    assert!(matches!(
        run.set_memory_high(Some(1 << 20)),
        Err(CgroupError::ControllerNotEnabled { controller, .. }) if controller == "memory"
    ));
}
