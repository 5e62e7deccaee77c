//! The real-kernel suite: proves on a real cgroup v2 tree that slotcron's limits hold.
//! It runs inside the VM (`tests/vm/run`, as `.ci/run` does), as root, with cgroup2 at
//! `/sys/fs/cgroup` and `slotcron` on PATH. On any other machine it says it was skipped,
//! and why, and runs nothing: it never counts as a pass there.
//!
//! The same binary is also the workload: `vm_suite hog 200M [hold | 3s]` allocates and
//! touches memory (and keeps it forever, or for 3 s), `vm_suite spin 2s` burns CPU, so the
//! VM needs nothing beyond busybox.
//!
//! The scenarios that run the real `slotcron daemon` live in `vm_suite/daemon.rs`; the io
//! controller's on a real disk in `vm_suite/io.rs`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "vm_suite/daemon.rs"]
mod daemon;
#[path = "vm_suite/io.rs"]
mod io;
#[path = "vm_suite/pressure.rs"]
mod pressure;

/// Where the suite builds its slotcron tree (a child of the VM's root cgroup).
const ROOT: &str = "/sys/fs/cgroup/slotcron";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("hog") => hog(&args[1], args.get(2).map(String::as_str)),
        Some("spin") => spin(parse_secs(&args[1])),
        _ => suite(&args),
    }
}

