//! The daemon raises its soft descriptor limit to the hard one, and its jobs get the soft
//! limit it was started with back (programs using `select(2)` break above 1,024).

use super::limit_descriptors;
use crate::helper::{PATIENCE, Sandbox, log_of};

/// The soft limit of `pid` from `/proc/PID/limits`.
fn soft_limit(pid: u32) -> u64 {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

#[test]
fn the_daemon_raises_its_limit_and_jobs_get_the_old_one_back() {
    let sb = Sandbox::new("");
    sb.job(
        "limits.yaml",
        "command: [\"sh\", \"-c\", \"echo soft=$(ulimit -Sn) hard=$(ulimit -Hn)\"]\n",
    );
    let mut daemon = sb.daemon_with(|cmd| limit_descriptors(cmd, 512, 4096));
    assert_eq!(
        soft_limit(daemon.pid()),
        4096,
        "the daemon's own soft limit"
    );
    daemon.trigger("limits");
    let run = daemon.wait_for("the run to finish", PATIENCE, |d| {
        d.history("limits")
            .into_iter()
            .find(|r| r["status"] != "running")
    });
    assert_eq!(run["status"], "success", "{run}");
    assert_eq!(log_of(&run).trim(), "soft=512 hard=4096");
}
