//! The pressure response made visible (issue 16, ADR 0040): the whole daemon in-process
//! (`daemon::run`) with its runs' cgroups on the fake cgroupfs and a `/proc` in a temp dir
//! whose PSI file the test writes, and everything else real: the control socket that the
//! `slotcron status` and `slotcron history` binaries use, the HTTP API, its event stream
//! and `/metrics`, the history file and the (sleeping) processes. One run is throttled,
//! frozen, thawed and lifted; each surface is asserted while it is frozen and after it ends.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use slotcron::cgroup::fake::FakeFs;
use slotcron::config::load_settings;
use slotcron::daemon::{World, notify::Notifier};
use slotcron::model::PressureView;
use slotcron::runner::Enforcer;
use slotcron::store::Store;

use crate::api::events::Stream;
use crate::api::{Schemas, get};
use crate::helper::{PATIENCE, Sandbox, stderr, stdout, wait_until};

const MIB: u64 = 1 << 20;

/// A daemon on the fake cgroupfs, stopped on drop.
struct Pressured {
    sb: Sandbox,
    fake: Arc<FakeFs>,
    /// The slot tree's root on the fake.
    root: PathBuf,
    proc_root: PathBuf,
    /// The HTTP API's address.
    addr: String,
    rt: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), slotcron::daemon::DaemonError>>>,
}

