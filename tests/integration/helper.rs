//! Fixtures: a sandbox folder with `slotcron.yaml`, `jobs.d` and `state`, and the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// A configuration in a temp dir; removed on drop.
pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    /// `enforcement: off` (these tests are about everything but the kernel) plus `extra`.
    pub fn new(extra: &str) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("jobs.d")).unwrap();
        let config = format!(
            "jobs_dir: jobs.d\nstate_dir: state\nenforcement: off\nkill_grace: 1s\n{extra}"
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
