//! The runner in-process against the fake cgroupfs: the run's cgroup is created below its
//! slot with the job's limits, the process enters it before exec, the kernel's figures are
//! read back into history, and the cgroup is removed. (The real kernel: `tests/vm_suite.rs`.)

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use slotcron::cgroup::fake::FakeFs;
use slotcron::config::{Settings, parse_job};
use slotcron::model::{Enforcement, RunStatus};
use slotcron::runner::{Enforcer, RunRequest, Runner};
use slotcron::store::{JobRow, RunRecord, Store};

struct World {
    _dir: tempfile::TempDir,
    fake: Arc<FakeFs>,
    root: PathBuf,
    jobs: PathBuf,
    runner: Runner,
    settings: Settings,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let fake = Arc::new(
        FakeFs::new_root(&dir.path().join("cgroup"), &["cpu", "memory", "pids", "io"]).unwrap(),
    );
    let root = fake
        .add_delegated("slotcron.service", &["cpu", "memory", "pids"])
        .unwrap();
    let mut settings = Settings::builtin();
    settings.state_dir = dir.path().join("state");
    settings.jobs_dir = dir.path().join("jobs.d");
    std::fs::create_dir_all(&settings.jobs_dir).unwrap();
    let tree = crate::helper::fake_slot_tree(fake.clone(), &root, &settings);
    let store = Store::open(&settings.state_dir.join("slotcron.db")).unwrap();
    let runner = Runner::new(
        Arc::new(settings.clone()),
        Arc::new(Enforcer::Cgroup(tree)),
        Arc::new(Mutex::new(store)),
    );
    let jobs = settings.jobs_dir.clone();
    World {
        _dir: dir,
        fake,
        root,
        jobs,
        runner,
        settings,
    }
}

impl World {
    fn run(&self, name: &str, yaml: &str) -> RunRecord {
        let file = self.jobs.join(format!("{name}.yaml"));
        let job = parse_job(&file, yaml, &self.settings).unwrap();
        let row = JobRow {
            name: job.name.clone(),
            file: file.display().to_string(),
            slot: job.slot.clone(),
            schedule: job.schedule_text.clone(),
            enabled: true,
            definition: "null".into(),
        };
        let mut store = Store::open(&self.settings.state_dir.join("slotcron.db")).unwrap();
        store.sync_jobs(&[row], chrono::Utc::now()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let request = RunRequest::manual(&job);
        rt.block_on(self.runner.run(request, std::future::pending()))
            .unwrap()
    }

    fn writes_to(&self, cgroup: &Path) -> Vec<(String, String)> {
        self.fake
            .writes()
            .into_iter()
            .filter(|(path, _)| path.parent() == Some(cgroup))
            .map(|(path, value)| {
                (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    value,
                )
            })
            .collect()
    }
}

#[test]
fn a_run_gets_its_own_cgroup_with_the_jobs_limits_and_it_is_removed_after() {
    let w = world();
    let record = w.run(
        "limited",
        "command: 'cat /proc/self/cgroup >/dev/null; echo inside'\nslot: heavy\n\
         limits: { memory: 64M, cpu: 0.5, pids: 10 }\nweights: { cpu: 2.0 }\n",
    );
    assert_eq!(record.status, RunStatus::Success, "{record:?}");
    assert_eq!(record.enforcement, Enforcement::Cgroup);
    assert_eq!(record.memory_limit_bytes, Some(64 << 20));
    let run_dir = w.root.join("jobs/heavy/run-1");
    assert_eq!(record.cgroup.as_deref(), Some(run_dir.to_str().unwrap()));
    let writes = w.writes_to(&run_dir);
    for expected in [
        ("memory.max", "67108864"),
        ("cpu.max", "50000 100000"),
        ("cpu.weight", "200"),
        ("pids.max", "10"),
        ("memory.swap.max", "0"),
        ("memory.oom.group", "1"),
        ("cgroup.kill", "1"),
    ] {
        assert!(
            writes.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not written to {}: {writes:?}",
            run_dir.display()
        );
    }
    assert!(!run_dir.exists(), "the run's cgroup was not removed");
    let log = std::fs::read_to_string(record.log_path.unwrap()).unwrap();
    assert_eq!(log, "inside\n");
}

#[test]
fn the_kernels_figures_become_the_runs_history() {
    let w = world();
    // The job plays the kernel's part on the fake: it writes the counters an OOM kill
    // leaves, then dies of SIGKILL as an OOM-killed process would.
    let cg = w.root.join("jobs/default");
    let script = format!(
        "command: |\n  d={}/run-$SLOTCRON_RUN_ID\n  printf 'low 0\\nhigh 0\\nmax 7\\noom 1\\noom_kill 2\\noom_group_kill 1\\n' > $d/memory.events\n  \
         echo 67100000 > $d/memory.peak\n  echo 12 > $d/pids.peak\n  \
         printf 'usage_usec 900\\nuser_usec 600\\nsystem_usec 300\\nnr_periods 5\\nnr_throttled 2\\nthrottled_usec 4000\\n' > $d/cpu.stat\n  \
         kill -9 $$\nlimits: {{ memory: 64M }}\n",
        cg.display()
    );
    let record = w.run("hog", &script);
    assert_eq!(record.status, RunStatus::OomKilled, "{record:?}");
    assert_eq!((record.exit_code, record.signal), (None, Some(9)));
    assert_eq!(record.oom_kills, Some(2));
    assert_eq!(record.memory_peak_bytes, Some(67_100_000));
    assert_eq!(record.pids_peak, Some(12));
    assert_eq!(
        (
            record.cpu_usage_usec,
            record.cpu_user_usec,
            record.cpu_system_usec,
            record.cpu_throttled_usec
        ),
        (Some(900), Some(600), Some(300), Some(4000))
    );
}

#[test]
fn a_run_that_cannot_start_is_recorded_failed_and_leaves_no_cgroup() {
    let w = world();
    let record = w.run("ghost", "command: [/no/such/binary]\n");
    assert_eq!(record.status, RunStatus::Failed);
    assert_eq!(record.exit_code, Some(127));
    assert!(record.error.unwrap().contains("/no/such/binary"));
    assert!(!w.root.join("jobs/default/run-1").exists());
    assert!(record.finished_at.is_some());
}
