//! The pressure response on the fake cgroupfs: real (sleeping) processes whose cgroups the
//! fake kernel lays out, memory signals the test sets (`FixedMemory`), and the engine
//! ticked by hand.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::tests::{CALM, Harness, harness};
use super::*;
use crate::cgroup::fake::FakeFs;
use crate::cgroup::{CgroupFs, Hierarchy, Limits};
use crate::control::live::LiveEvent;
use crate::model::RunStatus;
use crate::runner::Runner;
use crate::scheduler::Readings;

const MIB: u64 = 1 << 20;

const SLOTS: &str = "  default: { max_concurrent: 4, memory_max: 4G }\n\
    protect:\n  response: { period: 1s, some_avg10: { act: 40, clear: 10 } }\n";

struct World {
    h: Harness,
    fake: Arc<FakeFs>,
    tree_root: PathBuf,
}

/// The harness's engine, its runs given cgroups on a fake below `_dir`.
async fn world(jobs: &[(&str, &str)]) -> World {
    world_with(SLOTS, &["default"], jobs).await
}

/// As [`world`], with `config` after `slots:` and these slots laid out on the fake.
async fn world_with(config: &str, slots: &[&str], jobs: &[(&str, &str)]) -> World {
    let mut h = harness(config, jobs).await;
    let dir = h._dir.path().to_path_buf();
    let fake =
        Arc::new(FakeFs::new_root(&dir.join("cgroup2"), &["cpu", "memory", "pids"]).unwrap());
    let root = fake
        .add_delegated("slotcron.service", &["cpu", "memory", "pids"])
        .unwrap();
    let fs: Arc<dyn CgroupFs> = fake.clone();
    let slots: Vec<_> = slots
        .iter()
        .map(|s| ((*s).to_owned(), Limits::default()))
        .collect();
    let tree = Hierarchy::prepare(fs, &root, false, &Limits::default(), &slots).unwrap();
    let enforcer = Arc::new(Enforcer::Cgroup(tree));
    let engine = &mut h.engine;
    engine.runner = Runner::new(
        engine.settings.clone(),
        enforcer.clone(),
        engine.store.clone(),
    );
    engine.enforcer = enforcer;
    let w = World {
        h,
        fake,
        tree_root: root,
    };
    w.psi(0.0);
    w
}

impl World {
    fn psi(&self, some: f64) {
        self.h.machine.set(Readings {
            some_avg10: Some(some),
            ..CALM
        });
    }

    fn cgroup(&self, run_id: i64) -> PathBuf {
        self.cgroup_in("default", run_id)
    }

    fn cgroup_in(&self, slot: &str, run_id: i64) -> PathBuf {
        self.tree_root.join(format!("jobs/{slot}/run-{run_id}"))
    }

    fn knob(&self, run_id: i64, knob: &str) -> String {
        self.fake.knob(&self.cgroup(run_id).join(knob)).unwrap()
    }

    /// Sets `slot`'s own `memory.pressure` to `some` percent (`some avg10`).
    fn slot_psi(&self, slot: &str, some: f64) {
        let path = self.tree_root.join(format!("jobs/{slot}/memory.pressure"));
        let text = format!(
            "some avg10={some:.2} avg60=0.00 avg300=0.00 total=1\n\
             full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
        );
        self.fake.set_knob(&path, &text).unwrap();
    }

    async fn tick(&mut self) {
        self.h.engine.pressure_tick(Utc::now()).await;
    }

    fn writes_to(&self, dir: &Path) -> Vec<(String, String)> {
        self.fake
            .writes()
            .into_iter()
            .filter(|(p, _)| p.parent() == Some(dir))
            .map(|(p, v)| (p.file_name().unwrap().to_string_lossy().into_owned(), v))
            .collect()
    }

    fn event_kinds(&self, run_id: i64) -> Vec<(String, String)> {
        let store = self.h.engine.store.lock().unwrap();
        let mut events: Vec<_> = store
            .events(100)
            .unwrap()
            .into_iter()
            .filter(|e| e.run_id == Some(run_id))
            .map(|e| (e.kind, e.message))
            .collect();
        events.reverse();
        events
    }

    async fn stop_all(&mut self) {
        let ids: Vec<i64> = self
            .h
            .engine
            .active
            .values()
            .filter_map(|a| a.run_id)
            .collect();
        for id in ids {
            let _ = self.h.engine.kill(id);
        }
        self.h.settle().await;
    }
}

const LOW: &str = "command: sleep 30\npriority: low\n";
const CRITICAL: &str = "command: sleep 30\npriority: critical\n";

