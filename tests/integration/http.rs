//! `http::serve` in-process, over a fake cgroupfs: the slot figures of `/metrics` and of
//! `GET /api/v1/slots` are read from each slot's cgroup files at request time (the daemon tests run unconfined, so this
//! is where that path is exercised; the real kernel's files are the VM suite's).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use slotcron::cgroup::fake::FakeFs;
use slotcron::cgroup::{cpu, memory};
use slotcron::config::Settings;
use slotcron::control::SlotStatus;
use slotcron::daemon::query::{EngineHandle, Query, SlotBook, SlotsReport};
use slotcron::http::{AppState, serve};
use slotcron::metrics::{SlotMetrics, Snapshot};

fn get(addr: &str, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

#[test]
fn slot_figures_come_from_the_slot_cgroups_at_scrape_time() {
    let dir = tempfile::tempdir().unwrap();
    let fake =
        Arc::new(FakeFs::new_root(&dir.path().join("cgroup"), &["cpu", "memory", "pids"]).unwrap());
    let root = fake
        .add_delegated("slotcron.service", &["cpu", "memory", "pids"])
        .unwrap();
    let settings = Settings::builtin();
    let tree = crate::helper::fake_slot_tree(fake.clone(), &root, &settings);
    let default = tree.slot_path("default");
    fake.set_knob(&default.join(memory::CURRENT), "1048576\n")
        .unwrap();
    fake.set_knob(
        &default.join(cpu::STAT),
        "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 10\nnr_throttled 2\nthrottled_usec 750000\n",
    )
    .unwrap();
    fake.set_knob(
        &default.join(memory::PRESSURE),
        "some avg10=3.50 avg60=1.00 avg300=0.00 total=99\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    )
    .unwrap();
    let light = tree.slot_path("light");
    fake.set_knob(&light.join(memory::MAX), "max\n").unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (handle, mut queries) = EngineHandle::channel();
    rt.spawn(async move {
        while let Some(query) = queries.recv().await {
            let reply = match query {
                Query::Metrics(reply) => reply,
                Query::Slots(reply) => {
                    let book = |name: &str| SlotBook {
                        status: SlotStatus {
                            name: name.into(),
                            max_concurrent: 5,
                            running: 1,
                            queued: 2,
                            queue_limit: 100,
                            memory_max: 3 << 30,
                            memory_reserved: 1 << 30,
                        },
                        cpu_max_percent: 80.0,
                        pids_max: None,
                    };
                    let _ = reply.send(SlotsReport {
                        slots: vec![book("default"), book("light"), book("gone")],
                        memory_max: None,
                        enforcement: "cgroup at the fake".into(),
                        paused: None,
                    });
                    continue;
                }
                _ => continue,
            };
            let slot = |name: &str| SlotMetrics {
                name: name.into(),
                max_concurrent: 5,
                ..SlotMetrics::default()
            };
            let _ = reply.send(Snapshot {
                version: "test".into(),
                slots: vec![slot("default"), slot("light"), slot("gone")],
                ..Snapshot::default()
            });
        }
    });
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let state = AppState::with_tree(handle, Some(Arc::new(tree)), None);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));

    let (head, body) = get(&addr, "/metrics");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    for line in [
        "slotcron_slot_memory_current_bytes{slot=\"default\"} 1048576\n",
        "slotcron_slot_memory_max_bytes{slot=\"default\"} 3221225472\n",
        "slotcron_slot_cpu_seconds_total{slot=\"default\"} 2.5\n",
        "slotcron_slot_cpu_throttled_seconds_total{slot=\"default\"} 0.75\n",
        "slotcron_slot_memory_pressure_avg10{slot=\"default\"} 3.5\n",
        "slotcron_slot_memory_current_bytes{slot=\"light\"} 0\n",
        "slotcron_slot_max_concurrent{slot=\"gone\"} 5\n",
    ] {
        assert!(body.contains(line), "no {line:?} in:\n{body}");
    }
    assert!(
        !body.contains("slotcron_slot_memory_max_bytes{slot=\"light\"}"),
        "unlimited: no series\n{body}"
    );
    assert!(
        !body.contains("slotcron_slot_memory_current_bytes{slot=\"gone\"}"),
        "{body}"
    );
    // The dashboard's gauges: `GET /api/v1/slots` reads the same files per request.
    let (head, body) = get(&addr, "/api/v1/slots");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let slot = |name: &str| {
        answer["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no slot {name} in {body}"))
            .clone()
    };
    let live = slot("default")["live"].clone();
    assert_eq!(live["memory_current_bytes"], 1_048_576, "{live}");
    assert_eq!(live["cpu_usage_usec"], 2_500_000, "{live}");
    assert_eq!(live["psi"]["memory_some_avg10"], 3.5, "{live}");
    assert!(live["cpu_percent"].is_null(), "no earlier read: {live}");
    assert_eq!(slot("default")["queued"], 2);
    assert_eq!(slot("light")["live"]["memory_current_bytes"], 0);
    assert!(
        slot("gone")["live"].is_null(),
        "a slot without a cgroup has no live figures: {body}"
    );
    let (head, _) = get(&addr, "/api/anything");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    stop.send(()).unwrap();
    rt.block_on(server).unwrap();
}
