//! The one way async code reaches the history (ADR 0038): [`with`] runs a closure on the
//! shared [`Store`] from tokio's blocking pool, under its lock, so no SQLite call runs on
//! an async thread and no lock is held across an `.await`. The daemon's engine, its crash
//! recovery at start and the HTTP server all go through it.
//!
//! A std `Mutex` is right here: it is only ever taken inside the blocking closure.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::task::JoinError;

use super::Store;

/// Runs `work` on `store` on a blocking thread, under the store's lock (a poisoned lock is
/// taken anyway: a panic in one piece of work leaves SQLite consistent, each write being
/// one transaction).
///
/// # Errors
/// `work` panicked; each caller says what that means for it (the daemon stops, the HTTP
/// server answers 500).
pub async fn with<T: Send + 'static>(
    store: &Arc<Mutex<Store>>,
    work: impl FnOnce(&mut Store) -> T + Send + 'static,
) -> Result<T, JoinError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        work(&mut store.lock().unwrap_or_else(PoisonError::into_inner))
    })
    .await
}
