//! Issue 14: the alert rules judged on synthetic histories, through what the daemon does
//! after each run (`followup::record` on a real SQLite file). Noise raises nothing; real
//! regressions are caught when the issue says; flapping is one episode. Each test prints
//! its row of the confusion table (`cargo test --test integration alerting -- --nocapture`);
//! `cargo bench --bench alerts` runs the same scenarios over many seeds.

pub mod sim;

use slotcron::alerts::AlertKind;
use slotcron::stats::Performance;

use sim::{Sim, Tally, change, noise, noise_scenarios};

/// The seed of every scenario here (the bench tries others).
const SEED: u64 = 14;
/// The kinds judged against the baseline.
const BASELINE_KINDS: [AlertKind; 4] = [
    AlertKind::Anomaly,
    AlertKind::Degraded,
    AlertKind::TooFast,
    AlertKind::TooSmall,
];

/// One row of the confusion table: notifications / episodes / findings per kind.
fn row(name: &str, runs: usize, t: &Tally) -> String {
    let cells: Vec<String> = BASELINE_KINDS
        .iter()
        .map(|k| {
            format!(
                "{k} {}/{}/{}",
                t.notified.get(k).unwrap_or(&0),
                t.episodes.get(k).unwrap_or(&0),
                t.findings.get(k).unwrap_or(&0)
            )
        })
        .collect();
    format!(
        "{name}: {runs} runs; notified/episodes/findings: {}; runs judged degraded: {}",
        cells.join(", "),
        t.degraded_runs
    )
}

fn quiet(index: usize) {
    let scenarios = noise_scenarios();
    let (name, draw) = &scenarios[index];
    let sim = noise(SEED, 1_000, "", draw.as_ref());
    let t = sim.tally();
    println!("{}", row(name, sim.runs, &t));
    for kind in BASELINE_KINDS {
        assert_eq!(t.findings.get(&kind), None, "{name}: {kind} raised: {t:?}");
    }
    assert_eq!(t.degraded_runs, 0, "{name}: {t:?}");
    assert!(
        sim.health().baseline.is_some(),
        "{name}: judged against a baseline"
    );
}

#[test]
fn noise_lognormal_20_percent_raises_nothing() {
    quiet(0);
}

#[test]
fn noise_lognormal_35_percent_raises_nothing() {
    quiet(1);
}

#[test]
fn noise_lognormal_50_percent_raises_nothing() {
    quiet(2);
}

#[test]
fn noise_of_a_5_ms_job_raises_nothing() {
    quiet(3);
}

#[test]
fn noise_of_a_2_hour_job_raises_nothing() {
    quiet(4);
}

const PLAIN: &str = "command: 'true'\n";
/// A steady 10 s job: runs within ±5 % (`ln` spread 0.05).
const STEADY: (f64, f64) = (10_000.0, 0.05);
/// A 10 s job whose runs vary twice as much (±10 %).
const LOOSER: (f64, f64) = (10_000.0, 0.1);

#[test]
fn a_duration_that_doubles_is_alerted_on_the_first_such_run_and_accepted_after_a_window() {
    let sim = change(SEED, PLAIN, STEADY, (100, 60), |_| (2.0, 1.0));
    println!("{}", row("10 s -> 20 s at run 100", sim.runs, &sim.tally()));
    assert_eq!(sim.first_notice(AlertKind::Anomaly), Some(100));
    let (_, notice) = &sim.notices[0];
    let e = &notice.evidence[0];
    assert!((1.7..2.3).contains(&e.ratio), "{e:?}");
    assert!(
        notice
            .message
            .contains("stops once the newest 30 successful runs all show it")
    );
    let degraded = sim.first_notice(AlertKind::Degraded).expect("degraded");
    assert!((101..105).contains(&degraded), "degraded at run {degraded}");
    // One notification each; the new level is the baseline within 30 + 9 runs, and the
    // alerts are resolved by then.
    let t = sim.tally();
    assert_eq!(
        (
            t.notified[&AlertKind::Anomaly],
            t.notified[&AlertKind::Degraded]
        ),
        (1, 1)
    );
    let anomaly = t.findings[&AlertKind::Anomaly];
    assert!((30..=39).contains(&anomaly), "{anomaly} anomalous runs");
    assert!(sim.store.alerts(false).unwrap().is_empty(), "all resolved");
    let health = sim.health();
    let median = health.baseline.expect("a baseline").duration_median_ms;
    assert!(
        (18_000.0..22_000.0).contains(&median),
        "baseline median {median}"
    );
    assert_eq!(health.performance, Performance::Stable);
}

