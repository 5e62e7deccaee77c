//! `slotcron check` on good and bad job folders.

use std::time::Duration;

use crate::helper::{Sandbox, stdout, wait_until};

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

/// Issue 11 item 7: values no one can mean are refused, each naming file, field and value.
#[test]
fn values_that_cannot_be_meant_are_refused_naming_file_field_and_value() {
    let sb = Sandbox::new("");
    let huge = "x".repeat(70 * 1024);
    sb.job("mem0.yaml", "command: echo\nlimits: { memory: 0 }\n")
        .job("mem512.yaml", "command: echo\nlimits: { memory: 512 }\n")
        .job("t0.yaml", "command: echo\nlimits: { timeout: 0s }\n")
        .job("t1.yaml", "command: echo\nlimits: { timeout: 1ms }\n")
        .job("user.yaml", "command: echo\nuser: ''\n")
        .job("group.yaml", "command: echo\ngroup: ''\n")
        .job(
            "wd.yaml",
            "command: echo\nworking_dir: /nonexistent/slotcron-x\n",
        )
        .job("wdnum.yaml", "command: echo\nworking_dir: 42\n")
        .job("nul.yaml", "command: \"echo a\\0b\"\n")
        .job("nulargv.yaml", "command: [echo, \"a\\0b\"]\n")
        .job("nulenv.yaml", "command: echo\nenv: { A: \"x\\0y\" }\n")
        .job("nulwd.yaml", "command: echo\nworking_dir: \"/tmp\\0x\"\n")
        .job("spaces.yaml", "command: \"   \"\n")
        .job("argvspaces.yaml", "command: [\"  \", x]\n")
        .job("huge.yaml", &format!("command: echo {huge}\n"))
        .job(
            "every.yaml",
            "command: echo\nschedule: \"@every 5000000000d\"\n",
        )
        .job(
            "ok.yaml",
            "command: echo\nworking_dir: /\nlimits: { memory: 4M, timeout: 1s }\n",
        );
    let out = sb.slotcron(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let expected = [
        ("argvspaces.yaml", "field `command`", "(value: `  `)"),
        (
            "every.yaml",
            "field `schedule`",
            "(value: `@every 5000000000d`)",
        ),
        ("group.yaml", "field `group`", "(value: ``)"),
        (
            "huge.yaml",
            "field `command`: longer than 65536 bytes",
            "more bytes)`)",
        ),
        (
            "mem0.yaml",
            "field `limits.memory`: below the minimum 4M",
            "(value: `0`)",
        ),
        (
            "mem512.yaml",
            "field `limits.memory`: below the minimum 4M",
            "(value: `512`)",
        ),
        (
            "nul.yaml",
            "field `command`: contains a NUL byte",
            "(value: `echo a\\u{0}b`)",
        ),
        (
            "nulargv.yaml",
            "field `command`: contains a NUL byte",
            "(value: `a\\u{0}b`)",
        ),
        (
            "nulenv.yaml",
            "field `env.A`: contains a NUL byte",
            "(value: `x\\u{0}y`)",
        ),
        (
            "nulwd.yaml",
            "field `working_dir`: contains a NUL byte",
            "(value: `/tmp\\u{0}x`)",
        ),
        ("spaces.yaml", "field `command`", "(value: `   `)"),
        (
            "t0.yaml",
            "field `limits.timeout`: below the minimum 1s",
            "(value: `0s`)",
        ),
        (
            "t1.yaml",
            "field `limits.timeout`: below the minimum 1s",
            "(value: `1ms`)",
        ),
        ("user.yaml", "field `user`", "(value: ``)"),
        (
            "wd.yaml",
            "field `working_dir`: no such folder",
            "(value: `/nonexistent/slotcron-x`)",
        ),
        (
            "wdnum.yaml",
            "field `working_dir`: must be a path (a string)",
            "(value: `42`)",
        ),
    ];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len() + 1, "{text}");
    for (line, (file, field, value)) in lines.iter().zip(expected) {
        assert!(
            line.contains(&format!("{file}: {field}")) && line.ends_with(value),
            "{file}: {line:.300}"
        );
        assert!(line.len() < 600, "bounded excerpt: {} bytes", line.len());
    }
    assert_eq!(
        *lines.last().unwrap(),
        format!("{} problem(s); 1 job(s) loaded", expected.len())
    );
}

