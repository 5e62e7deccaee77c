//! The runner in-process against the fake cgroupfs: the run's cgroup is created below its
//! slot with the job's limits, the process enters it before exec, the kernel's figures are
//! read back into history, and the cgroup is removed. (The real kernel: `tests/vm_suite.rs`.)

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use slotcron::cgroup::DevNum;
use slotcron::cgroup::fake::FakeFs;
use slotcron::config::{ByteSize, DeviceMax, IoConfig, Job, Settings, parse_job};
use slotcron::model::{Enforcement, IoStat, RunStatus};
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
    world_with(&["cpu", "memory", "pids"], |_| {})
}

/// A world whose root is delegated `controllers`, with `edit` applied to the settings.
fn world_with(controllers: &[&str], edit: impl FnOnce(&mut Settings)) -> World {
    let dir = tempfile::tempdir().unwrap();
    let fake = Arc::new(
        FakeFs::new_root(&dir.path().join("cgroup"), &["cpu", "memory", "pids", "io"]).unwrap(),
    );
    let root = fake.add_delegated("slotcron.service", controllers).unwrap();
    let mut settings = Settings::builtin();
    edit(&mut settings);
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
        self.run_edited(name, yaml, |_| {})
    }

    /// Runs the job of `yaml` after `edit` (to give it values no file on this machine
    /// could resolve, such as a device only the fake has).
    fn run_edited(&self, name: &str, yaml: &str, edit: impl FnOnce(&mut Job)) -> RunRecord {
        let file = self.jobs.join(format!("{name}.yaml"));
        let mut job = parse_job(&file, yaml, &self.settings).unwrap();
        edit(&mut job);
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
    assert_eq!(record.usage.oom_kills, Some(2));
    assert_eq!(record.usage.memory_peak_bytes, Some(67_100_000));
    assert_eq!(record.usage.pids_peak, Some(12));
    assert_eq!(
        (
            record.usage.cpu_usage_usec,
            record.usage.cpu_user_usec,
            record.usage.cpu_system_usec,
            record.usage.cpu_throttled_usec
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

/// The io of `/dev/vda` on the test VM: 2 MiB/s of writes, weight 300.
fn vda_io() -> IoConfig {
    IoConfig {
        weight: Some(300),
        max: vec![DeviceMax {
            device: "/dev/vda".into(),
            number: DevNum {
                major: 254,
                minor: 0,
            },
            rbps: None,
            wbps: Some(2 << 20),
            riops: None,
            wiops: None,
        }],
    }
}

#[test]
fn io_limits_reach_the_run_and_io_stat_becomes_its_history() {
    let w = world_with(&["cpu", "io", "memory", "pids"], |_| {});
    // The job plays the kernel: it writes the io.stat its writes would leave.
    let script = format!(
        "command: |\n  printf '254:0 rbytes=4096 wbytes=10485760 rios=1 wios=80 dbytes=0 dios=0\\n8:16 rbytes=8192 wbytes=0 rios=2 wios=0\\n' \
         > {}/run-$SLOTCRON_RUN_ID/io.stat\n",
        w.root.join("jobs/default").display()
    );
    let record = w.run_edited("dd", &script, |job| job.io = Some(vda_io()));
    assert_eq!(record.status, RunStatus::Success, "{record:?}");
    assert_eq!(
        record.usage.io,
        Some(IoStat {
            rbytes: 12288,
            wbytes: 10 << 20,
            rios: 3,
            wios: 80
        })
    );
    let writes = w.writes_to(&w.root.join("jobs/default/run-1"));
    for expected in [
        ("io.weight", "default 300"),
        ("io.max", "254:0 rbps=max wbps=2097152 riops=max wiops=max"),
    ] {
        assert!(
            writes.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not written: {writes:?}"
        );
    }
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["io"]["wbytes"], 10 << 20);
}

#[test]
fn without_io_delegated_a_job_with_io_limits_runs_under_its_other_limits() {
    let w = world();
    let record = w.run_edited(
        "dd",
        "command: \"true\"\nlimits: { memory: 64M }\n",
        |job| job.io = Some(vda_io()),
    );
    assert_eq!(record.status, RunStatus::Success, "{record:?}");
    assert_eq!(record.usage.io, None);
    let writes = w.writes_to(&w.root.join("jobs/default/run-1"));
    assert!(writes.contains(&("memory.max".to_owned(), "67108864".to_owned())));
    assert!(
        writes.iter().all(|(knob, _)| !knob.starts_with("io.")),
        "{writes:?}"
    );
}

#[test]
fn the_recorded_memory_limit_is_the_lowest_level_the_global_cap_included() {
    // `light` allows 1G; all jobs together 512M: the run is OOM-killed at 512M.
    let w = world_with(&["cpu", "memory", "pids"], |s| {
        s.memory_max = Some(ByteSize::new(512 << 20));
    });
    let record = w.run("tidy", "command: \"true\"\nslot: light\n");
    assert_eq!(record.memory_limit_bytes, Some(512 << 20), "{record:?}");
    let own = w.run(
        "small",
        "command: \"true\"\nslot: light\nlimits: { memory: 64M }\n",
    );
    assert_eq!(own.memory_limit_bytes, Some(64 << 20));
}
