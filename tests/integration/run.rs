//! `slotcron run` and `slotcron history` with real processes and real SQLite (unconfined:
//! these machines have no usable cgroup v2; the VM suite covers the kernel).

use std::time::{Duration, Instant};

use crate::helper::{Sandbox, alive, log_of, stderr, stdout, wait_until};

#[test]
fn a_successful_run_is_recorded_with_its_figures_and_output() {
    let sb = Sandbox::new("");
    sb.job("hello.yaml", "command: echo hello; echo oops >&2\n");
    let (record, code) = sb.run("hello");
    assert_eq!(code, 0);
    assert_eq!(record["status"], "success");
    assert_eq!(record["exit_code"], 0);
    assert_eq!(record["signal"], serde_json::Value::Null);
    assert_eq!(record["enforcement"], "none");
    assert_eq!(record["job"], "hello");
    assert_eq!(record["slot"], "default");
    assert!(
        record["memory_peak_bytes"].as_u64().unwrap() > 0,
        "{record}"
    );
    assert!(record["cpu_usage_usec"].as_u64().is_some(), "{record}");
    assert_eq!(log_of(&record), "hello\noops\n");
    let history = sb.history(&[]);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0], record);
}

#[test]
fn history_is_newest_first_and_filters_by_job() {
    let sb = Sandbox::new("");
    sb.job("a.yaml", "command: 'true'\n")
        .job("b.yaml", "command: 'false'\n");
    for job in ["a", "b", "a"] {
        sb.run(job);
    }
    let ids: Vec<u64> = sb
        .history(&[])
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [3, 2, 1]);
    let a: Vec<u64> = sb
        .history(&["a"])
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(a, [3, 1]);
    assert_eq!(sb.history(&["--limit", "1"]).len(), 1);
    let b = &sb.history(&["b"])[0];
    assert_eq!(
        (b["status"].as_str(), b["exit_code"].as_i64()),
        (Some("failed"), Some(1))
    );
    assert!(b.get("wait_ms").is_some(), "{b}");
    let table = String::from_utf8_lossy(&sb.slotcron(&["history"]).stdout).into_owned();
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(&header[5..8], ["STARTED", "WAIT", "DURATION"], "{table}");
}

#[test]
fn the_exit_code_of_the_job_is_the_exit_code_of_run() {
    let sb = Sandbox::new("");
    sb.job("three.yaml", "command: exit 3\n");
    let (record, code) = sb.run("three");
    assert_eq!((code, record["status"].as_str()), (3, Some("failed")));
}

