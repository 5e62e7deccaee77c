use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::baseline::{Sample, compute};
use crate::config::parse_job;
use crate::store::{JobSummary, LastRun};

const MIB: u64 = 1 << 20;

/// `slotcron.yaml` with a `default` slot and whatever `more` adds.
fn settings(more: &str) -> Settings {
    let text = format!("slots:\n  default: {{ max_concurrent: 5, memory_max: 3G }}\n{more}");
    Settings::parse(Path::new("/etc/slotcron/slotcron.yaml"), &text).unwrap()
}

fn job(settings: &Settings, name: &str, text: &str) -> Job {
    let path = format!("/jobs.d/{name}.yaml");
    let zone = if text.contains("timezone:") {
        ""
    } else {
        "timezone: UTC\n"
    };
    let text = format!("command: x\n{zone}{text}");
    parse_job(Path::new(&path), &text, settings).unwrap_or_else(|p| panic!("{name}: {p:?}"))
}

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, h, m, 0).unwrap()
}

/// A baseline of three identical runs of `minutes` using `memory` MiB.
fn baseline(minutes: u64, memory: Option<u64>) -> crate::baseline::Baseline {
    let samples: Vec<Sample> = (1..=3)
        .map(|id| Sample {
            id,
            duration_ms: minutes * 60_000,
            memory_peak_bytes: memory.map(|m| m * MIB),
            cpu_usage_usec: None,
        })
        .collect();
    compute(&samples, 3, t(0, 0)).unwrap()
}

/// History where each `(job, minutes, MiB)` has a baseline and nothing else.
fn history(baselines: &[(&str, u64, Option<u64>)]) -> History {
    History {
        baselines: (baselines.iter())
            .map(|(job, minutes, memory)| ((*job).to_owned(), baseline(*minutes, *memory)))
            .collect(),
        ..History::default()
    }
}

/// The plan of `jobs` over `hours` from `from`, p50, default options otherwise.
fn plan_of(
    settings: &Settings,
    jobs: &[Job],
    history: &History,
    from: DateTime<Utc>,
    hours: i64,
) -> Plan {
    let refs: Vec<&Job> = jobs.iter().collect();
    let mut options = Options::new(from, settings);
    options.window = chrono::Duration::hours(hours);
    simulate(
        &Inputs {
            jobs: &refs,
            settings,
            history,
            mem_available: None,
        },
        &options,
    )
}

/// `(job, started_at, ended_at, wait_ms)` of every run that gets a seat.
fn ran(plan: &Plan) -> Vec<(&str, DateTime<Utc>, DateTime<Utc>, u64)> {
    (plan.runs.iter())
        .filter_map(|r| match r.fate {
            Fate::Runs {
                started_at,
                ended_at,
                wait_ms,
                ..
            } => Some((r.job.as_str(), started_at, ended_at, wait_ms)),
            _ => None,
        })
        .collect()
}

fn kinds(plan: &Plan) -> Vec<(FindingKind, Option<&str>)> {
    (plan.findings.iter())
        .map(|f| (f.kind, f.job.as_deref()))
        .collect()
}

#[test]
fn in_a_one_seat_slot_the_second_of_two_jobs_waits_exactly_the_first_ones_duration() {
    let s = settings("  one: { max_concurrent: 1, memory_max: 1G }\n");
    let jobs = [
        job(&s, "a", "schedule: '0 2 * * *'\nslot: one\n"),
        job(&s, "b", "schedule: '0 2 * * *'\nslot: one\n"),
    ];
    let plan = plan_of(
        &s,
        &jobs,
        &history(&[("a", 10, Some(100)), ("b", 4, Some(100))]),
        t(0, 0),
        24,
    );
    assert_eq!(
        ran(&plan),
        [
            ("a", t(2, 0), t(2, 10), 0),
            ("b", t(2, 10), t(2, 14), 10 * 60_000)
        ]
    );
    let one = plan.slots.iter().find(|s| s.name == "one").unwrap();
    assert_eq!((one.peak.running, one.peak.queued), (1, 1));
    assert_eq!(
        one.points
            .iter()
            .map(|p| (p.at, p.running, p.queued))
            .collect::<Vec<_>>(),
        [
            (t(0, 0), 0, 0),
            (t(2, 0), 1, 1),
            (t(2, 10), 1, 0),
            (t(2, 14), 0, 0)
        ]
    );
    assert_eq!(
        kinds(&plan),
        [
            (FindingKind::LongWait, Some("b")),
            (FindingKind::Overdue, Some("b"))
        ],
        "10 minutes: over the 5m slot_saturated threshold and the 5m overdue grace"
    );
    let overdue = &plan.findings[1];
    assert_eq!(overdue.at, t(2, 5));
    assert!(
        overdue
            .message
            .contains("no run started since the scheduled time 2026-12-06 02:00:00 UTC (5m late)"),
        "{}",
        overdue.message
    );
}

