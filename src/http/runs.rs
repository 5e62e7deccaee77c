//! `GET /jobs/{name}/runs`, `GET /runs`, `GET /runs/{id}`, `GET /runs/{id}/log` and
//! `POST /runs/{id}/kill`. Lists are keyset-paginated by run id ([`Store::run_page`]),
//! read on a blocking thread; a kill goes to the engine like `slotcron kill`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::jobs::carried_out;
use super::log::read_tail;
use super::params::{self, QueryMap};
use crate::control::outcome::{Outcome, Refusal};
use crate::control::protocol::Request;
use crate::model::RunStatus;
use crate::store::{RunPage, RunQuery, RunRecord};

fn page_json(page: RunPage) -> Response {
    Json(json!({"runs": page.runs, "next_before": page.next_before})).into_response()
}

/// Gives each run in progress among `runs` its live pressure state (what the response
/// does to it now, which history does not hold until it ends). A stopping engine leaves
/// them as history has them.
async fn with_live_pressure(state: &AppState, runs: &mut [RunRecord]) {
    if !runs.iter().any(|r| r.status == RunStatus::Running) {
        return;
    }
    let Ok(live) = state.engine.pressure().await else {
        return;
    };
    for run in runs.iter_mut().filter(|r| r.status == RunStatus::Running) {
        run.pressure = live.get(&run.id).copied();
    }
}

/// `GET /jobs/{name}/runs?limit=&before=`.
pub async fn of_job(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<QueryMap>,
) -> Result<Response, ApiError> {
    let run_query = RunQuery {
        job: Some(name.clone()),
        status: None,
        since: None,
        before: params::before(&query)?,
        limit: params::limit(&query)?,
    };
    let scheduled = !state.engine.jobs(Some(name.clone())).await?.is_empty();
    let mut page = state
        .read(move |store| {
            if !scheduled && !store.job_known(&name)? {
                return Err(ApiError::not_found(format!("no job named `{name}`")));
            }
            Ok(store.run_page(&run_query)?)
        })
        .await?;
    with_live_pressure(&state, &mut page.runs).await;
    Ok(page_json(page))
}

/// `GET /runs?job=&status=&since=&limit=&before=`.
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<QueryMap>,
) -> Result<Response, ApiError> {
    let run_query = RunQuery {
        job: query.get("job").cloned(),
        status: params::status(&query)?,
        since: params::since(&query)?,
        before: params::before(&query)?,
        limit: params::limit(&query)?,
    };
    let mut page = state
        .read(move |store| Ok(store.run_page(&run_query)?))
        .await?;
    with_live_pressure(&state, &mut page.runs).await;
    Ok(page_json(page))
}

/// `GET /runs/{id}`.
pub async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = params::id("id", &id)?;
    let run = state
        .read(move |store| {
            store
                .run(id)?
                .ok_or_else(|| ApiError::not_found(format!("no run {id}")))
        })
        .await?;
    let mut runs = [run];
    with_live_pressure(&state, &mut runs).await;
    let [run] = runs;
    Ok(Json(run).into_response())
}

/// `GET /runs/{id}/log?bytes=`: text, never HTML.
pub async fn log(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<QueryMap>,
) -> Result<Response, ApiError> {
    let id = params::id("id", &id)?;
    let max = params::log_bytes(&query)?;
    let tail = state
        .read(move |store| {
            let run = store
                .run(id)?
                .ok_or_else(|| ApiError::not_found(format!("no run {id}")))?;
            let path = run
                .log_path
                .ok_or_else(|| ApiError::not_found(format!("run {id} has no log")))?;
            // The history lock is released before the file is read.
            Ok(path)
        })
        .await?;
    let tail = tokio::task::spawn_blocking(move || read_tail(std::path::Path::new(&tail), max))
        .await?
        .map_err(|e| ApiError::not_found(format!("run {id}'s log is gone ({e})")))?;
    let mut response = tail.text.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "x-slotcron-log-truncated",
        HeaderValue::from_static(if tail.truncated { "true" } else { "false" }),
    );
    Ok(response)
}

/// `POST /runs/{id}/kill`: 202 once the run is told to stop.
pub async fn kill(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let run_id = params::id("id", &id)?;
    match state.engine.control(Request::Kill { run_id }).await? {
        Outcome::Refused {
            why: Refusal::NotRunning,
            message,
        } => {
            let exists = state
                .read(move |store| Ok(store.run(run_id)?.is_some()))
                .await?;
            Err(if exists {
                ApiError::conflict(message)
            } else {
                ApiError::not_found(format!("no run {run_id}"))
            })
        }
        outcome => {
            let (_, message) = carried_out(outcome)?;
            Ok((StatusCode::ACCEPTED, Json(json!({"message": message}))).into_response())
        }
    }
}
