//! The daemon's HTTP server, on axum (hyper, tokio): `GET /metrics` for Prometheus, the
//! JSON API under `/api/v1` for the dashboard and scripts, its live events
//! (`/api/v1/events`, SSE), `/healthz`, `/readyz`, and the dashboard's files at `/`. As
//! mini-redis's server, [`serve`] takes a bound listener and a shutdown future, so tests
//! bind port 0 and stop it themselves.
//!
//! Handlers never touch the engine's state: they ask the event loop through an
//! [`EngineHandle`] (reads answered from its books, actions carried out as the control
//! socket's) and read history on a blocking thread ([`AppState::read`]), never holding the
//! lock across an `.await`. See `docs/adr/0016-prometheus-endpoint.md` and
//! `docs/adr/0017-http-api.md`; the API is described in `docs/openapi.yaml`.
//!
//! One file per concern: [`error`] (the JSON error), [`params`] (validated parameters),
//! [`auth`] and [`token`], [`body`] (the body limit), then one per resource; [`server`]
//! accepts and serves connections within the daemon's budget and [`wire`] watches their
//! bytes (`docs/adr/0021-connection-limits.md`).

mod alerts;
pub mod assets;
pub mod auth;
pub mod body;
pub mod error;
mod events;
mod health;
mod jobs;
pub mod log;
mod metrics;
pub mod params;
pub mod plan;
mod runs;
pub mod server;
mod slots;
pub mod token;
pub mod wire;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tower_http::timeout::TimeoutLayer;

use crate::cgroup::Hierarchy;
use crate::config::HealthSettings;
use crate::control::handle::EngineHandle;
use crate::control::live::{self, LiveEvent};
use crate::runner::Enforcer;
use crate::store::Store;

pub use auth::Access;
pub use error::ApiError;
pub use server::ServerLimits;
pub use slots::CpuReads;
pub use token::{ApiToken, TOKEN_FILE};

/// The file in `state_dir` where the daemon writes the address it listens on (useful with
/// port 0, and for scripts).
pub const ADDR_FILE: &str = "metrics.addr";

/// The largest request body accepted (no endpoint takes one today).
pub const BODY_LIMIT: usize = 16 * 1024;

/// How long a request may take, the event stream excepted.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler works with; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Asks the event loop.
    pub engine: EngineHandle,
    /// The slot tree, whose files are read per request; `None` when runs are unconfined.
    pub cgroup: Option<Arc<Hierarchy>>,
    /// Why runs are unconfined, when they are (for `/readyz`).
    pub unconfined: Option<String>,
    /// The history, for what the engine does not hold; `None` leaves those out (and makes
    /// the API's history reads answer 503).
    pub store: Option<Arc<Mutex<Store>>>,
    /// The runs history could not take, and whether it takes writes (ADR 0022); `None`
    /// outside the daemon.
    pub backlog: Option<crate::store::SharedBacklog>,
    /// The engine's live events, subscribed to by each event stream.
    pub live: broadcast::Sender<LiveEvent>,
    /// Who may do what.
    pub access: Access,
    /// How job health is judged (`Figures::load`).
    pub health: HealthSettings,
    /// The previous CPU read of each slot, for `cpu_percent`.
    pub cpu: Arc<CpuReads>,
    /// Becomes `true` when the server shuts down; set by [`serve`].
    pub stopping: watch::Receiver<bool>,
    /// The daemon's clock (ADR 0038): health is judged and alerts acknowledged by it.
    pub clock: crate::clock::SharedClock,
    /// The daemon's configuration, for the forecast (`GET /plan` answers 503 without it).
    pub settings: Option<Arc<crate::config::Settings>>,
    /// Reads the machine's `MemAvailable` for the forecast's `protect.reserve_memory`;
    /// `None`: the forecast plays no reserve.
    pub mem_available: Option<plan::MemAvailable>,
}

