//! `slotcron discover`: the real binary on a temp tree of scripts of every kind, with a
//! binary file, an unreadable path, a symlink loop and two clashing names; the written
//! job files load with `slotcron check`; re-runs update untouched files and skip edited
//! ones. Tests run as root, for whom `chmod 000` still reads: an unreadable file is
//! simulated with a dangling symlink (open fails with ENOENT) and a FIFO named like a
//! script (never opened).

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use crate::helper::{Sandbox, stderr, stdout};

fn put(dir: &Path, rel: &str, text: &[u8], exec: bool) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    let mode = if exec { 0o755 } else { 0o644 };
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A sandbox whose `scripts/` holds the tree; `discover.paths` points at it by a glob.
fn tree() -> Sandbox {
    let sb = Sandbox::new("discover: { paths: [\"scripts/*/\"] }\n");
    let s = sb.path().join("scripts");
    put(
        &s,
        "db/backup_orders.sh",
        b"#!/bin/bash\n# Dump the orders database.\n# Schedule: 0 2 * * *\npg_dump orders\n",
        true,
    );
    put(
        &s,
        "app/sync_users.py",
        b"#!/usr/bin/env python3\n# Pull users from the directory, every 5 minutes.\nimport os\n",
        false,
    );
    put(
        &s,
        "app/nightly_backup.php",
        b"<?php\n// Nightly backup of uploaded files.\nexec('tar czf /tmp/u.tgz /srv/uploads');\n",
        false,
    );
    put(&s, "app/notes.txt", b"not a script\n", false);
    put(&s, "app/tool.sh", b"\x7fELF\x02\x01\x01\0\0\0", true);
    put(&s, "db/report.sh", b"# Cron: 30 6 * * 1\necho a\n", false);
    put(&s, "app/report.py", b"print('b')\n", false);
    symlink(s.join("app/missing.sh"), s.join("app/gone.sh")).unwrap();
    nix::unistd::mkfifo(&s.join("app/pipe.sh"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    symlink(&s, s.join("db/loop")).unwrap();
    sb
}

/// The summary line's counts: found, new, updated, unchanged, skipped, errors.
fn counts(out: &str) -> [usize; 6] {
    let line = out
        .lines()
        .find(|l| l.starts_with("discover: "))
        .unwrap_or_else(|| panic!("no summary in:\n{out}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    numbers[..6].try_into().unwrap()
}

#[test]
fn dry_run_prints_jobs_reports_every_problem_and_writes_nothing() {
    let sb = tree();
    let out = sb.slotcron(&["discover"]);
    let (o, e) = (stdout(&out), stderr(&out));
    // 3 jobs; skipped: binary, FIFO, loop, 2 clashing `report`s; errors: dangling link.
    assert_eq!(counts(&o), [3, 3, 0, 0, 5, 1], "{o}\n{e}");
    assert_eq!(out.status.code(), Some(1), "an unreadable path is an error");
    for needle in [
        "tool.sh: binary file",
        "pipe.sh: not a regular file (a FIFO)",
        "db/loop: symlink loop",
        "gone.sh: cannot read: dangling symlink",
        "report.py: name clash: job `auto_report`",
        "report.sh: name clash: job `auto_report`",
    ] {
        assert!(e.contains(needle), "missing {needle:?} in:\n{e}");
    }
    assert!(o.contains("schedule: \"*/5 * * * *\""), "{o}");
    assert!(o.contains("dry run: nothing written"), "{o}");
    let written = std::fs::read_dir(sb.jobs_dir()).unwrap().count();
    assert_eq!(written, 0);
}

#[test]
fn write_creates_disabled_marked_jobs_that_check_loads() {
    let sb = tree();
    let out = sb.slotcron(&["discover", "--write"]);
    assert_eq!(counts(&stdout(&out))[1], 3, "{}", stdout(&out));
    let check = sb.slotcron(&["check"]);
    assert!(
        check.status.success() && stdout(&check).contains("ok: 3 job(s)"),
        "{}",
        stdout(&check)
    );
    let jobs = sb.slotcron(&["jobs", "--json"]);
    let jobs: serde_json::Value = serde_json::from_slice(&jobs.stdout).unwrap();
    let by_name = |n: &str| {
        jobs.as_array()
            .unwrap()
            .iter()
            .find(|j| j["name"] == n)
            .unwrap_or_else(|| panic!("no {n} in {jobs}"))
            .clone()
    };
    let backup = by_name("auto_backup_orders");
    assert_eq!(backup["schedule_text"], "0 2 * * *", "{backup}");
    assert_eq!(backup["enabled"], false);
    assert_eq!(backup["slot"], "heavy");
    let php = by_name("auto_nightly_backup");
    assert_eq!(php["schedule_text"], "0 2 * * *", "{php}");
    assert_eq!(php["category"], "backup");
    let py = by_name("auto_sync_users");
    assert_eq!(py["schedule_text"], "*/5 * * * *", "{py}");
    let text = std::fs::read_to_string(sb.jobs_dir().join("auto_sync_users.yaml")).unwrap();
    assert!(text.starts_with("# slotcron-discovered: sha256="), "{text}");
    assert!(text.contains("tags: [discovered, \"python\"]"), "{text}");
}

#[test]
fn rerun_updates_untouched_files_and_skips_edited_and_hand_written_ones() {
    let sb = tree();
    sb.slotcron(&["discover", "--write"]);
    let jobs = sb.jobs_dir();
    // Edited by a person: enabled.
    let edited = jobs.join("auto_sync_users.yaml");
    let text = std::fs::read_to_string(&edited).unwrap();
    let enabled = text.replace("enabled: false", "enabled: true");
    std::fs::write(&edited, &enabled).unwrap();
    // Untouched, but the script changed: its schedule moves.
    let s = sb.path().join("scripts");
    put(
        &s,
        "db/backup_orders.sh",
        b"#!/bin/bash\n# Dump the orders database.\n# Schedule: 0 3 * * *\npg_dump orders\n",
        true,
    );
    // Hand-written file in the way of a new discovery.
    put(
        &s,
        "app/cleanup_tmp.sh",
        b"find /tmp -mtime +7 -delete\n",
        false,
    );
    sb.job("auto_cleanup_tmp.yaml", "command: echo mine\n");

    let out = sb.slotcron(&["discover", "--write"]);
    let (o, e) = (stdout(&out), stderr(&out));
    // found 4: backup updated, php unchanged, sync and cleanup skipped (+5 scan skips).
    assert_eq!(counts(&o), [4, 0, 1, 1, 7, 1], "{o}\n{e}");
    assert!(e.contains("edited since discovery"), "{e}");
    assert!(e.contains("hand-written (no discovery mark)"), "{e}");
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), enabled);
    assert_eq!(
        std::fs::read_to_string(jobs.join("auto_cleanup_tmp.yaml")).unwrap(),
        "command: echo mine\n"
    );
    let backup = std::fs::read_to_string(jobs.join("auto_backup_orders.yaml")).unwrap();
    assert!(backup.contains("schedule: \"0 3 * * *\""), "{backup}");
    let leftovers: Vec<_> = std::fs::read_dir(&jobs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn named_folders_override_the_config_and_only_skips_exit_zero() {
    let sb = Sandbox::new("");
    let dir = sb.path().join("only");
    put(&dir, "a.sh", b"# hourly\necho a\n", false);
    put(&dir, "b.bin.sh", b"\0\0", false);
    let out = sb.slotcron(&["discover", "--dry-run", dir.to_str().unwrap()]);
    assert_eq!(counts(&stdout(&out)), [1, 1, 0, 0, 1, 0]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let both = sb.slotcron(&["discover", "--dry-run", "--write", dir.to_str().unwrap()]);
    assert_eq!(both.status.code(), Some(2), "clap refuses both flags");
    let none = sb.slotcron(&["discover"]);
    assert_eq!(none.status.code(), Some(125));
    assert!(
        stderr(&none).contains("nothing to scan"),
        "{}",
        stderr(&none)
    );
}

#[test]
fn verbose_says_why_each_value_was_chosen() {
    let sb = tree();
    let out = sb.slotcron(&["discover", "--verbose"]);
    let o = stdout(&out);
    for needle in [
        "# why type: shebang names `python3`",
        "# why schedule: line 2: phrase in `Pull users from the directory, every 5 minutes.` -> `*/5 * * * *`",
        "# why schedule: line 3: directive `Schedule: 0 2 * * *` -> `0 2 * * *`",
        "# why resources: slot heavy: category backup",
        "# ignored ",
    ] {
        assert!(o.contains(needle), "missing {needle:?} in:\n{o}");
    }
}
