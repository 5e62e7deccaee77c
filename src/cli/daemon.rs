//! `slotcron daemon`: load the configuration, set up enforcement and history, bind the
//! control socket, and run the scheduler until SIGTERM or SIGINT. SIGHUP reloads
//! `jobs_dir`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use clap::Args;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tracing::{info, warn};

use crate::control::{bind, socket_path};
use crate::daemon::machine::ProcMemory;
use crate::daemon::notify::Notifier;
use crate::daemon::startup::{DEFAULT_BOOT_ID_PATH, read_boot_id};
use crate::daemon::{self, World};
use crate::http::ADDR_FILE;
use crate::runner::{CgroupEnv, Enforcer};

use super::context;

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Take the cgroup the daemon starts in as delegated to it, without systemd's
    /// `trusted.delegate`/`user.delegate` mark: for a unit with `Delegate=yes` under
    /// systemd's user manager, which sets no mark (the packaged user unit passes it).
    #[arg(long)]
    pub delegated: bool,
}

pub fn daemon(config: Option<&Path>, args: &DaemonArgs) -> Result<ExitCode> {
    let settings = context::load_settings(config)?;
    ignore_file_size_signal();
    one_malloc_arena();
    // Before anything opens a descriptor; jobs get the old soft limit back (ADR 0021).
    if let Err(error) = crate::descriptors::raise_limit() {
        warn!(%error, "cannot raise the descriptor limit");
    }
    context::create_state_dir(&settings.state_dir)?;
    let _lock = crate::daemon::lock::lock_state_dir(&settings.state_dir)?;
    let store = open_history(&settings.state_dir)?;
    let env = if args.delegated {
        CgroupEnv::kernel_delegated()
    } else {
        CgroupEnv::kernel()
    };
    let enforcer = Enforcer::setup(&settings, &env)?;
    match &enforcer {
        Enforcer::Cgroup(tree) => {
            info!(root = %tree.root().display(), "enforcing limits with cgroup v2")
        }
        Enforcer::Unconfined { reason } => warn!(%reason, "jobs run WITHOUT kernel limits"),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(64)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let socket: PathBuf = socket_path(&settings);
        let listener = bind(&socket)?;
        info!(socket = %socket.display(), "control socket");
        let http = bind_metrics(&settings).await?;
        let addr_file = settings.state_dir.join(ADDR_FILE);
        let (reload_tx, reload_requests) = tokio::sync::mpsc::unbounded_channel();
        let mut hangup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                info!("SIGHUP: reloading job files");
                if reload_tx.send(()).is_err() {
                    break;
                }
            }
        });
        let world = World {
            settings: Arc::new(settings),
            enforcer: Arc::new(enforcer),
            store: Arc::new(Mutex::new(store)),
            control: Some(listener),
            http,
            machine: Arc::new(ProcMemory::default()),
            boot_id: read_boot_id(Path::new(DEFAULT_BOOT_ID_PATH)),
            reload_requests,
            notifier: Notifier::from_env(),
            clock: crate::clock::system(),
        };
        daemon::run(world, super::signals::stop_requested()).await?;
        let _ = std::fs::remove_file(&socket);
        let _ = std::fs::remove_file(addr_file);
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the history and runs `PRAGMA quick_check` on it: a damaged database is refused,
/// with how to restore the newest backup (ADR 0022).
fn open_history(state_dir: &Path) -> Result<crate::store::Store> {
    use crate::store::{StoreError, backup};
    let db = state_dir.join(crate::store::DEFAULT_DB_FILE);
    if let Some(loss) = crate::store::identity::missing_history(state_dir, &db) {
        tracing::error!("{loss}");
    }
    let opened = crate::store::Store::open(&db).and_then(|store| {
        store.quick_check()?;
        Ok(store)
    });
    match opened {
        Ok(store) => {
            if let Err(error) = crate::store::identity::mark(state_dir) {
                warn!(%error, dir = %state_dir.display(), "cannot leave the history marker");
            }
            Ok(store)
        }
        Err(error @ (StoreError::Corrupt { .. } | StoreError::Damaged { .. })) => {
            Err(anyhow::anyhow!(
                "{}; {}",
                crate::store::backlog::describe(&error),
                backup::recovery_advice(&db, &state_dir.join(backup::BACKUP_DIR))
            ))
        }
        Err(error) => Err(error.into()),
    }
}

/// A write past `RLIMIT_FSIZE` ends the process by default (SIGXFSZ); the daemon takes it
/// as the error it also is (`EFBIG`), so a history it cannot grow is reported and its runs
/// kept, as on a full disk (ADR 0022). Jobs get the default back (`runner::spawn`).
fn ignore_file_size_signal() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: SIG_IGN installs no handler code; nothing else sets this signal's action.
    if let Err(error) = unsafe { signal(Signal::SIGXFSZ, SigHandler::SigIgn) } {
        warn!(%error, "cannot ignore SIGXFSZ");
    }
}

/// glibc gives each new thread its own malloc arena (up to 8 per core); the daemon's
/// blocking threads come and go, so over hours more arenas get touched and RSS creeps up
/// although nothing leaks (`benches/soak`: +3.6 MB in 4 min with the default, flat after
/// two minutes with one arena, and less CPU per run). One arena suits a daemon whose threads
/// mostly wait; it is set by `mallopt`, not `MALLOC_ARENA_MAX`, so jobs do not inherit it.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes an allocator parameter; called before other threads exist.
    if unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) } != 1 {
        warn!("cannot limit malloc to one arena (mallopt M_ARENA_MAX)");
    }
}

/// Binds `metrics.listen` (unless `off`) and writes the bound address to
/// `<state_dir>/metrics.addr`, so port 0 can be used and found.
async fn bind_metrics(settings: &crate::config::Settings) -> Result<Option<TcpListener>> {
    let Some(addr) = settings.metrics_listen else {
        info!("metrics endpoint off");
        return Ok(None);
    };
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the metrics endpoint to {addr} (metrics.listen)"))?;
    let bound = listener
        .local_addr()
        .with_context(|| format!("the address of the metrics endpoint {addr}"))?;
    let file = settings.state_dir.join(ADDR_FILE);
    std::fs::write(&file, format!("{bound}\n"))
        .with_context(|| format!("writing {}", file.display()))?;
    info!(addr = %bound, "metrics endpoint: http://{bound}/metrics");
    Ok(Some(listener))
}
