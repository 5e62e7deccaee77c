//! The `status` and request commands of the real binary against the control socket: with
//! no daemon, and with the test itself serving the socket through a fake handler.

use std::path::PathBuf;
use std::process::Output;

use chrono::{DateTime, Utc};
use slotcron::control::{
    self, JobState, JobStatus, Request, Response, SlotStatus, StatusReport, socket_path,
};
use tokio::sync::{mpsc, oneshot};

use crate::helper::{Sandbox, stderr, stdout};

/// The socket the sandbox's settings point at, as the library computes it.
fn sandbox_socket(sb: &Sandbox) -> PathBuf {
    let settings = slotcron::config::load_settings(Some(&sb.path().join("slotcron.yaml"))).unwrap();
    socket_path(&settings)
}

fn canned_report() -> StatusReport {
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    StatusReport {
        pid: 4321,
        started_at: at("2025-03-01T08:00:00Z"),
        enforcement: "none: enforcement is off".into(),
        cgroup_root: None,
        paused: None,
        history: Default::default(),
        slots: vec![SlotStatus {
            name: "default".into(),
            running: 0,
            max_concurrent: 2,
            queued: 0,
            queue_limit: 100,
            memory_reserved: 0,
            memory_max: 2 << 30,
        }],
        jobs: vec![JobStatus {
            name: "x".into(),
            slot: "default".into(),
            schedule: "@daily".into(),
            state: JobState::Tripped { until: None },
            enabled: true,
            override_enabled: None,
            next_fire: None,
            last_status: Some("failed".into()),
            last_started_at: Some(at("2025-03-01T07:00:00Z")),
            consecutive_failures: 4,
            health: slotcron::stats::HealthStatus::Critical,
            memory: slotcron::model::JobMemory {
                expected_memory_bytes: 64 << 20,
                memory_limit_bytes: 1 << 30,
            },
        }],
        running: vec![],
        problems: vec![],
        problems_omitted: 0,
        jobs_omitted: 0,
    }
}

#[test]
fn without_a_daemon_the_commands_name_the_socket_and_exit_125() {
    let sb = Sandbox::new("");
    let socket = sandbox_socket(&sb);
    for args in [&["status"][..], &["trigger", "x"], &["reload"]] {
        let out = sb.slotcron(args);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out).trim_end(),
            format!(
                "slotcron: no slotcron daemon is listening on {}; start it with `slotcron daemon`",
                socket.display()
            ),
            "{args:?}"
        );
        assert_eq!(stdout(&out), "", "{args:?}");
    }
    // Asking never creates state.
    assert!(!sb.path().join("state").exists());
}

/// Serves the sandbox's socket with a handler that answers `Status` with `report`, `Trigger { job: "x" }` with Ok and everything else with Error, runs
/// each command line of `commands` against it, and returns their outputs and the requests
/// the handler received.
fn with_fake_daemon(
    sb: &Sandbox,
    report: StatusReport,
    commands: &[&[&str]],
) -> (Vec<Output>, Vec<Request>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = control::bind(&sandbox_socket(sb)).unwrap();
        let (handler, mut requests) = mpsc::channel::<(Request, oneshot::Sender<Response>)>(4);
        let daemon = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some((request, reply)) = requests.recv().await {
                let answer = match &request {
                    Request::Status => Response::Status(Box::new(report.clone())),
                    Request::Trigger { job } if job == "x" => Response::ok("queued x (run 8)"),
                    other => Response::error(format!("cannot do {other:?}")),
                };
                let _ = reply.send(answer);
                seen.push(request);
            }
            seen
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(control::serve(listener, handler, async {
            let _ = stopped.await;
        }));
        let mut outputs = Vec::new();
        for args in commands {
            let mut cmd = sb.command(args);
            outputs.push(
                tokio::task::spawn_blocking(move || cmd.output().unwrap())
                    .await
                    .unwrap(),
            );
        }
        stop.send(()).unwrap();
        server.await.unwrap();
        (outputs, daemon.await.unwrap())
    })
}

