//! `GET /plan`: the forecast of the jobs the daemon has loaded, the JSON `slotcron plan
//! --json` prints, built by the same function ([`crate::plan::forecast`]) from history
//! read on a blocking thread. `hours` (1 to 168, default 24), `from` (RFC 3339, default
//! now by the daemon's clock), `pessimistic` and `catch_up` (`true` or `false`).

use std::fmt;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::params::{self, QueryMap};
use crate::config::Job;
use crate::plan::{Options, Percentile, forecast};

/// Reads the machine's `MemAvailable` (bytes; `None` when it cannot be read), for
/// `protect.reserve_memory` in the forecast. The daemon hands in its own reader.
#[derive(Clone)]
pub struct MemAvailable(pub Arc<dyn Fn() -> Option<u64> + Send + Sync>);

impl fmt::Debug for MemAvailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemAvailable(..)")
    }
}

/// The options `query` asks for.
///
/// # Errors
/// 400 or 422 naming the parameter and its value.
fn options(state: &AppState, query: &QueryMap) -> Result<Options, ApiError> {
    let settings = settings(state)?;
    let from = params::from(query)?.unwrap_or_else(|| state.clock.now());
    let mut options = Options::new(from, settings);
    options.window = chrono::Duration::hours(i64::from(params::hours(query)?));
    options.catch_up = params::flag(query, "catch_up")?;
    if params::flag(query, "pessimistic")? {
        options.percentile = Percentile::P95;
    }
    Ok(options)
}

fn settings(state: &AppState) -> Result<&Arc<crate::config::Settings>, ApiError> {
    (state.settings.as_ref())
        .ok_or_else(|| ApiError::unavailable("the forecast needs the daemon's configuration"))
}

pub async fn plan(
    State(state): State<AppState>,
    Query(query): Query<QueryMap>,
) -> Result<Response, ApiError> {
    let options = options(&state, &query)?;
    let settings = settings(&state)?.clone();
    let live = state.engine.jobs(None).await?;
    let memory = state.mem_available.clone();
    let body = state
        .with_history(move |store| {
            let jobs: Vec<&Job> = live.iter().map(|l| &*l.job).collect();
            let read = || memory.and_then(|read| (read.0)());
            let plan = forecast(&jobs, &settings, store.as_deref(), &options, read)?;
            serde_json::to_vec(&plan)
                .map_err(|e| ApiError::internal(format!("encoding the plan: {e}")))
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
