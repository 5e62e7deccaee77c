//! One shutdown type for everything the daemon starts (ADR 0038): a [`Shutdown`] is
//! triggered once, and every [`Shutdown::signal`] taken from it resolves then, whether it
//! was taken before or after. The daemon keeps one per task it stops (control server,
//! alert dispatcher, HTTP server) so it can stop them in order.

use std::future::Future;

use tokio::sync::watch;

/// A stop signal: [`Shutdown::trigger`] once, and every [`Shutdown::signal`] resolves.
#[derive(Debug)]
pub struct Shutdown {
    /// `true` once triggered; never goes back to `false`.
    stopped: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Shutdown {
        Shutdown {
            stopped: watch::channel(false).0,
        }
    }

    /// A future that resolves once [`Shutdown::trigger`] is called (at once if it was),
    /// to hand to the task that should stop.
    pub fn signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stopped = self.stopped.subscribe();
        async move {
            // An error means the `Shutdown` was dropped untriggered: never stop for that.
            if stopped.wait_for(|s| *s).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Stops every task holding a signal of this one.
    pub fn trigger(&self) {
        self.stopped.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn signals_taken_before_and_after_the_trigger_both_resolve() {
        let shutdown = Shutdown::new();
        let before = tokio::spawn(shutdown.signal());
        tokio::task::yield_now().await;
        assert!(!before.is_finished());
        shutdown.trigger();
        tokio::time::timeout(std::time::Duration::from_secs(5), before)
            .await
            .expect("the earlier signal resolves")
            .unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), shutdown.signal())
            .await
            .expect("a later signal resolves at once");
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_untriggered_shutdown_never_stops_anything() {
        let shutdown = Shutdown::new();
        let signal = shutdown.signal();
        drop(shutdown);
        let waited = tokio::time::timeout(std::time::Duration::from_secs(3600), signal).await;
        assert!(waited.is_err(), "the signal must stay pending");
    }
}
