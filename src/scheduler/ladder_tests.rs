use std::time::Duration;

use std::collections::BTreeMap;

use super::*;
use crate::config::{Band, ByteSize};

const MIB: u64 = 1 << 20;

fn response() -> Response {
    Response {
        period: Duration::from_secs(2),
        some_avg10: Some(Band {
            act: 40.0,
            clear: 10.0,
        }),
        full_avg10: None,
        mem_available: Some(Band {
            act: ByteSize::new(100 * MIB),
            clear: ByteSize::new(300 * MIB),
        }),
        slot_some_avg10: Some(Band {
            act: 60.0,
            clear: 20.0,
        }),
        slot_full_avg10: None,
    }
}

fn read(some: f64, available_mib: u64) -> Readings {
    Readings {
        some_avg10: Some(some),
        full_avg10: Some(99.0),
        mem_available: Some(available_mib * MIB),
    }
}

fn run(token: u64, priority: Priority, accepts: OnPressure, mib: u64) -> RunView {
    RunView {
        token,
        priority,
        slot: "default".into(),
        accepts,
        memory_current: mib * MIB,
    }
}

const ALL_STEPS: OnPressure = OnPressure {
    throttle: true,
    freeze: true,
    requeue: true,
};

#[test]
fn either_signal_acts_all_must_clear_and_the_gap_holds() {
    let r = response();
    assert_eq!(classify(&r, &read(41.0, 500)), Signal::Act);
    assert_eq!(classify(&r, &read(5.0, 99)), Signal::Act);
    assert_eq!(classify(&r, &read(5.0, 301)), Signal::Clear);
    assert_eq!(
        classify(&r, &read(20.0, 500)),
        Signal::Hold,
        "PSI in its gap"
    );
    assert_eq!(
        classify(&r, &read(5.0, 200)),
        Signal::Hold,
        "memory in its gap"
    );
    // full avg10 has no band here, so its 99 % is ignored; no readings at all clear.
    assert_eq!(classify(&r, &Readings::default()), Signal::Clear);
}

#[test]
fn throttles_everyone_lowest_priority_first_then_freezes_then_requeues() {
    let runs = [
        run(1, Priority::High, ALL_STEPS, 100),
        run(2, Priority::Low, OnPressure::DEFAULT, 200),
        run(3, Priority::Critical, OnPressure::NONE, 900),
        run(4, Priority::Low, ALL_STEPS, 300),
    ];
    let mut ladder = Ladder::default();
    let mut taken = Vec::new();
    for _ in 0..8 {
        taken.extend(ladder.decide(Signal::Act, &runs));
    }
    assert_eq!(
        taken,
        [
            // Low first, the larger (4, 300 MiB) before the smaller (2).
            Action::Throttle {
                token: 4,
                high: 270 * MIB
            },
            Action::Throttle {
                token: 2,
                high: 180 * MIB
            },
            Action::Throttle {
                token: 1,
                high: 90 * MIB
            },
            Action::Freeze { token: 4 },
            Action::Freeze { token: 2 },
            Action::Freeze { token: 1 },
            // Only the runs that declared requeue; 2 stays frozen, 3 (critical) untouched.
            Action::Requeue { token: 4 },
            Action::Requeue { token: 1 },
        ]
    );
    assert!(taken.iter().all(|a| a.token() != 3));
    assert!(ladder.decide(Signal::Act, &runs).is_empty(), "nothing left");
    assert!(!ladder.is_calm());
}

#[test]
fn clears_one_rung_per_period_in_reverse_after_a_hold() {
    let runs = [
        run(1, Priority::Medium, OnPressure::DEFAULT, 100),
        run(2, Priority::Low, OnPressure::DEFAULT, 100),
    ];
    let mut ladder = Ladder::default();
    for _ in 0..3 {
        ladder.decide(Signal::Act, &runs);
    }
    assert_eq!(
        ladder.climbed(),
        [(2, Step::Throttle), (1, Step::Throttle), (2, Step::Freeze)]
    );
    assert!(ladder.decide(Signal::Hold, &runs).is_empty());
    let mut undone = Vec::new();
    for _ in 0..4 {
        undone.extend(ladder.decide(Signal::Clear, &runs));
    }
    assert_eq!(
        undone,
        [
            Action::Thaw { token: 2 },
            Action::Lift { token: 1 },
            Action::Lift { token: 2 },
        ]
    );
    assert!(ladder.is_calm());
}

