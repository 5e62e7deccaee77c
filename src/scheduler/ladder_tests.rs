use std::time::Duration;

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