impl AppState {
    /// The state for a daemon confining its runs with `enforcer`: open reads, no token
    /// (actions refused) and no live events until set.
    pub fn new(
        engine: EngineHandle,
        enforcer: &Enforcer,
        store: Option<Arc<Mutex<Store>>>,
    ) -> AppState {
        let (cgroup, unconfined) = match enforcer {
            Enforcer::Cgroup(tree) => (Some(Arc::new(tree.clone())), None),
            Enforcer::Unconfined { reason } => (None, Some(reason.clone())),
        };
        AppState::with_tree(engine, cgroup, store).unconfined(unconfined)
    }

    /// The state with this slot tree (`None`: unconfined).
    pub fn with_tree(
        engine: EngineHandle,
        cgroup: Option<Arc<Hierarchy>>,
        store: Option<Arc<Mutex<Store>>>,
    ) -> AppState {
        AppState {
            engine,
            cgroup,
            unconfined: None,
            store,
            backlog: None,
            live: live::channel(),
            access: Access::default(),
            health: HealthSettings::default(),
            cpu: Arc::default(),
            stopping: watch::channel(false).1,
            clock: crate::clock::system(),
            settings: None,
            mem_available: None,
        }
    }

    fn unconfined(mut self, reason: Option<String>) -> AppState {
        self.unconfined = reason;
        self
    }

    /// Reads history on a blocking thread.
    ///
    /// # Errors
    /// `work`'s error; 503 without a history.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.write(move |store| work(store)).await
    }

    /// Changes history on a blocking thread.
    ///
    /// # Errors
    /// `work`'s error; 503 without a history.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.with_history(move |store| match store {
            Some(store) => work(store),
            None => Err(ApiError::unavailable("no history database")),
        })
        .await
    }

    /// Works with history, `None` when there is none, on a blocking thread.
    ///
    /// # Errors
    /// `work`'s error.
    pub async fn with_history<T: Send + 'static>(
        &self,
        work: impl FnOnce(Option<&mut Store>) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        match &self.store {
            Some(store) => crate::store::handle::with(store, move |s| work(Some(s))).await?,
            None => work(None),
        }
    }
}

/// The `/api/v1` routes (auth, limits and JSON errors applied).
fn api(state: &AppState) -> Router<AppState> {
    let timed = Router::new()
        .route("/jobs", get(jobs::list))
        .route("/jobs/{name}", get(jobs::one))
        .route("/jobs/{name}/runs", get(runs::of_job))
        .route("/jobs/{name}/run", post(jobs::trigger))
        .route("/jobs/{name}/enable", post(jobs::enable))
        .route("/jobs/{name}/disable", post(jobs::disable))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(runs::one))
        .route("/runs/{id}/log", get(runs::log))
        .route("/runs/{id}/kill", post(runs::kill))
        .route("/slots", get(slots::slots))
        .route("/plan", get(plan::plan))
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}/ack", post(alerts::ack))
        .fallback(api_not_found)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    timed
        .route("/events", get(events::events))
        // Inside the token check, so a stranger's body is never read.
        .layer(axum::middleware::from_fn(body::limit))
        .layer(axum::middleware::from_fn_with_state(
            state.access.clone(),
            auth::require,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Outermost, so the answers of the layers above are rewritten too.
        .layer(axum::middleware::map_response(error::json_errors))
}

/// Every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/", get(assets::index))
        .route("/assets/{*path}", get(assets::asset))
        .nest("/api/v1", api(&state))
        .route("/api", get(api_not_found).post(api_not_found))
        .route("/api/{*rest}", get(api_not_found).post(api_not_found))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "not found; try / or /metrics\n")
}

async fn api_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no such path: {}", uri.path()))
}

/// Serves [`router`] on `listener` within the default [`ServerLimits`] until `shutdown`
/// resolves (see [`serve_with`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    serve_with(listener, state, shutdown, ServerLimits::default()).await;
}

/// Serves [`router`] on `listener` within `limits` until `shutdown` resolves, then ends
/// the event streams and lets requests in progress finish ([`server::SHUTDOWN_GRACE`]).
pub async fn serve_with(
    listener: TcpListener,
    mut state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServerLimits,
) {
    let (stop, stopping) = watch::channel(false);
    state.stopping = stopping.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
        // Keep the sender until every stream has seen it (they hold receivers).
        stop.closed().await;
    });
    server::run(listener, router(state), limits, stopping).await;
}