#[tokio::test]
async fn a_low_run_is_throttled_then_frozen_then_thawed_and_lifted_a_critical_one_untouched() {
    let mut w = world(&[("low", LOW), ("crit", CRITICAL)]).await;
    w.h.manual("low").await;
    w.h.manual("crit").await;
    let low = w.h.wait_recorded("low").await;
    let crit = w.h.wait_recorded("crit").await;
    assert!(
        w.h.engine.timeline.get(&Wake::Pressure).is_some(),
        "sampling armed"
    );
    let low_dir = w.cgroup(low);
    w.fake
        .set_knob(&low_dir.join("memory.current"), &format!("{}\n", 200 * MIB))
        .unwrap();
    w.fake
        .set_knob(
            &w.cgroup(crit).join("memory.current"),
            &format!("{}\n", 900 * MIB),
        )
        .unwrap();
    let crit_writes = w.writes_to(&w.cgroup(crit));

    w.psi(60.0);
    w.tick().await;
    assert_eq!(w.knob(low, "memory.high"), (180 * MIB).to_string());
    w.tick().await;
    assert_eq!(w.knob(low, "cgroup.freeze"), "1");
    let token =
        *w.h.engine
            .active
            .iter()
            .find(|(_, a)| a.run_id == Some(low))
            .unwrap()
            .0;
    assert!(w.h.engine.active[&token].pressure.is_frozen());
    w.tick().await;
    w.psi(20.0);
    w.tick().await;
    assert_eq!(w.knob(low, "cgroup.freeze"), "1", "between the bands: held");

    w.psi(5.0);
    w.tick().await;
    assert_eq!(w.knob(low, "cgroup.freeze"), "0", "thawed first");
    assert_eq!(w.knob(low, "memory.high"), (180 * MIB).to_string());
    w.tick().await;
    assert_eq!(w.knob(low, "memory.high"), "max", "then lifted");
    assert!(w.h.engine.ladder.is_calm());
    assert!(!w.h.engine.active[&token].pressure.is_frozen());

    assert_eq!(
        w.writes_to(&w.cgroup(crit)),
        crit_writes,
        "critical: never written"
    );
    let kinds: Vec<String> = w.event_kinds(low).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kinds,
        [
            "pressure_throttle",
            "pressure_freeze",
            "pressure_thaw",
            "pressure_lift"
        ]
    );
    let (_, freeze) = &w.event_kinds(low)[1];
    assert!(freeze.contains("some avg10 60.0%"), "{freeze}");
    assert!(freeze.contains("MemAvailable"), "{freeze}");
    assert!(w.event_kinds(crit).is_empty());
    w.stop_all().await;
}

#[tokio::test]
async fn a_requeued_run_is_recorded_as_such_and_starts_again_once_pressure_clears() {
    let mut w = world(&[(
        "batch",
        "command: sleep 30\npriority: low\non_pressure: [requeue]\n",
    )])
    .await;
    w.h.manual("batch").await;
    let first = w.h.wait_recorded("batch").await;
    w.psi(80.0);
    w.tick().await;
    w.h.settle().await;
    let runs = w.h.runs("batch");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Requeued);
    assert_eq!(runs[0].error.as_deref(), Some(REQUEUE_NOTE));
    assert!(w.h.engine.admission.is_queued("batch"), "back in its queue");
    w.h.engine.dispatch(Utc::now()).await;
    assert!(
        w.h.engine.active.is_empty(),
        "held while the pressure lasts"
    );

    w.psi(1.0);
    w.tick().await;
    let second = w.h.wait_recorded("batch").await;
    assert_ne!(first, second);
    assert_eq!(w.h.runs("batch")[1].trigger, REQUEUE_TRIGGER);
    let kinds: Vec<String> = w.event_kinds(first).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, ["pressure_requeue"]);
    w.stop_all().await;
}

#[tokio::test]
async fn kill_thaws_a_frozen_run_first() {
    let mut w = world(&[("low", LOW)]).await;
    w.h.manual("low").await;
    let low = w.h.wait_recorded("low").await;
    w.psi(90.0);
    w.tick().await;
    w.tick().await;
    assert_eq!(w.knob(low, "cgroup.freeze"), "1");
    w.h.engine.kill(low).unwrap();
    assert_eq!(w.knob(low, "cgroup.freeze"), "0");
    w.h.settle().await;
    assert_eq!(w.h.runs("low")[0].status, RunStatus::Killed);
}

#[tokio::test]
async fn sampling_stops_when_no_run_is_active() {
    let mut w = world(&[("low", LOW)]).await;
    w.h.manual("low").await;
    w.h.wait_recorded("low").await;
    w.stop_all().await;
    w.h.engine.timeline.remove(&Wake::Pressure);
    w.tick().await;
    assert_eq!(w.h.engine.timeline.get(&Wake::Pressure), None);
}

#[tokio::test]
async fn a_run_being_killed_is_not_requeued() {
    let mut w = world(&[(
        "batch",
        "command: 'trap \"\" TERM; sleep 30'\npriority: low\non_pressure: [requeue]\n",
    )])
    .await;
    w.h.manual("batch").await;
    let id = w.h.wait_recorded("batch").await;
    w.h.engine.kill(id).unwrap();
    w.psi(80.0);
    w.tick().await;
    w.h.settle().await;
    assert_eq!(w.h.runs("batch")[0].status, RunStatus::Killed);
    assert!(!w.h.engine.admission.is_queued("batch"));
    assert!(w.event_kinds(id).is_empty());
}

