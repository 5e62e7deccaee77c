//! Issue 6: discovery of 10,000 scripts under 2 s.
//!
//! Generates 10,000 scripts in 100 folders of a temp tree: sh, bash, python (env
//! shebang), php, node, perl and ruby, from 5 to ~1,500 lines, with `# Schedule:`
//! directives, phrases, or nothing; plus a README per folder that is not a script. Then
//! times, `BENCH_ROUNDS` times each (default 5), reporting medians:
//! (a) scan and classify in-process (`discover::discover`: walk, read, every heuristic);
//! (b) the whole binary, `slotcron discover --write` into an empty `jobs_dir` (render,
//!     check that each job loads, atomic write of 10,000 files);
//! (c) the whole binary again over those files: every one unchanged (read, hash, compare);
//! (d) the whole binary as a dry run (10,000 job files printed to /dev/null);
//! and, to judge (b), the file system's own figure: 10,000 files of 600 bytes created in
//! one folder of the same temp dir (`std::fs::write`, no fsync), nothing else.
//!
//! `cargo bench --bench discover`; `TMPDIR=/dev/shm cargo bench --bench discover` puts
//! the tree and `jobs_dir` on tmpfs, taking a slow disk out of (b).

#[path = "support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use slotcron::discover;

use support::{Setup, median, ms, row, time};

const SCRIPTS: usize = 10_000;
const FOLDERS: usize = 100;
const TARGET_MS: f64 = 2_000.0;

fn main() {
    let rounds = support::rounds(5);
    let setup = Setup::new("discover: { paths: [\"scripts/*\"] }\n");
    let root = setup.path("scripts");
    let bytes = generate(&root);
    println!(
        "discover: {SCRIPTS} scripts in {FOLDERS} folders, {:.1} MiB",
        bytes as f64 / (1 << 20) as f64
    );
    let settings = slotcron::config::load_settings(Some(&setup.config)).expect("settings");

    let mut scans = Vec::new();
    for _ in 0..rounds {
        let (took, found) = time(|| discover::discover(std::slice::from_ref(&root), &settings));
        assert_eq!(
            found.proposals.len(),
            SCRIPTS,
            "{:?}",
            &found.issues[..found.issues.len().min(3)]
        );
        scans.push(took);
    }
    let mut creates = Vec::new();
    for round in 0..rounds {
        let dir = setup.path(&format!("fs-baseline-{round}"));
        std::fs::create_dir(&dir).expect("baseline folder");
        let (took, ()) = time(|| {
            for i in 0..SCRIPTS {
                std::fs::write(dir.join(format!("f{i}.yaml")), [b'x'; 600]).expect("write");
            }
        });
        creates.push(took);
        std::fs::remove_dir_all(&dir).ok();
    }
    let mut writes = Vec::new();
    let mut unchanged = Vec::new();
    let mut dry = Vec::new();
    for _ in 0..rounds {
        std::fs::remove_dir_all(&setup.jobs_dir).ok();
        writes.push(run(&setup.config, &["--write"], "10000 new"));
        unchanged.push(run(&setup.config, &["--write"], "10000 unchanged"));
        dry.push(run(&setup.config, &[], "10000 unchanged"));
    }
    println!("medians of {rounds} rounds:");
    row(
        "scan + classify 10,000 scripts (in-process)",
        ms(median(&scans)),
        Some(TARGET_MS),
    );
    row(
        "slotcron discover --write, empty jobs_dir",
        ms(median(&writes)),
        Some(TARGET_MS),
    );
    row(
        "slotcron discover --write, all unchanged",
        ms(median(&unchanged)),
        Some(TARGET_MS),
    );
    row(
        "slotcron discover (dry run, output discarded)",
        ms(median(&dry)),
        Some(TARGET_MS),
    );
    row(
        "file system: create 10,000 files of 600 B",
        ms(median(&creates)),
        None,
    );
}

/// Runs the binary; its summary line must contain `expect`.
fn run(config: &Path, args: &[&str], expect: &str) -> std::time::Duration {
    let (took, out) = time(|| {
        Command::new(env!("CARGO_BIN_EXE_slotcron"))
            .arg("--config")
            .arg(config)
            .arg("discover")
            .args(args)
            .stderr(Stdio::inherit())
            .output()
            .expect("slotcron runs")
    });
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = text.lines().last().unwrap_or_default();
    assert!(summary.contains(expect), "{summary}");
    took
}

/// Writes the tree; returns its size in bytes.
fn generate(root: &Path) -> u64 {
    let mut total = 0;
    for i in 0..SCRIPTS {
        let folder = root.join(format!("svc{:02}", i % FOLDERS));
        if i < FOLDERS {
            std::fs::create_dir_all(&folder).expect("folder");
            std::fs::write(folder.join("README.md"), "# notes\n").expect("readme");
        }
        let (ext, shebang, comment) = match i % 7 {
            0 => ("sh", "#!/bin/sh", "#"),
            1 => ("bash", "#!/bin/bash", "#"),
            2 => ("py", "#!/usr/bin/env python3", "#"),
            3 => ("php", "<?php", "//"),
            4 => ("js", "#!/usr/bin/env node", "//"),
            5 => ("pl", "#!/usr/bin/perl -w", "#"),
            _ => ("rb", "", "#"),
        };
        let topic = [
            "backup", "report", "sync", "cleanup", "monitor", "import", "export", "notify", "task",
        ][i % 9];
        let mut text = format!("{shebang}\n{comment} {topic} job number {i}, written by hand.\n");
        match i % 4 {
            0 => writeln!(text, "{comment} Schedule: {} 2 * * *", i % 60),
            1 => writeln!(
                text,
                "{comment} Runs every {} minutes.",
                [5, 10, 15, 7][i % 4 / 2 * 2 % 4]
            ),
            2 => writeln!(text, "{comment} daily at {}am", 1 + i % 11),
            _ => Ok(()),
        }
        .expect("string");
        // 5 to ~1,500 lines: most small, every 50th large.
        let lines = if i % 50 == 0 { 1_500 } else { 5 + i % 120 };
        for n in 0..lines {
            writeln!(text, "echo \"step {n} of {topic}\" >> /tmp/{topic}.log").expect("string");
        }
        let path = folder.join(format!("{topic}_{i:05}.{ext}"));
        std::fs::write(&path, &text).expect("script");
        total += text.len() as u64;
    }
    total
}
