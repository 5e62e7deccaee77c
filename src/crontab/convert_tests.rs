//! Conversion of entries into job files, each file loaded back with the job parser.

use std::path::Path;

use super::*;
use crate::config::{Command, Job, Settings};
use crate::crontab::{Flavor, Names, parse};

fn import(text: &str, flavor: Flavor) -> (Vec<Imported>, Vec<Rejected>) {
    convert(
        "crontab",
        parse(text, flavor),
        &mut Names::default(),
        Path::new("/jobs.d"),
        &Settings::builtin(),
    )
}

fn jobs(text: &str) -> Vec<Job> {
    let (imported, rejected) = import(text, Flavor::User);
    assert!(rejected.is_empty(), "{rejected:?}");
    imported
        .iter()
        .map(|i| {
            crate::config::parse_job(
                &Path::new("/jobs.d").join(&i.file_name),
                &i.text,
                &Settings::builtin(),
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn a_plain_entry_keeps_its_schedule_and_command_and_overlaps_like_cron() {
    let [job] = &jobs("# Nightly backup\n0 2 * * * /usr/local/bin/backup.sh --full\n")[..] else {
        panic!()
    };
    assert_eq!(job.name, "cron_backup");
    assert_eq!(job.schedule_text, "0 2 * * *");
    assert_eq!(
        job.command,
        Command::Shell("/usr/local/bin/backup.sh --full".into())
    );
    assert_eq!(job.description.as_deref(), Some("Nightly backup"));
    assert_eq!(job.concurrency, crate::config::Concurrency::Allow);
    assert_eq!(
        (job.enabled, job.tags.as_slice()),
        (true, &["crontab".to_owned()][..])
    );
}

#[test]
fn environment_shell_timezone_and_mailto_carry_over() {
    let text = "SHELL=/bin/bash\nMAILTO=ops@example.com\nCRON_TZ=America/New_York\n\
                LANG=C.UTF-8\n30 4 1-7 * 1 echo $LANG\n";
    let [job] = &jobs(text)[..] else { panic!() };
    assert_eq!(
        job.command,
        Command::Argv(vec!["/bin/bash".into(), "-c".into(), "echo $LANG".into()])
    );
    assert_eq!(
        job.timezone.as_ref().map(|z| z.name()),
        Some("America/New_York")
    );
    assert_eq!(job.env.get("LANG").map(String::as_str), Some("C.UTF-8"));
    assert_eq!(job.env.get("SHELL").map(String::as_str), Some("/bin/bash"));
    assert!(
        job.description
            .as_deref()
            .unwrap()
            .contains("ops@example.com (MAILTO)")
    );
}

#[test]
fn day_fields_go_over_as_written() {
    let jobs = jobs("0 0 */2 * 1 a\n0 0 1,15 * 1 b\n0 0 * * 1 c\n");
    let schedules: Vec<&str> = jobs.iter().map(|j| j.schedule_text.as_str()).collect();
    assert_eq!(schedules, ["0 0 */2 * 1", "0 0 1,15 * 1", "0 0 * * 1"]);
}

#[test]
fn stdin_after_percent_reaches_the_command_byte_for_byte() {
    let [job] = &jobs("0 0 * * * cat > \"$OUT\"%line 1%it's 100\\% '$x'%%end\n")[..] else {
        panic!()
    };
    let Command::Shell(script) = &job.command else {
        panic!()
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let status = std::process::Command::new("/bin/sh")
        .args(["-c", script])
        .env("OUT", &out)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "line 1\nit's 100% '$x'\n\nend\n"
    );
}

#[test]
fn commented_out_entries_become_disabled_jobs() {
    let [job] = &jobs("#15 3 * * * /usr/bin/old-report\n")[..] else {
        panic!()
    };
    assert!(!job.enabled);
    assert_eq!(job.name, "cron_old-report");
}

#[test]
fn entries_the_loader_refuses_are_reported_at_their_line() {
    let text = "0 0 31 2 * never\nCRON_TZ=Mars/Olympus\n0 0 * * * x\n";
    let (imported, rejected) = import(text, Flavor::User);
    assert!(imported.is_empty());
    let reasons: Vec<(usize, &str)> = rejected
        .iter()
        .map(|r| (r.error.line, r.error.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0].0, 1);
    assert!(reasons[0].1.contains("never fires"), "{reasons:?}");
    assert_eq!(reasons[1].0, 3);
    assert!(
        reasons[1].1.contains("timezone `Mars/Olympus`"),
        "{reasons:?}"
    );
    let (_, rejected) = import("0 0 * * * no-such-user-xyz true\n", Flavor::System);
    assert!(
        rejected[0].error.reason.contains("no such user"),
        "{rejected:?}"
    );
}

#[test]
fn the_hash_marker_matches_what_was_written() {
    let (imported, _) = import("@reboot /bin/true\n", Flavor::User);
    assert!(crate::crontab::is_unedited_import(&imported[0].text));
    assert!(!crate::crontab::is_unedited_import(
        &imported[0].text.replace("/bin/true", "/bin/false")
    ));
}
