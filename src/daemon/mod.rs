//! `slotcron daemon`: the long-running scheduler. One tokio task owns the [`engine::Engine`]
//! and sleeps until the next deadline or an event: a run ending, a control request, a
//! change in `jobs_dir`, SIGHUP, or shutdown. Nothing polls on a fixed period.
//!
//! - [`registry`]: the scheduled jobs, kept in step with the files.
//! - [`engine`]: policies, queues and runs in motion.
//! - [`startup`]: the first load, crash recovery, `@reboot` and `catch_up`.
//! - [`reload`]: bringing the registry in step with `jobs_dir`, paying only for changes.
//! - [`alerting`]: the alerts a run raises, handed to the notification channels.
//! - [`control`]: answering `slotcron status/trigger/kill/...` over the socket.
//! - [`recovery`]: adopting the runs a killed daemon left behind.
//! - [`machine`]: the machine's memory signals (`/proc`), read for `protect`.
//! - [`memory`]: returning what a reload freed to the kernel.
//! - [`notify`]: telling systemd we are ready, alive and stopping.
//! - [`query`]: the loop's answers to the questions the HTTP server asks through
//!   `control::handle` (figures, job states, control).
//! - [`live`] (`control::live`, re-exported): runs and alerts as they happen, for the HTTP
//!   API's event stream.
//! - [`lock`]: one daemon per state directory.
//! - [`shutdown`]: the one stop signal handed to each task the daemon starts.
//! - [`timer`], [`watch`]: the kernel facilities the loop sleeps on (timerfd, inotify).

pub mod alerting;
#[cfg(test)]
mod clock_tests;
pub mod engine;
mod fd;
pub use crate::control::live;
pub mod lock;
pub mod machine;
pub mod memory;
pub mod notify;
pub mod query;
pub mod recovery;
pub mod registry;
pub mod reload;
pub mod requests;
pub mod shutdown;
pub mod startup;
pub mod timer;
pub mod watch;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::control::protocol::{Request, Response};
use crate::runner::Enforcer;
use crate::store::Store;

use engine::{Engine, RunEvent, Wake};
use notify::Notifier;
use shutdown::Shutdown;
use timer::WallTimer;
use watch::DirWatch;

/// How long a burst of file events may go on before one reload takes them all in (an
/// editor's save is several events; `git checkout` is hundreds).
pub const RELOAD_DEBOUNCE: Duration = Duration::from_millis(200);

/// Everything the daemon works with, passed in so tests can supply their own.
pub struct World {
    pub settings: Arc<Settings>,
    pub enforcer: Arc<Enforcer>,
    pub store: Arc<Mutex<Store>>,
    /// The control socket, already bound (see `crate::control::server::bind`).
    pub control: Option<UnixListener>,
    /// The HTTP listener for `/metrics` (`metrics.listen`), already bound; `None`: off.
    pub http: Option<TcpListener>,
    /// Where the machine's memory signals are read ([`machine::ProcMemory`] on `/proc`).
    pub machine: Arc<dyn machine::MemorySignals>,
    /// This boot's id (`/proc/sys/kernel/random/boot_id`); `@reboot` jobs run when it
    /// differs from the one stored by the last daemon.
    pub boot_id: Option<String>,
    /// A message asks for a reload (SIGHUP in the binary).
    pub reload_requests: mpsc::UnboundedReceiver<()>,
    pub notifier: Notifier,
    /// Where every wall-clock time the daemon reads comes from (ADR 0038):
    /// [`crate::clock::system`], or a test's [`crate::clock::FakeClock`].
    pub clock: SharedClock,
}

/// The daemon failed to start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("history: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("crash recovery: {0}")]
    Recovery(String),
    #[error(
        "the HTTP API listens on {addr}, which is not loopback, so it needs its token, but {source}"
    )]
    Token {
        addr: String,
        source: crate::http::token::TokenError,
    },
}

/// The HTTP API's access rules for `listener`: its token (made on first start), reads open
/// on loopback or with `api.public_read`. Without a token the API still serves reads on
/// loopback (actions answer 403); elsewhere the daemon refuses to start.
///
/// # Errors
/// [`DaemonError::Token`] when the token cannot be had for a non-loopback listener.
pub fn http_access(
    settings: &Settings,
    listener: &TcpListener,
) -> Result<crate::http::Access, DaemonError> {
    let addr = listener.local_addr().ok();
    let loopback = addr.is_some_and(|a| a.ip().is_loopback());
    match crate::http::token::load_or_create(&settings.state_dir) {
        Ok(token) => Ok(crate::http::Access::new(
            Some(token),
            loopback,
            settings.api.public_read,
        )),
        Err(error) if loopback => {
            warn!(%error, "no API token: the HTTP API refuses every action (403)");
            Ok(crate::http::Access::new(
                None,
                true,
                settings.api.public_read,
            ))
        }
        Err(source) => Err(DaemonError::Token {
            addr: addr.map_or_else(|| "?".to_owned(), |a| a.to_string()),
            source,
        }),
    }
}

