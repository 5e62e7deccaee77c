//! Fixtures: a sandbox folder with `slotcron.yaml`, `jobs.d` and `state`, the binary, and
//! a `slotcron daemon` running on a sandbox.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use serde_json::Value;
use tempfile::TempDir;

/// A configuration in a temp dir; removed on drop.
pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    /// `enforcement: off` (these tests are about everything but the kernel), `/metrics` on
    /// a free loopback port (daemons of parallel tests must not share 9746), plus `extra`.
    pub fn new(extra: &str) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("jobs.d")).unwrap();
        let config = format!(
            "jobs_dir: jobs.d\nstate_dir: state\nenforcement: off\nkill_grace: 1s\n\
             metrics: {{ listen: \"127.0.0.1:0\" }}\n{extra}"
        );
        std::fs::write(dir.path().join("slotcron.yaml"), config).unwrap();
        Sandbox { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn jobs_dir(&self) -> PathBuf {
        self.path().join("jobs.d")
    }

    /// Writes `jobs.d/<file>`.
    pub fn job(&self, file: &str, yaml: &str) -> &Sandbox {
        std::fs::write(self.jobs_dir().join(file), yaml).unwrap();
        self
    }

    /// `slotcron --config <sandbox>/slotcron.yaml ARGS`, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_slotcron"));
        cmd.arg("--config")
            .arg(self.path().join("slotcron.yaml"))
            .args(args);
        cmd.env_remove("SLOTCRON_LOG");
        cmd
    }

    pub fn slotcron(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `slotcron run JOB --json`: the record and the exit code.
    pub fn run(&self, job: &str) -> (Value, i32) {
        let out = self.slotcron(&["run", job, "--json"]);
        let record = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON record ({e}); stdout: {} stderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (record, out.status.code().expect("exited"))
    }

    /// `slotcron history --json` as a list.
    pub fn history(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["history", "--json"];
        all.extend_from_slice(args);
        let out = self.slotcron(&all);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
    }
}

/// The text of a run's log.
pub fn log_of(record: &Value) -> String {
    let path = record["log_path"].as_str().expect("log_path");
    std::fs::read_to_string(path).unwrap()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Polls `condition` every 20 ms until it holds or `deadline` passes.
pub fn wait_until(deadline: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}

/// Whether a process is alive (not gone, not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// How long a daemon test waits for something that should take a second or two: generous,
/// because the machine running the suite is shared and loaded.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// How often [`Daemon::wait_for`] looks again.
const POLL: Duration = Duration::from_millis(50);

/// A `slotcron daemon` on a sandbox, as pueue's `daemon()` fixture: started by
/// [`Sandbox::daemon`], ready once it answers `status`, stopped with SIGTERM (then SIGKILL
/// if it lingers) on drop. Its stderr goes to `<sandbox>/daemon.log`, shared by every
/// daemon of the sandbox, and printed when a wait times out.
pub struct Daemon<'a> {
    pub sandbox: &'a Sandbox,
    /// `None` once stopped or killed by the test.
    child: Option<Child>,
}

impl Sandbox {
    /// Where every daemon of this sandbox logs (appended).
    pub fn daemon_log(&self) -> PathBuf {
        self.path().join("daemon.log")
    }

    /// What the daemons of this sandbox logged so far.
    pub fn daemon_log_text(&self) -> String {
        std::fs::read_to_string(self.daemon_log()).unwrap_or_default()
    }

    /// `slotcron daemon` spawned with its output appended to [`Sandbox::daemon_log`]; not
    /// waited for.
    pub fn spawn_daemon(&self) -> Child {
        self.spawn_daemon_with(|_| {})
    }

    /// [`Sandbox::spawn_daemon`], the command changed by `tweak` first (limits, env).
    pub fn spawn_daemon_with(&self, tweak: impl FnOnce(&mut Command)) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.daemon_log())
            .unwrap();
        let mut cmd = self.command(&["daemon"]);
        cmd.env("SLOTCRON_LOG", "info,slotcron=debug")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        tweak(&mut cmd);
        cmd.spawn().unwrap()
    }

    /// Starts a daemon and waits until it answers `slotcron status`.
    pub fn daemon(&self) -> Daemon<'_> {
        self.daemon_with(|_| {})
    }

    /// A daemon, not waited for: the test waits for what it needs.
    pub fn daemon_unwaited(&self) -> Daemon<'_> {
        Daemon {
            sandbox: self,
            child: Some(self.spawn_daemon()),
        }
    }

    /// [`Sandbox::daemon`], the command changed by `tweak` first.
    pub fn daemon_with(&self, tweak: impl FnOnce(&mut Command)) -> Daemon<'_> {
        let mut daemon = Daemon {
            sandbox: self,
            child: Some(self.spawn_daemon_with(tweak)),
        };
        daemon.wait_for("the daemon to answer `status`", PATIENCE, |d| {
            let out = d.sandbox.slotcron(&["status", "--json"]);
            out.status.success().then_some(())
        });
        daemon
    }

    /// Opens the history database the daemon uses (creating `state/`).
    pub fn store(&self) -> slotcron::store::Store {
        let state = self.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        slotcron::store::Store::open(&state.join(slotcron::store::DEFAULT_DB_FILE)).unwrap()
    }
}

