//! What the daemon benchmarks share: a temp setup (`slotcron.yaml` with `enforcement: off`
//! and a `jobs_dir`), repeated timing with medians, and a table that puts each figure next
//! to its target.

#![allow(dead_code)] // each bench uses its own part

pub mod history;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A temp folder with `slotcron.yaml`, `jobs.d/` and `state/`, removed on drop.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub jobs_dir: PathBuf,
}

impl Setup {
    /// Writes `slotcron.yaml` with `enforcement: off` and `extra` (more YAML lines).
    pub fn new(extra: &str) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let jobs_dir = dir.path().join("jobs.d");
        std::fs::create_dir_all(&jobs_dir).expect("jobs.d");
        let config = dir.path().join("slotcron.yaml");
        std::fs::write(
            &config,
            format!("jobs_dir: jobs.d\nstate_dir: state\nenforcement: off\n{extra}"),
        )
        .expect("slotcron.yaml");
        Setup {
            dir,
            config,
            jobs_dir,
        }
    }

    pub fn write_job(&self, name: &str, text: &str) {
        let path = self.jobs_dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

/// `BENCH_ROUNDS` from the environment, else `default`.
pub fn rounds(default: usize) -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// How long `f` took.
pub fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

/// The median of `samples` (the upper one of an even count).
pub fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// The `q` quantile (0..=1) of sorted `samples`, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One line of a figures table: what, the figure, the target (if any) and whether it is met.
pub fn row(what: &str, figure_ms: f64, target_ms: Option<f64>) {
    match target_ms {
        Some(target) => {
            let verdict = if figure_ms < target { "met" } else { "MISSED" };
            println!("  {what:<46} {figure_ms:>9.1} ms   < {target:>5.0} ms  {verdict}");
        }
        None => println!("  {what:<46} {figure_ms:>9.1} ms"),
    }
}

/// The file's folder, for messages.
pub fn shown(path: &Path) -> String {
    path.display().to_string()
}
