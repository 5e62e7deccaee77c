//! The dispatcher: a bounded queue in front of one background task that fans each alert
//! out to every channel whose floor it reaches. Each delivery is its own task, with its
//! own timeout and retries, so a channel that hangs or fails delays nobody else; the
//! scheduler's side, [`DispatcherHandle::send`], never waits and never fails loudly.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use super::alert::{AlertMessage, Severity, local_host_name};
use super::error::DeliveryError;
use super::spec::{ChannelSpec, CommandSpec, EmailSpec, Target};
use super::webhook::Webhook;
use super::{command, email};

/// Alerts waiting for the dispatcher before new ones are dropped.
pub const DEFAULT_QUEUE: usize = 1_000;
/// Wait before the first retry; each retry doubles it.
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
pub const DEFAULT_BACKOFF_CAP: Duration = Duration::from_secs(60);
/// How long deliveries in flight may finish after shutdown is signalled.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Reports kept for a slow [`DispatcherHandle::reports`] receiver before it lags.
const REPORTS_KEPT: usize = 256;

/// Knobs of the dispatcher that are not in `slotcron.yaml`.
#[derive(Debug, Clone)]
pub struct DispatchOptions {
    /// Capacity of the queue behind [`DispatcherHandle::send`] (>= 1).
    pub queue: usize,
    /// Wait before the first retry; then 2x, 4x ... up to `backoff_cap`. Short in tests.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// After shutdown, how long deliveries in flight may go on before they are abandoned.
    pub shutdown_grace: Duration,
    /// The `host` field of every notification.
    pub host: String,
}

impl Default for DispatchOptions {
    fn default() -> Self {
        DispatchOptions {
            queue: DEFAULT_QUEUE,
            backoff_base: DEFAULT_BACKOFF_BASE,
            backoff_cap: DEFAULT_BACKOFF_CAP,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            host: local_host_name(),
        }
    }
}

/// The wait after failed attempt number `attempt` (1-based): `base * 2^(attempt-1)`, at
/// most `cap`.
///
/// ```
/// use std::time::Duration;
/// use slotcron::channels::backoff;
/// let s = Duration::from_secs;
/// let waits: Vec<_> = (1..=8).map(|n| backoff(s(1), s(60), n)).collect();
/// assert_eq!(waits, [s(1), s(2), s(4), s(8), s(16), s(32), s(60), s(60)]);
/// ```
pub fn backoff(base: Duration, cap: Duration, attempt: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(cap)
}

/// How one alert's delivery to one channel ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Every attempt failed, or one failed in a way retrying cannot fix; the last error.
    GaveUp(DeliveryError),
}

/// The end of one alert's delivery to one channel, for tests and for whoever records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub channel: String,
    pub alert_id: i64,
    pub outcome: Outcome,
    /// Attempts made, the successful one included (>= 1).
    pub attempts: u32,
    /// From the first attempt's start to the outcome, backoff included.
    pub elapsed: Duration,
}

/// One channel, ready to deliver: its [`ChannelSpec`] with the target turned into a
/// [`Transport`].
struct Channel {
    name: String,
    min_severity: Severity,
    timeout: Duration,
    retries: u32,
    transport: Transport,
}

/// How a channel delivers. Shared pieces are `Arc`s so a blocking attempt can own them
/// without cloning the spec.
enum Transport {
    /// Built once so connections are reused.
    Webhook(Arc<Webhook>),
    Email(Arc<EmailSpec>),
    Command(CommandSpec),
}

impl Channel {
    fn new(spec: ChannelSpec) -> Channel {
        let ChannelSpec {
            name,
            min_severity,
            timeout,
            retries,
            target,
        } = spec;
        let transport = match target {
            Target::Webhook(w) => Transport::Webhook(Arc::new(Webhook::new(w, timeout))),
            Target::Email(e) => Transport::Email(Arc::new(e)),
            Target::Command(c) => Transport::Command(c),
        };
        Channel {
            name,
            min_severity,
            timeout,
            retries,
            transport,
        }
    }

    /// One attempt, ended by the channel's timeout whatever the transport does. Blocking
    /// clients run on the blocking pool; their own timeouts free the thread soon after.
    async fn attempt(
        &self,
        alert: &Arc<AlertMessage>,
        host: &Arc<str>,
    ) -> Result<(), DeliveryError> {
        let timeout = self.timeout;
        let blocking = |job: Box<dyn FnOnce() -> Result<(), DeliveryError> + Send>| async move {
            match tokio::time::timeout(timeout, tokio::task::spawn_blocking(job)).await {
                Ok(Ok(result)) => result,
                Ok(Err(join)) => Err(DeliveryError::Http {
                    url: String::new(),
                    message: format!("delivery thread failed: {join}"),
                }),
                Err(_) => Err(DeliveryError::Timeout(timeout)),
            }
        };
        let (alert, host) = (Arc::clone(alert), Arc::clone(host));
        match &self.transport {
            Transport::Webhook(hook) => {
                let hook = Arc::clone(hook);
                blocking(Box::new(move || hook.post(&alert, &host, timeout))).await
            }
            Transport::Email(spec) => {
                let spec = Arc::clone(spec);
                blocking(Box::new(move || email::send(&spec, &alert, &host, timeout))).await
            }
            Transport::Command(spec) => command::run(spec, &alert, &host, timeout).await,
        }
    }
}

/// The channels of `slotcron.yaml`, not yet running.
pub struct Dispatcher {
    channels: Vec<Arc<Channel>>,
    options: DispatchOptions,
}

