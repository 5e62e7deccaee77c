//! What a client can cost the daemon, against the real binary: thousands of idle HTTP
//! connections with a low descriptor limit while jobs keep running, a flood of silent
//! control-socket connections while `slotcron status` gets through, a status answer
//! larger than the control protocol's frame, and the descriptor limit the daemon raises
//! for itself but not for its jobs.

mod connections;
mod control;
mod descriptors;

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::helper::Sandbox;

/// Sets the soft and hard `RLIMIT_NOFILE` of the process `cmd` starts.
pub fn limit_descriptors(cmd: &mut Command, soft: u64, hard: u64) {
    // SAFETY: only setrlimit(2), async-signal-safe, runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// `slotcron ARGS` on the sandbox, killed if it has not exited within `deadline`; `None`
/// then.
pub fn slotcron_within(sb: &Sandbox, args: &[&str], deadline: Duration) -> Option<Output> {
    let mut child = sb
        .command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < deadline {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}
