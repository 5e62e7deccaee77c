//! The mapping from configuration to each level's limits, and the effective limits.

use super::*;
use crate::cgroup::{DevNum, IoMax, IoRates};
use crate::config::{DeviceMax, parse_job};
use std::path::Path;

fn job(settings: &Settings, yaml: &str) -> Job {
    parse_job(Path::new("/j/x.yaml"), yaml, settings).unwrap()
}

#[test]
fn run_limits_follow_the_job() {
    let settings = Settings::builtin();
    let job = job(
        &settings,
        "command: x\nslot: heavy\nlimits: { memory: 1500M, cpu: 1.5, pids: 64 }\nweights: { cpu: 0.5 }\n",
    );
    let slot = &settings.slots["heavy"];
    let limits = run_limits(&job, slot);
    assert_eq!(limits.memory.max, Some(1500 << 20));
    assert_eq!(
        limits.cpu.max,
        Some(CpuMax {
            quota_usec: 150_000,
            period_usec: 100_000
        })
    );
    assert_eq!(
        (limits.cpu.weight, limits.pids.max, limits.memory.swap_max),
        (Some(50), Some(64), Some(0))
    );
    assert!(limits.memory.oom_group);
    assert_eq!(limits.io, IoLimits::default());
    let bare = parse_job(
        Path::new("/j/y.yaml"),
        "command: tidy\nslot: light\n",
        &settings,
    )
    .unwrap();
    assert_eq!(run_limits(&bare, slot).memory.max, None);
}

#[test]
fn slot_cpu_is_a_share_of_the_machine() {
    let slots = crate::config::builtin_slots();
    assert_eq!(
        slot_limits(&slots["heavy"], 4).cpu.max.unwrap().quota_usec,
        360_000
    );
    assert_eq!(
        slot_limits(&slots["light"], 1).cpu.max.unwrap().quota_usec,
        50_000
    );
    assert_eq!(slot_limits(&slots["light"], 1).pids.max, Some(4096));
    assert_eq!(
        global_limits(&Settings::builtin()),
        Limits::default(),
        "no cgroup.memory_max: nothing set on <root>/jobs"
    );
}

#[test]
fn io_maps_to_the_io_controller_at_slot_and_run_level() {
    let mut settings = Settings::builtin();
    let vda = DevNum {
        major: 254,
        minor: 0,
    };
    let io = IoConfig {
        weight: Some(300),
        max: vec![DeviceMax {
            device: "/dev/vda".into(),
            number: vda,
            rbps: None,
            wbps: Some(2 << 20),
            riops: None,
            wiops: Some(100),
        }],
    };
    settings.slots.get_mut("default").unwrap().io = Some(io.clone());
    let expected = IoLimits {
        weight: Some(300),
        max: vec![IoMax {
            device: vda,
            rates: IoRates {
                wbps: Some(2 << 20),
                wiops: Some(100),
                ..IoRates::default()
            },
        }],
    };
    assert_eq!(slot_limits(&settings.slots["default"], 2).io, expected);
    let mut j = job(&settings, "command: x\n");
    assert_eq!(
        run_limits(&j, &settings.slots["default"]).io,
        IoLimits::default()
    );
    j.io = Some(io);
    assert_eq!(run_limits(&j, &settings.slots["default"]).io, expected);
}

#[test]
fn effective_memory_is_the_lowest_level_nearest_the_run_on_a_tie() {
    let settings = Settings::builtin();
    let slot = &settings.slots["heavy"]; // 4G, pids 4096
    let own = job(
        &settings,
        "command: x\nslot: heavy\nlimits: { memory: 1G, pids: 64 }\n",
    );
    let e = effective_limits(&own, slot, Some(ByteSize::gib(7)));
    assert_eq!(
        e,
        EffectiveLimits {
            memory_bytes: 1 << 30,
            memory_from: Level::Job,
            pids: Some(64)
        }
    );
    let e = effective_limits(&own, slot, Some(ByteSize::new(512 << 20)));
    assert_eq!((e.memory_bytes, e.memory_from), (512 << 20, Level::Global));
    let tie = job(
        &settings,
        "command: x\nslot: heavy\nlimits: { memory: 4G }\n",
    );
    let e = effective_limits(&tie, slot, Some(ByteSize::gib(4)));
    assert_eq!((e.memory_bytes, e.memory_from), (4 << 30, Level::Job));
    let bare = job(&settings, "command: x\nslot: heavy\n");
    let e = effective_limits(&bare, slot, None);
    assert_eq!(
        (e.memory_bytes, e.memory_from, e.pids),
        (4 << 30, Level::Slot, Some(4096))
    );
}