/// A scenario returns the figures worth printing, or why it failed.
type Scenario = (&'static str, fn() -> Result<String, String>);

const SCENARIOS: &[Scenario] = &[
    (
        "oom_kill_stays_inside_the_run",
        oom_kill_stays_inside_the_run,
    ),
    (
        "two_runs_cannot_exceed_their_slot",
        two_runs_cannot_exceed_their_slot,
    ),
    (
        "cpu_max_throttles_a_busy_loop",
        cpu_max_throttles_a_busy_loop,
    ),
    ("pids_max_stops_a_fork_bomb", pids_max_stops_a_fork_bomb),
    (
        "timeout_leaves_no_process_and_no_cgroup",
        timeout_leaves_no_process_and_no_cgroup,
    ),
    (
        "job_runs_as_the_declared_user",
        job_runs_as_the_declared_user,
    ),
    ("io_max_caps_a_dd_at_its_wbps", io::dd_is_capped_at_wbps),
    (
        "run_left_by_a_crash_is_adopted_and_completed_lost",
        run_left_by_a_crash_is_adopted_and_completed_lost,
    ),
    (
        "daemon_queues_the_heavy_import_behind_the_backup",
        daemon::heavy_import_waits_for_the_backup,
    ),
    (
        "daemon_six_due_at_once_five_seats",
        daemon::six_due_at_once_five_seats,
    ),
    (
        "daemon_killed_with_sigkill_is_recovered_by_the_next",
        daemon::killed_daemon_is_recovered_by_the_next,
    ),
    (
        "daemon_sigterm_stops_runs_and_exits_cleanly",
        daemon::sigterm_stops_runs_and_exits_cleanly,
    ),
    (
        "daemon_times_out_a_job_that_ignores_sigterm",
        daemon::times_out_a_job_that_ignores_sigterm,
    ),
    (
        "daemon_metrics_read_the_slot_cgroups",
        daemon::metrics_read_the_slot_cgroups,
    ),
    (
        "daemon_api_slots_read_the_slot_cgroups",
        daemon::api_slots_read_the_slot_cgroups,
    ),
    (
        "pressure_freezes_the_low_run_and_spares_the_critical_one",
        pressure::freezes_the_low_run_and_spares_the_critical_one,
    ),
];

fn suite(filter: &[String]) {
    let controllers =
        std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers").unwrap_or_default();
    if !controllers.split_whitespace().any(|c| c == "memory")
        || std::env::var_os("SLOTCRON_VM").is_none()
    {
        println!(
            "vm_suite: {} scenarios skipped: they need the real cgroup v2 kernel of the test VM \
             (run `tests/vm/run --include DIR -- /work/vm_suite`, as .ci/run does)",
            SCENARIOS.len()
        );
        return;
    }
    let (mut passed, mut failed) = (0, 0);
    for (name, scenario) in SCENARIOS {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let clock = Instant::now();
        match scenario() {
            Ok(figures) => {
                passed += 1;
                println!(
                    "vm_suite: ok     {name} ({:.1}s): {figures}",
                    clock.elapsed().as_secs_f64()
                );
            }
            Err(why) => {
                failed += 1;
                println!("vm_suite: FAILED {name}: {why}");
            }
        }
    }
    println!("vm_suite: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// A scratch configuration: `slotcron.yaml`, a jobs folder, a state folder.
struct Setup {
    dir: PathBuf,
}

impl Setup {
    fn new(name: &str, slots: &str, jobs: &[(&str, &str)]) -> Setup {
        Setup::with_cgroup(name, &format!("root: {ROOT}"), slots, jobs)
    }

    /// As [`Setup::new`], with `cgroup: { <cgroup> }` written as given (e.g. its own root
    /// and a `memory_max`).
    fn with_cgroup(name: &str, cgroup: &str, slots: &str, jobs: &[(&str, &str)]) -> Setup {
        let dir = PathBuf::from("/tmp/vm_suite").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("jobs.d")).unwrap();
        let config = format!(
            "jobs_dir: jobs.d\nstate_dir: state\nenforcement: required\nkill_grace: 1s\n\
             metrics: {{ listen: \"127.0.0.1:0\" }}\ncgroup: {{ {cgroup} }}\nslots:\n{slots}"
        );
        std::fs::write(dir.join("slotcron.yaml"), config).unwrap();
        for (job, text) in jobs {
            std::fs::write(dir.join("jobs.d").join(format!("{job}.yaml")), text).unwrap();
        }
        Setup { dir }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("slotcron");
        cmd.arg("--config")
            .arg(self.dir.join("slotcron.yaml"))
            .args(args);
        cmd
    }

    /// Starts `slotcron run JOB --json` in the background.
    fn start(&self, job: &str) -> Child {
        self.command(&["run", job, "--json"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("slotcron is on PATH")
    }

    /// Runs a job to completion and returns its history record.
    fn run(&self, job: &str) -> Result<Value, String> {
        record(self.start(job))
    }
}

fn record(child: Child) -> Result<Value, String> {
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "slotcron run printed no record ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn field<'a>(record: &'a Value, name: &str) -> &'a Value {
    &record[name]
}

fn number(record: &Value, name: &str) -> Result<u64, String> {
    field(record, name)
        .as_u64()
        .ok_or_else(|| format!("{name} missing in {record}"))
}

fn expect_status(record: &Value, status: &str) -> Result<(), String> {
    match field(record, "status").as_str() {
        Some(s) if s == status => Ok(()),
        other => Err(format!("expected status {status}, got {other:?}: {record}")),
    }
}

fn ensure(condition: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(what()) }
}

const MIB: u64 = 1 << 20;
const SLOTS: &str =
    "  default: { max_concurrent: 5, memory_max: 512M, cpu_max_percent: 100, pids_max: 200 }\n";

fn oom_kill_stays_inside_the_run() -> Result<String, String> {
    // Outside slotcron: a process holding 300 MiB in a 1 GiB machine.
    let mut bystander = Command::new("/work/vm_suite")
        .args(["hog", "300M", "hold"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let setup = Setup::new(
        "oom",
        SLOTS,
        &[(
            "hog",
            "command: [/work/vm_suite, hog, 400M]\nlimits: { memory: 64M, timeout: 60s }\n",
        )],
    );
    let run = setup.run("hog");
    let alive = bystander.try_wait().map(|s| s.is_none()).unwrap_or(false);
    let _ = bystander.kill();
    let _ = bystander.wait();
    let run = run?;
    expect_status(&run, "oom_killed")?;
    let peak = number(&run, "memory_peak_bytes")?;
    ensure(peak <= 64 * MIB, || {
        format!("peak {peak} above the 64M limit")
    })?;
    ensure(number(&run, "oom_kills")? >= 1, || {
        format!("no oom_kills recorded: {run}")
    })?;
    ensure(number(&run, "memory_limit_bytes")? == 64 * MIB, || {
        format!("limit not recorded: {run}")
    })?;
    ensure(alive, || "the process outside slotcron was killed".into())?;
    Ok(format!(
        "peak {} of a {} limit, oom_kills {}, bystander alive",
        mib(peak),
        mib(64 * MIB),
        number(&run, "oom_kills")?
    ))
}

fn two_runs_cannot_exceed_their_slot() -> Result<String, String> {
    let job = "command: [/work/vm_suite, hog, 100M, hold]\nlimits: { timeout: 4s }\n";
    let setup = Setup::new(
        "slot_cap",
        "  default: { max_concurrent: 5, memory_max: 150M, cpu_max_percent: 100 }\n",
        &[("a", job), ("b", job)],
    );
    let (a, b) = (setup.start("a"), setup.start("b"));
    let (a, b) = (record(a)?, record(b)?);
    let statuses = [field(&a, "status").as_str(), field(&b, "status").as_str()];
    ensure(statuses.contains(&Some("oom_killed")), || {
        format!("neither run was OOM-killed: {a} {b}")
    })?;
    let slot_peak: u64 = std::fs::read_to_string(format!("{ROOT}/jobs/default/memory.peak"))
        .map_err(|e| e.to_string())?
        .trim()
        .parse()
        .map_err(|e| format!("memory.peak: {e}"))?;
    ensure(slot_peak <= 150 * MIB, || {
        format!("slot peak {slot_peak} above its 150M cap")
    })?;
    Ok(format!(
        "statuses {statuses:?}, slot memory.peak {} of 150M",
        mib(slot_peak)
    ))
}

fn cpu_max_throttles_a_busy_loop() -> Result<String, String> {
    let setup = Setup::new(
        "cpu",
        SLOTS,
        &[(
            "spin",
            "command: [/work/vm_suite, spin, 3s]\nlimits: { cpu: 0.2, timeout: 60s }\n",
        )],
    );
    let run = setup.run("spin")?;
    expect_status(&run, "success")?;
    let usage = number(&run, "cpu_usage_usec")?;
    let throttled = number(&run, "cpu_throttled_usec")?;
    let wall = number(&run, "duration_ms")? * 1000;
    ensure(throttled > 0, || format!("never throttled: {run}"))?;
    let share = usage as f64 / wall as f64;
    ensure((0.1..=0.3).contains(&share), || {
        format!("used {share:.2} of a CPU under a 0.2 quota: {run}")
    })?;
    Ok(format!(
        "{share:.3} CPU over {:.1}s under a 0.2 quota, throttled {:.1}s",
        wall as f64 / 1e6,
        throttled as f64 / 1e6
    ))
}

fn pids_max_stops_a_fork_bomb() -> Result<String, String> {
    let bomb =
        "command: 'bomb() { bomb | bomb & }; bomb; sleep 3'\nlimits: { pids: 20, timeout: 8s }\n";
    let setup = Setup::new("pids", SLOTS, &[("bomb", bomb)]);
    let run = setup.run("bomb")?;
    let peak = number(&run, "pids_peak")?;
    ensure(peak <= 20, || format!("pids_peak {peak} above pids.max 20"))?;
    ensure(peak >= 10, || {
        format!("the bomb never got going (pids_peak {peak})")
    })?;
    no_run_cgroups_left()?;
    Ok(format!(
        "pids_peak {peak} of pids.max 20, status {}, run cgroup removed",
        field(&run, "status")
    ))
}

fn timeout_leaves_no_process_and_no_cgroup() -> Result<String, String> {
    let job = "command: 'sleep 1000 & sleep 1001 & (trap \"\" TERM; sleep 1002) & setsid sleep 1003 & sleep 1004'\n\
               limits: { timeout: 2s }\n";
    let setup = Setup::new("timeout", SLOTS, &[("slow", job)]);
    let clock = Instant::now();
    let run = setup.run("slow")?;
    expect_status(&run, "timeout")?;
    ensure(clock.elapsed() < Duration::from_secs(15), || {
        format!("took {:?}", clock.elapsed())
    })?;
    let duration = number(&run, "duration_ms")?;
    ensure(duration >= 2900, || {
        format!("the 1s kill grace was not given to the process ignoring SIGTERM: {run}")
    })?;
    let sleepers = processes_named("sleep");
    ensure(sleepers.is_empty(), || {
        format!("processes left behind: {sleepers:?}")
    })?;
    no_run_cgroups_left()?;
    Ok(format!(
        "ended after {duration} ms (2s timeout + 1s grace), no process or cgroup left"
    ))
}

fn job_runs_as_the_declared_user() -> Result<String, String> {
    let setup = Setup::new(
        "user",
        SLOTS,
        &[(
            "whoami",
            "command: 'id -u; id -g; echo $HOME'\nuser: tester\n",
        )],
    );
    let run = setup.run("whoami")?;
    expect_status(&run, "success")?;
    let log = field(&run, "log_path").as_str().ok_or("no log_path")?;
    let text = std::fs::read_to_string(log).map_err(|e| format!("{log}: {e}"))?;
    ensure(text == "1000\n1000\n/tmp/tester\n", || {
        format!("log says {text:?}")
    })?;
    Ok("uid 1000, gid 1000, HOME /tmp/tester".into())
}

/// A daemon "crashes" (drops everything) while a run holds 64 MiB in its cgroup; the next
/// start adopts the run, watches it end, and records it `lost` with the kernel's figures.
fn run_left_by_a_crash_is_adopted_and_completed_lost() -> Result<String, String> {
    use slotcron::cgroup::{CgroupFs, Hierarchy, KernelFs, Limits};
    use slotcron::daemon::recovery::{ADOPTED_TEXT, recover, watch_adopted};
    use slotcron::model::{Enforcement, RunStatus};
    use slotcron::runner::Enforcer;
    use slotcron::store::{JobRow, NewRun, Store};
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    use std::sync::{Arc, Mutex};

    let root = Path::new("/sys/fs/cgroup/slotcron-recovery");
    let db = Path::new("/tmp/vm_suite/recovery/slotcron.db");
    let _ = std::fs::remove_dir_all("/tmp/vm_suite/recovery");
    let fs: Arc<dyn CgroupFs> = Arc::new(KernelFs);
    let slots = [("default".to_owned(), Limits::default())];
    let prepare = || {
        Hierarchy::prepare(fs.clone(), root, false, &Limits::default(), &slots)
            .map_err(|e| e.to_string())
    };
    let e = |e: slotcron::store::StoreError| e.to_string();

    // The first daemon: records the run, creates its cgroup, starts it inside.
    let (id, mut child, cgroup) = {
        let mut store = Store::open(db).map_err(e)?;
        let job = JobRow {
            name: "hog".into(),
            file: "jobs.d/hog.yaml".into(),
            slot: "default".into(),
            schedule: "@daily".into(),
            enabled: true,
            definition: serde_json::json!({ "name": "hog" }).to_string(),
        };
        store.sync_jobs(&[job], chrono::Utc::now()).map_err(e)?;
        let id = store
            .start_run(&NewRun {
                job: "hog".into(),
                slot: "default".into(),
                trigger: "schedule".into(),
                attempt: 1,
                retry_of: None,
                enforcement: Enforcement::Cgroup,
                memory_limit_bytes: None,
                queued_at: None,
                started_at: chrono::Utc::now(),
            })
            .map_err(e)?;
        let tree = prepare()?;
        let cg = tree
            .create_run("default", &format!("run-{id}"), &Limits::default())
            .map_err(|e| e.to_string())?;
        let procs = cg.open_procs().map_err(|e| e.to_string())?;
        let fd = procs.as_raw_fd();
        let mut cmd = Command::new("/work/vm_suite");
        cmd.args(["hog", "64M", "hold"]);
        // SAFETY: only write(2) between fork and exec, as the runner does.
        unsafe {
            cmd.pre_exec(move || {
                if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().map_err(|e| e.to_string())?;
        let path = cg.path().to_path_buf();
        store
            .set_run_process(id, Some(child.id()), path.to_str(), None)
            .map_err(e)?;
        (id, child, path)
    }; // kill -9: store, tree and cgroup handle dropped, the row still `running`.
    let current = cgroup.join("memory.current");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let bytes: u64 = std::fs::read_to_string(&current)
            .map_err(|e| e.to_string())?
            .trim()
            .parse()
            .unwrap_or(0);
        if bytes >= 60 * MIB {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!("the run never reached 60 MiB ({bytes} bytes)"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    // The next daemon.
    let mut store = Store::open(db).map_err(e)?;
    let enforcer = Enforcer::Cgroup(prepare()?);
    let found = recover(&enforcer, &mut store, chrono::Utc::now()).map_err(|e| e.to_string())?;
    let adopted = match found.adopted.as_slice() {
        [one] if one.run_id == id && one.slot == "default" && one.job == "hog" => one.clone(),
        _ => {
            let _ = child.kill();
            return Err(format!("expected run {id} adopted, got {found:?}"));
        }
    };
    let store = Arc::new(Mutex::new(store));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let record = runtime.block_on(async {
        let watcher = tokio::spawn(watch_adopted(
            adopted,
            store.clone(),
            slotcron::clock::system(),
            std::future::pending(),
            Duration::from_secs(1),
        ));
        tokio::time::sleep(Duration::from_millis(500)).await;
        let still_watching = !watcher.is_finished();
        // The run ends on its own (here: killed from outside slotcron).
        let _ = child.kill();
        let record = tokio::time::timeout(Duration::from_secs(30), watcher)
            .await
            .map_err(|_| "not completed 30 s after the run ended".to_owned())?
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        ensure(still_watching, || "stopped watching a live run".into())?;
        Ok::<_, String>(record)
    })?;
    let _ = child.wait();
    ensure(record.status == RunStatus::Lost, || {
        format!("status {} instead of lost", record.status)
    })?;
    ensure(record.error.as_deref() == Some(ADOPTED_TEXT), || {
        format!("error text {:?}", record.error)
    })?;
    let peak = record.usage.memory_peak_bytes.unwrap_or(0);
    ensure(peak >= 60 * MIB, || format!("memory_peak_bytes {peak}"))?;
    ensure(!cgroup.exists(), || {
        format!("{} left behind", cgroup.display())
    })?;
    let running = store
        .lock()
        .map_err(|e| e.to_string())?
        .running_runs()
        .map_err(e)?;
    ensure(running.is_empty(), || format!("still running: {running:?}"))?;
    Ok(format!(
        "run {id} adopted, completed lost with memory_peak {}, cgroup removed",
        mib(peak)
    ))
}

fn mib(bytes: u64) -> String {
    format!("{:.1}M", bytes as f64 / MIB as f64)
}

fn no_run_cgroups_left() -> Result<(), String> {
    let slot = Path::new(ROOT).join("jobs/default");
    let left: Vec<String> = std::fs::read_dir(&slot)
        .map_err(|e| format!("{}: {e}", slot.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ensure(left.is_empty(), || {
        format!("run cgroups left behind: {left:?}")
    })
}

fn processes_named(name: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .filter_map(|e| {
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            (comm.trim() == name)
                .then(|| format!("{} {}", e.file_name().to_string_lossy(), comm.trim()))
        })
        .collect()
}

/// Allocates `size` (e.g. `200M`) and touches every page; with `hold`, then sleeps forever;
/// with a duration (`3s`), keeps the memory that long and exits 0.
fn hog(size: &str, hold: Option<&str>) {
    let mib: usize = size.trim_end_matches('M').parse().expect("size like 200M");
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    for _ in 0..mib {
        blocks.push(vec![1u8; 1 << 20]);
    }
    match hold {
        Some("hold") => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        Some(secs) => {
            // Said before holding: once the holding is over, nobody may be reading (a
            // daemon killed in the meantime), and a failed print must not fail the job.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stdout(),
                "allocated {} MiB, holding {secs}",
                blocks.len()
            );
            std::thread::sleep(parse_secs(secs));
            std::hint::black_box(&blocks);
        }
        None => println!("allocated {} MiB", blocks.len()),
    }
}

/// Burns CPU for `duration` of wall-clock time.
fn spin(duration: Duration) {
    let start = Instant::now();
    let mut x: u64 = 0;
    while start.elapsed() < duration {
        for i in 0..100_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        }
        std::hint::black_box(x);
    }
}

fn parse_secs(text: &str) -> Duration {
    Duration::from_secs(
        text.trim_end_matches('s')
            .parse()
            .expect("duration like 3s"),
    )
}