#[test]
fn a_run_still_going_at_its_next_fire_is_a_forbid_skip() {
    let s = settings("");
    let jobs = [job(
        &s,
        "sync",
        "schedule: '@every 10m'\nconcurrency: forbid\n",
    )];
    let plan = plan_of(&s, &jobs, &history(&[("sync", 15, Some(10))]), t(0, 5), 1);
    let fates: Vec<(DateTime<Utc>, &str)> = (plan.runs.iter())
        .map(|r| {
            let word = match &r.fate {
                Fate::Runs { .. } => "runs",
                Fate::Skipped { .. } => "skipped",
                other => panic!("{other:?}"),
            };
            (r.due, word)
        })
        .collect();
    assert_eq!(
        fates,
        [
            (t(0, 10), "runs"),
            (t(0, 20), "skipped"),
            (t(0, 30), "runs"),
            (t(0, 40), "skipped"),
            (t(0, 50), "runs"),
            (t(1, 0), "skipped")
        ]
    );
    let Fate::Skipped { reason } = &plan.runs[1].fate else {
        unreachable!()
    };
    assert_eq!(reason, "concurrency forbid: run 0 is still running");
    let first = &plan.findings[0];
    assert_eq!(
        (first.kind, first.at, first.run),
        (FindingKind::StillRunning, t(0, 20), Some(1))
    );
    assert_eq!(
        first.message,
        "`sync` due again: run 0, started 10m ago, is still running: concurrency forbid skips this one"
    );
    assert!(
        plan.findings
            .iter()
            .all(|f| f.kind == FindingKind::StillRunning)
    );
    assert_eq!(plan.findings.len(), 3);
}

#[test]
fn allow_runs_alongside_and_replace_stops_the_old_run() {
    let s = settings("");
    let jobs = [
        job(&s, "both", "schedule: '@every 10m'\nconcurrency: allow\n"),
        job(
            &s,
            "newest",
            "schedule: '@every 10m'\nconcurrency: replace\n",
        ),
    ];
    let plan = plan_of(
        &s,
        &jobs,
        &history(&[("both", 15, None), ("newest", 15, None)]),
        t(0, 5),
        1,
    );
    let both: Vec<_> = ran(&plan)
        .into_iter()
        .filter(|r| r.0 == "both")
        .map(|r| (r.1, r.2))
        .collect();
    assert_eq!(both[..2], [(t(0, 10), t(0, 25)), (t(0, 20), t(0, 35))]);
    let newest: Vec<_> = ran(&plan)
        .into_iter()
        .filter(|r| r.0 == "newest")
        .map(|r| (r.1, r.2))
        .collect();
    assert_eq!(
        newest[..3],
        [
            (t(0, 10), t(0, 20)),
            (t(0, 20), t(0, 30)),
            (t(0, 30), t(0, 40))
        ],
        "each run stopped when the next one comes"
    );
    let replaced = plan
        .runs
        .iter()
        .filter(|r| matches!(r.fate, Fate::Runs { replaced: true, .. }))
        .count();
    assert_eq!(
        replaced, 5,
        "00:10 to 00:50 replaced; 01:00 runs its course"
    );
    let still: Vec<&str> = (plan.findings.iter())
        .filter(|f| f.kind == FindingKind::StillRunning && f.at == t(0, 20))
        .map(|f| f.message.rsplit(": ").next().unwrap())
        .collect();
    assert_eq!(
        still,
        [
            "concurrency allow runs this one beside it",
            "concurrency replace stops it for this one"
        ]
    );
}