#[tokio::test]
async fn a_frozen_run_whose_job_file_is_gone_is_still_thawed() {
    let mut w = world(&[("low", LOW)]).await;
    w.h.manual("low").await;
    let low = w.h.wait_recorded("low").await;
    w.psi(90.0);
    w.tick().await;
    w.tick().await;
    assert_eq!(w.knob(low, "cgroup.freeze"), "1");
    // The job file was deleted and reloaded away while its run is frozen.
    w.h.engine.registry.jobs.remove("low");
    w.tick().await;
    w.psi(1.0);
    w.tick().await;
    assert_eq!(
        w.knob(low, "cgroup.freeze"),
        "0",
        "thawed although unknown now"
    );
    w.tick().await;
    assert_eq!(w.knob(low, "memory.high"), "max");
    assert!(w.h.engine.ladder.is_calm());
    w.stop_all().await;
}

#[tokio::test]
async fn each_step_is_published_with_the_run_s_state_after_it_and_counted() {
    let mut w = world(&[("low", LOW)]).await;
    let mut live = w.h.engine.live.subscribe();
    w.h.manual("low").await;
    let low = w.h.wait_recorded("low").await;
    w.psi(90.0);
    w.tick().await;
    w.tick().await;
    w.psi(1.0);
    w.tick().await;
    w.tick().await;
    let mut steps = Vec::new();
    while let Ok(event) = live.try_recv() {
        if let LiveEvent::RunPressure {
            run_id,
            step,
            pressure,
            ..
        } = event
        {
            assert_eq!(run_id, low);
            steps.push((step, pressure.and_then(|p| p.state)));
        }
    }
    use crate::model::PressureState::{Frozen, Throttled};
    assert_eq!(
        steps,
        [
            ("throttle", Some(Throttled)),
            ("freeze", Some(Frozen)),
            ("thaw", Some(Throttled)),
            ("lift", None)
        ]
    );
    let counted = &w.h.engine.metrics.pressure_steps;
    assert_eq!(
        ["throttle", "freeze", "thaw", "lift"].map(|s| counted.get(s).copied()),
        [Some(1); 4]
    );
    assert_eq!(counted.get("requeue"), None);
    w.stop_all().await;
}

#[tokio::test]
async fn a_slot_s_own_pressure_acts_on_its_runs_alone() {
    let config = "  default: { max_concurrent: 4, memory_max: 4G }\n  \
        heavy: { max_concurrent: 4, memory_max: 4G }\n\
        protect:\n  response: { period: 1s, slot_some_avg10: { act: 50, clear: 10 } }\n";
    let jobs = [
        ("calm", "command: sleep 30\npriority: low\n"),
        ("big", "command: sleep 30\npriority: medium\nslot: heavy\n"),
    ];
    let mut w = world_with(config, &["default", "heavy"], &jobs).await;
    w.h.manual("calm").await;
    w.h.manual("big").await;
    let calm = w.h.wait_recorded("calm").await;
    let big = w.h.wait_recorded("big").await;
    let big_dir = w.cgroup_in("heavy", big);
    w.fake
        .set_knob(&big_dir.join("memory.current"), &format!("{}\n", 100 * MIB))
        .unwrap();
    let calm_writes = w.writes_to(&w.cgroup(calm));
    // The machine's own PSI is no signal here, however high.
    w.psi(95.0);
    w.slot_psi("heavy", 70.0);
    w.tick().await;
    w.tick().await;
    assert_eq!(
        w.fake.knob(&big_dir.join("memory.high")).unwrap(),
        (90 * MIB).to_string()
    );
    assert_eq!(w.fake.knob(&big_dir.join("cgroup.freeze")).unwrap(), "1");
    assert_eq!(
        w.writes_to(&w.cgroup(calm)),
        calm_writes,
        "the calm slot's low run: untouched"
    );
    let (_, throttled) = &w.event_kinds(big)[0];
    assert!(
        throttled.contains("slot heavy memory.pressure some avg10 70.0%"),
        "{throttled}"
    );
    w.slot_psi("heavy", 30.0);
    w.tick().await;
    assert_eq!(
        w.fake.knob(&big_dir.join("cgroup.freeze")).unwrap(),
        "1",
        "in its gap: held"
    );
    w.slot_psi("heavy", 5.0);
    w.tick().await;
    w.tick().await;
    assert_eq!(w.fake.knob(&big_dir.join("cgroup.freeze")).unwrap(), "0");
    assert_eq!(w.fake.knob(&big_dir.join("memory.high")).unwrap(), "max");
    assert!(w.h.engine.ladder.is_calm());
    w.stop_all().await;
}

#[tokio::test]
async fn without_a_slot_band_no_slot_file_is_read() {
    let mut w = world(&[("low", LOW)]).await;
    w.h.manual("low").await;
    w.h.wait_recorded("low").await;
    let slot_psi = w.tree_root.join("jobs/default/memory.pressure");
    // Unparsable: read, it would show in the event; it is not read.
    w.fake.set_knob(&slot_psi, "garbage\n").unwrap();
    w.psi(60.0);
    w.tick().await;
    let low = w.h.runs("low")[0].id;
    let (_, throttled) = &w.event_kinds(low)[0];
    assert!(!throttled.contains("slot default"), "{throttled}");
    w.stop_all().await;
}
