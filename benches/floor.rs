//! The floor of an enforced run, and slotcron beside it, in one boot of the test VM
//! (issue 15, item 1). `bash benches/floor-vm` runs it there; elsewhere it refuses (the
//! floor needs a real cgroup v2 tree, which the host's must never be).
//!
//! - **bare spawn**: `/bin/true` spawned and waited for.
//! - **floor**: this program's own minimal enforced run, no slotcron code: mkdir a run
//!   cgroup, write `memory.max`, `memory.swap.max`, `cpu.max`, `pids.max`,
//!   `memory.oom.group`, spawn `/bin/true` into it before exec (the child writes itself to
//!   `cgroup.procs`), wait, read `memory.peak` and `cpu.stat`, rmdir.
//! - **daemon**: `slotcron daemon` with 40 jobs due in the same second through a one-seat
//!   slot: (last end - first start) / 39, from the history.
//! - **`slotcron run t`** and **`slotcron --version`** (process start-up), as processes.
//!
//! Prints each per-run figure and its ratio to the floor.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where the floor's run cgroups go (a child of the VM's root, which has every controller).
const FLOOR_PARENT: &str = "/sys/fs/cgroup/floor-bench";
/// How many jobs are due at once in the daemon's case.
const DAEMON_JOBS: usize = 40;

