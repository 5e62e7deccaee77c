//! `GET /metrics`: the engine's snapshot, the slots' cgroup files read on a blocking
//! thread, encoded as OpenMetrics text (or the classic text format for a client that asks
//! only for `text/plain`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tracing::debug;

use super::AppState;
use crate::metrics::{self, Format};

pub(super) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let format = Format::from_accept(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let Ok(mut snapshot) = state.engine.metrics().await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the scheduler is stopping\n",
        )
            .into_response();
    };
    let text = tokio::task::spawn_blocking(move || {
        if let Some(tree) = &state.cgroup {
            for slot in &mut snapshot.slots {
                match tree.slot_usage(&slot.name) {
                    Ok(usage) => slot.live = Some(usage),
                    Err(error) => debug!(slot = %slot.name, %error, "slot figures unreadable"),
                }
            }
        }
        if let Some(store) = &state.store {
            let counts = store
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .open_alert_counts();
            match counts {
                Ok(counts) => {
                    snapshot.alerts_open = counts
                        .into_iter()
                        .map(|(severity, n)| (severity.as_str().to_owned(), n))
                        .collect();
                }
                Err(error) => debug!(%error, "open alerts unreadable"),
            }
        }
        metrics::encode_as(snapshot, format)
    })
    .await;
    match text {
        Ok(text) => ([(header::CONTENT_TYPE, format.content_type())], text).into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding the metrics failed: {error}\n"),
        )
            .into_response(),
    }
}