#[test]
fn a_run_that_does_not_fit_the_slots_memory_waits_although_a_seat_is_free_and_holds_its_line() {
    let s = settings("  mem: { max_concurrent: 4, memory_max: 1G }\n");
    // No history: each run reserves its limits.memory and lasts its timeout, as guesses.
    let jobs = [
        job(
            &s,
            "big1",
            "schedule: '0 3 * * *'\nslot: mem\nlimits: { memory: 600M, timeout: 20m }\n",
        ),
        job(
            &s,
            "big2",
            "schedule: '0 3 * * *'\nslot: mem\nlimits: { memory: 600M, timeout: 20m }\n",
        ),
        job(
            &s,
            "small",
            "schedule: '1 3 * * *'\nslot: mem\nlimits: { memory: 300M, timeout: 20m }\n",
        ),
    ];
    let plan = plan_of(&s, &jobs, &History::default(), t(0, 0), 24);
    assert_eq!(
        ran(&plan),
        [
            ("big1", t(3, 0), t(3, 20), 0),
            ("big2", t(3, 20), t(3, 40), 20 * 60_000),
            ("small", t(3, 20), t(3, 40), 19 * 60_000),
        ],
        "big2 heads the line and does not fit beside big1; small, behind it, does not jump ahead"
    );
    let mem = plan.slots.iter().find(|s| s.name == "mem").unwrap();
    assert_eq!(mem.peak.reserved_bytes, 1200 * MIB - 300 * MIB);
    assert_eq!(mem.peak.reserved_at, Some(t(3, 20)));
    let big2 = &plan
        .jobs
        .iter()
        .find(|j| j.name == "big2")
        .unwrap()
        .estimate;
    assert_eq!(
        (big2.duration_from, big2.memory_from, big2.reserved_bytes),
        (Source::Timeout, Source::Reservation, 600 * MIB)
    );
    let guesses: Vec<_> = kinds(&plan)
        .into_iter()
        .filter(|k| k.0 == FindingKind::Guess)
        .collect();
    assert_eq!(guesses.len(), 3);
    assert!(
        plan.findings.iter().any(|f| f.message
            == "`big2`: no successful run in history: duration 20m 00s (its limits.timeout), memory 600 MiB (what admission reserves)"),
        "{:#?}",
        plan.findings
    );
}

#[test]
fn after_chains_and_dependencies_follow_their_leaders() {
    let s = settings("");
    let jobs = [
        job(&s, "extract", "schedule: '0 2 * * *'\n"),
        job(&s, "load", "after: [extract]\n"),
        job(&s, "report", "after: [load]\ndepends_on: [extract]\n"),
        job(&s, "audit", "schedule: '0 4 * * *'\ndepends_on: [never]\n"),
        job(&s, "never", "schedule: manual\n"),
    ];
    let h = history(&[
        ("extract", 5, Some(10)),
        ("load", 3, Some(10)),
        ("report", 1, Some(10)),
        ("audit", 1, Some(10)),
    ]);
    let plan = plan_of(&s, &jobs, &h, t(0, 0), 24);
    assert_eq!(
        ran(&plan),
        [
            ("extract", t(2, 0), t(2, 5), 0),
            ("load", t(2, 5), t(2, 8), 0),
            ("report", t(2, 8), t(2, 9), 0)
        ]
    );
    let triggers: Vec<&str> = plan.runs.iter().map(|r| r.trigger.as_str()).collect();
    assert_eq!(
        triggers,
        ["schedule", "after:extract", "after:load", "schedule"]
    );
    let audit = &plan.runs[3];
    assert_eq!(
        audit.fate,
        Fate::Skipped {
            reason: "depends_on: `never` has not run yet".into()
        }
    );
    assert_eq!(kinds(&plan), [(FindingKind::Skipped, Some("audit"))]);
}