#[test]
fn a_timeout_stops_the_job_with_sigterm() {
    let sb = Sandbox::new("");
    sb.job(
        "slow.yaml",
        "command: [sleep, '30']\nlimits: { timeout: 1s }\n",
    );
    let start = Instant::now();
    let (record, code) = sb.run("slow");
    assert_eq!(record["status"], "timeout");
    assert_eq!((record["signal"].as_i64(), code), (Some(15), 143));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn a_job_that_ignores_sigterm_is_killed_after_the_grace() {
    let sb = Sandbox::new("");
    sb.job(
        "stubborn.yaml",
        "command: \"trap '' TERM; sleep 30\"\nlimits: { timeout: 1s }\n",
    );
    let start = Instant::now();
    let (record, code) = sb.run("stubborn");
    assert_eq!(record["status"], "timeout");
    assert_eq!((record["signal"].as_i64(), code), (Some(9), 137));
    assert!(
        start.elapsed() >= Duration::from_millis(2000),
        "the 1s grace was not given"
    );
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_missing_program_is_a_failed_run_with_127() {
    let sb = Sandbox::new("");
    sb.job("ghost.yaml", "command: [/no/such/program, --flag]\n");
    let (record, code) = sb.run("ghost");
    assert_eq!(code, 127);
    assert_eq!(
        (record["status"].as_str(), record["exit_code"].as_i64()),
        (Some("failed"), Some(127))
    );
    let error = record["error"].as_str().unwrap();
    assert!(error.contains("/no/such/program"), "{error}");
    assert!(
        record["finished_at"].is_string(),
        "no run may stay running: {record}"
    );
}

#[test]
fn an_unknown_job_is_slotcrons_own_error() {
    let sb = Sandbox::new("");
    sb.job("real.yaml", "command: 'true'\n");
    let out = sb.slotcron(&["run", "imaginary"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("no job named `imaginary`") && stderr(&out).contains("real"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_job_with_a_broken_file_is_refused_with_its_problem() {
    let sb = Sandbox::new("");
    sb.job("broken.yaml", "command: 'true'\nlimits: { memory: lots }\n");
    let out = sb.slotcron(&["run", "broken"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("field `limits.memory`") && stderr(&out).contains("lots"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn stopping_slotcron_run_stops_the_job_and_records_it_killed() {
    let sb = Sandbox::new("");
    sb.job("long.yaml", "command: [sleep, '60']\n");
    let mut child = sb
        .command(&["run", "long", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = wait_until(Duration::from_secs(10), || {
        sb.path().join("state/slotcron.db").exists()
            && sb
                .history(&[])
                .first()
                .is_some_and(|r| r["status"] == "running" && r["pid"].is_u64())
    });
    assert!(started, "the run never showed as running");
    let job_pid = sb.history(&[])[0]["pid"].as_u64().unwrap() as u32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    let record = &sb.history(&[])[0];
    assert_eq!(record["status"], "killed");
    assert!(
        wait_until(Duration::from_secs(5), || !alive(job_pid)),
        "the job outlived slotcron run"
    );
}

#[test]
fn background_children_die_with_the_run() {
    let sb = Sandbox::new("");
    sb.job("leaky.yaml", "command: 'sleep 300 & echo $!'\n");
    let (record, code) = sb.run("leaky");
    assert_eq!((code, record["status"].as_str()), (0, Some("success")));
    let pid: u32 = log_of(&record).trim().parse().unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || !alive(pid)),
        "background child {pid} survived"
    );
}

#[test]
fn output_is_capped_and_the_tail_kept() {
    let sb = Sandbox::new("log_max: 4K\n");
    sb.job(
        "chatty.yaml",
        "command: 'i=0; while [ $i -lt 5000 ]; do echo line $i; i=$((i+1)); done'\n",
    );
    let (record, _) = sb.run("chatty");
    let log = log_of(&record);
    let (note, tail) = log.split_once('\n').unwrap();
    assert!(
        note.starts_with("[slotcron: output was ")
            && note.ends_with("only the last 4096 are kept]"),
        "{note}"
    );
    assert_eq!(tail.len(), 4096);
    assert!(tail.ends_with("line 4999\n"));
}

#[test]
fn the_environment_is_clean_and_the_job_starts_in_its_folder() {
    let sb = Sandbox::new("");
    sb.job(
        "env.yaml",
        "command: 'pwd; env | sort'\nenv: { GREETING: hi, PATH: /bin:/usr/bin }\n",
    );
    let out = sb
        .command(&["run", "env", "--json"])
        .env("LEAKY_SECRET", "x")
        .output()
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let log = log_of(&record);
    let mut lines = log.lines();
    let cwd = std::fs::canonicalize(lines.next().unwrap()).unwrap();
    assert_eq!(cwd, std::fs::canonicalize(sb.jobs_dir()).unwrap());
    let env: Vec<&str> = lines.collect();
    assert!(
        env.contains(&"GREETING=hi") && env.contains(&"PATH=/bin:/usr/bin"),
        "{env:?}"
    );
    assert!(env.contains(&"SLOTCRON_JOB=env"), "{env:?}");
    assert!(
        env.contains(&format!("SLOTCRON_RUN_ID={}", record["id"]).as_str()),
        "{env:?}"
    );
    assert!(
        !env.iter().any(|l| l.starts_with("LEAKY_SECRET")),
        "slotcron's environment leaked: {env:?}"
    );
}

#[test]
fn several_runs_at_once_share_the_history() {
    let sb = Sandbox::new("");
    sb.job("quick.yaml", "command: 'true'\n");
    let children: Vec<_> = (0..6)
        .map(|_| {
            sb.command(&["run", "quick"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let history = sb.history(&[]);
    let mut ids: Vec<u64> = history.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    assert!(history.iter().all(|r| r["status"] == "success"));
}

#[test]
fn required_enforcement_that_cannot_be_met_refuses_to_run() {
    let sb = Sandbox::new("");
    std::fs::write(
        sb.path().join("slotcron.yaml"),
        "jobs_dir: jobs.d\nstate_dir: state\nenforcement: required\ncgroup: { root: /sys/fs/cgroup/no-such-slotcron-root }\n",
    )
    .unwrap();
    sb.job("x.yaml", "command: 'true'\n");
    let out = sb.slotcron(&["run", "x"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("cgroup enforcement is required but unavailable"),
        "{}",
        stderr(&out)
    );
    assert!(sb.history(&[]).is_empty() || sb.history(&[]).iter().all(|r| r["status"] != "running"));
}

/// Issue 11 item 4: with the common umask 022, the state folder, the history database (and
/// its WAL) and the run logs are still created owner-only.
#[test]
fn state_dir_history_and_logs_are_owner_only_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let sb = Sandbox::new("");
    sb.job("secret.yaml", "command: echo hunter2\n");
    let mut cmd = sb.command(&["run", "secret", "--json"]);
    // SAFETY: umask(2) is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let state = sb.path().join("state");
    let log = std::path::PathBuf::from(record["log_path"].as_str().unwrap());
    let mut paths = vec![
        (state.clone(), 0o700),
        (state.join("slotcron.db"), 0o600),
        (state.join("logs"), 0o700),
        (log.parent().unwrap().to_path_buf(), 0o700),
        (log, 0o600),
    ];
    let wal = state.join("slotcron.db-wal");
    if wal.exists() {
        paths.push((wal, 0o600));
    }
    for (path, mode) in paths {
        let found = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(found, mode, "{}: {found:o}", path.display());
    }
}

/// Issue 11 item 4: `env_file:` gives a job variables from an owner-only file outside the
/// job file and history; one readable by group or others is refused, naming file and mode,
/// and a bad line is named by number, never quoted (it may hold a secret).
#[test]
fn env_file_gives_secrets_from_an_owner_only_file() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new("");
    let secrets = sb.path().join("backup.env");
    std::fs::write(
        &secrets,
        "# database\nPGPASSWORD=\"s3cret word\"\nexport PGUSER=backup\n\nSHARED=from-file\n",
    )
    .unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    sb.job(
        "backup.yaml",
        "command: 'echo \"$PGPASSWORD|$PGUSER|$SHARED\"'\nenv_file: ../backup.env\nenv: { SHARED: from-job }\n",
    );
    let (record, code) = sb.run("backup");
    assert_eq!(code, 0, "{record}");
    assert_eq!(log_of(&record), "s3cret word|backup|from-job\n");
    let listed = sb.slotcron(&["jobs", "--json", "--reveal-env"]);
    assert!(!stdout(&listed).contains("s3cret"), "{}", stdout(&listed));
    assert!(stdout(&listed).contains("backup.env"));

    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o640)).unwrap();
    let text = stdout(&sb.slotcron(&["check"]));
    assert!(
        text.contains(&format!(
            "backup.yaml: field `env_file`: mode 0640: group or others may read or write it; make it owner-only (chmod 600) (value: `{}`)",
            sb.jobs_dir().join("../backup.env").display()
        )),
        "{text}"
    );
    std::fs::write(&secrets, "OK=1\nPGPASSWORD s3cret\n").unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    let text = stdout(&sb.slotcron(&["check"]));
    assert!(text.contains("line 2: not KEY=VALUE"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    std::fs::remove_file(&secrets).unwrap();
    let text = stdout(&sb.slotcron(&["check"]));
    assert!(text.contains("field `env_file`: no such file"), "{text}");
}
