//! Alert notifications against real receivers on loopback: an HTTP server, an SMTP server
//! and shell-script hooks. Channels are configured through `slotcron.yaml` text, so the
//! settings loader is on the path too. Each wait has a deadline.

mod command;
mod email;
pub mod receivers;
mod webhook;

use std::path::Path;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use slotcron::channels::{
    AlertMessage, ChannelSpec, DeliveryReport, DispatchOptions, Dispatcher, DispatcherHandle,
    Severity,
};
use slotcron::config::Settings;
use tokio::sync::broadcast;

/// The longest any test waits for something that should happen.
const PATIENCE: Duration = Duration::from_secs(10);

/// `notifications:` entries, validated as the daemon would.
fn channels(yaml: &str) -> Vec<ChannelSpec> {
    let text = format!("notifications:\n{yaml}");
    Settings::parse(Path::new("/test/slotcron.yaml"), &text)
        .unwrap_or_else(|e| panic!("{e}"))
        .notifications
}

/// A dispatcher with a 50 ms backoff base, host `testhost`, and a subscription to its
/// reports taken before any alert is sent.
fn start(channels: Vec<ChannelSpec>) -> (DispatcherHandle, broadcast::Receiver<DeliveryReport>) {
    let options = DispatchOptions {
        backoff_base: Duration::from_millis(50),
        host: "testhost".into(),
        ..DispatchOptions::default()
    };
    let (handle, _task) = Dispatcher::new(channels, options).spawn(std::future::pending());
    let reports = handle.reports();
    (handle, reports)
}

fn alert(id: i64, severity: Severity) -> AlertMessage {
    AlertMessage {
        id,
        job: "backup".into(),
        kind: "failure".into(),
        severity,
        message: "exit code 3".into(),
        evidence: Vec::new(),
        change: "opened".into(),
        at: Utc.with_ymd_and_hms(2026, 5, 1, 3, 0, 0).unwrap(),
    }
}

/// The next report for `channel` (any channel if empty), within [`PATIENCE`].
async fn report_for(
    reports: &mut broadcast::Receiver<DeliveryReport>,
    channel: &str,
) -> DeliveryReport {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let report = reports.recv().await.expect("dispatcher alive");
            if channel.is_empty() || report.channel == channel {
                return report;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no report for {channel} within {PATIENCE:?}"))
}

/// The next item of `rx`, within [`PATIENCE`].
async fn next<T>(rx: &mut tokio::sync::mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .expect("nothing arrived in time")
        .expect("receiver alive")
}
