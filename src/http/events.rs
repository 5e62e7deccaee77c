//! `GET /api/v1/events`: Server-Sent Events. Each stream subscribes to the engine's
//! [`LiveEvent`]s and adds the `slots` body right after connecting and every
//! [`SLOTS_EVERY`]; a listener that falls behind gets `event: lagged` (with how many events
//! it missed) and goes on. Every stream ends when the server shuts down, so a connected
//! dashboard never holds the daemon's exit up.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use tokio::time::{Interval, MissedTickBehavior};

use super::AppState;
use crate::control::live::LiveEvent;

/// How often each stream gets the slots' figures.
pub const SLOTS_EVERY: Duration = Duration::from_secs(3);
/// How often an idle stream gets a comment, so proxies keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

struct Listener {
    app: AppState,
    events: broadcast::Receiver<LiveEvent>,
    ticks: Interval,
    stopping: watch::Receiver<bool>,
}

impl Listener {
    /// The next event to send; `None` ends the stream (shutdown, or the engine gone).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if *self.stopping.borrow() {
                return None;
            }
            tokio::select! {
                changed = self.stopping.changed() => {
                    if changed.is_err() || *self.stopping.borrow() {
                        return None;
                    }
                }
                received = self.events.recv() => match received {
                    Ok(event) => {
                        let data = serde_json::to_string(&event).unwrap_or_default();
                        return Some(Event::default().event(event.name()).data(data));
                    }
                    Err(RecvError::Lagged(missed)) => {
                        return Some(Event::default().event("lagged").data(format!("{{\"missed\":{missed}}}")));
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = self.ticks.tick() => {
                    // The first tick is at once: the figures right after connecting.
                    match super::slots::body(&self.app).await {
                        Ok(body) => {
                            let data = serde_json::to_string(&body).unwrap_or_default();
                            return Some(Event::default().event("slots").data(data));
                        }
                        Err(_) => return None,
                    }
                }
            }
        }
    }
}

/// `GET /events`.
pub async fn events(
    State(app): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut ticks = tokio::time::interval(SLOTS_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let listener = Listener {
        events: app.live.subscribe(),
        stopping: app.stopping.clone(),
        ticks,
        app,
    };
    let stream = futures_util::stream::unfold(listener, |mut listener| async move {
        let event = listener.next().await?;
        Some((Ok(event), listener))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
