//! Issue 14: the confusion figures of the alert rules, over many seeds. The scenarios of
//! `tests/integration/alerting` (the same code: `followup::record` after each synthetic
//! run, on a real SQLite file), each run with `BENCH_SEEDS` seeds (default 20):
//! - noise: 1,000 runs of jittery jobs; every alert raised is a false alarm;
//! - regressions: how often, and how soon, a real change is caught;
//! - flapping: notifications for 100 runs alternating good and bad.
//!
//! `cargo bench --bench alerts` (`BENCH_SEEDS=100` for a tighter figure;
//! `BENCH_SETTINGS='baseline_runs: 10'` or `'alerting: { anomaly_z: 3.5 }'` runs the noise
//! under other settings; `BENCH_ONLY=noise` or `regressions` runs only those).

#[allow(dead_code)]
#[path = "../tests/integration/alerting/sim.rs"]
mod sim;

use std::time::Instant;

use slotcron::alerts::AlertKind;
use slotcron::stats::Performance;

use sim::{change, noise, noise_scenarios};

const KINDS: [AlertKind; 4] = [
    AlertKind::Anomaly,
    AlertKind::Degraded,
    AlertKind::TooFast,
    AlertKind::TooSmall,
];

fn main() {
    let seeds: u64 = std::env::var("BENCH_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let settings = std::env::var("BENCH_SETTINGS").unwrap_or_default();
    let started = Instant::now();
    println!(
        "noise: 1,000 runs per seed, {seeds} seeds, settings {settings:?}; notifications \
         (findings) per kind, false alarms all"
    );
    println!(
        "{:<40} {:>14} {:>14} {:>14} {:>14} {:>9}",
        "scenario", "anomaly", "degraded", "too_fast", "too_small", "degraded runs"
    );
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    for (name, draw) in noise_scenarios()
        .into_iter()
        .filter(|_| only != "regressions")
    {
        let mut notified = [0usize; 4];
        let mut findings = [0u64; 4];
        let mut degraded_runs = 0;
        for seed in 0..seeds {
            let t = noise(1_000 + seed, 1_000, &settings, draw.as_ref()).tally();
            for (i, kind) in KINDS.iter().enumerate() {
                notified[i] += t.notified.get(kind).copied().unwrap_or(0);
                findings[i] += t.findings.get(kind).copied().unwrap_or(0);
            }
            degraded_runs += t.degraded_runs;
        }
        let cells: Vec<String> = (0..4)
            .map(|i| format!("{} ({})", notified[i], findings[i]))
            .collect();
        println!(
            "{name:<40} {:>14} {:>14} {:>14} {:>14} {degraded_runs:>9}",
            cells[0], cells[1], cells[2], cells[3]
        );
    }
    println!();
    if only != "noise" {
        regressions(seeds);
    }
    println!(
        "\n({seeds} seeds each, {:.0} s)",
        started.elapsed().as_secs_f64()
    );
}

fn regressions(seeds: u64) {
    const PLAIN: &str = "command: 'true'\n";
    println!("regressions and flapping, {seeds} seeds:");
    for (label, spread) in [("±5 %", 0.05), ("±10 %", 0.1)] {
        let (mut first, mut degraded) = (0, 0);
        for seed in 0..seeds {
            let sim = change(seed, PLAIN, (10_000.0, spread), (100, 3), |_| (2.0, 1.0));
            first += usize::from(sim.first_notice(AlertKind::Anomaly) == Some(100));
            degraded += usize::from(sim.first_notice(AlertKind::Degraded).is_some());
        }
        println!(
            "  10 s {label} -> 20 s: anomaly on the first such run in {first}/{seeds}, \
             degraded by the third in {degraded}/{seeds}"
        );
    }
    let mut within = 0;
    for seed in 0..seeds {
        let sim = change(seed, PLAIN, (10_000.0, 0.05), (100, 5), |_| (1.0, 1.4));
        within += usize::from(sim.performance[100..].contains(&Performance::Degraded));
    }
    println!("  memory +40 % sustained (±5 %): degraded within 5 runs in {within}/{seeds}");
    let mut levels = Vec::new();
    for seed in 0..seeds {
        let sim = change(seed, PLAIN, (10_000.0, 0.1), (100, 60), |i| {
            (1.02f64.powi(i as i32 + 1), 1.0)
        });
        if let Some(run) = sim.first_notice(AlertKind::Degraded) {
            levels.push(1.02f64.powi((run - 99) as i32));
        }
    }
    levels.sort_by(f64::total_cmp);
    let before_double = levels.iter().filter(|l| **l < 2.0).count();
    println!(
        "  drift +2 %/run (±10 %): degraded before 2x in {before_double}/{seeds}; level when caught: \
         median {:.2}x, worst {:.2}x",
        levels.get(levels.len() / 2).copied().unwrap_or(f64::NAN),
        levels.last().copied().unwrap_or(f64::NAN)
    );
    let on = "command: 'true'\nalerts: { too_fast: true }\n";
    let mut fast = 0;
    for seed in 0..seeds {
        let sim = change(seed, on, (1_200_000.0, 0.1), (60, 1), |_| {
            (1.0 / 600.0, 1.0)
        });
        fast += usize::from(sim.first_notice(AlertKind::TooFast) == Some(60));
    }
    println!("  backup 20 min -> 2 s with too_fast: too_fast on that run in {fast}/{seeds}");
    let mut notified = Vec::new();
    for seed in 0..seeds {
        let sim = change(seed, PLAIN, (10_000.0, 0.05), (100, 100), |i| {
            (if i % 2 == 0 { 2.5 } else { 1.0 }, 1.0)
        });
        notified.push(sim.notices.len());
    }
    println!(
        "  100 runs alternating 10 s / 25 s: notifications per seed min {} max {}",
        notified.iter().min().unwrap_or(&0),
        notified.iter().max().unwrap_or(&0)
    );
}