#[test]
fn zero_sizes_in_the_configuration_are_refused() {
    let sb = Sandbox::new(
        "log_max: 0\ncgroup: { memory_max: 1 }\n\
         slots:\n  default: { memory_max: 0 }\n  light: { memory_max: 1G, memory_high: 0 }\n",
    );
    let out = sb.slotcron(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for (field, value) in [
        ("cgroup.memory_max", "1"),
        ("slots.default.memory_max", "0"),
        ("slots.light.memory_high", "0"),
        ("log_max", "0"),
    ] {
        assert!(
            text.contains(&format!("field `{field}`: below the minimum"))
                && text.contains(&format!("(value: `{value}`)")),
            "{field}: {text}"
        );
    }
}

/// Issue 11 item 7: nothing that came from a file reaches the terminal as a control
/// character (a job file can hold terminal escape sequences, and so can its name).
#[test]
fn control_characters_from_files_are_printed_escaped() {
    let sb = Sandbox::new("");
    sb.job(
        "esc.yaml",
        "command: echo\nschedule: \"bad \\e[2J\\e]0;owned\\a\"\n",
    )
    .job("\u{1b}[31mred.yaml", "command: [echo]\nnope: 1\n")
    .job("good.yaml", "command: echo\nschedule: \"0\t0 * * *\"\n");
    for args in [&["check"][..], &["jobs"]] {
        let out = sb.slotcron(args);
        let all = [out.stdout, out.stderr].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(
            !all.iter().any(|b| b.is_ascii_control() && *b != b'\n'),
            "{args:?}: {text:?}"
        );
        assert!(
            text.contains("bad \\u{1b}[2J\\u{1b}]0;owned\\u{7}"),
            "{args:?}: {text}"
        );
        assert!(text.contains("\\u{1b}[31mred.yaml"), "{args:?}: {text}");
    }
    let jobs = stdout(&sb.slotcron(&["jobs"]));
    assert!(jobs.contains("0\\t0 * * *"), "{jobs}");
}

/// Issue 11 item 5: every `*.yaml`/`*.yml` in `jobs_dir` that cannot be read as a job file
/// is reported with why, and `check` never blocks on one (a FIFO with no writer).
#[test]
fn special_files_named_like_job_files_are_reported_with_why() {
    use std::os::unix::fs::symlink;
    let sb = Sandbox::new("");
    let jobs = sb.jobs_dir();
    sb.job("good.yaml", "command: echo ok\n");
    symlink(
        "/nonexistent/slotcron-target.yaml",
        jobs.join("dangling.yaml"),
    )
    .unwrap();
    symlink("loop.yaml", jobs.join("loop.yaml")).unwrap();
    symlink("/dev/zero", jobs.join("zero.yaml")).unwrap();
    symlink(sb.path(), jobs.join("linkdir.yaml")).unwrap();
    std::fs::create_dir(jobs.join("folder.yml")).unwrap();
    nix::unistd::mkfifo(&jobs.join("fifo.yaml"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(jobs.join("sock.yaml")).unwrap();

    let mut child = sb
        .command(&["check"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let exited = wait_until(Duration::from_secs(20), || {
        child.try_wait().unwrap().is_some()
    });
    if !exited {
        child.kill().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(exited, "check blocked: {}", stdout(&out));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for (file, why) in [
        (
            "dangling.yaml",
            "a symbolic link to /nonexistent/slotcron-target.yaml, which does not exist",
        ),
        (
            "fifo.yaml",
            "a FIFO (named pipe), not a regular file: not read",
        ),
        ("folder.yml", "a folder, not a regular file: not read"),
        ("linkdir.yaml", "a folder, not a regular file: not read"),
        (
            "loop.yaml",
            "a symbolic link loop (or too many levels of links)",
        ),
        ("sock.yaml", "a socket, not a regular file: not read"),
        (
            "zero.yaml",
            "a character device, not a regular file: not read",
        ),
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("jobs.d/{file}: ")))
            .unwrap_or_else(|| panic!("{file} not reported: {text}"));
        assert!(line.ends_with(why), "{file}: {line}");
    }
    assert_eq!(
        text.lines().last(),
        Some("7 problem(s); 1 job(s) loaded"),
        "{text}"
    );
}
