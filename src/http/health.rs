//! `GET /healthz` (the process answers) and `GET /readyz` (history and cgroups usable),
//! always open, for supervisors and load balancers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;

/// `GET /healthz`.
pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// `GET /readyz`: 200 when history answers a query and takes writes and, if runs are
/// confined, the slot tree's root is readable; 503 naming the failing check otherwise.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let (store, tree) = (state.store.clone(), state.cgroup.clone());
    let writes = state.backlog.as_ref().map(|b| {
        b.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .health()
    });
    let unconfined = state.unconfined.clone();
    let checks = tokio::task::spawn_blocking(move || {
        let database = match &store {
            Some(store) => match store
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .job_known("")
            {
                Ok(_) => Ok("ok".to_owned()),
                Err(error) => Err(error.to_string()),
            },
            None => Err("no history database".to_owned()),
        };
        let cgroups = match (&tree, unconfined) {
            (Some(tree), _) => match tree.slots().first() {
                Some(slot) => tree
                    .slot_usage(slot)
                    .map(|_| "ok".to_owned())
                    .map_err(|e| e.to_string()),
                None => Ok("ok".to_owned()),
            },
            (None, reason) => Ok(format!(
                "unconfined: {}",
                reason.as_deref().unwrap_or("enforcement off")
            )),
        };
        (database, cgroups)
    })
    .await;
    let (database, cgroups) = match checks {
        Ok(checks) => checks,
        Err(error) => (Err(error.to_string()), Err("not checked".to_owned())),
    };
    let database = match (database, writes) {
        (Ok(_), Some(health)) if !health.writable || health.pending > 0 => Err(health.describe()),
        (database, _) => database,
    };
    let ready = database.is_ok() && cgroups.is_ok();
    let word = |r: Result<String, String>| match r {
        Ok(text) | Err(text) => text,
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {"database": word(database), "cgroups": word(cgroups)},
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