fn main() {
    if std::env::var_os("SLOTCRON_VM").is_none() {
        eprintln!("benches/floor: needs the test VM's cgroup v2 tree; run `bash benches/floor-vm`");
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let slotcron = std::env::var("SLOTCRON_BIN").unwrap_or_else(|_| "/bin/slotcron".into());

    let bare = time_each(runs, || {
        assert!(Command::new("/bin/true").status().unwrap().success());
    });
    let floor = floor_runs(runs);
    let version = time_each(runs.min(50), || {
        let out = Command::new(&slotcron).arg("--version").output().unwrap();
        assert!(out.status.success());
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path());
    let run = time_each(runs.min(50), || {
        let out = Command::new(&slotcron)
            .arg("--config")
            .arg(&config)
            .args(["run", "t"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    let daemon = daemon_runs(&slotcron, dir.path(), &config);
    let fixed = without_aslr(|| {
        let version = time_each(runs.min(50), || {
            let status = Command::new(&slotcron)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
        });
        let run = time_each(runs.min(50), || {
            let status = Command::new(&slotcron)
                .arg("--config")
                .arg(&config)
                .args(["run", "t"])
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
        });
        (version, run)
    });

    println!("floor bench, one VM boot, per run of /bin/true (mean ms)");
    let row = |name: &str, d: Duration| {
        println!(
            "  {name:<44} {:8.2} ms  {:5.2}x floor",
            ms(d),
            ms(d) / ms(floor)
        );
    };
    row("bare spawn", bare);
    row("floor (mkdir, 5 knobs, spawn into, read, rmdir)", floor);
    row(
        &format!("slotcron daemon, {DAEMON_JOBS} due, one seat"),
        daemon,
    );
    row("`slotcron --version` (start-up)", version);
    row("`slotcron run t`", run);
    println!(
        "  `slotcron run t` - start-up = {:.2} ms = {:.2}x floor (target 1.5x); daemon target 1.25x",
        ms(run) - ms(version),
        (ms(run) - ms(version)) / ms(floor)
    );
    if let Some((version, run)) = fixed {
        println!("with address randomization off (qemu then reuses the code it translated):");
        row("`slotcron --version` (start-up)", version);
        row("`slotcron run t`", run);
    }
}

/// `f`'s result with the guest's address randomization off, restored after; `None` where
/// it cannot be switched. Under TCG, qemu translates guest code per virtual address: a
/// program loaded at a new random address each time is translated again each time.
fn without_aslr<T>(f: impl FnOnce() -> T) -> Option<T> {
    const KNOB: &str = "/proc/sys/kernel/randomize_va_space";
    let before = std::fs::read_to_string(KNOB).ok()?;
    std::fs::write(KNOB, "0").ok()?;
    let result = f();
    let _ = std::fs::write(KNOB, before.trim());
    Some(result)
}

/// `runs` minimal enforced runs, mean time each.
fn floor_runs(runs: usize) -> Duration {
    let parent = Path::new(FLOOR_PARENT);
    std::fs::create_dir_all(parent).expect("mkdir floor parent");
    std::fs::write(parent.join("cgroup.subtree_control"), "+memory +cpu +pids")
        .expect("enable controllers under the floor parent");
    let mut n = 0;
    let mean = time_each(runs, || {
        n += 1;
        floor_run(&parent.join(format!("run-{n}")));
    });
    let _ = std::fs::remove_dir(parent);
    mean
}

/// One minimal enforced run in cgroup `dir`.
fn floor_run(dir: &Path) {
    std::fs::create_dir(dir).expect("mkdir run cgroup");
    for (knob, value) in [
        ("memory.max", "67108864"),
        ("memory.swap.max", "0"),
        ("cpu.max", "100000 100000"),
        ("pids.max", "16"),
        ("memory.oom.group", "1"),
    ] {
        std::fs::write(dir.join(knob), value).unwrap_or_else(|e| panic!("{knob}: {e}"));
    }
    let procs = std::ffi::CString::new(
        dir.join("cgroup.procs")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    let mut cmd = Command::new("/bin/true");
    // SAFETY: between fork and exec only async-signal-safe calls (open, write, close).
    unsafe {
        cmd.pre_exec(move || {
            let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
            if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(fd);
            Ok(())
        });
    }
    assert!(cmd.status().expect("spawn into the run cgroup").success());
    let peak = std::fs::read_to_string(dir.join("memory.peak")).expect("memory.peak");
    let cpu = std::fs::read_to_string(dir.join("cpu.stat")).expect("cpu.stat");
    assert!(!peak.is_empty() && cpu.starts_with("usage_usec"));
    std::fs::remove_dir(dir).expect("rmdir run cgroup");
}

/// The settings and the job `t`, enforced, in `dir`.
fn write_config(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("jobs.d")).unwrap();
    let config = dir.join("slotcron.yaml");
    std::fs::write(
        &config,
        "jobs_dir: jobs.d\nstate_dir: state\nenforcement: required\n\
         cgroup: { root: /sys/fs/cgroup/slotcron-floor }\n\
         slots:\n  default: { max_concurrent: 1, memory_max: 512M, cpu_max_percent: 100 }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("jobs.d/t.yaml"),
        "command: [/bin/true]\nlimits: { memory: 64M, cpu: 1, pids: 16 }\n",
    )
    .unwrap();
    config
}

/// `DAEMON_JOBS` jobs due in the same second through the one-seat slot; per-run time
/// from the history: (last end - first start) / (jobs - 1).
fn daemon_runs(slotcron: &str, dir: &Path, config: &Path) -> Duration {
    let due = due_in(15);
    for i in 0..DAEMON_JOBS {
        std::fs::write(
            dir.join(format!("jobs.d/d{i:02}.yaml")),
            format!(
                "command: [/bin/true]\nschedule: '{} {} {} * * *'\ntimezone: UTC\n\
                 limits: {{ memory: 64M, cpu: 1, pids: 16 }}\n",
                due.2, due.1, due.0
            ),
        )
        .unwrap();
    }
    let mut daemon = Command::new(slotcron)
        .arg("--config")
        .arg(config)
        .arg("daemon")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon");
    let deadline = Instant::now() + Duration::from_secs(120);
    let spans = loop {
        std::thread::sleep(Duration::from_millis(500));
        if let Some(spans) = daemon_spans(slotcron, config) {
            break spans;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon's runs did not all finish"
        );
    };
    // SAFETY: signals our own child.
    unsafe { libc::kill(daemon.id() as i32, libc::SIGTERM) };
    let _ = daemon.wait();
    let (first_start, last_end) = spans;
    Duration::from_millis(((last_end - first_start) / (DAEMON_JOBS as i64 - 1)) as u64)
}

/// (first start, last end) in ms of the daemon's scheduled runs, once all have finished.
fn daemon_spans(slotcron: &str, config: &Path) -> Option<(i64, i64)> {
    let out = Command::new(slotcron)
        .arg("--config")
        .arg(config)
        .args(["history", "--json", "-n", "1000"])
        .output()
        .ok()?;
    let runs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).ok()?;
    let ms = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.timestamp_millis())
    };
    let scheduled: Vec<&serde_json::Value> = runs.iter().filter(|r| r["job"] != "t").collect();
    if scheduled.len() < DAEMON_JOBS || scheduled.iter().any(|r| r["status"] != "success") {
        return None;
    }
    let first = scheduled
        .iter()
        .filter_map(|r| ms(&r["started_at"]))
        .min()?;
    let last = scheduled
        .iter()
        .filter_map(|r| ms(&r["finished_at"]))
        .max()?;
    Some((first, last))
}

/// (hour, minute, second) in UTC `lead` seconds from now.
fn due_in(lead: u64) -> (u64, u64, u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + lead;
    ((now / 3600) % 24, (now / 60) % 60, now % 60)
}

/// Mean time of `f` over `n` calls, after one warm-up call.
fn time_each(n: usize, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n as u32
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
