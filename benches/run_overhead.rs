//! What slotcron adds to a run: `/bin/true` spawned directly, against the same command run
//! through slotcron's whole lifecycle (history row, cgroup with limits, spawn into it,
//! wait, kernel figures, cleanup, history completion), in-process and as `slotcron run`.
//! Also the peak RSS of `slotcron run`.
//!
//! Real figures need real cgroups: `bash benches/run-overhead` runs this inside the test VM.
//! Elsewhere it measures the unconfined path and says so.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slotcron::config::{self, Settings};
use slotcron::runner::{CgroupEnv, Enforcer, RunRequest, Runner};
use slotcron::store::Store;

const RUNS: usize = 200;

fn main() {
    let runs = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(RUNS);
    let dir = tempfile::tempdir().expect("temp dir");
    let in_vm = std::env::var_os("SLOTCRON_VM").is_some();
    let root = if in_vm {
        "cgroup: { root: /sys/fs/cgroup/slotcron-bench }\nenforcement: required\n"
    } else {
        "enforcement: auto\n"
    };
    std::fs::create_dir_all(dir.path().join("jobs.d")).unwrap();
    std::fs::write(
        dir.path().join("slotcron.yaml"),
        format!("jobs_dir: jobs.d\nstate_dir: state\n{root}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("jobs.d/true.yaml"),
        "command: [/bin/true]\nlimits: { memory: 64M, cpu: 1, pids: 16 }\n",
    )
    .unwrap();
    let config_path = dir.path().join("slotcron.yaml");

    let direct = time_each(runs, || {
        let status = Command::new("/bin/true").status().unwrap();
        assert!(status.success());
    });

    let loaded = config::load(Some(&config_path)).expect("config");
    let in_process = lifecycle(&loaded, runs);

    let mut peak_rss_kib = 0;
    let cli = time_each(runs.min(50), || {
        let (status, rss) = run_cli(&config_path);
        assert!(status, "slotcron run failed");
        peak_rss_kib = peak_rss_kib.max(rss);
    });

    let enforcement = if in_vm {
        "cgroup v2 (VM)"
    } else {
        "whatever this host allows"
    };
    println!("run overhead, {runs} runs of /bin/true, enforcement: {enforcement}");
    println!("  spawn /bin/true directly:        {}", fmt(direct));
    println!(
        "  slotcron lifecycle (in-process): {}  (adds {:.2} ms, ratio {:.1}x)",
        fmt(in_process),
        ms(in_process) - ms(direct),
        ms(in_process) / ms(direct)
    );
    println!(
        "  `slotcron run true` (process):   {}  (adds {:.2} ms, ratio {:.1}x)",
        fmt(cli),
        ms(cli) - ms(direct),
        ms(cli) / ms(direct)
    );
    println!(
        "  `slotcron run` peak RSS:         {:.1} MB",
        peak_rss_kib as f64 * 1024.0 / 1e6
    );
}

/// The runner's whole lifecycle, `runs` times, in one process (as the daemon will run it).
fn lifecycle(loaded: &config::Loaded, runs: usize) -> Duration {
    let settings: Settings = loaded.settings.clone();
    let job = loaded.catalog.jobs["true"].clone();
    let mut store = Store::open(&settings.state_dir.join("bench.db")).unwrap();
    let row = slotcron::store::JobRow {
        name: job.name.clone(),
        file: job.file.display().to_string(),
        slot: job.slot.clone(),
        schedule: job.schedule_text.clone(),
        enabled: true,
        definition: "null".into(),
    };
    store.sync_jobs(&[row], chrono::Utc::now()).unwrap();
    let enforcer = Enforcer::setup(&settings, &CgroupEnv::kernel()).expect("enforcement");
    let runner = Runner::new(
        Arc::new(settings),
        Arc::new(enforcer),
        Arc::new(Mutex::new(store)),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    time_each(runs, || {
        let request = RunRequest::manual(&job);
        let record = rt
            .block_on(runner.run(request, std::future::pending()))
            .unwrap();
        assert_eq!(
            record.status,
            slotcron::model::RunStatus::Success,
            "{record:?}"
        );
    })
}

/// Runs `slotcron run true` once; returns success and the child's max RSS in KiB.
fn run_cli(config: &Path) -> (bool, i64) {
    // Reaped by wait4 below (for its rusage), not by `Child::wait`.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env_or("SLOTCRON_BIN", "slotcron"))
        .args(["--config"])
        .arg(config)
        .args(["run", "true"])
        .stdout(Stdio::null())
        .spawn()
        .expect("slotcron binary (set SLOTCRON_BIN)");
    let mut status = 0;
    // SAFETY: rusage is plain data filled by wait4 for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(rc, child.id() as i32);
    (
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        usage.ru_maxrss,
    )
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_owned())
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

fn fmt(d: Duration) -> String {
    format!("{:8.3} ms/run", ms(d))
}
