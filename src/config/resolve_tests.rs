//! Resolution on a fixed system: parsing asks nothing, resolution asks once and words its
//! problems as parsing does.

use std::path::Path;

use super::*;
use crate::cgroup::io::DevNum;
use crate::config::Lookups;
use crate::config::{DeviceError, Settings};

const VDA: DevNum = DevNum {
    major: 254,
    minor: 0,
};

/// A machine with one block device, `/dev/vda`.
struct OneDisk;

impl BlockDevices for OneDisk {
    fn number(&self, path: &Path) -> Result<DevNum, DeviceError> {
        match path.to_str() {
            Some("/dev/vda") => Ok(VDA),
            _ => Err(DeviceError::Missing("No such file or directory".into())),
        }
    }

    fn exists(&self, number: DevNum) -> bool {
        number == VDA
    }
}

/// Accounts that must not be asked about.
struct NoQuestions;

impl Accounts for NoQuestions {
    fn has_user(&self, name: &str) -> bool {
        panic!("asked about user {name}")
    }

    fn has_group(&self, name: &str) -> bool {
        panic!("asked about group {name}")
    }
}

const FILE: &str = "/j/backup.yaml";

const GHOST_JOB: &str =
    "command: x\nuser: ghost\ngroup: ghosts\nio: { max: [{ device: /dev/vda, wbps: 10M }] }\n";

fn parse(text: &str) -> ParsedJob {
    ParsedJob::parse(Path::new(FILE), text, &Settings::builtin())
}

fn ghosts() -> FixedAccounts {
    FixedAccounts {
        users: vec!["ghost".into()],
        groups: vec!["ghosts".into()],
    }
}

/// `(field, value, message)` of each problem, in order.
fn named(problems: &[Problem]) -> Vec<(String, String, String)> {
    problems
        .iter()
        .map(|p| {
            assert_eq!(p.file, Path::new(FILE));
            let field = p.field.clone().unwrap_or_default();
            (
                field,
                p.value.clone().unwrap_or_default(),
                p.message.clone(),
            )
        })
        .collect()
}

#[test]
fn parsing_alone_accepts_any_names_and_keeps_them_to_look_up() {
    let parsed = parse(GHOST_JOB);
    assert!(parsed.problems().is_empty(), "{:?}", parsed.problems());
    assert_eq!(parsed.lookups.user.as_deref(), Some("ghost"));
    assert_eq!(parsed.lookups.group.as_deref(), Some("ghosts"));
    let io = parsed.lookups.io.as_ref().expect("io to resolve");
    assert_eq!(io.max.len(), 1);
    assert_eq!(io.max[0].0, "/dev/vda");
}

#[test]
fn accounts_and_devices_the_system_has_resolve() {
    let system = System {
        accounts: &ghosts(),
        devices: &OneDisk,
    };
    let job = parse(GHOST_JOB).resolve(system).unwrap();
    assert_eq!(job.user.as_deref(), Some("ghost"));
    assert_eq!(job.group.as_deref(), Some("ghosts"));
    let io = job.io.expect("io resolved");
    assert_eq!(io.max[0].number, VDA);
    assert_eq!(io.max[0].wbps, Some(10 << 20));
}

#[test]
fn missing_accounts_and_devices_name_field_and_value() {
    let system = System {
        accounts: &FixedAccounts::default(),
        devices: &OneDisk,
    };
    let text = GHOST_JOB.replace("/dev/vda", "/dev/vdz");
    let problems = parse(&text).resolve(system).unwrap_err();
    assert_eq!(
        named(&problems),
        [
            ("user", "ghost", "no such user on this machine"),
            ("group", "ghosts", "no such group on this machine"),
            (
                "io.max[0].device",
                "/dev/vdz",
                "no such device: No such file or directory"
            ),
        ]
        .map(|(f, v, m)| (f.to_owned(), v.to_owned(), m.to_owned()))
    );
}

#[test]
fn the_texts_problems_come_first_and_the_lookups_still_run() {
    let system = System {
        accounts: &FixedAccounts::default(),
        devices: &OneDisk,
    };
    let problems = parse("command: x\nschedule: sometimes\nuser: ghost\n")
        .resolve(system)
        .unwrap_err();
    let fields: Vec<String> = named(&problems).into_iter().map(|(f, ..)| f).collect();
    assert_eq!(fields, ["schedule", "user"]);
}

#[test]
fn a_file_that_is_not_a_job_asks_nothing() {
    let system = System {
        accounts: &NoQuestions,
        devices: &OneDisk,
    };
    for text in ["", "command: [\n", "- a list\n"] {
        let parsed = parse(text);
        assert_eq!(parsed.lookups, Lookups::default(), "{text:?}");
        assert_eq!(parsed.resolve(system).unwrap_err().len(), 1, "{text:?}");
    }
}

#[test]
fn this_machine_has_root_and_not_a_made_up_user() {
    let accounts = System::THIS_MACHINE.accounts;
    assert!(accounts.has_user("root") && accounts.has_group("root"));
    assert!(!accounts.has_user("no-such-user-slotcron-0039"));
    assert!(!accounts.has_group("no-such-group-slotcron-0039"));
}
