//! `GET /jobs`, `GET /jobs/{name}` and the job actions (`run`, `enable`, `disable`). A job
//! is the element of `slotcron jobs --json` ([`JobView`], `env` values withheld unless
//! `?reveal_env=true` comes with the token; from history, read on a blocking
//! thread) plus what only the engine knows ([`JobLive`]: state, next run, runs in
//! progress) and three figures for the dashboard: `consecutive_failures`, `last_error`
//! and `trend`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::AppState;
use super::auth::authorization;
use super::error::ApiError;
use super::params::{self, QueryMap};
use crate::config::HealthSettings;
use crate::control::handle::JobLive;
use crate::control::outcome::{Effect, Outcome, Refusal};
use crate::control::protocol::{JobState, Request};
use crate::stats::health::is_failure;
use crate::stats::{Figures, Health};
use crate::store::{RunRecord, Store};
use crate::views::{JobView, Secrets};

/// One job of `GET /jobs`.
#[derive(Debug, Serialize)]
struct ApiJob<'a> {
    #[serde(flatten)]
    view: JobView<'a>,
    effective_enabled: bool,
    state: &'static str,
    next_run: Option<DateTime<Utc>>,
    running: u32,
    consecutive_failures: u32,
    last_error: Option<String>,
    trend: Trend,
}

/// The newest successful runs against the baseline, in percent (+25.0: 25 % slower or
/// hungrier).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    pub duration_change_pct: Option<f64>,
    pub memory_change_pct: Option<f64>,
}

/// The trend of a job's health: the medians of its newest successful runs (`recent`, the
/// figures the `degraded` verdict judges, so the number and the word never disagree)
/// against the baseline's medians; `None` without either.
pub fn trend(health: &Health) -> Trend {
    let change = |now: Option<f64>, usual: Option<f64>| match (now, usual) {
        (Some(now), Some(usual)) if usual > 0.0 => {
            Some(((now / usual - 1.0) * 1000.0).round() / 10.0)
        }
        _ => None,
    };
    let recent = &health.recent;
    let baseline = health.baseline.as_ref();
    Trend {
        duration_change_pct: change(
            recent.duration_median_ms,
            baseline.map(|b| b.duration_median_ms),
        ),
        memory_change_pct: change(
            recent.memory_median_bytes,
            baseline.and_then(|b| b.memory_median_bytes),
        ),
    }
}

/// The word of a job's state, as `slotcron status` prints it.
pub fn state_word(state: &JobState) -> &'static str {
    match state {
        JobState::Idle => "idle",
        JobState::Queued => "queued",
        JobState::Running => "running",
        JobState::Disabled => "disabled",
        JobState::Tripped { .. } => "tripped",
        JobState::Broken => "broken",
    }
}

/// What a failed run says went wrong: its error, or its status and exit code.
fn error_text(run: &RunRecord) -> String {
    match (&run.error, run.exit_code) {
        (Some(error), _) => error.clone(),
        (None, Some(code)) => format!("{} (exit code {code})", run.status),
        (None, None) => run.status.to_string(),
    }
}

/// Each failing job's latest failed run: its newest run when that failed, else the newest
/// finished one when that failed (read by id, one row per such job).
fn last_failures(
    store: &Store,
    figures: &Figures,
    live: &[JobLive],
) -> Result<HashMap<String, String>, ApiError> {
    let mut errors = HashMap::new();
    let mut look_up = Vec::new();
    for job in live.iter().filter(|j| j.consecutive_failures > 0) {
        let name = &job.job.name;
        match figures.latest.get(name) {
            Some(run) if is_failure(run.status) => {
                errors.insert(name.clone(), error_text(run));
            }
            _ => look_up.extend(
                figures
                    .summaries
                    .get(name)
                    .and_then(|s| s.last_final)
                    .filter(|last| is_failure(last.status))
                    .map(|last| last.id),
            ),
        }
    }
    for run in store.runs_by_id(&look_up)? {
        errors.insert(run.job.clone(), error_text(&run));
    }
    Ok(errors)
}

/// The JSON of `live` (the engine's view of some jobs), with history read now.
async fn render(
    state: &AppState,
    live: Vec<JobLive>,
    one: bool,
    secrets: Secrets,
) -> Result<Vec<u8>, ApiError> {
    let (settings, now) = (state.health, state.clock.now());
    state
        .with_history(move |store| encode(store.as_deref(), settings, &live, one, secrets, now))
        .await
}

/// What `?reveal_env=` asks for; revealing needs the token even where reads are open.
///
/// # Errors
/// 400 for a value that is not a boolean; 401/403 for `true` without the token.
fn secrets(state: &AppState, query: &QueryMap, headers: &HeaderMap) -> Result<Secrets, ApiError> {
    if !params::reveal_env(query)? {
        return Ok(Secrets::Withheld);
    }
    state.access.require_token(authorization(headers))?;
    Ok(Secrets::Revealed)
}

