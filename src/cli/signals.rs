//! The signals that stop a foreground command (`run`, `daemon`).

use tokio::signal::unix::{SignalKind, signal};
use tracing::info;

/// Resolves on SIGINT or SIGTERM: stopping `slotcron run` stops its job, stopping
/// `slotcron daemon` stops the daemon (each run gets the kill grace).
pub async fn stop_requested() {
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => info!("SIGINT: stopping"),
        _ = term.recv() => info!("SIGTERM: stopping"),
    }
}
