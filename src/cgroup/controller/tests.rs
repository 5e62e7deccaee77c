//! The controllers on the fake kernel: each one's knob files as the kernel lays them out,
//! its writes (`create(false)`: knobs are opened, never created) and its figures; io in
//! detail, delegated and not.

use std::path::{Path, PathBuf};

use super::io::{DevNum, IoLimits, IoMax, IoRates};
use super::*;
use crate::cgroup::Hierarchy;
use crate::cgroup::test_support::{Fixture, fixture, fixture_with};

const VDA: DevNum = DevNum {
    major: 254,
    minor: 0,
};
const SDB: DevNum = DevNum {
    major: 8,
    minor: 16,
};

fn capped(device: DevNum, rates: IoRates) -> IoMax {
    IoMax { device, rates }
}

fn io_limits(weight: Option<u16>, max: Vec<IoMax>) -> Limits {
    Limits {
        io: IoLimits { weight, max },
        ..Limits::default()
    }
}

/// A slot `s` prepared with `slot` limits, and the writes made to one of its knobs.
fn prepare(fx: &Fixture, slot: Limits) -> Hierarchy {
    Hierarchy::prepare(
        fx.fs(),
        &fx.root,
        false,
        &Limits::default(),
        &[("s".to_owned(), slot)],
    )
    .expect("prepare")
}

fn writes_to(fx: &Fixture, path: &Path) -> Vec<String> {
    fx.fake
        .writes()
        .into_iter()
        .filter(|(p, _)| p == path)
        .map(|(_, v)| v)
        .collect()
}

#[test]
fn the_registry_lists_each_controller_once_in_the_kernels_order() {
    let names: Vec<&str> = ALL.iter().map(|c| c.name()).collect();
    assert_eq!(names, ["cpu", "io", "memory", "pids"]);
    assert_eq!(required_names(), ["cpu", "memory", "pids"]);
    assert_eq!(all_names(), "cpu io memory pids");
    assert_eq!(by_name("io").map(|c| c.required()), Some(false));
    assert!(by_name("cpuset").is_none());
    let offered = ["cpuset", "cpu", "memory", "pids"];
    let usable: Vec<&str> = usable(&offered).iter().map(|c| c.name()).collect();
    assert_eq!(usable, ["cpu", "memory", "pids"]);
    assert_eq!(missing_optional(&offered), ["io"]);
    // Every knob belongs to its controller by name, and no two controllers share one.
    for c in ALL {
        for k in c.knob_files() {
            assert_eq!(
                crate::cgroup::knob::controller_of(k.name),
                c.name(),
                "{k:?}"
            );
            assert_eq!(knob_file(k.name).map(|(o, _)| o.name()), Some(c.name()));
        }
    }
}