#[test]
fn memory_up_40_percent_sustained_is_degraded_within_the_recent_window() {
    let sim = change(SEED, PLAIN, STEADY, (100, 5), |_| (1.0, 1.4));
    println!(
        "{}",
        row("memory +40 % from run 100", sim.runs, &sim.tally())
    );
    let first = sim
        .performance
        .iter()
        .position(|p| *p == Performance::Degraded);
    assert!(
        matches!(first, Some(100..=104)),
        "degraded from run {first:?}"
    );
    assert_eq!(sim.first_notice(AlertKind::Degraded), first);
    // `slotcron jobs`, the API and the dashboard say the same as the alert.
    let health = sim.health();
    assert_eq!(health.performance, Performance::Degraded);
    assert_eq!(
        health.degradation[0].rule,
        slotcron::stats::effect::Rule::Bigger
    );
    assert_eq!(sim.performance.last(), Some(&Performance::Degraded));
}

#[test]
fn a_backup_that_ends_in_two_seconds_is_too_fast_when_turned_on() {
    let backup = |job: &str| {
        change(SEED, job, (1_200_000.0, 0.1), (60, 1), |_| {
            (1.0 / 600.0, 1.0)
        })
    };
    let on = backup("command: 'true'\nalerts: { too_fast: true }\n");
    println!(
        "{}",
        row("backup 20 min -> 2 s, too_fast on", on.runs, &on.tally())
    );
    assert_eq!(on.first_notice(AlertKind::TooFast), Some(60));
    assert_eq!(on.notices.len(), 1, "{:?}", on.notices);
    let off = backup(PLAIN);
    println!(
        "{}",
        row("backup 20 min -> 2 s, too_fast off", off.runs, &off.tally())
    );
    assert!(off.notices.is_empty(), "{:?}", off.notices);
}

#[test]
fn a_drift_of_two_percent_a_run_is_degraded_before_it_doubles() {
    let sim = change(SEED, PLAIN, LOOSER, (100, 60), |i| {
        (1.02f64.powi(i as i32 + 1), 1.0)
    });
    let caught = sim.first_notice(AlertKind::Degraded).expect("caught");
    let level = 1.02f64.powi((caught - 99) as i32);
    println!(
        "{}; degraded at run {caught}, {level:.2}x the starting level",
        row("drift +2 %/run from run 100", sim.runs, &sim.tally())
    );
    assert!(level < 2.0, "caught at {level:.2}x");
    assert_eq!(sim.tally().notified[&AlertKind::Degraded], 1, "one episode");
}

#[test]
fn alternating_good_and_bad_runs_are_one_episode_notified_once() {
    let sim = change(SEED, PLAIN, STEADY, (100, 100), |i| {
        (if i % 2 == 0 { 2.5 } else { 1.0 }, 1.0)
    });
    let t = sim.tally();
    println!("{}", row("alternating 10 s / 25 s, 100 runs", sim.runs, &t));
    assert_eq!(t.notified[&AlertKind::Anomaly], 1);
    assert_eq!(t.episodes[&AlertKind::Anomaly], 1);
    assert!(t.reopened[&AlertKind::Anomaly] >= 10, "{t:?}");
    assert!(
        t.notified.get(&AlertKind::Degraded).copied().unwrap_or(0) <= 1,
        "{t:?}"
    );
    assert_eq!(sim.notices.len(), t.notified.values().sum::<usize>());
}

#[test]
fn a_flap_window_of_zero_notifies_each_time() {
    // The same alternation with reopening off: what the episode rule saves.
    let mut sim = Sim::new(PLAIN, "alerting: { flap_window: 0s }\n");
    let mut d = sim::Draw::new(SEED);
    for i in 0..120 {
        let bad = i >= 100 && i % 2 == 0;
        sim.success(
            10_000.0 * if bad { 2.5 } else { 1.0 } * d.lognormal(1.0, 0.05),
            None,
        );
    }
    let t = sim.tally();
    println!(
        "{}",
        row("alternating, flap_window 0s, 20 runs", sim.runs, &t)
    );
    assert_eq!(t.notified[&AlertKind::Anomaly], 10);
}