impl Daemon<'_> {
    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the daemon is running").id()
    }

    /// Calls `probe` every 50 ms until it returns `Some`, and returns that. Panics after
    /// `deadline` saying what was awaited, with the daemon's log; also panics at once if
    /// the daemon exited.
    pub fn wait_for<T>(
        &mut self,
        what: &str,
        deadline: Duration,
        mut probe: impl FnMut(&Self) -> Option<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            if let Some(value) = probe(self) {
                return value;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(exit)) = child.try_wait()
            {
                self.child = None;
                panic!(
                    "waiting for {what}: the daemon exited ({exit}); its log:\n{}",
                    self.sandbox.daemon_log_text()
                );
            }
            if start.elapsed() > deadline {
                panic!(
                    "waited {deadline:?} for {what} in vain; the daemon's log:\n{}",
                    self.sandbox.daemon_log_text()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// [`Daemon::wait_for`] a condition.
    pub fn wait_until(
        &mut self,
        what: &str,
        deadline: Duration,
        mut condition: impl FnMut(&Self) -> bool,
    ) {
        self.wait_for(what, deadline, |d| condition(d).then_some(()));
    }

    /// Asserts that `condition` holds every 50 ms for `period` (for things that must NOT
    /// happen: a run after a breaker trips, after `disable`).
    pub fn holds_for(
        &self,
        what: &str,
        period: Duration,
        mut condition: impl FnMut(&Self) -> bool,
    ) {
        let start = Instant::now();
        while start.elapsed() < period {
            assert!(
                condition(self),
                "{what} stopped holding after {:?}; the daemon's log:\n{}",
                start.elapsed(),
                self.sandbox.daemon_log_text()
            );
            std::thread::sleep(POLL);
        }
    }

    /// `slotcron status --json`.
    pub fn status(&self) -> Value {
        let out = self.sandbox.slotcron(&["status", "--json"]);
        assert!(
            out.status.success(),
            "status: {}\nthe daemon's log:\n{}",
            stderr(&out),
            self.sandbox.daemon_log_text()
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The `jobs` element of the status report named `job`, if the daemon has it.
    pub fn job_status(&self, job: &str) -> Option<Value> {
        let status = self.status();
        status["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["name"] == job)
            .cloned()
    }

    /// `slotcron history JOB --json`, oldest first (the command prints newest first).
    pub fn history(&self, job: &str) -> Vec<Value> {
        let mut runs = self.sandbox.history(&[job, "--limit", "10000"]);
        runs.reverse();
        runs
    }

    /// `slotcron ARGS` (a request to this daemon).
    pub fn slotcron(&self, args: &[&str]) -> Output {
        self.sandbox.slotcron(args)
    }

    /// `slotcron trigger JOB`, asserting the daemon took it (exit 0).
    pub fn trigger(&self, job: &str) -> String {
        let out = self.slotcron(&["trigger", job]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "trigger {job}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    /// Sends SIGTERM and waits up to `deadline` for the daemon to exit; returns its exit
    /// status and how long it took. Panics (after SIGKILL) if it does not exit in time.
    pub fn stop(&mut self, deadline: Duration) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("the daemon is running");
        signal(&child, Signal::SIGTERM);
        let start = Instant::now();
        loop {
            if let Some(exit) = child.try_wait().unwrap() {
                return (exit, start.elapsed());
            }
            if start.elapsed() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the daemon did not exit within {deadline:?} of SIGTERM; its log:\n{}",
                    self.sandbox.daemon_log_text()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// `kill -9` the daemon (a crash) and reap it. Its runs go on as orphans.
    pub fn crash(&mut self) {
        let mut child = self.child.take().expect("the daemon is running");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Daemon<'_> {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        signal(&child, Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(POLL);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn signal(child: &Child, signal: Signal) {
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, signal).unwrap();
}

/// A timestamp field of a JSON run record.
pub fn time(record: &Value, field: &str) -> DateTime<Utc> {
    record[field]
        .as_str()
        .unwrap_or_else(|| panic!("no `{field}` in {record}"))
        .parse()
        .unwrap()
}

/// A string field of a JSON value ("" when absent or not a string).
pub fn text<'v>(value: &'v Value, field: &str) -> &'v str {
    value[field].as_str().unwrap_or("")
}

/// The slot tree of `settings` prepared on a fake cgroupfs below the delegated `root`, as
/// the daemon lays it out (2 CPUs).
pub fn fake_slot_tree(
    fake: std::sync::Arc<slotcron::cgroup::fake::FakeFs>,
    root: &Path,
    settings: &slotcron::config::Settings,
) -> slotcron::cgroup::Hierarchy {
    let slots: Vec<_> = settings
        .slots
        .values()
        .map(|s| (s.name.clone(), slotcron::runner::slot_limits(s, 2)))
        .collect();
    slotcron::cgroup::Hierarchy::prepare(
        fake,
        root,
        false,
        &slotcron::runner::global_limits(settings),
        &slots,
    )
    .unwrap()
}