#[test]
fn a_dependency_that_last_failed_in_history_skips_until_it_succeeds_in_the_forecast() {
    let s = settings("");
    let jobs = [
        job(&s, "dump", "schedule: '0 3 * * *'\n"),
        job(&s, "ship", "schedule: '30 2,3 * * *'\ndepends_on: [dump]\n"),
    ];
    let mut h = history(&[("dump", 10, None), ("ship", 1, None)]);
    let failed = JobSummary {
        last_final: Some(LastRun {
            id: 41,
            status: crate::model::RunStatus::Failed,
            finished_at: t(0, 0),
        }),
        ..JobSummary::default()
    };
    h.summaries.insert("dump".into(), failed);
    let plan = plan_of(&s, &jobs, &h, t(0, 0), 24);
    let ship: Vec<_> = plan
        .runs
        .iter()
        .filter(|r| r.job == "ship")
        .map(|r| (r.due, &r.fate))
        .collect();
    assert_eq!(
        ship[0].1,
        &Fate::Skipped {
            reason: "depends_on: `dump`'s latest run (41) ended failed".into()
        }
    );
    assert!(
        matches!(ship[1].1, Fate::Runs { .. }),
        "03:30: dump succeeded at 03:10"
    );
}

#[test]
fn a_fixed_time_in_the_spring_gap_runs_once_after_it_and_a_wildcard_runs_twice_in_the_fall() {
    let s = settings("");
    let jobs = [
        job(
            &s,
            "nightly",
            "schedule: '30 2 * * *'\ntimezone: Europe/Berlin\n",
        ),
        job(
            &s,
            "halfhour",
            "schedule: '*/30 2 * * *'\ntimezone: Europe/Berlin\n",
        ),
    ];
    let h = history(&[("nightly", 1, None), ("halfhour", 1, None)]);
    let spring = plan_of(
        &s,
        &jobs,
        &h,
        Utc.with_ymd_and_hms(2026, 3, 28, 12, 0, 0).unwrap(),
        24,
    );
    let dues = |plan: &Plan, job: &str| -> Vec<DateTime<Utc>> {
        plan.runs
            .iter()
            .filter(|r| r.job == job)
            .map(|r| r.due)
            .collect()
    };
    let utc = |mo, d, h, mi| Utc.with_ymd_and_hms(2026, mo, d, h, mi, 0).unwrap();
    assert_eq!(
        dues(&spring, "nightly"),
        [utc(3, 29, 1, 0)],
        "03:00 CEST, right after the gap"
    );
    assert!(
        dues(&spring, "halfhour").is_empty(),
        "02:00 and 02:30 do not exist that night"
    );
    let fall = plan_of(&s, &jobs, &h, utc(10, 24, 12, 0), 24);
    assert_eq!(
        dues(&fall, "nightly"),
        [utc(10, 25, 0, 30)],
        "the first pass only"
    );
    assert_eq!(
        dues(&fall, "halfhour"),
        [
            utc(10, 25, 0, 0),
            utc(10, 25, 0, 30),
            utc(10, 25, 1, 0),
            utc(10, 25, 1, 30)
        ]
    );
}

#[test]
fn jitter_delays_each_fire_by_its_expected_value() {
    let s = settings("");
    let jobs = [job(&s, "j", "schedule: '0 2 * * *'\njitter: 30s\n")];
    let plan = plan_of(&s, &jobs, &history(&[("j", 1, None)]), t(0, 0), 24);
    let Fate::Runs {
        queued_at,
        started_at,
        ..
    } = plan.runs[0].fate
    else {
        panic!()
    };
    assert_eq!(plan.runs[0].due, t(2, 0));
    assert_eq!(
        (queued_at, started_at),
        (
            t(2, 0) + chrono::Duration::seconds(15),
            t(2, 0) + chrono::Duration::seconds(15)
        )
    );
}

#[test]
fn priority_orders_a_queue_and_blocks_keeps_two_jobs_apart() {
    let s = settings("  one: { max_concurrent: 1, memory_max: 1G }\n");
    let jobs = [
        job(&s, "first", "schedule: '0 1 * * *'\nslot: one\n"),
        job(
            &s,
            "a_low",
            "schedule: '5 1 * * *'\nslot: one\npriority: low\n",
        ),
        job(
            &s,
            "z_high",
            "schedule: '5 1 * * *'\nslot: one\npriority: high\n",
        ),
        job(&s, "backup", "schedule: '0 2 * * *'\nblocks: [vacuum]\n"),
        job(&s, "vacuum", "schedule: '0 2 * * *'\n"),
    ];
    let h = history(&[
        ("first", 10, None),
        ("a_low", 1, None),
        ("z_high", 1, None),
        ("backup", 7, None),
        ("vacuum", 1, None),
    ]);
    let plan = plan_of(&s, &jobs, &h, t(0, 0), 24);
    let mut starts: Vec<(&str, DateTime<Utc>)> =
        ran(&plan).into_iter().map(|r| (r.0, r.1)).collect();
    starts.sort_by_key(|s| s.1);
    assert_eq!(
        starts,
        [
            ("first", t(1, 0)),
            ("z_high", t(1, 10)),
            ("a_low", t(1, 11)),
            ("backup", t(2, 0)),
            ("vacuum", t(2, 7))
        ]
    );
}

