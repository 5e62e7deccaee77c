//! Connecting the engine's alerts to the notification channels of `slotcron.yaml`: each
//! alert a run opens or escalates (`alerts::AlertNotice`) becomes a `channels::AlertMessage`
//! for the dispatcher, which delivers it in the background with retries and timeouts. The
//! event loop only ever pushes onto a queue, so a slow SMTP server never delays a job.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::warn;

use crate::alerts::AlertNotice;
use crate::channels::{self, AlertMessage};
use crate::config::Settings;

use super::engine::Engine;
use super::shutdown::Shutdown;

/// How long shutdown waits for deliveries in flight (the dispatcher's own grace is shorter).
const STOP_WAIT: Duration = Duration::from_secs(10);

/// The message a channel delivers for a notice, sent at `at`.
pub fn message(notice: &AlertNotice, at: DateTime<Utc>) -> AlertMessage {
    AlertMessage {
        id: notice.alert_id,
        job: notice.job.clone(),
        kind: notice.kind.as_str().to_owned(),
        severity: notice.severity,
        message: notice.message.clone(),
        evidence: notice.evidence.clone(),
        change: notice.change.as_str().to_owned(),
        at,
    }
}

/// Starts the dispatcher when channels are configured and points the engine's alerts at
/// it. Returns what [`stop`] needs.
pub fn start(settings: &Settings, engine: &mut Engine) -> (Shutdown, Option<JoinHandle<()>>) {
    let stop = Shutdown::new();
    if settings.notifications.is_empty() {
        return (stop, None);
    }
    let (handle, dispatcher) = channels::spawn(settings.notifications.clone(), stop.signal());
    let (sink, mut notices) = mpsc::unbounded_channel::<AlertNotice>();
    let (fault_sink, mut faults) = mpsc::unbounded_channel::<AlertMessage>();
    let clock = engine.clock().clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(notice) = notices.recv() => {
                    handle.send(message(&notice, clock.now()));
                }
                Some(fault) = faults.recv() => {
                    handle.send(fault);
                }
                else => break,
            }
        }
    });
    engine.send_alerts_to(sink, fault_sink);
    (stop, Some(dispatcher))
}

/// Stops the dispatcher, giving deliveries in flight their grace.
pub async fn stop(stop: &Shutdown, dispatcher: Option<JoinHandle<()>>) {
    stop.trigger();
    if let Some(dispatcher) = dispatcher
        && tokio::time::timeout(STOP_WAIT, dispatcher).await.is_err()
    {
        warn!("notification deliveries still running at shutdown; abandoned");
    }
}
