//! `slotcron import-crontab` on a generated 5,000-line crontab: parse, convert (each job
//! checked by the job loader) and render the YAML. Target (issue 6): under 1 s.
//!
//! `cargo bench --bench import` (`BENCH_ROUNDS=N` for more rounds).

mod support;

use std::path::Path;

use slotcron::config::Settings;
use slotcron::crontab::{Flavor, Names, convert, parse};
use support::{median, ms, rounds, row, time};

const LINES: usize = 5_000;

/// Entries with steps, ranges, lists, names, nicknames, `%` stdin, environment and comment
/// lines, a few bad lines; about one line in five is not an entry.
fn crontab() -> String {
    let schedules = [
        "*/15 * * * *",
        "0 2 * * *",
        "30 4 1-7 * 1",
        "0 9-17 * * mon-fri",
        "0 0 1,15 * *",
        "5 4 * * sun",
        "0 */3 * jan-jun *",
        "@daily",
        "@hourly",
        "@reboot",
    ];
    let mut text = String::new();
    for i in 0..LINES {
        let line = match i % 25 {
            0 => format!("MAILTO=ops{i}@example.com"),
            5 => format!(
                "CRON_TZ={}",
                ["Europe/Berlin", "UTC", "America/New_York"][i % 3]
            ),
            10 => format!("# Job number {i}: does something useful"),
            // Real crontabs set a few variables, some more than once.
            15 => format!("VAR{}=value {i}", i % 8),
            20 => "0 0 * * * * six fields".into(),
            22 => format!("#0 3 * * * /usr/bin/disabled-{i}"),
            k if k % 7 == 0 => format!(
                "{} /usr/bin/mail -s 'report {i}' ops%line one%line \\% two",
                schedules[i % schedules.len()]
            ),
            _ => format!(
                "{} /usr/local/bin/task-{}.sh --id {i} >/dev/null 2>&1",
                schedules[i % schedules.len()],
                i % 400
            ),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn main() {
    let text = crontab();
    let settings = Settings::builtin();
    let n = rounds(5);
    let mut samples = Vec::with_capacity(n);
    let mut jobs = 0;
    for _ in 0..n {
        let (elapsed, (imported, rejected)) = time(|| {
            convert(
                "crontab",
                parse(&text, Flavor::User),
                &mut Names::default(),
                Path::new("/jobs.d"),
                &settings,
            )
        });
        jobs = imported.len();
        assert_eq!(
            rejected.len(),
            LINES / 25,
            "only the six-field lines are refused"
        );
        samples.push(elapsed);
    }
    println!("import-crontab: {LINES} lines -> {jobs} jobs, median of {n} rounds");
    row(
        "parse + convert + render + check YAML",
        ms(median(&samples)),
        Some(1000.0),
    );
}
