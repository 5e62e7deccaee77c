//! The state directory's lock (ADR 0023): held by the daemon alone, never by a process it
//! forked, so a restart after `kill -9` finds it free whatever the killed daemon's
//! children are doing.

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};
use slotcron::daemon::lock::lock_state_dir;

use crate::helper::{PATIENCE, Sandbox};

use super::running_id;

#[test]
fn a_child_between_fork_and_exec_does_not_keep_a_dead_daemons_lock() {
    let sb = Sandbox::new("");
    let state = sb.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    // This process plays the daemon: it takes the lock as the daemon does and forks a child
    // that stays where a job's process is between fork and exec, then dies (its lock's
    // descriptor closes) while the child lives on.
    let lock = lock_state_dir(&state).unwrap();
    // SAFETY: the child only calls sleep(3) and _exit(2), both async-signal-safe.
    let child = match unsafe { fork() }.unwrap() {
        ForkResult::Child => unsafe {
            libc::sleep(60);
            libc::_exit(0)
        },
        ForkResult::Parent { child } => child,
    };
    drop(lock);
    let started = std::panic::catch_unwind(|| {
        let d = sb.daemon();
        // The lock still keeps a second daemon out.
        let mut second = sb.spawn_daemon();
        let exit = second.wait().unwrap();
        assert!(!exit.success());
        assert!(
            sb.daemon_log_text()
                .contains("another slotcron daemon already uses state_dir"),
            "{}",
            sb.daemon_log_text()
        );
        drop(d);
    });
    let _ = kill(child, Signal::SIGKILL);
    let _ = waitpid(child, None);
    if let Err(panic) = started {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn a_daemon_killed_with_a_run_going_is_restarted_at_once() {
    let sb = Sandbox::new("");
    sb.job("long.yaml", "command: sleep 30\n");
    let mut d = sb.daemon();
    d.trigger("long");
    running_id(&mut d, "long");
    d.crash();
    drop(d);
    let mut d = sb.daemon();
    d.wait_until("the daemon answers", PATIENCE, |d| {
        d.status()["pid"].is_u64()
    });
}
