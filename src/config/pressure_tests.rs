use std::path::Path;
use std::time::Duration;

use super::*;
use crate::config::{Catalog, Settings};

const CONFIG: &str = "/etc/slotcron/slotcron.yaml";

fn settings(text: &str) -> Result<Settings, String> {
    Settings::parse(Path::new(CONFIG), text).map_err(|e| e.to_string())
}

fn job(yaml: &str) -> Result<OnPressure, String> {
    let settings = Settings::builtin();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("j.yaml"), yaml).unwrap();
    let catalog = Catalog::load_dir(dir.path(), &settings);
    match catalog.problems.first() {
        Some(p) => Err(p.to_string()),
        None => Ok(catalog.jobs["j"].on_pressure),
    }
}

#[test]
fn a_job_accepts_throttle_and_freeze_unless_it_says_otherwise() {
    assert_eq!(job("command: x\n").unwrap(), OnPressure::DEFAULT);
    assert_eq!(
        job("command: x\non_pressure: [freeze, requeue]\n")
            .unwrap()
            .steps(),
        [Step::Freeze, Step::Requeue]
    );
    assert_eq!(
        job("command: x\non_pressure: []\n").unwrap(),
        OnPressure::NONE
    );
}

#[test]
fn a_critical_job_is_exempt_and_may_not_list_a_step() {
    assert_eq!(
        job("command: x\npriority: critical\n").unwrap(),
        OnPressure::NONE
    );
    assert_eq!(
        job("command: x\npriority: critical\non_pressure: []\n").unwrap(),
        OnPressure::NONE
    );
    let err = job("command: x\npriority: critical\non_pressure: [freeze]\n").unwrap_err();
    assert!(err.contains("j.yaml"), "{err}");
    assert!(err.contains("field `on_pressure`"), "{err}");
    assert!(err.contains("(value: `[freeze]`)"), "{err}");
    assert!(err.contains("a critical job is never"), "{err}");
}

#[test]
fn an_unknown_or_repeated_step_is_named() {
    let err = job("command: x\non_pressure: [pause]\n").unwrap_err();
    assert!(
        err.contains("field `on_pressure`: must be a list of: throttle, freeze, requeue"),
        "{err}"
    );
    assert!(err.contains("(value: `pause`)"), "{err}");
    let err = job("command: x\non_pressure: [freeze, freeze]\n").unwrap_err();
    assert!(err.contains("is listed twice (value: `freeze`)"), "{err}");
}

#[test]
fn response_is_off_by_default_and_read_with_defaults() {
    assert_eq!(settings("").unwrap().protect.response, None);
    let r = settings(
        "protect:\n  response:\n    some_avg10: { act: 40 }\n    mem_available: { act: 1G }\n",
    )
    .unwrap()
    .protect
    .response
    .unwrap();
    assert_eq!(r.period, DEFAULT_PERIOD);
    assert_eq!(
        r.some_avg10,
        Some(Band {
            act: 40.0,
            clear: 20.0
        })
    );
    assert_eq!(r.full_avg10, None);
    assert_eq!(
        r.mem_available,
        Some(Band {
            act: ByteSize::gib(1),
            clear: ByteSize::gib(2)
        })
    );
    let r = settings(
        "protect:\n  response:\n    period: 500ms\n    full_avg10: { act: 10, clear: 2.5 }\n",
    )
    .unwrap()
    .protect
    .response
    .unwrap();
    assert_eq!(r.period, Duration::from_millis(500));
    assert_eq!(
        r.full_avg10,
        Some(Band {
            act: 10.0,
            clear: 2.5
        })
    );
}

#[test]
fn a_band_without_hysteresis_or_a_bad_period_is_named_with_its_value() {
    let err = settings(
        "protect:\n  response:\n    period: 5m\n    some_avg10: { act: 40, clear: 50 }\n    \
         mem_available: { act: 2G, clear: 1G }\n    full_avg10: { clear: 1 }\n",
    )
    .unwrap_err();
    for needle in [
        CONFIG,
        "field `protect.response.period`: must be from 100ms to 1m (value: `5m`)",
        "field `protect.response.some_avg10.clear`: must be below `act` (40)",
        "(value: `50`)",
        "field `protect.response.mem_available.clear`: must be above `act` (2G)",
        "field `protect.response.full_avg10.act`: is required",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    let err = settings("protect:\n  response: { period: 1s }\n").unwrap_err();
    assert!(
        err.contains("field `protect.response`: needs at least one signal"),
        "{err}"
    );
    let err = settings("protect:\n  response: { some_avg10: { act: 0 } }\n").unwrap_err();
    assert!(err.contains("must be above 0"), "{err}");
    let err = settings("protect:\n  response: { psi: 3 }\n").unwrap_err();
    assert!(err.contains("unknown field `psi`"), "{err}");
}

#[test]
fn a_slot_band_alone_is_a_response_and_named_by_its_field_when_wrong() {
    let r = settings("protect:\n  response:\n    slot_some_avg10: { act: 60 }\n")
        .unwrap()
        .protect
        .response
        .unwrap();
    assert_eq!(
        r.slot_some_avg10,
        Some(Band {
            act: 60.0,
            clear: 30.0
        })
    );
    assert_eq!((r.slot_full_avg10, r.some_avg10), (None, None));
    assert!(r.reads_slots());
    let machine_only = settings("protect:\n  response: { some_avg10: { act: 40 } }\n")
        .unwrap()
        .protect
        .response
        .unwrap();
    assert!(!machine_only.reads_slots());
    let err =
        settings("protect:\n  response:\n    slot_full_avg10: { act: 5, clear: 5 }\n").unwrap_err();
    assert!(
        err.contains("field `protect.response.slot_full_avg10.clear`: must be below `act` (5)"),
        "{err}"
    );
}
