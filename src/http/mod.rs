//! The daemon's HTTP server, on axum (hyper, tokio): `GET /metrics` for Prometheus now;
//! the dashboard's `/api` routes join the same [`router`] later. As mini-redis's server,
//! [`serve`] takes a bound listener and a shutdown future, so tests bind port 0 and stop
//! it themselves.
//!
//! Handlers never touch the engine's state: they ask the event loop through an
//! [`EngineHandle`] and do the slow part (cgroup reads, encoding) in their own task.
//! Unknown paths answer 404. See `docs/adr/0016-prometheus-endpoint.md`.

mod metrics;

use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::cgroup::Hierarchy;
use crate::daemon::query::EngineHandle;
use crate::runner::Enforcer;
use crate::store::Store;

/// The file in `state_dir` where the daemon writes the address it listens on (useful with
/// port 0, and for scripts).
pub const ADDR_FILE: &str = "metrics.addr";

/// What every handler works with; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Asks the event loop.
    pub engine: EngineHandle,
    /// The slot tree, whose files are read per scrape; `None` when runs are unconfined.
    pub cgroup: Option<Arc<Hierarchy>>,
    /// The history, for what the engine does not hold (open alerts); `None` leaves those
    /// series out.
    pub store: Option<Arc<Mutex<Store>>>,
}

impl AppState {
    /// The state for a daemon confining its runs with `enforcer`.
    pub fn new(
        engine: EngineHandle,
        enforcer: &Enforcer,
        store: Option<Arc<Mutex<Store>>>,
    ) -> AppState {
        AppState {
            engine,
            store,
            cgroup: match enforcer {
                Enforcer::Cgroup(tree) => Some(Arc::new(tree.clone())),
                Enforcer::Unconfined { .. } => None,
            },
        }
    }
}

/// Every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::metrics))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "not found; try /metrics\n")
}

/// Serves [`router`] on `listener` until `shutdown` resolves, then lets requests in
/// progress finish.
///
/// # Errors
/// Only when accepting connections fails for good.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