#[test]
fn a_run_that_ended_is_forgotten_and_never_acted_on_again() {
    let both = [
        run(1, Priority::Low, OnPressure::DEFAULT, 100),
        run(2, Priority::Low, OnPressure::DEFAULT, 50),
    ];
    let mut ladder = Ladder::default();
    ladder.decide(Signal::Act, &both);
    assert!(ladder.holds(1, Step::Throttle));
    let only_two = [both[1].clone()];
    assert_eq!(
        ladder.decide(Signal::Clear, &only_two),
        [],
        "run 1 ended: nothing to lift"
    );
    assert!(ladder.is_calm());
}

#[test]
fn a_requeued_run_still_stopping_is_not_requeued_twice() {
    let only = [run(
        7,
        Priority::Low,
        OnPressure {
            throttle: false,
            freeze: false,
            requeue: true,
        },
        10,
    )];
    let mut ladder = Ladder::default();
    assert_eq!(
        ladder.decide(Signal::Act, &only),
        [Action::Requeue { token: 7 }]
    );
    assert!(ladder.decide(Signal::Act, &only).is_empty());
}

#[test]
fn the_same_inputs_give_the_same_actions() {
    let runs = [
        run(5, Priority::Low, OnPressure::DEFAULT, 100),
        run(3, Priority::Low, OnPressure::DEFAULT, 100),
    ];
    let decide = || {
        let mut ladder = Ladder::default();
        ladder.decide(Signal::Act, &runs)
    };
    // Equal priority and usage: the lower token (the older run) goes first.
    assert_eq!(
        decide(),
        [Action::Throttle {
            token: 3,
            high: 90 * MIB
        }]
    );
    assert_eq!(decide(), decide());
}

fn in_slot(slot: &str, token: u64, priority: Priority, mib: u64) -> RunView {
    RunView {
        slot: slot.into(),
        ..run(token, priority, OnPressure::DEFAULT, mib)
    }
}

fn slot_psi(some: f64) -> SlotReading {
    SlotReading {
        some_avg10: Some(some),
        full_avg10: Some(99.0),
    }
}

#[test]
fn a_slot_s_own_pressure_acts_clears_and_holds_by_the_slot_bands() {
    let r = response();
    assert_eq!(classify_slot(&r, &slot_psi(61.0)), Signal::Act);
    assert_eq!(classify_slot(&r, &slot_psi(30.0)), Signal::Hold);
    assert_eq!(
        classify_slot(&r, &slot_psi(19.0)),
        Signal::Clear,
        "its full avg10 has no band"
    );
    assert_eq!(classify_slot(&r, &SlotReading::default()), Signal::Clear);
    // The machine's bands do not apply to a slot, nor the slot's to the machine.
    assert_eq!(classify(&r, &read(50.0, 500)), Signal::Act);
    assert_eq!(classify_slot(&r, &slot_psi(50.0)), Signal::Hold);
}

#[test]
fn one_slot_s_pressure_climbs_on_its_own_runs_only_and_all_must_clear() {
    let runs = [
        in_slot("heavy", 1, Priority::Medium, 500),
        in_slot("light", 2, Priority::Low, 900),
        in_slot("heavy", 3, Priority::Low, 100),
    ];
    let heavy = || {
        BTreeMap::from([
            ("heavy".to_owned(), Signal::Act),
            ("light".into(), Signal::Clear),
        ])
    };
    let signal = combine(Signal::Clear, &heavy());
    assert_eq!(signal, Signal::ActIn(vec!["heavy".into()]));
    let mut ladder = Ladder::default();
    let mut taken = Vec::new();
    for _ in 0..5 {
        taken.extend(ladder.decide(signal.clone(), &runs));
    }
    // The low run of `light`, the lowest of all, is never touched: its slot is calm.
    assert_eq!(
        taken,
        [
            Action::Throttle {
                token: 3,
                high: 90 * MIB
            },
            Action::Throttle {
                token: 1,
                high: 450 * MIB
            },
            Action::Freeze { token: 3 },
            Action::Freeze { token: 1 },
        ]
    );
    let light_holds = BTreeMap::from([
        ("heavy".to_owned(), Signal::Clear),
        ("light".into(), Signal::Hold),
    ]);
    assert_eq!(
        combine(Signal::Clear, &light_holds),
        Signal::Hold,
        "a slot in its gap"
    );
    assert_eq!(combine(Signal::Hold, &BTreeMap::new()), Signal::Hold);
    assert_eq!(
        combine(Signal::Act, &heavy()),
        Signal::Act,
        "the machine acts everywhere"
    );
    assert_eq!(
        ladder.decide(Signal::Clear, &runs),
        [Action::Thaw { token: 1 }],
        "coming down is the ladder's, whatever made it climb"
    );
}
