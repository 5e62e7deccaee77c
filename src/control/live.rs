//! What happens, as it happens: the engine publishes runs starting, finishing and being
//! throttled, frozen, thawed ... by the pressure response, and alerts being raised and
//! resolved on a `tokio::sync::broadcast` channel, and each
//! `GET /api/v1/events` stream subscribes to it. Publishing costs nothing when nobody
//! listens, and a listener that falls behind loses the oldest events (it is told so), never
//! the engine's time.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::model::{AlertKind, PressureView, RunStatus, RunUsage, Severity};

/// How many events a listener may fall behind before it loses the oldest.
pub const LIVE_BACKLOG: usize = 1024;

/// A new channel (the receiver is dropped: listeners subscribe with `Sender::subscribe`).
pub fn channel() -> broadcast::Sender<LiveEvent> {
    broadcast::channel(LIVE_BACKLOG).0
}

/// One thing that happened. The SSE event name is [`LiveEvent::name`]; its `data:` is the
/// variant's fields as one JSON object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LiveEvent {
    RunStarted {
        run_id: i64,
        job: String,
        slot: String,
        started_at: DateTime<Utc>,
        trigger: String,
    },
    RunFinished {
        run_id: i64,
        job: String,
        status: RunStatus,
        duration_ms: Option<u64>,
        /// What the run used, its fields flat in the event's object.
        #[serde(flatten)]
        usage: RunUsage,
    },
    /// The pressure response carried out a step on a running run (ADR 0036, 0040).
    RunPressure {
        run_id: i64,
        job: String,
        slot: String,
        /// `throttle`, `freeze`, `requeue`, `thaw` or `lift`.
        step: &'static str,
        /// The run's state after the step.
        pressure: Option<PressureView>,
        /// What was done and the signal values behind it, as the history event says.
        message: String,
    },
    AlertRaised {
        id: i64,
        job: String,
        kind: AlertKind,
        severity: Severity,
        message: String,
    },
    AlertResolved {
        id: i64,
        job: String,
        kind: AlertKind,
    },
}

impl LiveEvent {
    /// The SSE event name: `run_started`, `run_finished`, `run_pressure`, `alert_raised`,
    /// `alert_resolved`.
    pub fn name(&self) -> &'static str {
        match self {
            LiveEvent::RunStarted { .. } => "run_started",
            LiveEvent::RunFinished { .. } => "run_finished",
            LiveEvent::RunPressure { .. } => "run_pressure",
            LiveEvent::AlertRaised { .. } => "alert_raised",
            LiveEvent::AlertResolved { .. } => "alert_resolved",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_as_flat_objects_named_apart() {
        let event = LiveEvent::RunFinished {
            run_id: 7,
            job: "backup".into(),
            status: RunStatus::OomKilled,
            duration_ms: Some(1500),
            usage: RunUsage {
                memory_peak_bytes: Some(4096),
                oom_kills: Some(1),
                ..RunUsage::default()
            },
        };
        assert_eq!(event.name(), "run_finished");
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            concat!(
                r#"{"run_id":7,"job":"backup","status":"oom_killed","duration_ms":1500,"#,
                r#""memory_peak_bytes":4096,"cpu_usage_usec":null,"cpu_user_usec":null,"#,
                r#""cpu_system_usec":null,"cpu_throttled_usec":null,"oom_kills":1,"#,
                r#""pids_peak":null,"io":null}"#
            )
        );
        let resolved = LiveEvent::AlertResolved {
            id: 3,
            job: "j".into(),
            kind: AlertKind::Failure,
        };
        assert_eq!(resolved.name(), "alert_resolved");
        assert_eq!(
            serde_json::to_string(&resolved).unwrap(),
            r#"{"id":3,"job":"j","kind":"failure"}"#
        );
    }
}
