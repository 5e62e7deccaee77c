//! Rendering, the hash mark and the update/skip rules of `write.rs`.

use std::path::{Path, PathBuf};

use super::*;
use crate::config::{Settings, parse_job};
use crate::discover::scan::ScriptFile;
use crate::discover::{analyze, job_name};

fn proposal(path: &str, text: &str) -> Proposal {
    let script = ScriptFile {
        path: PathBuf::from(path),
        relative: PathBuf::from(Path::new(path).file_name().unwrap()),
        text: text.to_owned(),
        size: text.len() as u64,
        executable: true,
    };
    Proposal {
        script: script.path.clone(),
        job_name: job_name(&script.path),
        analysis: analyze(&script, &Settings::builtin()).unwrap(),
        body: String::new(),
    }
}

#[test]
fn a_rendered_job_loads_disabled_tagged_and_as_analysed() {
    let p = proposal(
        "/srv/cron/db_backup.sh",
        "#!/bin/bash\n# Nightly \"orders\" dump.\n# Schedule: 0 2 * * *\npg_dump orders\n",
    );
    let text = file_text(&render(&p));
    assert!(text.starts_with(MARK_PREFIX));
    let file = PathBuf::from("/jobs.d/auto_db_backup.yaml");
    let job =
        parse_job(&file, &text, &Settings::builtin()).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert_eq!(job.name, "auto_db_backup");
    assert!(!job.enabled);
    assert_eq!(job.schedule_text, "0 2 * * *");
    assert_eq!(job.description.as_deref(), Some("Nightly \"orders\" dump."));
    assert_eq!(job.slot, "heavy");
    assert_eq!(job.category.as_deref(), Some("backup"));
    assert_eq!(job.tags, ["discovered", "bash"]);
    assert_eq!(job.command.argv(), ["/srv/cron/db_backup.sh"]);
    assert_eq!(job.working_dir, Some(PathBuf::from("/srv/cron")));
    assert_eq!(job.limits.memory, Some(crate::config::ByteSize::gib(2)));
}

#[test]
fn manual_and_odd_paths_render_to_loadable_yaml() {
    let p = proposal("/srv/it's: \"odd\" #1/x.py", "print(1)\n");
    let text = file_text(&render(&p));
    let job = parse_job(Path::new("/j/auto_x.yaml"), &text, &Settings::builtin())
        .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert_eq!(job.schedule_text, "manual");
    assert_eq!(
        job.command.argv(),
        ["python3", "/srv/it's: \"odd\" #1/x.py"]
    );
}

#[test]
fn decide_new_unchanged_update_and_the_two_skips() {
    let body = "command: [\"/x\"]\n";
    assert_eq!(decide(None, body), Action::New);
    let written = file_text(body);
    assert_eq!(decide(Some(written.as_bytes()), body), Action::Unchanged);
    assert_eq!(
        decide(Some(written.as_bytes()), "command: [\"/y\"]\n"),
        Action::Update
    );
    let edited = written.replace("/x", "/x --verbose");
    assert!(
        matches!(decide(Some(edited.as_bytes()), body), Action::Skip(r) if r.contains("edited"))
    );
    let hand = "command: [\"/x\"]\n";
    assert!(
        matches!(decide(Some(hand.as_bytes()), body), Action::Skip(r) if r.contains("hand-written"))
    );
    assert!(matches!(decide(Some(b"\xff\xfe"), body), Action::Skip(_)));
}

#[test]
fn hash_is_sha256_hex() {
    assert_eq!(
        hash(""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}
