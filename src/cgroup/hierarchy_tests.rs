//! Tests of the slot tree on the fake cgroupfs: layout, limit values, idempotence,
//! error cases, and that nothing outside the root is written.

use std::sync::Arc;

use super::*;
use crate::cgroup::fake::FakeFs;
use crate::cgroup::test_support::{Fixture, fixture, fixture_with, my_pid, snapshot};
use crate::cgroup::{CpuLimits, CpuMax, MemoryLimits, PidsLimits};

const GIB: u64 = 1 << 30;

fn slots() -> Vec<(String, Limits)> {
    let batch = Limits {
        memory: MemoryLimits {
            max: Some(512 << 20),
            high: Some(400 << 20),
            swap_max: Some(0),
            oom_group: false,
        },
        cpu: CpuLimits {
            max: Some(CpuMax {
                quota_usec: 160_000,
                period_usec: 100_000,
            }),
            weight: Some(50),
        },
        pids: PidsLimits { max: Some(64) },
        ..Limits::default()
    };
    vec![
        ("batch".to_owned(), batch),
        ("small".to_owned(), Limits::default()),
    ]
}

fn global() -> Limits {
    Limits {
        memory: MemoryLimits {
            max: Some(2 * GIB),
            ..MemoryLimits::default()
        },
        ..Limits::default()
    }
}

fn prepare(fx: &Fixture) -> Hierarchy {
    Hierarchy::prepare(fx.fs(), &fx.root, false, &global(), &slots()).expect("prepare")
}

#[test]
fn prepare_lays_out_tree_and_enables_controllers_top_down() {
    let fx = fixture();
    let h = prepare(&fx);
    assert_eq!(h.root(), fx.root);
    assert_eq!(h.slots(), ["batch", "small"]);
    let jobs = fx.root.join("jobs");
    assert!(fx.root.join("supervisor/cgroup.procs").is_file());
    assert_eq!(
        fx.knob(fx.root.join("cgroup.subtree_control")),
        "cpu io memory pids"
    );
    assert_eq!(
        fx.knob(jobs.join("cgroup.controllers")),
        "cpu io memory pids"
    );
    assert_eq!(
        fx.knob(jobs.join("cgroup.subtree_control")),
        "cpu io memory pids"
    );
    assert_eq!(
        fx.knob(jobs.join("batch/cgroup.subtree_control")),
        "cpu io memory pids"
    );
    assert_eq!(h.slot_path("batch"), jobs.join("batch"));
}

#[test]
fn prepare_writes_global_and_slot_limits() {
    let fx = fixture();
    prepare(&fx);
    let jobs = fx.root.join("jobs");
    assert_eq!(fx.knob(jobs.join("memory.max")), "2147483648");
    assert_eq!(fx.knob(jobs.join("cpu.max")), "max 100000");
    let batch = jobs.join("batch");
    assert_eq!(fx.knob(batch.join("memory.max")), "536870912");
    assert_eq!(fx.knob(batch.join("memory.high")), "419430400");
    assert_eq!(fx.knob(batch.join("memory.swap.max")), "0");
    assert_eq!(fx.knob(batch.join("cpu.max")), "160000 100000");
    assert_eq!(fx.knob(batch.join("cpu.weight")), "50");
    assert_eq!(fx.knob(batch.join("pids.max")), "64");
    assert_eq!(fx.knob(batch.join("memory.oom.group")), "0");
    let small = jobs.join("small");
    assert_eq!(fx.knob(small.join("memory.max")), "max");
    assert_eq!(fx.knob(small.join("pids.max")), "max");
    assert_eq!(fx.knob(small.join("cpu.weight")), "100");
}

#[test]
fn prepare_again_reuses_dirs_and_resets_stale_limits() {
    let fx = fixture();
    prepare(&fx);
    let before = fx.fake.writes().len();
    let relaxed = vec![("batch".to_owned(), Limits::default())];
    Hierarchy::prepare(fx.fs(), &fx.root, false, &Limits::default(), &relaxed)
        .expect("second prepare");
    let batch = fx.root.join("jobs/batch");
    assert_eq!(fx.knob(batch.join("memory.max")), "max");
    assert_eq!(fx.knob(batch.join("cpu.max")), "max 100000");
    assert_eq!(fx.knob(batch.join("memory.swap.max")), "max");
    assert_eq!(fx.knob(fx.root.join("jobs/memory.max")), "max");
    // The slot no longer configured is left in place (runs may live there).
    assert!(fx.root.join("jobs/small").is_dir());
    // Controllers already enabled are not written again.
    let again = &fx.fake.writes()[before..];
    assert!(
        again
            .iter()
            .all(|(p, _)| !p.ends_with("cgroup.subtree_control")),
        "{again:?}"
    );
}

