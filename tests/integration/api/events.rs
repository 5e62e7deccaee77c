//! `GET /api/v1/events`: a trigger's run arrives as `run_started` then `run_finished`
//! (data checked against the schemas), slots come at once, and the daemon's shutdown ends
//! a connected stream instead of waiting for it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Schemas, addr, get, post, token};
use crate::helper::Sandbox;

/// An open event stream.
pub struct Stream {
    reader: BufReader<TcpStream>,
}

impl Stream {
    pub fn open(addr: &str) -> Stream {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        write!(stream, "GET /api/v1/events HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
        }
        Stream { reader }
    }

    /// The next named event and its data; `None` when the stream ends. Chunk-size lines
    /// and comments are passed over.
    pub fn next(&mut self) -> Option<(String, Value)> {
        let mut name = None;
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let text = line.trim_end();
            if let Some(n) = text.strip_prefix("event: ") {
                name = Some(n.to_owned());
            } else if let Some(data) = text.strip_prefix("data: ") {
                return Some((name.take()?, serde_json::from_str(data).unwrap()));
            } else if text == "0" && name.is_none() {
                // The last chunk: the stream ended.
                let mut rest = String::new();
                let _ = self.reader.read_line(&mut rest);
                return None;
            }
        }
    }

    /// The data of the next event named `wanted` (others are passed over).
    pub fn until(&mut self, wanted: &str) -> Value {
        loop {
            let (name, data) = self
                .next()
                .unwrap_or_else(|| panic!("the stream ended before {wanted}"));
            if name == wanted {
                return data;
            }
        }
    }
}

#[test]
fn a_trigger_streams_started_then_finished_and_shutdown_ends_the_stream() {
    let schemas = Schemas::load();
    let sb = Sandbox::new("");
    sb.job(
        "quick.yaml",
        "schedule: \"@daily\"\ncommand: [\"sh\", \"-c\", \"exit 0\"]\n",
    );
    let mut daemon = sb.daemon();
    let a = addr(&sb);
    let mut stream = Stream::open(&a);
    let slots = stream.until("slots");
    schemas.check("Slots", &slots);

    assert_eq!(
        post(&a, "/api/v1/jobs/quick/run", Some(&token(&sb))).status,
        202
    );
    let started = stream.until("run_started");
    schemas.check("RunStarted", &started);
    assert_eq!(
        (started["job"].as_str(), started["trigger"].as_str()),
        (Some("quick"), Some("manual"))
    );
    let finished = stream.until("run_finished");
    schemas.check("RunFinished", &finished);
    assert_eq!(finished["run_id"], started["run_id"]);
    assert_eq!(finished["status"], "success");
    // The event carries the run's usage as its record has it, field for field.
    let record = get(&a, &format!("/api/v1/runs/{}", finished["run_id"])).json();
    for figure in [
        "memory_peak_bytes",
        "cpu_usage_usec",
        "cpu_user_usec",
        "cpu_system_usec",
        "cpu_throttled_usec",
        "oom_kills",
        "pids_peak",
        "io",
    ] {
        assert_eq!(finished[figure], record[figure], "{figure}");
    }
    assert!(finished["cpu_usage_usec"].is_u64(), "{finished}");

    // The daemon stops promptly although the stream is open, and the stream ends.
    let (exit, took) = daemon.stop(Duration::from_secs(10));
    assert!(exit.success(), "{exit:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let start = Instant::now();
    while stream.next().is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the stream went on"
        );
    }
}