#[test]
fn protect_holds_runs_while_predicted_use_eats_into_the_reserve_except_critical_ones() {
    let s = settings("protect: { reserve_memory: 1G }\n");
    let jobs = [
        job(&s, "a", "schedule: '0 2 * * *'\n"),
        job(&s, "b", "schedule: '1 2 * * *'\n"),
        job(&s, "c", "schedule: '2 2 * * *'\npriority: critical\n"),
    ];
    let h = history(&[
        ("a", 10, Some(600)),
        ("b", 10, Some(600)),
        ("c", 10, Some(600)),
    ]);
    let refs: Vec<&Job> = jobs.iter().collect();
    let options = Options::new(t(0, 0), &s);
    let inputs = Inputs {
        jobs: &refs,
        settings: &s,
        history: &h,
        mem_available: Some(1536 * MIB),
    };
    let plan = simulate(&inputs, &options);
    let mut starts: Vec<(&str, DateTime<Utc>)> =
        ran(&plan).into_iter().map(|r| (r.0, r.1)).collect();
    starts.sort_by_key(|s| s.1);
    assert_eq!(
        starts,
        [("a", t(2, 0)), ("c", t(2, 2)), ("b", t(2, 12))],
        "b waits for both to end"
    );
    let holds: Vec<&Finding> = plan
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::ProtectHolds)
        .collect();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].at, t(2, 1));
    assert_eq!(
        holds[0].message,
        "new runs held back: MemAvailable 936M is below protect.reserve_memory 1G"
    );
    let below = plan
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::BelowReserve)
        .unwrap();
    assert_eq!(below.at, t(2, 0));
}

#[test]
fn a_slot_whose_runs_are_predicted_above_its_cap_is_a_finding() {
    let s = settings("  two: { max_concurrent: 2, memory_max: 1G }\n");
    // Admission reserves the slot's share (512M) for runs with no recorded peak; their
    // baseline says 700M each.
    let jobs = [
        job(&s, "x", "schedule: '0 2 * * *'\nslot: two\n"),
        job(&s, "y", "schedule: '0 2 * * *'\nslot: two\n"),
    ];
    let plan = plan_of(
        &s,
        &jobs,
        &history(&[("x", 10, Some(700)), ("y", 10, Some(700))]),
        t(0, 0),
        24,
    );
    let two = plan.slots.iter().find(|s| s.name == "two").unwrap();
    assert_eq!(
        (two.peak.reserved_bytes, two.peak.memory_bytes),
        (1024 * MIB, 1400 * MIB)
    );
    let over = plan
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::OverSlotMemory)
        .unwrap();
    assert_eq!((over.at, over.slot.as_deref()), (t(2, 0), Some("two")));
    assert_eq!(
        over.message,
        "slot `two`: runs predicted to use 1.37 GiB at once, above its memory_max 1.00 GiB (the kernel reclaims, then OOM-kills inside the cap)"
    );
}

#[test]
fn pessimistic_takes_the_p95_duration_and_the_highest_peak() {
    let s = settings("");
    let jobs = [job(&s, "j", "schedule: '0 2 * * *'\n")];
    let samples: Vec<Sample> = [(1, 60_000, 100), (2, 120_000, 300), (3, 90_000, 200)]
        .iter()
        .map(|&(id, ms, mib)| Sample {
            id,
            duration_ms: ms,
            memory_peak_bytes: Some(mib * MIB),
            cpu_usage_usec: None,
        })
        .collect();
    let mut h = History::default();
    h.baselines
        .insert("j".into(), compute(&samples, 3, t(0, 0)).unwrap());
    let p50 = estimate::estimate(&jobs[0], &s, &h, Percentile::P50);
    let p95 = estimate::estimate(&jobs[0], &s, &h, Percentile::P95);
    assert_eq!((p50.duration_ms, p50.memory_bytes), (90_000, 200 * MIB));
    assert_eq!((p95.duration_ms, p95.memory_bytes), (117_000, 300 * MIB));
    assert_eq!(p50.baseline_runs, Some(3));
}