#[test]
fn missing_controller_in_root_is_named_and_nothing_is_created() {
    let fx = fixture_with(&["cpu", "memory"]);
    let err = Hierarchy::prepare(fx.fs(), &fx.root, false, &global(), &slots()).unwrap_err();
    match &err {
        CgroupError::ControllersUnavailable { path, missing } => {
            assert_eq!(path, &fx.root);
            assert_eq!(missing, &["pids"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("Delegate=yes"), "{err}");
    assert!(!fx.root.join("supervisor").exists());
}

#[test]
fn prepare_never_writes_outside_root() {
    let fx = fixture();
    let top = fx.fake.top().to_path_buf();
    let before = snapshot(&top);
    let writes_before = fx.fake.writes().len();
    prepare(&fx);
    assert_eq!(snapshot(&top), before);
    let writes = &fx.fake.writes()[writes_before..];
    assert!(!writes.is_empty());
    assert!(
        writes.iter().all(|(p, _)| p.starts_with(&fx.root)),
        "{writes:?}"
    );
}

#[test]
fn processes_in_root_block_controllers_unless_moved_to_supervisor() {
    let fx = fixture();
    let procs = fx.root.join("cgroup.procs");
    fx.fake
        .set_knob(&procs, &format!("{}\n", my_pid()))
        .unwrap();
    let err = Hierarchy::prepare(fx.fs(), &fx.root, false, &global(), &slots()).unwrap_err();
    assert!(
        matches!(&err, CgroupError::ProcessesInCgroup { path } if path == &fx.root),
        "{err:?}"
    );

    Hierarchy::prepare(fx.fs(), &fx.root, true, &global(), &slots())
        .expect("prepare with move_self");
    let supervisor_procs = fx.root.join("supervisor/cgroup.procs");
    assert!(
        fx.fake
            .writes()
            .contains(&(supervisor_procs.clone(), "0".to_owned()))
    );
    assert_eq!(fx.knob(&supervisor_procs), my_pid().to_string());
    assert_eq!(fx.knob(&procs), "");
    assert_eq!(
        fx.knob(fx.root.join("cgroup.subtree_control")),
        "cpu io memory pids"
    );
}

#[test]
fn root_not_ours_is_not_delegated_error() {
    let fx = fixture();
    let elsewhere = fx._dir.path().join("elsewhere");
    let err = Hierarchy::prepare(fx.fs(), &elsewhere, false, &global(), &slots()).unwrap_err();
    assert!(
        matches!(&err, CgroupError::NotDelegated { path, .. } if path == &elsewhere),
        "{err:?}"
    );
    assert!(err.to_string().contains("Delegate=yes"));
}

#[test]
fn missing_root_is_created_under_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Arc::new(FakeFs::new_root(dir.path(), &["cpu", "memory", "pids"]).unwrap());
    fake.write(
        &dir.path().join("cgroup.subtree_control"),
        "+cpu +memory +pids",
    )
    .unwrap();
    let root = dir.path().join("slotcron");
    Hierarchy::prepare(fake.clone(), &root, false, &Limits::default(), &slots()).expect("prepare");
    assert!(root.join("jobs/batch/cpu.max").is_file());
}

#[test]
fn absent_swap_knob_is_skipped() {
    let fx = fixture();
    prepare(&fx);
    fx.fake
        .remove_knob(&fx.root.join("jobs/batch/memory.swap.max"))
        .unwrap();
    Hierarchy::prepare(fx.fs(), &fx.root, false, &global(), &slots())
        .expect("swap accounting off is fine");
}

#[test]
fn rejected_value_carries_path_and_value() {
    let fx = fixture();
    let bad = vec![(
        "batch".to_owned(),
        Limits {
            cpu: CpuLimits {
                weight: Some(0),
                ..CpuLimits::default()
            },
            ..Limits::default()
        },
    )];
    let err = Hierarchy::prepare(fx.fs(), &fx.root, false, &global(), &bad).unwrap_err();
    match err {
        CgroupError::Write {
            path,
            value,
            source,
        } => {
            assert_eq!(path, fx.root.join("jobs/batch/cpu.weight"));
            assert_eq!(value, "0");
            assert_eq!(source.raw_os_error(), Some(libc::EINVAL));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn bad_names_are_rejected() {
    let fx = fixture();
    for name in ["", "..", "a/b", "cgroup.procs", "memory.max", "io.weight"] {
        let bad = vec![(name.to_owned(), Limits::default())];
        let err = Hierarchy::prepare(fx.fs(), &fx.root, false, &global(), &bad).unwrap_err();
        assert!(
            matches!(err, CgroupError::InvalidName { .. }),
            "{name:?}: {err:?}"
        );
    }
    let h = prepare(&fx);
    let err = h
        .create_run("batch", "../../escape", &Limits::default())
        .unwrap_err();
    assert!(matches!(err, CgroupError::InvalidName { .. }), "{err:?}");
}

#[test]
fn create_run_writes_job_limits_and_oom_group() {
    let fx = fixture();
    let h = prepare(&fx);
    let limits = Limits {
        memory: MemoryLimits {
            max: Some(256 << 20),
            swap_max: Some(0),
            ..MemoryLimits::default()
        },
        ..Limits::default()
    };
    let run = h
        .create_run("batch", "backup-17", &limits)
        .expect("create_run");
    assert_eq!(run.path(), fx.root.join("jobs/batch/backup-17"));
    assert_eq!(fx.knob(run.path().join("memory.oom.group")), "1");
    assert_eq!(fx.knob(run.path().join("memory.max")), "268435456");
    assert_eq!(fx.knob(run.path().join("memory.swap.max")), "0");
    assert_eq!(
        fx.knob(run.path().join("cgroup.controllers")),
        "cpu io memory pids"
    );

    let again = h.create_run("batch", "backup-17", &limits).unwrap_err();
    assert!(
        matches!(again, CgroupError::AlreadyExists { .. }),
        "{again:?}"
    );
    let unknown = h.create_run("nope", "x", &limits).unwrap_err();
    assert!(matches!(unknown, CgroupError::UnknownSlot { slot } if slot == "nope"));
    assert_eq!(h.run_dirs("batch").unwrap(), vec![run.path().to_path_buf()]);
    assert!(h.run_dirs("small").unwrap().is_empty());
}

#[test]
fn knob_absent_means_controller_not_enabled_and_run_is_cleaned_up() {
    let fx = fixture();
    let h = prepare(&fx);
    let slot = h.slot_path("batch");
    // The slot did not enable memory for its children: the run gets no memory.* knobs.
    fx.fake
        .set_knob(&slot.join("cgroup.subtree_control"), "cpu io pids\n")
        .unwrap();
    let err = h.create_run("batch", "r1", &Limits::default()).unwrap_err();
    match &err {
        CgroupError::ControllerNotEnabled { path, controller } => {
            assert_eq!(controller, "memory");
            // The first knob written: a fresh run's defaults (`memory.high` max) are not.
            assert_eq!(path, &slot.join("r1/memory.oom.group"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("cgroup.subtree_control"));
    assert!(!slot.join("r1").exists());
}

#[test]
fn slot_usage_reads_knobs_and_lists_runs() {
    let fx = fixture();
    let h = prepare(&fx);
    h.create_run("batch", "r2", &Limits::default()).unwrap();
    h.create_run("batch", "r1", &Limits::default()).unwrap();
    let slot = h.slot_path("batch");
    fx.fake
        .set_knob(&slot.join("memory.current"), "1048576\n")
        .unwrap();
    fx.fake.set_knob(&slot.join("pids.current"), "3\n").unwrap();
    fx.fake
        .set_knob(
            &slot.join("memory.pressure"),
            "some avg10=2.50 avg60=1.00 avg300=0.10 total=99\n",
        )
        .unwrap();
    fx.fake
        .set_knob(
            &slot.join("cpu.stat"),
            "usage_usec 500\nuser_usec 300\nsystem_usec 200\n",
        )
        .unwrap();
    let u = h.slot_usage("batch").expect("slot_usage");
    assert_eq!(u.memory_current, 1 << 20);
    assert_eq!(u.memory_max, Some(512 << 20));
    assert_eq!(u.memory_peak, Some(0));
    assert_eq!(u.pids_current, 3);
    assert_eq!(u.cpu.usage_usec, 500);
    assert_eq!(u.memory_pressure.map(|p| p.some.avg10), Some(2.5));
    assert_eq!(u.runs, ["r1", "r2"]);
    assert_eq!(h.slot_usage("small").unwrap().memory_max, None);
}

#[test]
fn hierarchy_is_send_and_sync() {
    fn is<T: Send + Sync>() {}
    is::<Hierarchy>();
    is::<RunCgroup>();
}

#[test]
fn attach_finds_prepared_slots_without_writing() {
    let fx = fixture();
    prepare(&fx);
    let writes = fx.fake.writes().len();
    let h = Hierarchy::attach(fx.fs(), &fx.root).expect("attach");
    assert_eq!(h.slots(), ["batch", "small"]);
    assert_eq!(h.slot_usage("batch").unwrap().memory_max, Some(512 << 20));
    assert_eq!(fx.fake.writes().len(), writes);
    let err = Hierarchy::attach(fx.fs(), &fx.root.join("nothing")).unwrap_err();
    assert!(matches!(err, CgroupError::NoSuchCgroup { .. }), "{err:?}");
}