#[test]
fn the_commands_talk_to_a_listening_daemon() {
    let sb = Sandbox::new("");
    let (outs, seen) = with_fake_daemon(
        &sb,
        canned_report(),
        &[
            &["status", "--json"],
            &["trigger", "x"],
            &["disable", "y"],
            &["status"],
        ],
    );
    assert_eq!(
        seen,
        [
            Request::Status,
            Request::Trigger { job: "x".into() },
            Request::Disable { job: "y".into() },
            Request::Status,
        ]
    );

    let json = &outs[0];
    assert_eq!(json.status.code(), Some(0), "{}", stderr(json));
    let report: StatusReport = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report, canned_report());

    let trigger = &outs[1];
    assert_eq!(trigger.status.code(), Some(0), "{}", stderr(trigger));
    assert_eq!(stdout(trigger), "queued x (run 8)\n");

    let refused = &outs[2];
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(stdout(refused), "");
    assert_eq!(
        stderr(refused),
        "slotcron: cannot do Disable { job: \"y\" }\n"
    );

    let text = stdout(&outs[3]);
    assert_eq!(outs[3].status.code(), Some(0), "{}", stderr(&outs[3]));
    assert!(
        text.starts_with("daemon: pid 4321, running since "),
        "{text}"
    );
    assert!(
        text.contains("enforcement: none: enforcement is off\n"),
        "{text}"
    );
    assert!(text.contains("default  0/2      0/100   0B/2G"), "{text}");
    assert!(text.contains("tripped until reset"), "{text}");
    assert!(text.contains(", 4 in a row"), "{text}");

    // The server removed its socket when it stopped.
    assert!(!sandbox_socket(&sb).exists());
}

/// `slotcron slots` in a process that cannot use cgroups itself (here `enforcement: off`;
/// in production an admin's shell, which is not delegated) shows the running daemon's live
/// usage, read from the tree root the daemon reports.
#[test]
fn slots_reads_the_running_daemons_tree() {
    use std::sync::Arc;

    use slotcron::cgroup::{CgroupFs, Hierarchy, fake::FakeFs};

    let sb = Sandbox::new("");
    let settings = slotcron::config::load_settings(Some(&sb.path().join("slotcron.yaml"))).unwrap();
    let fake =
        Arc::new(FakeFs::new_root(&sb.path().join("cgroup"), &["cpu", "memory", "pids"]).unwrap());
    let root = fake
        .add_delegated("slotcron.service", &["cpu", "memory", "pids"])
        .unwrap();
    let slots: Vec<_> = settings
        .slots
        .values()
        .map(|s| (s.name.clone(), slotcron::runner::slot_limits(s, 2)))
        .collect();
    Hierarchy::prepare(
        fake.clone(),
        &root,
        false,
        &slotcron::runner::global_limits(&settings),
        &slots,
    )
    .unwrap();
    let slot = root.join("jobs/default");
    fake.create_dir(&slot.join("run-7")).unwrap();
    fake.set_knob(&slot.join("memory.current"), "12345678\n")
        .unwrap();

    // No daemon: this process cannot use cgroups, and says why.
    let alone = sb.slotcron(&["slots"]);
    assert!(
        stdout(&alone).contains("cgroups not in use: enforcement is `off` in the configuration (no slotcron daemon is listening on"),
        "{}",
        stdout(&alone)
    );

    let report = StatusReport {
        enforcement: format!("cgroup at {}", root.display()),
        cgroup_root: Some(root.clone()),
        ..canned_report()
    };
    let (outs, _) = with_fake_daemon(&sb, report, &[&["slots", "--json"], &["slots"]]);
    let json: serde_json::Value = serde_json::from_slice(&outs[0].stdout).unwrap();
    let default = json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "default")
        .unwrap();
    assert_eq!(default["usage"]["runs"], 1, "{default}");
    assert_eq!(
        default["usage"]["memory_current_bytes"], 12_345_678,
        "{default}"
    );
    let text = stdout(&outs[1]);
    assert!(!text.contains("cgroups not in use"), "{text}");
    let row = text.lines().find(|l| l.starts_with("default")).unwrap();
    let last: Vec<&str> = row.split_whitespace().rev().take(2).collect();
    assert_eq!(last, ["11.8M", "1"], "RUNNING and MEM NOW of {row}");
}