/// Runs the daemon until `shutdown` resolves, then stops every run (each gets the kill
/// grace), records everything and returns.
///
/// # Errors
/// Only when it cannot start (history unusable, recovery impossible); once running, every
/// failure is logged and recorded and scheduling goes on.
pub async fn run(world: World, shutdown: impl Future<Output = ()>) -> Result<(), DaemonError> {
    let World {
        settings,
        enforcer,
        store,
        control,
        http,
        machine,
        boot_id,
        reload_requests,
        notifier,
        clock,
    } = world;
    let access = http
        .as_ref()
        .map(|listener| http_access(&settings, listener))
        .transpose()?;
    let (events_tx, events) = mpsc::unbounded_channel();
    let mut engine = Engine::new(settings.clone(), enforcer, store, machine, events_tx)
        .with_clock(clock.clone())
        .with_notifier(notifier.clone());
    engine.watch_history_file();
    let (stop_notifying, notifications) = alerting::start(&settings, &mut engine);
    startup::start(&mut engine, boot_id.as_deref()).await?;
    memory::release_freed_memory();

    let stop_server = Shutdown::new();
    let (requests_tx, requests) = mpsc::channel(64);
    if let Some(listener) = control {
        let serving = crate::control::server::serve(listener, requests_tx, stop_server.signal());
        tokio::spawn(serving);
    }
    let (handle, queries) = query::EngineHandle::channel();
    let stop_http = Shutdown::new();
    serve_http(http, handle, &engine, access, &stop_http);
    let mut inbox = Inbox {
        events,
        requests,
        queries,
        reload_requests,
        watch: watch_jobs_dir(&settings),
        timer: WallTimer::new(clock),
        watchdog: notifier.watchdog_interval().map(tokio::time::interval),
        reload_at: None,
    };
    notifier.ready(&format!("scheduling {} jobs", engine.registry().jobs.len()));
    info!(jobs = engine.registry().jobs.len(), "daemon ready");

    event_loop(&mut engine, &mut inbox, &notifier, shutdown).await;

    info!(running = engine.running_count(), "stopping");
    notifier.stopping();
    engine.begin_shutdown().await;
    drain(&mut engine, &mut inbox, &notifier).await;
    engine.flush_history_at_shutdown().await;
    stop_server.trigger();
    alerting::stop(&stop_notifying, notifications).await;
    stop_http.trigger();
    info!("stopped");
    Ok(())
}

/// Everything the event loop waits on besides its deadlines' timer and the stop.
struct Inbox {
    /// Runs recorded and finished, from their tasks.
    events: mpsc::UnboundedReceiver<RunEvent>,
    /// The control socket's requests, each with where its answer goes.
    requests: mpsc::Receiver<(Request, oneshot::Sender<Response>)>,
    /// The HTTP server's questions.
    queries: mpsc::Receiver<query::Query>,
    /// A message asks for a reload (SIGHUP).
    reload_requests: mpsc::UnboundedReceiver<()>,
    /// Changes in `jobs_dir`; `None` when inotify could not watch it.
    watch: Option<DirWatch>,
    /// Sleeps until the timeline's next deadline.
    timer: WallTimer,
    /// systemd's watchdog period, when systemd asks for pings.
    watchdog: Option<tokio::time::Interval>,
    /// When the debounced reload of file changes is due; `None`: none pending.
    reload_at: Option<tokio::time::Instant>,
}

/// inotify on `jobs_dir`, or `None` (said in the log) when it cannot be had.
fn watch_jobs_dir(settings: &Settings) -> Option<DirWatch> {
    DirWatch::new(&settings.jobs_dir)
        .map_err(
            |error| warn!(%error, "job files will be reloaded only on SIGHUP or `slotcron reload`"),
        )
        .ok()
}

