//! The control protocol: what a client may ask the daemon and what it answers.
//!
//! One JSON object per line (newline-delimited JSON), one request and one response per
//! connection. Enums are internally tagged in snake case, so a request reads
//! `{"request":"trigger","job":"backup"}` and an answer `{"response":"ok","message":"..."}`.
//! There is no version number: the protocol grows by adding variants and fields, an old
//! daemon answers a request it does not know with [`Response::Error`] naming it, and
//! readers ignore fields they do not know (see `docs/adr/0009-control-socket.md`).
//!
//! Decoding is split from I/O ([`decode_request`], [`decode_response`] take bytes), so the
//! tests feed it byte strings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest request line the daemon reads, newline excluded. A request is a job name or
/// a run id, so this is generous; it only stops a client from making the daemon allocate
/// without limit.
pub const MAX_REQUEST_LINE: usize = 64 * 1024;

/// The longest response line a client reads, newline excluded (a status report of a few
/// thousand jobs is well below it). The daemon never sends a longer one: it shortens its
/// answer instead (`super::fit`).
pub const MAX_RESPONSE_LINE: usize = 16 * 1024 * 1024;

/// What a client asks the daemon.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// The daemon's overview: slots, jobs, running runs, problems.
    Status,
    /// Queue a run of `job` now, as if its schedule had fired.
    Trigger { job: String },
    /// Stop the run with this history id (kill grace applies).
    Kill { run_id: i64 },
    /// Enable `job` whatever its file says (see [`JobStatus::override_enabled`]).
    Enable { job: String },
    /// Disable `job` whatever its file says; runs in progress continue.
    Disable { job: String },
    /// Re-read the job files now.
    Reload,
    /// Close `job`'s tripped circuit breaker so its schedule fires again.
    Reset { job: String },
}

/// What the daemon answers to one [`Request`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "response", rename_all = "snake_case")]
pub enum Response {
    /// The request was carried out; `message` says what happened, for a human.
    Ok { message: String },
    /// The answer to [`Request::Status`]. Boxed: it is far larger than the other variants.
    Status(Box<StatusReport>),
    /// The request was refused or failed; `message` says why, for a human.
    Error { message: String },
}

impl Response {
    /// An [`Response::Error`] with this message.
    pub fn error(message: impl Into<String>) -> Response {
        Response::Error {
            message: message.into(),
        }
    }

    /// An [`Response::Ok`] with this message.
    pub fn ok(message: impl Into<String>) -> Response {
        Response::Ok {
            message: message.into(),
        }
    }
}

/// The daemon's overview, the answer to [`Request::Status`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatusReport {
    /// The daemon's process id.
    pub pid: u32,
    /// When the daemon started.
    pub started_at: DateTime<Utc>,
    /// How runs are confined: `cgroup at /sys/fs/cgroup/...` or `none: <reason>`.
    pub enforcement: String,
    /// The root of the slot tree when runs are confined, so `slotcron slots` in another
    /// cgroup (an admin's shell) reads the daemon's live usage. Absent from older daemons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_root: Option<std::path::PathBuf>,
    /// `Some(reason)` while `protect` defers new runs; `None` when runs start normally.
    pub paused: Option<String>,
    /// Whether history takes writes, and the runs kept until it does (ADR 0022). Absent
    /// from older daemons.
    #[serde(default)]
    pub history: crate::store::HistoryHealth,
    /// Every slot, in configuration order.
    pub slots: Vec<SlotStatus>,
    /// Every job the daemon schedules (including broken ones it keeps at their last good
    /// version), by name.
    pub jobs: Vec<JobStatus>,
    /// The runs in progress, oldest first.
    pub running: Vec<RunningRun>,
    /// Job files that fail to load, each `file: field: message`.
    pub problems: Vec<String>,
    /// Problems left out at the end of `problems` to keep the answer within
    /// [`MAX_RESPONSE_LINE`] (`super::fit`); 0 almost always.
    #[serde(default)]
    pub problems_omitted: usize,
    /// Jobs left out at the end of `jobs`, likewise.
    #[serde(default)]
    pub jobs_omitted: usize,
}