#[test]
fn catch_up_runs_a_missed_fire_time_at_the_start_only_when_asked() {
    let s = settings("");
    let jobs = [job(
        &s,
        "nightly",
        "schedule: '0 2 * * *'\ncatch_up: once\n",
    )];
    let mut h = history(&[("nightly", 5, None)]);
    let earlier = JobSummary {
        last_started_at: Some(t(0, 0) - chrono::Duration::days(2)),
        ..JobSummary::default()
    };
    h.summaries.insert("nightly".into(), earlier);
    let refs: Vec<&Job> = jobs.iter().collect();
    let mut options = Options::new(t(12, 0), &s);
    let inputs = Inputs {
        jobs: &refs,
        settings: &s,
        history: &h,
        mem_available: None,
    };
    let without = simulate(&inputs, &options);
    assert_eq!(
        without
            .runs
            .iter()
            .map(|r| r.trigger.as_str())
            .collect::<Vec<_>>(),
        ["schedule"]
    );
    options.catch_up = true;
    let with = simulate(&inputs, &options);
    let runs: Vec<(&str, DateTime<Utc>)> = with
        .runs
        .iter()
        .map(|r| (r.trigger.as_str(), r.due))
        .collect();
    assert_eq!(
        runs,
        [
            ("catch_up", t(2, 0) - chrono::Duration::days(2)),
            ("schedule", t(2, 0) + chrono::Duration::days(1))
        ]
    );
}

#[test]
fn disabled_jobs_do_not_fire_and_an_open_breaker_ignores_fire_times_until_its_cooldown() {
    let s = settings("");
    let jobs = [
        job(&s, "off", "schedule: '@hourly'\nenabled: false\n"),
        job(
            &s,
            "flaky",
            "schedule: '@hourly'\nbreaker: { failures: 2, cooldown: 90m }\n",
        ),
    ];
    let mut h = history(&[("flaky", 1, None)]);
    let tripped = JobSummary {
        consecutive_failures: 2,
        last_failure_at: Some(t(0, 0)),
        ..JobSummary::default()
    };
    h.summaries.insert("flaky".into(), tripped);
    let plan = plan_of(&s, &jobs, &h, t(0, 0), 3);
    assert!(plan.runs.iter().all(|r| r.job == "flaky"));
    let fates: Vec<(DateTime<Utc>, bool)> = (plan.runs.iter())
        .map(|r| (r.due, matches!(r.fate, Fate::Ignored { .. })))
        .collect();
    assert_eq!(
        fates,
        [(t(1, 0), true), (t(2, 0), false)],
        "open until 01:30; 02:00 is the trial"
    );
    assert_eq!(
        plan.jobs
            .iter()
            .map(|j| (j.name.as_str(), j.runs))
            .collect::<Vec<_>>(),
        [("flaky", 2), ("off", 0)]
    );
}

#[test]
fn the_plan_serializes_each_state_with_its_own_figures() {
    let s = settings("");
    let jobs = [job(&s, "j", "schedule: '0 2 * * *'\n")];
    let plan = plan_of(&s, &jobs, &history(&[("j", 1, Some(64))]), t(0, 0), 24);
    let json = serde_json::to_value(&plan).unwrap();
    let run = &json["runs"][0];
    assert_eq!(run["status"], "runs");
    assert_eq!(run["started_at"], "2026-12-06T02:00:00Z");
    assert_eq!(run["wait_ms"], 0);
    assert_eq!(run["memory_bytes"], 64 * MIB);
    assert_eq!(json["jobs"][0]["estimate"]["duration_from"], "baseline");
    assert_eq!(json["machine"]["name"], "*");
    assert_eq!(json["percentile"], "p50");
}