/// The daemon's one loop: sleeps until the next deadline or an event and handles it,
/// until `shutdown` resolves.
async fn event_loop(
    engine: &mut Engine,
    inbox: &mut Inbox,
    notifier: &Notifier,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let deadline = engine.next_deadline();
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(event) = inbox.events.recv() => match event {
                RunEvent::Recorded { token, id } => engine.recorded(token, id),
                RunEvent::Finished { token, result } => engine.finished(token, result).await,
            },
            Some((request, reply)) = inbox.requests.recv() => {
                let reloads = matches!(request, Request::Reload);
                let response = requests::handle(engine, request).await;
                let _ = reply.send(response);
                if reloads {
                    memory::release_freed_memory();
                }
            }
            Some(query) = inbox.queries.recv() => query::answer(engine, query).await,
            Some(()) = inbox.reload_requests.recv() => {
                inbox.reload_at = None;
                reload_and_trim(engine, reload::Cause::Asked).await;
            }
            _ = async { inbox.watch.as_mut().expect("guarded").changed().await }, if inbox.watch.is_some() => {
                inbox.reload_at.get_or_insert_with(|| tokio::time::Instant::now() + RELOAD_DEBOUNCE);
            }
            () = async { tokio::time::sleep_until(inbox.reload_at.expect("guarded")).await }, if inbox.reload_at.is_some() => {
                inbox.reload_at = None;
                reload_and_trim(engine, reload::Cause::Files).await;
            }
            _ = async { inbox.watchdog.as_mut().expect("guarded").tick().await }, if inbox.watchdog.is_some() => {
                notifier.ping();
            }
            () = inbox.timer.sleep_until(deadline) => wake(engine).await,
        }
    }
}

/// Starts the HTTP server on `listener`, if any, answering through `handle` until `stop`.
fn serve_http(
    listener: Option<TcpListener>,
    handle: query::EngineHandle,
    engine: &Engine,
    access: Option<crate::http::Access>,
    stop: &Shutdown,
) {
    let settings = engine.settings();
    if let Some(listener) = listener {
        let mut state =
            crate::http::AppState::new(handle, engine.enforcer(), Some(engine.store().clone()));
        state.live = engine.live().clone();
        state.backlog = Some(engine.backlog().clone());
        state.access = access.unwrap_or_default();
        state.health = settings.health;
        state.clock = engine.clock().clone();
        state.settings = Some(settings.clone());
        // The engine's own reader, so a test's fixed memory is the forecast's too.
        let machine = engine.machine().clone();
        state.mem_available = Some(crate::http::plan::MemAvailable(Arc::new(move || {
            machine.machine_state().ok()?.mem_available
        })));
        let limits = crate::http::ServerLimits {
            connections: descriptor_budget(settings).http,
            ..crate::http::ServerLimits::default()
        };
        tokio::spawn(crate::http::serve_with(
            listener,
            state,
            stop.signal(),
            limits,
        ));
    } else {
        drop(handle);
    }
}

/// After the loop: lets the runs in flight end (recording each), still answering the HTTP
/// server's questions and pinging the watchdog.
async fn drain(engine: &mut Engine, inbox: &mut Inbox, notifier: &Notifier) {
    while engine.running_count() > 0 {
        tokio::select! {
            event = inbox.events.recv() => match event {
                Some(RunEvent::Recorded { token, id }) => engine.recorded(token, id),
                Some(RunEvent::Finished { token, result }) => engine.finished(token, result).await,
                None => break,
            },
            Some(query) = inbox.queries.recv() => query::answer(engine, query).await,
            _ = async { inbox.watchdog.as_mut().expect("guarded").tick().await }, if inbox.watchdog.is_some() => {
                notifier.ping();
            }
        }
    }
}

/// How the descriptors in force are shared between runs and the HTTP server (ADR 0021),
/// said in the log.
fn descriptor_budget(settings: &Settings) -> crate::descriptors::Budget {
    let limit = crate::descriptors::current_limit().unwrap_or_else(|error| {
        warn!(%error, "cannot read RLIMIT_NOFILE; assuming 1024");
        1024
    });
    let seats = settings
        .slots
        .values()
        .map(|s| u64::from(s.max_concurrent))
        .sum();
    let channels = settings.notifications.len() as u64;
    let budget = crate::descriptors::Budget::new(
        limit,
        seats,
        channels,
        crate::control::server::MAX_CONNECTIONS,
    );
    budget.log();
    budget
}

/// Reloads `jobs_dir`, then, if anything changed, returns the memory the reload freed to
/// the kernel. The trim is not part of [`reload::reload`]: it is the long-running
/// process's concern, and its cost stays off the reload itself (and off a
/// `slotcron reload`'s answer, sent first).
async fn reload_and_trim(engine: &mut Engine, cause: reload::Cause) {
    if reload::reload(engine, cause).await.changed {
        memory::release_freed_memory();
    }
}

/// Handles every deadline that has come.
async fn wake(engine: &mut Engine) {
    let now = engine.now();
    for wake in engine.take_due(now) {
        match wake {
            Wake::Fire(job) => engine.fire(&job, now).await,
            Wake::Retry(key) => engine.retry(key, now).await,
            Wake::Recheck => engine.dispatch(now).await,
            Wake::Prune => engine.prune(now).await,
            Wake::Overdue(job) => engine.check_overdue(&job, now).await,
            Wake::History => engine.flush_history(now).await,
            Wake::Backup => engine.backup(now).await,
            Wake::Pressure => engine.pressure_tick(now).await,
        }
    }
}