/// One slot's seats, queue and memory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SlotStatus {
    pub name: String,
    /// Runs in progress in the slot; at most `max_concurrent`.
    pub running: u32,
    pub max_concurrent: u32,
    /// Runs waiting for a seat; at most `queue_limit`.
    pub queued: u32,
    pub queue_limit: u32,
    /// Memory promised to the runs in progress (sum of their limits), bytes.
    pub memory_reserved: u64,
    /// The slot's `memory_max`, bytes.
    pub memory_max: u64,
}

/// One job as the scheduler sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobStatus {
    pub name: String,
    pub slot: String,
    /// The schedule as written in the job file.
    pub schedule: String,
    pub state: JobState,
    /// Whether the job is enabled after applying `override_enabled`.
    pub enabled: bool,
    /// Set by `slotcron enable/disable`; overrides the file's `enabled` while `Some`.
    pub override_enabled: Option<bool>,
    /// When the schedule fires next; `None` when disabled, tripped without end, or manual.
    pub next_fire: Option<DateTime<Utc>>,
    /// The status of the latest run (`success`, `failed`, ...), if any.
    pub last_status: Option<String>,
    pub last_started_at: Option<DateTime<Utc>>,
    /// Failed runs since the last success; the circuit breaker trips on these.
    pub consecutive_failures: u32,
    /// The `status` of its health, as `slotcron jobs` and `slotcron_job_health` say it.
    pub health: crate::model::HealthStatus,
    /// What admission reserves for a run and the run's effective memory limit, as
    /// `slotcron jobs`, the API and `/metrics` show them (flattened:
    /// `expected_memory_bytes`, `memory_limit_bytes`).
    #[serde(flatten)]
    pub memory: crate::model::JobMemory,
}

/// Where a job is in its life. Tagged as `{"kind":"tripped","until":...}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its next fire.
    Idle,
    /// Fired, waiting for a seat in its slot.
    Queued,
    /// A run is in progress.
    Running,
    /// Disabled by its file or an override.
    Disabled,
    /// The circuit breaker tripped; no runs until `until` (`None`: until `slotcron reset`).
    Tripped { until: Option<DateTime<Utc>> },
    /// The job file fails to load; the last good version is still scheduled.
    Broken,
}

/// One run in progress.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunningRun {
    /// The run's history id (what `slotcron kill` takes).
    pub id: i64,
    pub job: String,
    pub slot: String,
    pub started_at: DateTime<Utc>,
    /// The main process, once spawned.
    pub pid: Option<u32>,
    /// 1 for the first try, 2 for the first retry, ...
    pub attempt: u32,
    /// What the pressure response does to it now and did so far; `None` when it never
    /// acted on the run.
    #[serde(default)]
    pub pressure: Option<crate::model::PressureView>,
}

/// Parses one request line (without its newline). The error is the message to send back.
///
/// # Errors
/// The line is empty, not JSON, or not a known request.
pub fn decode_request(line: &[u8]) -> Result<Request, String> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(
            "empty request: expected one JSON object such as {\"request\":\"status\"}".into(),
        );
    }
    serde_json::from_slice(line).map_err(|e| format!("malformed request: {e}"))
}

/// Parses one response line (without its newline).
///
/// # Errors
/// The line is not JSON or not a known response (a daemon of another version).
pub fn decode_response(line: &[u8]) -> Result<Response, serde_json::Error> {
    serde_json::from_slice(line)
}