impl Pressured {
    fn start(jobs: &[(&str, &str)]) -> Pressured {
        let sb = Sandbox::new(
            "protect:\n  response: { period: 100ms, some_avg10: { act: 40, clear: 10 } }\n",
        );
        for (file, yaml) in jobs {
            sb.job(file, yaml);
        }
        let settings = load_settings(Some(&sb.path().join("slotcron.yaml"))).unwrap();
        let fake = Arc::new(
            FakeFs::new_root(&sb.path().join("cgroup2"), &["cpu", "memory", "pids"]).unwrap(),
        );
        let root = fake
            .add_delegated("slotcron.service", &["cpu", "memory", "pids"])
            .unwrap();
        let tree = crate::helper::fake_slot_tree(fake.clone(), &root, &settings);
        let proc_root = sb.path().join("proc");
        std::fs::create_dir_all(proc_root.join("pressure")).unwrap();
        std::fs::write(proc_root.join("meminfo"), "MemAvailable: 4000000 kB\n").unwrap();
        std::fs::create_dir_all(&settings.state_dir).unwrap();
        let store = Store::open(&settings.state_dir.join("slotcron.db")).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (control, http) = rt.block_on(async {
            let socket = slotcron::control::socket_path(&settings);
            let control = slotcron::control::server::bind(&socket).unwrap();
            let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            (control, http)
        });
        let addr = http.local_addr().unwrap().to_string();
        let (_, reload_requests) = tokio::sync::mpsc::unbounded_channel();
        let world = World {
            settings: Arc::new(settings),
            enforcer: Arc::new(Enforcer::Cgroup(tree)),
            store: Arc::new(Mutex::new(store)),
            control: Some(control),
            http: Some(http),
            machine: Arc::new(slotcron::daemon::machine::ProcMemory::new(
                proc_root.clone(),
            )),
            boot_id: None,
            reload_requests,
            notifier: Notifier::disabled(),
            clock: slotcron::clock::system(),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = rt.spawn(slotcron::daemon::run(world, async {
            let _ = stopped.await;
        }));
        let daemon = Pressured {
            sb,
            fake,
            root,
            proc_root,
            addr,
            rt,
            stop: Some(stop),
            task: Some(task),
        };
        daemon.psi(0.0);
        daemon
    }

    fn psi(&self, some: f64) {
        std::fs::write(
            self.proc_root.join("pressure/memory"),
            format!(
                "some avg10={some:.2} avg60=0.00 avg300=0.00 total=1\n\
                 full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
            ),
        )
        .unwrap();
    }

    fn knob(&self, run_id: i64, knob: &str) -> String {
        let path = self.root.join(format!("jobs/default/run-{run_id}/{knob}"));
        self.fake.knob(&path).unwrap_or_default()
    }

    /// `slotcron status --json`, through the binary and the control socket.
    fn status(&self) -> Value {
        let out = self.sb.slotcron(&["status", "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Waits until `slotcron status` shows run `id` with `pressure.state` = `state`.
    fn wait_state(&self, id: i64, state: Value) -> Value {
        let mut last = Value::Null;
        let reached = wait_until(PATIENCE, || {
            last = self.status()["running"]
                .as_array()
                .and_then(|runs| runs.iter().find(|r| r["id"] == id).cloned())
                .unwrap_or(Value::Null);
            last["pressure"]["state"] == state
        });
        assert!(reached, "run {id} never reached {state}: {last}");
        last
    }

    fn api(&self, path: &str) -> Value {
        let answer = get(&self.addr, path);
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        answer.json()
    }

    fn metric(&self, series: &str) -> f64 {
        let text = get(&self.addr, "/metrics").body;
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    }
}

impl Drop for Pressured {
    fn drop(&mut self) {
        if let (Some(stop), Some(task)) = (self.stop.take(), self.task.take()) {
            let _ = stop.send(());
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(30), task).await });
        }
    }
}

/// The id of the newest run of `job` once the daemon shows it running.
fn running_id(d: &Pressured, job: &str) -> i64 {
    let mut id = None;
    let seen = wait_until(PATIENCE, || {
        id = d.status()["running"]
            .as_array()
            .and_then(|runs| runs.iter().find(|r| r["job"] == job))
            .and_then(|r| r["id"].as_i64());
        id.is_some()
    });
    assert!(seen, "no run of {job} shown running");
    id.unwrap()
}

#[test]
fn a_frozen_run_is_shown_everywhere_and_its_times_are_recorded() {
    let schemas = Schemas::load();
    let d = Pressured::start(&[(
        "low.yaml",
        "schedule: manual\ncommand: sleep 60\npriority: low\n",
    )]);
    let out = d.sb.slotcron(&["trigger", "low"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = running_id(&d, "low");
    let mut stream = Stream::open(&d.addr);
    stream.until("slots");
    let current = d.root.join(format!("jobs/default/run-{id}/memory.current"));
    d.fake
        .set_knob(&current, &format!("{}\n", 200 * MIB))
        .unwrap();

    d.psi(60.0);
    let frozen = d.wait_state(id, "frozen".into());
    assert_eq!(d.knob(id, "cgroup.freeze"), "1");
    assert_eq!(d.knob(id, "memory.high"), (180 * MIB).to_string());
    frozen_everywhere(&d, &schemas, id, &frozen);
    let throttle = stream.until("run_pressure");
    let freeze = stream.until("run_pressure");
    for (event, step, state) in [
        (&throttle, "throttle", "throttled"),
        (&freeze, "freeze", "frozen"),
    ] {
        schemas.check("RunPressure", event);
        assert_eq!(
            (event["run_id"].as_i64(), event["job"].as_str()),
            (Some(id), Some("low"))
        );
        assert_eq!(event["step"], step);
        assert_eq!(event["pressure"]["state"], state);
        assert!(
            event["message"]
                .as_str()
                .unwrap()
                .contains("some avg10 60.0%"),
            "{event}"
        );
    }

    d.psi(1.0);
    let released = d.wait_state(id, Value::Null);
    assert_eq!(d.knob(id, "cgroup.freeze"), "0");
    assert_eq!(d.knob(id, "memory.high"), "max");
    assert_eq!(stream.until("run_pressure")["step"], "thaw");
    assert_eq!(stream.until("run_pressure")["step"], "lift");
    assert_eq!(d.metric("slotcron_pressure_runs{state=\"frozen\"}"), 0.0);
    assert_eq!(
        d.metric("slotcron_pressure_steps_total{step=\"lift\"}"),
        1.0
    );

    let out = d.sb.slotcron(&["kill", &id.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ended = stream.until("run_finished");
    assert_eq!(ended["status"], "killed");
    recorded_everywhere(&d, &schemas, id, &released);
}

/// While frozen: `status` (JSON and text), the API's run listings and the run itself, and
/// `/metrics` say so.
fn frozen_everywhere(d: &Pressured, schemas: &Schemas, id: i64, shown: &Value) {
    let p = &shown["pressure"];
    assert!(
        p["throttled_since"].is_string() && p["frozen_since"].is_string(),
        "{p}"
    );
    assert!(
        p["throttled_since"].as_str() <= p["frozen_since"].as_str(),
        "{p}"
    );
    let text = stdout(&d.sb.slotcron(&["status"]));
    let row = text
        .lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .unwrap_or_else(|| panic!("no row of run {id}:\n{text}"));
    assert!(
        row.contains(" low ") && row.contains("frozen (throttled "),
        "{row}"
    );
    for path in [
        format!("/api/v1/runs/{id}"),
        "/api/v1/runs?status=running".to_owned(),
        "/api/v1/jobs/low/runs".to_owned(),
    ] {
        let body = d.api(&path);
        let run = match body.get("runs") {
            Some(runs) => {
                schemas.check("RunPage", &body);
                runs.as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["id"] == id)
                    .unwrap()
                    .clone()
            }
            None => {
                schemas.check("RunRecord", &body);
                body
            }
        };
        assert_eq!(run["status"], "running", "{path}");
        assert_eq!(run["pressure"]["state"], "frozen", "{path}: {run}");
        assert_eq!(run["pressure"]["frozen_since"], p["frozen_since"], "{path}");
    }
    assert_eq!(d.metric("slotcron_pressure_runs{state=\"frozen\"}"), 1.0);
    assert_eq!(d.metric("slotcron_pressure_runs{state=\"throttled\"}"), 1.0);
    assert_eq!(
        d.metric("slotcron_pressure_steps_total{step=\"throttle\"}"),
        1.0
    );
    assert_eq!(
        d.metric("slotcron_pressure_steps_total{step=\"freeze\"}"),
        1.0
    );
    assert_eq!(
        d.metric("slotcron_pressure_steps_total{step=\"requeue\"}"),
        0.0
    );
}

/// Once it ended: history (the binary's JSON and text, the API) holds how long it was
/// throttled and frozen, the times it had when it was released.
fn recorded_everywhere(d: &Pressured, schemas: &Schemas, id: i64, released: &Value) {
    let mut run = Value::Null;
    let done = wait_until(PATIENCE, || {
        run = d.api(&format!("/api/v1/runs/{id}"));
        run["status"] == "killed"
    });
    assert!(done, "run {id} not recorded: {run}");
    schemas.check("RunRecord", &run);
    let p = &run["pressure"];
    let (throttled, frozen) = (
        p["throttled_ms"].as_u64().unwrap(),
        p["frozen_ms"].as_u64().unwrap(),
    );
    assert!(
        frozen > 0 && throttled > frozen,
        "throttled before frozen, lifted after: {p}"
    );
    assert_eq!(
        p["throttled_ms"], released["pressure"]["throttled_ms"],
        "no time added once released"
    );
    assert_eq!(p["frozen_ms"], released["pressure"]["frozen_ms"]);
    assert_eq!(
        (p["state"].clone(), p["frozen_since"].clone()),
        (Value::Null, Value::Null)
    );
    let history = d.sb.history(&["low"]);
    assert_eq!(history[0]["pressure"], run["pressure"]);
    let text = stdout(&d.sb.slotcron(&["history", "low"]));
    let row = text
        .lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .unwrap();
    let view: PressureView = serde_json::from_value(run["pressure"].clone()).unwrap();
    assert!(
        row.ends_with(&slotcron::cli::table::pressure(Some(&view))),
        "{row}"
    );
}
