//! The effect-size rule on hand-made baselines: each condition alone is not enough, the
//! issue's figures, the downward rules, medians of several runs, the summary's words.

use super::*;

const MIB: f64 = 1024.0 * 1024.0;

fn reference(median: f64, spread: f64) -> Reference {
    Reference {
        median,
        spread,
        runs: 30,
    }
}

#[test]
fn the_issue_s_memory_message_is_no_alert_at_all() {
    // "memory peak 4.4 MiB against a usual 4.4 MiB (z = 6.7)": a few KiB on a job that
    // always uses the same, unusual by z, immaterial by size.
    let usual = reference(4.4 * MIB, 0.0);
    assert!(judge(Rule::Bigger, 4.45 * MIB, 1, &usual, &Judging::default()).is_none());
}

#[test]
fn each_condition_alone_is_not_enough() {
    let rules = Judging::default();
    // Material (3x, +20 s) but not unusual for a job whose runs vary by a factor of 3.
    assert!(judge(Rule::Slower, 30_000.0, 1, &reference(10_000.0, 1.1), &rules).is_none());
    // Unusual (z 20) and +60 %, but only +3 s.
    assert!(judge(Rule::Slower, 8_000.0, 1, &reference(5_000.0, 0.02), &rules).is_none());
    // Unusual and +6 s, but only +30 %.
    assert!(
        judge(
            Rule::Slower,
            26_000.0,
            1,
            &reference(20_000.0, 0.02),
            &rules
        )
        .is_none()
    );
    assert!(
        judge(
            Rule::Slower,
            31_000.0,
            1,
            &reference(20_000.0, 0.02),
            &rules
        )
        .is_some()
    );
}

#[test]
fn too_fast_needs_a_fifth_of_the_median_and_ten_seconds_when_turned_on() {
    let rules = Judging {
        too_fast: true,
        ..Judging::default()
    };
    let backup = reference(1_200_000.0, 0.05);
    let e = judge(Rule::Faster, 2_000.0, 1, &backup, &rules).unwrap();
    assert_eq!(
        (e.rule, e.figure, e.change),
        (Rule::Faster, Figure::Duration, -1_198_000.0)
    );
    assert!(e.z < -100.0, "{e:?}");
    assert!(
        e.summary
            .starts_with("duration 2.0 s is 1/600 of the baseline median 20m 00s (-19m 58s)"),
        "{}",
        e.summary
    );
    assert!(
        judge(Rule::Faster, 300_000.0, 1, &backup, &rules).is_none(),
        "a quarter"
    );
    let short = reference(10_500.0, 0.05);
    assert!(
        judge(Rule::Faster, 1_000.0, 1, &short, &rules).is_none(),
        "1/10, but 9.5 s shorter"
    );
    assert!(
        judge(Rule::Faster, 400.0, 1, &short, &rules).is_some(),
        "10.1 s shorter"
    );
}

#[test]
fn a_median_of_several_runs_is_judged_with_its_smaller_standard_error() {
    let rules = Judging::default();
    let usual = reference(10_000.0, 0.3);
    // 2x is 2.3 spreads: not unusual for one run, unusual for the median of 5 (z 3.8) at 3.
    let loose = Judging { z: 3.0, ..rules };
    assert!(judge(Rule::Slower, 20_000.0, 1, &usual, &loose).is_none());
    let e = judge(Rule::Slower, 20_000.0, 5, &usual, &loose).unwrap();
    assert_eq!(e.z, 3.82);
    assert!(
        e.summary
            .starts_with("median duration of the newest 5 successful runs 20.0 s is 2.00x")
    );
}

#[test]
fn the_summary_names_every_figure() {
    let e = judge(
        Rule::Bigger,
        700.0 * MIB,
        1,
        &reference(500.0 * MIB, 0.04),
        &Judging::default(),
    )
    .unwrap();
    assert_eq!(
        e.summary,
        "memory peak 700 MiB is 1.40x the baseline median 500 MiB (+200 MiB); its runs vary \
         ±4.1 % (30 runs); z = 8.2, beyond +6.6; rule bigger: +25 % and +32.0 MiB"
    );
}
