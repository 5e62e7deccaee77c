//! Issue 4, part 4: a `/metrics` scrape with 1,000 jobs under 10 ms.
//!
//! A snapshot of 1,000 jobs as a busy daemon has them (every job with successes, failures
//! and skips in its slot, a full duration histogram, all timestamps; three slots with
//! cgroup figures): about 26,000 series. Timed:
//! - copy: cloning the snapshot, about what the event loop spends answering a scrape;
//! - encoding: the snapshot to OpenMetrics text (`metrics::encode`), alone;
//! - scrape: `GET /metrics` over TCP against the real `http::serve`, whose engine end is a
//!   task answering each query with a copy of the snapshot (the copy is what the event
//!   loop does), so the figure includes the query, the copy, the blocking-thread hop, the
//!   encoding and HTTP. Cgroup reads are not included (the daemon is unconfined here; in a
//!   VM they are three slots' files).
//!
//! `cargo bench --bench metrics` (`BENCH_JOBS`, `BENCH_ROUNDS` change 1,000 and 200).

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use chrono::Utc;
use slotcron::cgroup::{Pressure, PressureLine, SlotUsage};
use slotcron::daemon::query::{EngineHandle, Query};
use slotcron::http::{AppState, serve};
use slotcron::metrics::{JobCounters, JobMetrics, SlotMetrics, Snapshot, encode};
use slotcron::model::{CpuStat, RunStatus};

use support::{ms, quantile, rounds, row};

const JOBS: usize = 1_000;
const TARGET_MS: f64 = 10.0;

fn job_counters(i: usize, slot: &str) -> JobCounters {
    let mut c = JobCounters::default();
    for (status, n) in [
        (RunStatus::Success, 900 + i as u64),
        (RunStatus::Failed, 12),
        (RunStatus::Skipped, 3),
    ] {
        c.runs.insert((slot.to_owned(), status.as_str()), n);
    }
    for k in 0..50 {
        c.duration.observe((k * 37 % 4000) as f64 + 0.5);
    }
    c.cpu_usec = 123_456_789;
    c.oom_kills = (i % 3) as u64;
    c.last_run = Some(Utc::now());
    c.last_success = c.last_run;
    c.last_memory_peak = Some((1, 512 << 20));
    c
}

fn snapshot(jobs: usize) -> Snapshot {
    let slots = ["default", "heavy", "light"];
    Snapshot {
        version: env!("CARGO_PKG_VERSION").into(),
        jobs: (0..jobs)
            .map(|i| JobMetrics {
                name: format!("job-{i:04}.nightly"),
                counters: job_counters(i, slots[i % 3]),
                next_run: Some(Utc::now()),
                running: (i % 2) as u32,
                health: slotcron::stats::HealthStatus::Warning,
                memory: slotcron::model::JobMemory {
                    expected_memory_bytes: 256 << 20,
                    memory_limit_bytes: 1 << 30,
                },
            })
            .collect(),
        slots: slots
            .iter()
            .map(|s| SlotMetrics {
                name: (*s).into(),
                running: 3,
                queued: 1,
                max_concurrent: 5,
                live: Some(live(
                    1 << 30,
                    Some(3 << 30),
                    1_000_000,
                    Some(1_000),
                    Some(0.25),
                )),
            })
            .collect(),
        config_errors: 0,
        alerts_open: BTreeMap::from([("warning".to_owned(), 2)]),
        history: Default::default(),
        pressure: Default::default(),
    }
}

fn scrape(addr: &str) -> usize {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"), "not 200");
    answer.len()
}

fn main() {
    let jobs = std::env::var("BENCH_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(JOBS);
    let rounds = rounds(200);
    let snap = snapshot(jobs);
    let text = encode(snap.clone());
    let series = text.lines().filter(|l| !l.starts_with('#')).count();

    // What the event loop spends per scrape: copying the counters into the snapshot.
    let mut copies: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(snap.clone());
            ms(start.elapsed())
        })
        .collect();
    copies.sort_by(f64::total_cmp);

    let mut encoding: Vec<f64> = (0..rounds)
        .map(|_| {
            let copy = snap.clone();
            let start = Instant::now();
            std::hint::black_box(encode(copy));
            ms(start.elapsed())
        })
        .collect();
    encoding.sort_by(f64::total_cmp);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (handle, mut queries) = EngineHandle::channel();
    let engine_copy = snap.clone();
    rt.spawn(async move {
        while let Some(query) = queries.recv().await {
            if let Query::Metrics(reply) = query {
                let _ = reply.send(engine_copy.clone());
            }
        }
    });
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().unwrap().to_string();
    let state = AppState::with_tree(handle, None, None);
    rt.spawn(serve(listener, state, std::future::pending()));
    let bytes = scrape(&addr);
    let mut scrapes: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            scrape(&addr);
            ms(start.elapsed())
        })
        .collect();
    scrapes.sort_by(f64::total_cmp);

    println!(
        "/metrics with {jobs} jobs: {series} series, {} KB; {rounds} rounds",
        bytes / 1024
    );
    row(
        "snapshot copy (the event loop's share), median",
        quantile(&copies, 0.5),
        None,
    );
    row(
        "encoding, median",
        quantile(&encoding, 0.5),
        Some(TARGET_MS),
    );
    row("encoding, p99", quantile(&encoding, 0.99), None);
    row(
        "HTTP scrape (query, copy, encode), median",
        quantile(&scrapes, 0.5),
        Some(TARGET_MS),
    );
    row(
        "HTTP scrape, p99",
        quantile(&scrapes, 0.99),
        Some(TARGET_MS),
    );
}

/// A slot's cgroup figures as `/metrics` reads them: memory, cpu and memory PSI.
fn live(
    memory_current: u64,
    memory_max: Option<u64>,
    usage_usec: u64,
    throttled_usec: Option<u64>,
    memory_avg10: Option<f64>,
) -> SlotUsage {
    SlotUsage {
        memory_current,
        memory_max,
        cpu: CpuStat {
            usage_usec,
            throttled_usec,
            ..CpuStat::default()
        },
        memory_pressure: memory_avg10.map(|avg10| Pressure {
            some: PressureLine {
                avg10,
                ..PressureLine::default()
            },
            full: None,
        }),
        ..SlotUsage::default()
    }
}
