//! `slotcron import-crontab`: imported jobs fire exactly when cron would (against the
//! independent reference in `cron_reference`), and what `--write` leaves passes `check`.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use slotcron::config::{Settings, parse_job};
use slotcron::crontab::{Flavor, Names, convert, parse};

use crate::cron_reference::{Offsets, Reference};
use crate::helper::{Sandbox, stdout};

/// Real-world lines: steps, ranges, lists, names, both day-field rules, nicknames, and
/// zones with daylight saving (`CRON_TZ`), as `(zone, line)`.
const LINES: &[(&str, &str)] = &[
    ("", "*/15 * * * * /usr/bin/poll"),
    ("", "0 0 1,15 * * /usr/bin/invoice"),
    ("", "30 4 1-7 * 1 /usr/bin/first-week-or-monday"),
    ("", "0 9-17 * * mon-fri /usr/bin/office-hours"),
    ("", "0 0 1 jan * /usr/bin/new-year"),
    ("", "0 0 * * 0 /usr/bin/sunday0"),
    ("", "0 0 * * 7 /usr/bin/sunday7"),
    ("", "5 4 * * sun /usr/bin/sunday-name"),
    ("", "0 22 * * 1-5 /usr/bin/weeknights"),
    ("", "23 0-23/2 * * * /usr/bin/every-other-hour"),
    ("", "0 */3 * * * /usr/bin/three-hourly"),
    ("", "15 14 1 * * /usr/bin/monthly-report"),
    ("", "0 0 13 * 5 /usr/bin/friday-or-13th"),
    ("", "0 0 */2 * 1 /usr/bin/odd-day-mondays"),
    ("", "0 12 1-10 * */2 /usr/bin/early-days-even-weekdays"),
    ("", "0 0 29 2 * /usr/bin/leap-day"),
    ("", "59 23 28-31 * * /usr/bin/month-end-ish"),
    ("", "0 8 * jan-mar,oct-dec mon,wed,fri /usr/bin/winter-mwf"),
    ("", "0 0 1-31/10 * * /usr/bin/tenth-days"),
    ("", "7,37 * * * * /usr/bin/half-hourly"),
    ("", "@hourly /usr/bin/hourly"),
    ("", "@daily /usr/bin/daily"),
    ("", "@midnight /usr/bin/midnight"),
    ("", "@weekly /usr/bin/weekly"),
    ("", "@monthly /usr/bin/monthly"),
    ("", "@yearly /usr/bin/yearly"),
    ("", "@annually /usr/bin/annually"),
    ("Europe/Berlin", "30 2 * * * /usr/bin/berlin-0230"),
    ("Europe/Berlin", "0,30 2 * * * /usr/bin/berlin-list"),
    ("Europe/Berlin", "*/15 * * * * /usr/bin/berlin-quarter"),
    ("Europe/Berlin", "0 * * * * /usr/bin/berlin-hourly"),
    ("Europe/Berlin", "*/20 2 * * * /usr/bin/berlin-wild-2am"),
    ("Europe/Berlin", "0 2 * * 6-7 /usr/bin/berlin-weekend"),
    ("America/New_York", "30 1 * * * /usr/bin/ny-0130"),
    ("America/New_York", "15 2 * * 0 /usr/bin/ny-sunday"),
    ("Australia/Sydney", "0 2 * * * /usr/bin/sydney-0200"),
];

const FIRES: usize = 1000;