/// [`render`]'s work, on the blocking thread: `live` with history's figures (none
/// without a history), the first job alone when `one`.
fn encode(
    store: Option<&Store>,
    settings: HealthSettings,
    live: &[JobLive],
    one: bool,
    secrets: Secrets,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, ApiError> {
    let (figures, errors) = match store {
        Some(store) => {
            let figures = Figures::load(store, settings, now)?;
            let errors = last_failures(store, &figures, live)?;
            (figures, errors)
        }
        None => (
            Figures {
                settings,
                ..Figures::default()
            },
            HashMap::new(),
        ),
    };
    let jobs: Vec<ApiJob<'_>> = live
        .iter()
        .map(|l| {
            let view = JobView::new(&l.job, &figures, now, secrets, l.memory);
            let trend = trend(&view.health);
            ApiJob {
                view,
                effective_enabled: l.effective_enabled,
                state: state_word(&l.state),
                next_run: l.next_run,
                running: l.running,
                consecutive_failures: l.consecutive_failures,
                last_error: errors.get(&l.job.name).cloned(),
                trend,
            }
        })
        .collect();
    let body = if one {
        serde_json::to_vec(&jobs[0])
    } else {
        serde_json::to_vec(&json!({"generated_at": now, "jobs": jobs}))
    };
    body.map_err(|e| ApiError::internal(format!("encoding jobs: {e}")))
}

fn json_bytes(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET /jobs?reveal_env=`: every scheduled job, by name.
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<QueryMap>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let secrets = secrets(&state, &query, &headers)?;
    let live = state.engine.jobs(None).await?;
    Ok(json_bytes(render(&state, live, false, secrets).await?))
}

/// `GET /jobs/{name}?reveal_env=`.
pub async fn one(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<QueryMap>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let secrets = secrets(&state, &query, &headers)?;
    let live = state.engine.jobs(Some(name.clone())).await?;
    if live.is_empty() {
        return Err(ApiError::not_found(format!("no job named `{name}`")));
    }
    Ok(json_bytes(render(&state, live, true, secrets).await?))
}

/// The status and error of a refused action.
fn refusal(why: Refusal, message: String) -> ApiError {
    match why {
        Refusal::UnknownJob => ApiError::not_found(message),
        Refusal::NotRunning | Refusal::Conflict => ApiError::conflict(message),
        Refusal::Unavailable => ApiError::unavailable(message),
        Refusal::Failed => ApiError::internal(message),
    }
}

/// What an action the engine carried out did and its message, or its refusal as an error.
///
/// # Errors
/// The refusal's status ([`refusal`]); 500 for an answer that is not an action's.
pub fn carried_out(outcome: Outcome) -> Result<(Effect, String), ApiError> {
    match outcome {
        Outcome::Done { effect, message } => Ok((effect, message)),
        Outcome::Refused { why, message } => Err(refusal(why, message)),
        Outcome::Status(_) => Err(ApiError::internal("unexpected answer")),
    }
}

/// `POST /jobs/{name}/run`: 202 whether it started or waits for a seat.
pub async fn trigger(
    State(state): State<AppState>,
    Path(job): Path<String>,
) -> Result<Response, ApiError> {
    let (effect, message) = carried_out(state.engine.control(Request::Trigger { job }).await?)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": message, "queued": effect == Effect::Queued})),
    )
        .into_response())
}

/// `POST /jobs/{name}/enable`.
pub async fn enable(state: State<AppState>, job: Path<String>) -> Result<Response, ApiError> {
    set_enabled(state, job, true).await
}

/// `POST /jobs/{name}/disable`.
pub async fn disable(state: State<AppState>, job: Path<String>) -> Result<Response, ApiError> {
    set_enabled(state, job, false).await
}

async fn set_enabled(
    State(state): State<AppState>,
    Path(job): Path<String>,
    enabled: bool,
) -> Result<Response, ApiError> {
    let request = if enabled {
        Request::Enable { job }
    } else {
        Request::Disable { job }
    };
    let (_, message) = carried_out(state.engine.control(request).await?)?;
    Ok(Json(json!({"message": message, "enabled": enabled})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Baseline, Execution, HealthStatus, Performance, Recent};
    use crate::store::Rolling;

    fn health(recent: Recent, baseline: Option<Baseline>) -> Health {
        Health {
            status: HealthStatus::Healthy,
            execution: Execution::Ok,
            performance: Performance::Stable,
            degradation: Vec::new(),
            recent,
            baseline,
            baseline_missing: None,
            rolling_24h: Rolling {
                duration_avg_ms: Some(9_999.0),
                ..Rolling::default()
            },
            overdue_since: None,
        }
    }

    #[test]
    fn trend_is_the_change_against_the_baseline_medians() {
        let baseline = Baseline {
            duration_median_ms: 1000.0,
            duration_p95_ms: 1500.0,
            duration_mad_ms: 10.0,
            memory_median_bytes: Some(200.0),
            memory_max_bytes: Some(300),
            memory_mad_bytes: Some(5.0),
            duration_spread: Some(0.01),
            memory_spread: Some(0.02),
            cpu_median_usec: None,
            runs: 10,
            newest_run_id: 9,
            checked_run_id: 9,
            held: false,
            computed_at: Utc::now(),
        };
        let recent = Recent {
            runs: 5,
            duration_median_ms: Some(1250.0),
            memory_median_bytes: Some(150.0),
            memory_runs: 5,
        };
        // The recent medians, not the 24-hour average (9,999 ms here): the degraded rule's.
        let t = trend(&health(recent, Some(baseline)));
        assert_eq!(t.duration_change_pct, Some(25.0));
        assert_eq!(t.memory_change_pct, Some(-25.0));
        let none = trend(&health(recent, None));
        assert_eq!(
            (none.duration_change_pct, none.memory_change_pct),
            (None, None)
        );
    }
}
