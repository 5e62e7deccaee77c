//! `GET /alerts?state=` and `POST /alerts/{id}/ack`: the history's alerts, as
//! `slotcron alerts --json` prints them, read and acknowledged on a blocking thread.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::params::{self, AlertFilter, QueryMap};
use crate::store::AlertState;

/// `GET /alerts?state=open|acknowledged|resolved|all`, newest first.
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<QueryMap>,
) -> Result<Response, ApiError> {
    let filter = params::alert_state(&query)?;
    let alerts = state
        .read(move |store| {
            let mut alerts = store.alerts(!matches!(filter, AlertFilter::Open))?;
            if let AlertFilter::Only(wanted) = filter {
                alerts.retain(|a| a.state == wanted);
            }
            Ok(alerts)
        })
        .await?;
    Ok(Json(json!({"alerts": alerts})).into_response())
}

/// `POST /alerts/{id}/ack`: 409 when it is already acknowledged or resolved.
pub async fn ack(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = params::id("id", &id)?;
    let now = state.clock.now();
    let message = state
        .write(move |store| {
            let alert = store
                .alert(id)?
                .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))?;
            match alert.state {
                AlertState::Open => {
                    store.ack(id, now)?;
                    Ok(format!(
                        "alert {id} ({} of `{}`) acknowledged: it no longer notifies until it resolves",
                        alert.kind, alert.job
                    ))
                }
                other => Err(ApiError::conflict(format!("alert {id} is already {other}"))),
            }
        })
        .await?;
    Ok(Json(json!({"message": message})).into_response())
}
