//! A process known by pid AND start time: the pair names one process for the life of the
//! machine, where a pid alone may be reused once its process is gone. Recorded for every
//! run at spawn; crash recovery adopts an unconfined run only if both still match.

use std::path::Path;

/// The start time of process `pid`, in clock ticks since boot (field 22 of
/// `/proc/<pid>/stat`), or `None` if there is no such process or it is a zombie (it has
/// ended; only its exit status is left for its parent).
pub fn process_start(pid: u32) -> Option<u64> {
    process_start_in(Path::new("/proc"), pid)
}

/// [`process_start`] with the proc filesystem at `proc`.
pub fn process_start_in(proc: &Path, pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(proc.join(pid.to_string()).join("stat")).ok()?;
    parse_start(&stat)
}

/// The start time from the text of `/proc/<pid>/stat` (`pid (comm) state ppid ...`; comm
/// may hold spaces and parentheses, so fields are counted after the last `)`), `None` for
/// a zombie or text that does not parse.
///
/// ```
/// use slotcron::runner::process::parse_start;
/// let stat = "42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 0";
/// assert_eq!(parse_start(stat), Some(98765));
/// assert_eq!(parse_start(&stat.replace(") S", ") Z")), None);
/// assert_eq!(parse_start("42 (a) S 1"), None);
/// ```
pub fn parse_start(stat: &str) -> Option<u64> {
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    // Fields after comm start at 3 (state); starttime is field 22.
    if fields.next()? == "Z" {
        return None;
    }
    fields.nth(22 - 4)?.parse().ok()
}