/// One message as its line on the wire, newline included.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    // Serializing these types cannot fail: no maps with non-string keys, no custom
    // serializers that can refuse.
    let mut line = serde_json::to_vec(message).expect("protocol types serialize");
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> StatusReport {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        StatusReport {
            pid: 42,
            started_at: t("2025-03-01T10:00:00Z"),
            enforcement: "cgroup at /sys/fs/cgroup/slotcron.service".into(),
            cgroup_root: None,
            paused: Some("memory pressure 40%".into()),
            history: Default::default(),
            slots: vec![SlotStatus {
                name: "default".into(),
                running: 1,
                max_concurrent: 2,
                queued: 3,
                queue_limit: 100,
                memory_reserved: 512 << 20,
                memory_max: u64::MAX,
            }],
            jobs: vec![JobStatus {
                name: "backup".into(),
                slot: "default".into(),
                schedule: "@daily".into(),
                state: JobState::Tripped {
                    until: Some(t("2025-03-01T11:00:00Z")),
                },
                enabled: true,
                override_enabled: Some(true),
                next_fire: None,
                last_status: Some("failed".into()),
                last_started_at: Some(t("2025-03-01T09:00:00Z")),
                consecutive_failures: 5,
                health: crate::model::HealthStatus::Critical,
                memory: crate::model::JobMemory {
                    expected_memory_bytes: 96 << 20,
                    memory_limit_bytes: 1 << 30,
                },
            }],
            running: vec![RunningRun {
                id: 7,
                job: "index".into(),
                slot: "default".into(),
                started_at: t("2025-03-01T09:30:00Z"),
                pid: None,
                attempt: 2,
                pressure: Some(crate::model::PressureView {
                    state: Some(crate::model::PressureState::Frozen),
                    throttled_since: Some(t("2025-03-01T09:40:00Z")),
                    frozen_since: Some(t("2025-03-01T09:41:00Z")),
                    throttled_ms: 120_000,
                    frozen_ms: 60_000,
                }),
            }],
            problems: vec!["jobs.d/x.yaml: schedule: never fires".into()],
            problems_omitted: 0,
            jobs_omitted: 0,
        }
    }

    #[test]
    fn every_request_round_trips() {
        let all = [
            Request::Status,
            Request::Trigger { job: "a".into() },
            Request::Kill { run_id: -1 },
            Request::Enable { job: "b".into() },
            Request::Disable { job: "c".into() },
            Request::Reload,
            Request::Reset { job: "d".into() },
        ];
        for request in all {
            let line = encode(&request);
            assert_eq!(line.last(), Some(&b'\n'));
            assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
            assert_eq!(decode_request(&line[..line.len() - 1]), Ok(request));
        }
    }

    #[test]
    fn the_wire_format_is_tagged_snake_case() {
        assert_eq!(
            encode(&Request::Trigger { job: "x".into() }),
            b"{\"request\":\"trigger\",\"job\":\"x\"}\n"
        );
        assert_eq!(encode(&Request::Reload), b"{\"request\":\"reload\"}\n");
        assert_eq!(
            encode(&Response::ok("done")),
            b"{\"response\":\"ok\",\"message\":\"done\"}\n"
        );
        let status = String::from_utf8(encode(&Response::Status(Box::new(report())))).unwrap();
        assert!(
            status.starts_with("{\"response\":\"status\",\"pid\":42,"),
            "{status}"
        );
        assert!(
            status.contains("\"state\":{\"kind\":\"tripped\",\"until\":\"2025-03-01T11:00:00Z\"}"),
            "{status}"
        );
    }

    #[test]
    fn a_status_report_round_trips_including_extreme_figures() {
        for response in [
            Response::Status(Box::new(report())),
            Response::ok("fine"),
            Response::error("no"),
        ] {
            let line = encode(&response);
            assert_eq!(decode_response(&line).unwrap(), response);
        }
    }

    #[test]
    fn unknown_fields_from_a_newer_peer_are_ignored() {
        let line = br#"{"response":"ok","message":"m","added_later":1}"#;
        assert_eq!(decode_response(line).unwrap(), Response::ok("m"));
    }

    #[test]
    fn bad_requests_are_named() {
        let err = decode_request(b"garbage").unwrap_err();
        assert!(
            err.starts_with("malformed request: expected value"),
            "{err}"
        );
        let err = decode_request(br#"{"request":"explode"}"#).unwrap_err();
        assert!(err.contains("unknown variant `explode`"), "{err}");
        let err = decode_request(br#"{"request":"trigger"}"#).unwrap_err();
        assert!(err.contains("missing field `job`"), "{err}");
        let err = decode_request(br#"{"job":"x"}"#).unwrap_err();
        assert!(err.contains("missing field `request`"), "{err}");
        let err = decode_request(b"  ").unwrap_err();
        assert!(err.starts_with("empty request"), "{err}");
    }
}