#[test]
fn imported_jobs_fire_exactly_when_cron_would() {
    let mut text = String::new();
    let mut schedules = Vec::new(); // (line number, zone, schedule as written)
    for (zone, line) in LINES {
        text.push_str(&format!("CRON_TZ={zone}\n"));
        let fields = if line.starts_with('@') { 1 } else { 5 };
        let schedule: Vec<&str> = line.split_whitespace().take(fields).collect();
        schedules.push((text.lines().count() + 1, *zone, schedule.join(" ")));
        text.push_str(line);
        text.push('\n');
    }
    let settings = Settings::builtin();
    let (imported, rejected) = convert(
        "crontab",
        parse(&text, Flavor::User),
        &mut Names::default(),
        Path::new("/jobs.d"),
        &settings,
    );
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(imported.len(), LINES.len());
    // Both halves of the year, so every zone's spring-forward and fall-back is crossed.
    let starts = [
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 10, 20, 0, 0, 0).unwrap(),
    ];
    for (job, (line, zone, schedule)) in imported.iter().zip(&schedules) {
        assert_eq!(job.source, format!("crontab:{line}"));
        let loaded = parse_job(
            &Path::new("/jobs.d").join(&job.file_name),
            &job.text,
            &settings,
        )
        .unwrap_or_else(|p| panic!("{}: {p:?}", job.file_name));
        let reference = Reference::new(schedule);
        for start in starts {
            // Fifty years: past 2037 (where some tz tables end) and the 1,000 fire times
            // of all but the rarest lines (a leap day fires 12 times).
            let until = start.timestamp() + 50 * 366 * 86_400;
            let offsets = Offsets::new(zone, start.timestamp() - 86_400, until);
            let ours: Vec<i64> =
                std::iter::successors(loaded.next_fire(start), |t| loaded.next_fire(*t))
                    .map(|t| t.timestamp())
                    .take_while(|t| *t <= until)
                    .take(FIRES)
                    .collect();
            let theirs = reference.fires(&offsets, start, FIRES, until);
            let n = ours.len().max(theirs.len());
            if let Some(i) = (0..n).find(|i| ours.get(*i) != theirs.get(*i)) {
                let show = |v: Option<&i64>| v.and_then(|t| DateTime::from_timestamp(*t, 0));
                panic!(
                    "`{schedule}` in `{zone}` from {start}: fire #{i} is {:?} for slotcron, {:?} for cron",
                    show(ours.get(i)),
                    show(theirs.get(i))
                );
            }
        }
    }
}

#[test]
fn written_jobs_pass_check_and_edited_files_are_left_alone() {
    let sb = Sandbox::new("");
    let crontab = sb.path().join("crontab");
    std::fs::write(
        &crontab,
        "MAILTO=ops@example.com\n# Nightly backup\n0 2 * * * /usr/local/bin/backup.sh\n\
         #30 3 * * 0 /usr/local/bin/backup.sh --weekly\n\
         0 5 * * * cat > /tmp/x%line%two\n0 0 * * * * six-fields\n@every 5m nope\n",
    )
    .unwrap();
    let crontab = crontab.to_str().unwrap();
    let out = sb.slotcron(&["import-crontab", crontab, "--write"]);
    assert_eq!(out.status.code(), Some(1), "two lines are not converted");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{crontab}:6: six time fields")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{crontab}:7: `@every` is slotcron's")),
        "{err}"
    );
    assert!(
        stdout(&out).contains("3 new, 0 updated, 0 unchanged, 0 skipped"),
        "{}",
        stdout(&out)
    );
    let mut files: Vec<String> = std::fs::read_dir(sb.jobs_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["cron_backup.yaml", "cron_backup_2.yaml", "cron_cat.yaml"]
    );
    let check = sb.slotcron(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    assert!(
        stdout(&check).contains("ok: 3 job(s)"),
        "{}",
        stdout(&check)
    );

    // An edited file survives a re-import; the others are unchanged.
    let edited = sb.jobs_dir().join("cron_backup.yaml");
    let text = std::fs::read_to_string(&edited).unwrap() + "slot: heavy\n";
    std::fs::write(&edited, &text).unwrap();
    let out = sb.slotcron(&["import-crontab", crontab, "--write"]);
    assert!(
        stdout(&out).contains("0 new, 0 updated, 2 unchanged, 1 skipped"),
        "{}",
        stdout(&out)
    );
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), text);
}

#[test]
fn the_system_format_reads_files_and_folders_and_prints_without_write() {
    let sb = Sandbox::new("");
    let dir = sb.path().join("cron.d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("php"),
        "09,39 * * * * root [ -x /usr/lib/php/sessionclean ]\n",
    )
    .unwrap();
    std::fs::write(dir.join(".placeholder"), "# ignored\n").unwrap();
    std::fs::write(dir.join("old.dpkg-old"), "garbage line\n").unwrap();
    let etc = sb.path().join("crontab");
    std::fs::write(
        &etc,
        "SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n",
    )
    .unwrap();
    let out = sb.slotcron(&[
        "import-crontab",
        "--system",
        etc.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.contains("# ==> cron_run-parts.yaml <=="), "{text}");
    assert!(text.contains("# ==> cron_sessionclean.yaml <=="), "{text}");
    assert_eq!(text.matches("user: root").count(), 2, "{text}");
    assert!(
        std::fs::read_dir(sb.jobs_dir()).unwrap().next().is_none(),
        "nothing written"
    );
}