#[test]
fn enabling_a_controller_lays_out_its_knob_files_with_kernel_defaults() {
    let fx = fixture();
    let h = prepare(&fx, Limits::default());
    let slot = h.slot_path("s");
    for c in ALL {
        for k in c.knob_files() {
            assert!(slot.join(k.name).is_file(), "{} missing", k.name);
        }
    }
    assert_eq!(fx.knob(slot.join("io.weight")), "default 100");
    assert_eq!(fx.knob(slot.join("io.max")), "");
    assert_eq!(fx.knob(slot.join("io.stat")), "");
    // Read-only knobs answer EACCES, like the kernel's.
    let err = fx.fake.write(&slot.join("io.stat"), "x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EACCES));
}

#[test]
fn io_limits_are_written_one_device_per_write_and_read_back_as_the_kernel_shows_them() {
    let fx = fixture();
    let limits = io_limits(
        Some(250),
        vec![
            capped(
                VDA,
                IoRates {
                    wbps: Some(2 << 20),
                    ..IoRates::default()
                },
            ),
            capped(
                SDB,
                IoRates {
                    rbps: Some(1 << 20),
                    riops: Some(100),
                    ..IoRates::default()
                },
            ),
        ],
    );
    let h = prepare(&fx, limits);
    let slot = h.slot_path("s");
    assert_eq!(writes_to(&fx, &slot.join("io.weight")), ["default 250"]);
    assert_eq!(
        writes_to(&fx, &slot.join("io.max")),
        [
            "254:0 rbps=max wbps=2097152 riops=max wiops=max",
            "8:16 rbps=1048576 wbps=max riops=100 wiops=max",
        ]
    );
    assert_eq!(
        fx.knob(slot.join("io.max")),
        "8:16 rbps=1048576 wbps=max riops=100 wiops=max\n\
         254:0 rbps=max wbps=2097152 riops=max wiops=max"
    );
    assert_eq!(fx.knob(slot.join("io.weight")), "default 250");
}

#[test]
fn preparing_again_resets_the_devices_no_longer_capped_and_the_weight() {
    let fx = fixture();
    let both = io_limits(
        Some(250),
        vec![
            capped(
                VDA,
                IoRates {
                    wbps: Some(2 << 20),
                    ..IoRates::default()
                },
            ),
            capped(
                SDB,
                IoRates {
                    wiops: Some(50),
                    ..IoRates::default()
                },
            ),
        ],
    );
    let h = prepare(&fx, both);
    let io_max: PathBuf = h.slot_path("s").join("io.max");
    let before = fx.fake.writes().len();
    let one = io_limits(
        None,
        vec![capped(
            VDA,
            IoRates {
                wbps: Some(4 << 20),
                ..IoRates::default()
            },
        )],
    );
    prepare(&fx, one);
    let again: Vec<String> = fx.fake.writes()[before..]
        .iter()
        .filter(|(p, _)| p == &io_max)
        .map(|(_, v)| v.clone())
        .collect();
    assert_eq!(
        again,
        [
            "254:0 rbps=max wbps=4194304 riops=max wiops=max",
            "8:16 rbps=max wbps=max riops=max wiops=max",
        ]
    );
    assert_eq!(
        fx.knob(&io_max),
        "254:0 rbps=max wbps=4194304 riops=max wiops=max"
    );
    assert_eq!(fx.knob(io_max.with_file_name("io.weight")), "default 100");
}

#[test]
fn the_fake_io_knobs_refuse_what_the_kernel_refuses() {
    let fx = fixture();
    let h = prepare(&fx, Limits::default());
    let slot = h.slot_path("s");
    for (knob, value) in [
        ("io.max", "vda wbps=1"),
        ("io.max", "254:0 wbps=fast"),
        ("io.max", "254:0 speed=1"),
        ("io.weight", "0"),
        ("io.weight", "default 10001"),
        ("io.weight", "sda 50"),
    ] {
        let err = fx.fake.write(&slot.join(knob), value).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{knob} {value:?}");
    }
    fx.fake.write(&slot.join("io.weight"), "254:0 50").unwrap();
    fx.fake.write(&slot.join("io.weight"), "300").unwrap();
    assert_eq!(fx.knob(slot.join("io.weight")), "default 300\n254:0 50");
}

#[test]
fn run_stats_sum_io_stat_over_devices() {
    let fx = fixture();
    let h = prepare(&fx, Limits::default());
    let run = h.create_run("s", "run-1", &Limits::default()).unwrap();
    fx.fake
        .set_knob(
            &run.path().join("io.stat"),
            "254:0 rbytes=4096 wbytes=10485760 rios=1 wios=80 dbytes=0 dios=0\n\
             8:16 rbytes=8192 wbytes=0 rios=2 wios=0 dbytes=0 dios=0\n",
        )
        .unwrap();
    let io = run.stats().unwrap().io.expect("io enabled");
    assert_eq!(
        (io.rbytes, io.wbytes, io.rios, io.wios),
        (12288, 10 << 20, 3, 80)
    );
}

#[test]
fn without_io_delegated_the_other_limits_hold_and_io_is_left_out() {
    let fx = fixture_with(&["cpu", "memory", "pids"]);
    let limits = Limits {
        memory: memory::MemoryLimits {
            max: Some(64 << 20),
            ..memory::MemoryLimits::default()
        },
        ..io_limits(Some(500), vec![capped(VDA, IoRates::default())])
    };
    let h = prepare(&fx, limits.clone());
    assert_eq!(h.missing_optional(), ["io"]);
    let names: Vec<&str> = h.controllers().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["cpu", "memory", "pids"]);
    let slot = h.slot_path("s");
    assert_eq!(fx.knob(slot.join("memory.max")), "67108864");
    assert_eq!(
        fx.knob(fx.root.join("cgroup.subtree_control")),
        "cpu memory pids"
    );
    assert!(!slot.join("io.max").exists());
    assert!(fx.fake.writes().iter().all(|(p, _)| !p.ends_with("io.max")));
    let run = h.create_run("s", "run-1", &limits).unwrap();
    assert_eq!(fx.knob(run.path().join("memory.max")), "67108864");
    assert_eq!(run.stats().unwrap().io, None);
}

#[test]
fn an_adopted_run_reads_the_figures_of_the_controllers_it_has() {
    let fx = fixture();
    let h = prepare(&fx, Limits::default());
    let created = h.create_run("s", "run-7", &Limits::default()).unwrap();
    fx.fake
        .set_knob(
            &created.path().join("io.stat"),
            "254:0 rbytes=0 wbytes=512 rios=0 wios=1\n",
        )
        .unwrap();
    let adopted = crate::cgroup::RunCgroup::open(fx.fs(), created.path()).unwrap();
    assert_eq!(adopted.stats().unwrap().io.map(|s| s.wbytes), Some(512));
}
