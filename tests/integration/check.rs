//! `slotcron check` on good and bad job folders.

use crate::helper::{Sandbox, stdout};

#[test]
fn every_problem_is_named_and_the_good_jobs_still_load() {
    let sb = Sandbox::new("");
    sb.job("good.yaml", "command: echo ok\n")
        .job("typo.yaml", "command: echo x\nschedul: \"@daily\"\n")
        .job(
            "big.yaml",
            "command: echo y\nslot: light\nlimits: { memory: 2G }\n",
        )
        .job("when.yaml", "command: echo z\nschedule: \"0 0 30 2 *\"\n");
    let out = sb.slotcron(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].contains(
            "big.yaml: field `limits.memory`: is above slot `light`'s memory_max 1G (value: `2G`)"
        ),
        "{text}"
    );
    assert!(
        lines[1].contains("typo.yaml:2: unknown field `schedul`"),
        "{text}"
    );
    assert!(
        lines[2].contains(
            "when.yaml: field `schedule`: never fires: no date matches its day-of-month, month and day-of-week fields (value: `0 0 30 2 *`)"
        ),
        "{text}"
    );
    assert_eq!(lines[3], "3 problem(s); 1 job(s) loaded");
}

#[test]
fn a_clean_folder_gets_a_one_line_summary() {
    let sb = Sandbox::new("");
    sb.job("a.yaml", "command: echo a\n")
        .job("b.yaml", "command: [echo, b]\nslot: heavy\n");
    let out = sb.slotcron(&["check"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("ok: 2 job(s) in "), "{text}");
    assert!(
        text.contains("3 slot(s)") && text.contains("enforcement: off"),
        "{text}"
    );
}

#[test]
fn a_broken_configuration_file_is_reported_with_its_fields() {
    let sb = Sandbox::new("slots:\n  default: { max_concurrent: 0, memory_max: 1Q }\n");
    let out = sb.slotcron(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("field `slots.default.max_concurrent`: must be a whole number from 1 to 10000 (value: `0`)"), "{text}");
    assert!(
        text.contains("field `slots.default.memory_max`") && text.contains("(value: `1Q`)"),
        "{text}"
    );
}

#[test]
fn a_missing_config_file_is_an_error_naming_it() {
    let sb = Sandbox::new("");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_slotcron"))
        .arg("--config")
        .arg(sb.path().join("nope.yaml"))
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("nope.yaml: cannot read"),
        "{}",
        stdout(&out)
    );
}