impl Dispatcher {
    pub fn new(channels: Vec<ChannelSpec>, options: DispatchOptions) -> Dispatcher {
        Dispatcher {
            channels: channels
                .into_iter()
                .map(|c| Arc::new(Channel::new(c)))
                .collect(),
            options,
        }
    }

    /// Starts the background task on the current tokio runtime. It ends when `shutdown`
    /// completes (deliveries in flight get `shutdown_grace`) or when every handle is
    /// dropped (deliveries in flight finish).
    pub fn spawn(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> (DispatcherHandle, JoinHandle<()>) {
        let (queue, alerts) = mpsc::channel(self.options.queue.max(1));
        let (reports, _) = broadcast::channel(REPORTS_KEPT);
        let handle = DispatcherHandle {
            queue,
            reports: reports.clone(),
            dropped: Arc::new(AtomicU64::new(0)),
        };
        let task = tokio::spawn(self.run(alerts, reports, shutdown));
        (handle, task)
    }

    async fn run(
        self,
        mut alerts: mpsc::Receiver<AlertMessage>,
        reports: broadcast::Sender<DeliveryReport>,
        shutdown: impl Future<Output = ()>,
    ) {
        let host: Arc<str> = Arc::from(self.options.host.as_str());
        let mut deliveries = JoinSet::new();
        tokio::pin!(shutdown);
        let stopped = loop {
            tokio::select! {
                () = &mut shutdown => break true,
                alert = alerts.recv() => {
                    let Some(alert) = alert else { break false };
                    let alert = Arc::new(alert);
                    for channel in &self.channels {
                        if alert.severity < channel.min_severity {
                            debug!(channel = %channel.name, alert_id = alert.id, severity = %alert.severity, "below the channel's min_severity");
                            continue;
                        }
                        deliveries.spawn(deliver(
                            Arc::clone(channel),
                            Arc::clone(&alert),
                            Arc::clone(&host),
                            self.options.clone(),
                            reports.clone(),
                        ));
                    }
                }
                Some(_) = deliveries.join_next(), if !deliveries.is_empty() => {}
            }
        };
        alerts.close();
        let unsent = std::iter::from_fn(|| alerts.try_recv().ok()).count();
        if unsent > 0 {
            warn!(unsent, "shutting down: queued alerts not notified");
        }
        let drain = async { while deliveries.join_next().await.is_some() {} };
        if stopped {
            if tokio::time::timeout(self.options.shutdown_grace, drain)
                .await
                .is_err()
            {
                warn!(
                    abandoned = deliveries.len(),
                    "shutting down: deliveries in flight abandoned"
                );
            }
        } else {
            drain.await;
        }
    }
}

/// Starts a dispatcher with the default [`DispatchOptions`]; see [`Dispatcher::spawn`].
pub fn spawn(
    channels: Vec<ChannelSpec>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (DispatcherHandle, JoinHandle<()>) {
    Dispatcher::new(channels, DispatchOptions::default()).spawn(shutdown)
}

/// Delivers one alert to one channel: attempts with exponential backoff until one
/// succeeds, one fails permanently, or `retries` are spent.
async fn deliver(
    channel: Arc<Channel>,
    alert: Arc<AlertMessage>,
    host: Arc<str>,
    options: DispatchOptions,
    reports: broadcast::Sender<DeliveryReport>,
) {
    let name = channel.name.as_str();
    let started = Instant::now();
    let mut attempts = 0;
    let outcome = loop {
        attempts += 1;
        match channel.attempt(&alert, &host).await {
            Ok(()) => {
                info!(
                    channel = name,
                    alert_id = alert.id,
                    attempts,
                    "alert notified"
                );
                break Outcome::Delivered;
            }
            Err(e) => {
                warn!(channel = name, alert_id = alert.id, attempt = attempts, error = %e, "alert notification failed");
                if e.is_permanent() || attempts > channel.retries {
                    error!(channel = name, alert_id = alert.id, attempts, error = %e, "gave up notifying alert");
                    break Outcome::GaveUp(e);
                }
                tokio::time::sleep(backoff(options.backoff_base, options.backoff_cap, attempts))
                    .await;
            }
        }
    };
    // No receiver is the normal case outside tests.
    let _ = reports.send(DeliveryReport {
        channel: name.to_owned(),
        alert_id: alert.id,
        outcome,
        attempts,
        elapsed: started.elapsed(),
    });
}

/// The scheduler's end of the dispatcher. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DispatcherHandle {
    queue: mpsc::Sender<AlertMessage>,
    reports: broadcast::Sender<DeliveryReport>,
    /// Alerts dropped because the queue was full or the dispatcher gone.
    dropped: Arc<AtomicU64>,
}

impl DispatcherHandle {
    /// Queues `alert` for every channel it reaches. Never waits: when the queue is full
    /// (or the dispatcher has stopped) the alert is dropped with a warning and `false`.
    pub fn send(&self, alert: AlertMessage) -> bool {
        match self.queue.try_send(alert) {
            Ok(()) => true,
            Err(e) => {
                let total = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                let (why, alert) = match e {
                    mpsc::error::TrySendError::Full(a) => ("queue full", a),
                    mpsc::error::TrySendError::Closed(a) => ("dispatcher stopped", a),
                };
                warn!(alert_id = alert.id, job = %alert.job, why, dropped_total = total, "alert not notified");
                false
            }
        }
    }

    /// A receiver of every [`DeliveryReport`] from now on.
    pub fn reports(&self) -> broadcast::Receiver<DeliveryReport> {
        self.reports.subscribe()
    }

    /// How many alerts [`send`](Self::send) has dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}
