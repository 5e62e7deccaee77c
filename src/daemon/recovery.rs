//! Crash recovery: what a `kill -9` of the daemon left behind, found and settled at the
//! next start, so that no run stays `running` in history forever.
//!
//! A crash leaves two kinds of traces: history rows still in status `running`
//! ([`Store::running_runs`]) and run cgroups `<root>/jobs/<slot>/run-<id>`. [`recover`]
//! pairs them by run id and settles each:
//!
//! | found | what happens |
//! |---|---|
//! | row + cgroup with processes | ADOPTED: thawed and unthrottled if the pressure response had frozen or throttled it, returned in [`Recovery::adopted`]; [`watch_adopted`] waits until it is empty, then as below |
//! | row + empty cgroup | figures read, cgroup removed, row completed `lost` |
//! | row, no cgroup, its main process alive with the recorded start time (unconfined run) | ADOPTED: [`watch_adopted`] polls `/proc` every second until the process is gone, then completes the row `lost`, no figures |
//! | row, no cgroup, no such process (or the pid now names another process) | row completed `lost` at once, no figures |
//! | cgroup, no running row | orphan: killed if populated, removed, warning logged |
//!
//! `lost` is the status for "the supervisor died; how the run ended is unknown": a run that
//! is not our child cannot be `wait4`ed, so its exit status is gone for good. The kernel's
//! figures (memory peak, CPU, OOM kills) survive in the cgroup and are recorded. See
//! `docs/adr/0010-crash-recovery.md` for why runs are adopted rather than killed, and why
//! not re-parented.
//!
//! Limits, by design:
//! - An unconfined run (`enforcement: none`) is known only by its main process: its pid
//!   and that process's start time (field 22 of `/proc/<pid>/stat`) are recorded at spawn,
//!   and the pair must match to adopt it, so a reused pid is never taken for the run. It
//!   ends when that process is gone, even if descendants that left its process group live
//!   on; stopping it signals its process group (the run's own session). A row from before
//!   schema 9 has no start time and is completed `lost` as before; the error text then says
//!   the process may still run.
//! - A row whose main process is the child of another live `slotcron` process (a
//!   `slotcron run` started from a shell) is left alone ([`Recovery::supervised_elsewhere`]):
//!   that process completes it. Only such rows with a recorded pid are recognised.
//! - Only directories named `run-<digits>` directly below `<root>/jobs/<slot>` are touched,
//!   in every slot found there (configured or not); anything else is left as it is.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tracing::{Instrument, info, info_span, warn};

use crate::cgroup::{CgroupError, Hierarchy, RunCgroup};
use crate::clock::SharedClock;
use crate::runner::process::process_start;
use crate::runner::{Enforcer, cleanup, lost};
use crate::store::{RunRecord, Store, StoreError};

/// Longest blocking wait of one chunk while watching an adopted run. The async side notices
/// a stop at once; this bounds how long the blocking thread lingers afterwards.
const WATCH_CHUNK: Duration = Duration::from_secs(1);

/// Error text of a run adopted at start and watched until its processes ended.
pub const ADOPTED_TEXT: &str = "slotcron restarted while this run was going; adopted and \
                                watched until it ended; exit status unknown";
/// Error text of an adopted run that slotcron stopped at its own shutdown.
pub const ADOPTED_STOPPED_TEXT: &str = "slotcron restarted while this run was going; \
                                        adopted, then stopped at slotcron's shutdown; exit status unknown";
/// Error text of a run whose cgroup was found empty at start.
pub const ENDED_TEXT: &str = "slotcron stopped while this run was going; its processes had \
                              ended by the restart; exit status unknown";
/// Error text of a run found without a cgroup at start.
pub const NO_CGROUP_TEXT: &str = "slotcron stopped while this run was going; the run had no \
                                  cgroup left to watch, so how it ended is unknown";

/// What [`recover`] found and did.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Runs completed `lost` at once (no cgroup, or an empty one), by id.
    pub completed: Vec<i64>,
    /// Runs whose cgroup still has processes. They are still `running` in history and
    /// still occupy a seat of their slot: hand each to [`watch_adopted`].
    pub adopted: Vec<Adopted>,
    /// Run cgroups without a running row, removed (the populated ones killed first).
    pub removed_orphans: Vec<PathBuf>,
    /// Running rows whose main process is the child of another live `slotcron` process:
    /// left alone, that process completes them.
    pub supervised_elsewhere: Vec<i64>,
}

/// A run found going at start: its cgroup still had processes.
#[derive(Debug, Clone)]
pub struct Adopted {
    /// The history row, still `running`.
    pub run_id: i64,
    /// The job's name.
    pub job: String,
    /// The slot whose seat the run occupies (the slot its cgroup was found in).
    pub slot: String,
    /// When the run started (for its duration).
    pub started_at: DateTime<Utc>,
    /// What the run is watched through.
    pub watched: Watched,
}

/// What an adopted run is watched through.
#[derive(Debug, Clone)]
pub enum Watched {
    /// A confined run's cgroup, populated when found.
    Cgroup(RunCgroup),
    /// An unconfined run's main process: a pid, and its start time in clock ticks since
    /// boot, which together name one process for the machine's life. The run was started
    /// in a session of its own, so its process group id is `pid`.
    Process { pid: u32, start: u64 },
}

/// Recovery could not read or write what it needs.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("history: {0}")]
    Store(#[from] StoreError),
    #[error("looking for run cgroups left behind: {0}")]
    Cgroup(#[from] CgroupError),
}

/// A run cgroup found below a slot.
struct Found {
    id: i64,
    slot: String,
    cgroup: RunCgroup,
}

/// Settles what a crashed predecessor left: completes `lost` every `running` row whose run
/// is over, adopts the runs still going, removes orphaned run cgroups (see the module doc).
/// `now` is the `finished_at` of the runs completed here. BLOCKS: killing an orphan waits up
/// to 10 s for it to empty; call it before serving, or inside `spawn_blocking`.
///
/// # Errors
/// [`RecoveryError::Cgroup`] when the slot tree cannot be listed, [`RecoveryError::Store`]
/// when history cannot be read or a row not completed. A single cgroup that cannot be
/// killed or removed is only logged.
pub fn recover(
    enforcer: &Enforcer,
    store: &mut Store,
    now: DateTime<Utc>,
) -> Result<Recovery, RecoveryError> {
    // Cgroups first, rows second: a row is inserted before its cgroup is created and
    // completed after it is removed, so a cgroup listed here whose row is not `running`
    // below has really lost its row (or is already gone again).
    let mut found = match enforcer {
        Enforcer::Cgroup(tree) => run_cgroups(tree)?,
        Enforcer::Unconfined { .. } => Vec::new(),
    };
    let mut out = Recovery::default();
    for row in store.running_runs()? {
        let cgroup = found
            .iter()
            .position(|f| f.id == row.id)
            .map(|i| found.swap_remove(i));
        if let Some(parent) = row.pid.and_then(live_supervisor) {
            info!(run_id = row.id, job = %row.job, supervisor = parent, "run supervised by another slotcron process; left alone");
            out.supervised_elsewhere.push(row.id);
            continue;
        }
        match cgroup {
            Some(found) => settle_with_cgroup(store, row, found, now, &mut out)?,
            None => settle_without_cgroup(store, row, now, &mut out)?,
        }
    }
    remove_orphans(found, &mut out);
    Ok(out)
}

/// A `running` row without a cgroup: adopted when its main process still runs (an
/// unconfined run), otherwise completed `lost` at `now`.
fn settle_without_cgroup(
    store: &mut Store,
    row: RunRecord,
    now: DateTime<Utc>,
    out: &mut Recovery,
) -> Result<(), StoreError> {
    if let Some(watched) = live_process(store, &row)? {
        info!(run_id = row.id, job = %row.job, ?watched, "unconfined run still going after a restart; adopted");
        out.adopted.push(Adopted {
            run_id: row.id,
            job: row.job,
            slot: row.slot,
            started_at: row.started_at,
            watched,
        });
        return Ok(());
    }
    let mut text = NO_CGROUP_TEXT.to_owned();
    if let Some(pid) = row
        .pid
        .filter(|p| Path::new(&format!("/proc/{p}")).exists())
    {
        text.push_str(&format!(
            " (a process {pid} still exists and is not watched; the pid may have been reused)"
        ));
    }
    warn!(run_id = row.id, job = %row.job, "run without a cgroup left by a crash; recorded lost");
    store.finish_run(row.id, &lost(None, row.started_at, now, text))?;
    out.completed.push(row.id);
    Ok(())
}

/// A `running` row with its cgroup: adopted (and released from the pressure response) when
/// the cgroup has processes, otherwise its figures read, the cgroup removed and the row
/// completed `lost` at `now`.
fn settle_with_cgroup(
    store: &mut Store,
    row: RunRecord,
    found: Found,
    now: DateTime<Utc>,
    out: &mut Recovery,
) -> Result<(), StoreError> {
    let populated = found.cgroup.is_populated().unwrap_or_else(|error| {
        warn!(%error, "reading whether an old run's cgroup has processes");
        false
    });
    if populated {
        info!(run_id = row.id, job = %row.job, slot = %found.slot, "run still going after a restart; adopted");
        release_pressure(&found.cgroup, row.id);
        out.adopted.push(Adopted {
            run_id: row.id,
            job: row.job,
            slot: found.slot,
            started_at: row.started_at,
            watched: Watched::Cgroup(found.cgroup),
        });
    } else {
        let stats = cleanup(&found.cgroup);
        warn!(run_id = row.id, job = %row.job, "run ended while slotcron was down; recorded lost");
        let done = lost(stats, row.started_at, now, ENDED_TEXT.to_owned());
        store.finish_run(row.id, &done)?;
        out.completed.push(row.id);
    }
    Ok(())
}

/// Run cgroups without a `running` row: killed if populated, then removed.
fn remove_orphans(found: Vec<Found>, out: &mut Recovery) {
    for orphan in found {
        let path = orphan.cgroup.path().to_path_buf();
        if orphan.cgroup.is_populated().unwrap_or(true) {
            warn!(cgroup = %path.display(), run_id = orphan.id, "run cgroup with processes but no running run in history; killing it");
        } else {
            info!(cgroup = %path.display(), run_id = orphan.id, "removing a leftover run cgroup");
        }
        // Kills what is left (nothing, if empty), waits for it to empty, removes it.
        cleanup(&orphan.cgroup);
        out.removed_orphans.push(path);
    }
}

/// The main process of a row without a cgroup, if it is still the run's: a process with the
/// recorded pid exists and started at the recorded tick.
fn live_process(store: &Store, row: &RunRecord) -> Result<Option<Watched>, StoreError> {
    let Some(pid) = row.pid else {
        return Ok(None);
    };
    let Some(start) = store.run_pid_start(row.id)? else {
        return Ok(None);
    };
    Ok((process_start(pid) == Some(start)).then_some(Watched::Process { pid, start }))
}

/// Undoes what the pressure response of the crashed daemon may have left on a run it
/// adopts (ADR 0036): the new daemon's ladder starts calm and knows none of it, so a run
/// left frozen would stay frozen forever. A run cgroup never has a `memory.high` of its
/// own, so `max` is always right. Errors are logged: the run is adopted anyway.
fn release_pressure(cgroup: &RunCgroup, run_id: i64) {
    match cgroup.is_freeze_set() {
        Ok(true) => match cgroup.set_frozen(false) {
            Ok(()) => {
                warn!(run_id, cgroup = %cgroup.path().display(), "thawed a run the previous daemon left frozen")
            }
            Err(error) => warn!(run_id, %error, "thawing an adopted run"),
        },
        Ok(false) => {}
        Err(error) => warn!(run_id, %error, "reading whether an adopted run is frozen"),
    }
    if let Err(error) = cgroup.set_memory_high(None) {
        warn!(run_id, %error, "lifting an adopted run's memory.high");
    }
}

/// Watches an adopted run until its cgroup is empty, then reads its figures, removes the
/// cgroup and completes the row `lost`. If `stop` resolves first (daemon shutdown), the run
/// is stopped as the runner stops one: SIGTERM to every process, up to `kill_grace` to
/// exit, then `cgroup.kill`; it is still recorded `lost`. Returns the completed record.
///
/// # Errors
/// [`RecoveryError::Store`] when the row cannot be completed (e.g. someone else completed
/// it). Cgroup errors are logged: the run is then cleaned up and completed anyway.
pub async fn watch_adopted(
    adopted: Adopted,
    store: Arc<Mutex<Store>>,
    clock: SharedClock,
    stop: impl Future<Output = ()>,
    kill_grace: Duration,
) -> Result<RunRecord, RecoveryError> {
    let span = info_span!("adopted", job = %adopted.job, run_id = adopted.run_id);
    async move {
        let Adopted {
            run_id,
            started_at,
            watched,
            ..
        } = adopted;
        let (stopped, finished_at, stats) = match watched {
            Watched::Cgroup(cgroup) => {
                let stopped = wait_or_stop(&cgroup, stop).await;
                let finished_at = clock.now();
                let stats = tokio::task::spawn_blocking(move || {
                    if stopped {
                        terminate(&cgroup, kill_grace);
                    }
                    cleanup(&cgroup)
                })
                .await
                .ok()
                .flatten();
                (stopped, finished_at, stats)
            }
            Watched::Process { pid, start } => {
                let stopped = wait_process_or_stop(pid, start, stop).await;
                if stopped {
                    let _ = tokio::task::spawn_blocking(move || {
                        terminate_process(pid, start, kill_grace);
                    })
                    .await;
                }
                (stopped, clock.now(), None)
            }
        };
        let text = if stopped {
            ADOPTED_STOPPED_TEXT
        } else {
            ADOPTED_TEXT
        };
        let done = lost(stats, started_at, finished_at, text.to_owned());
        let record = tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
            store.finish_run(run_id, &done)?;
            store
                .run(run_id)?
                .ok_or(StoreError::NoSuchRun { id: run_id })
        })
        .await
        .expect("history task panicked")?;
        info!(status = %record.status, "adopted run ended");
        Ok(record)
    }
    .instrument(span)
    .await
}

/// Waits, in chunks on a blocking thread, until the cgroup is empty (`false`) or `stop`
/// resolves (`true`). A cgroup that cannot be watched counts as ended: the caller's
/// cleanup then kills whatever is left, so the run cannot stay `running`.
async fn wait_or_stop(cgroup: &RunCgroup, stop: impl Future<Output = ()>) -> bool {
    tokio::pin!(stop);
    loop {
        let cg = cgroup.clone();
        let chunk = tokio::task::spawn_blocking(move || cg.wait_empty(WATCH_CHUNK));
        tokio::select! {
            waited = chunk => match waited {
                Ok(Ok(true)) => return false,
                Ok(Ok(false)) => {}
                Ok(Err(error)) => {
                    warn!(%error, "cannot watch the adopted run's cgroup; cleaning it up");
                    return false;
                }
                Err(error) => {
                    warn!(%error, "watching the adopted run's cgroup failed; cleaning it up");
                    return false;
                }
            },
            () = &mut stop => {
                info!("stop requested; stopping the adopted run");
                return true;
            }
        }
    }
}

/// Polls `/proc` every [`WATCH_CHUNK`] until process `pid` started at `start` is gone
/// (`false`) or `stop` resolves (`true`). Not our child, so it cannot be waited for.
async fn wait_process_or_stop(pid: u32, start: u64, stop: impl Future<Output = ()>) -> bool {
    tokio::pin!(stop);
    while process_start(pid) == Some(start) {
        tokio::select! {
            () = tokio::time::sleep(WATCH_CHUNK) => {}
            () = &mut stop => {
                info!("stop requested; stopping the adopted run");
                return true;
            }
        }
    }
    false
}

/// SIGTERM to the process group of an adopted unconfined run, up to `grace` for its main
/// process to exit, then SIGKILL to the group. Each signal is sent only while process
/// `pid` is still the one that started at `start`. Blocking.
fn terminate_process(pid: u32, start: u64, grace: Duration) {
    let Ok(group) = i32::try_from(pid).map(Pid::from_raw) else {
        return;
    };
    let is_ours = || process_start(pid) == Some(start);
    if is_ours()
        && let Err(error) = killpg(group, Signal::SIGTERM)
    {
        warn!(%error, pid, "sending SIGTERM to the adopted run");
    }
    let deadline = std::time::Instant::now() + grace;
    while is_ours() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if is_ours() {
        warn!(?grace, "still running after the kill grace; killing");
        if let Err(error) = killpg(group, Signal::SIGKILL) {
            warn!(%error, pid, "sending SIGKILL to the adopted run");
        }
    }
}

/// SIGTERM to every process of the run, then up to `grace` for all of them to exit.
/// Blocking. Whatever is left is killed by [`cleanup`] afterwards.
fn terminate(cgroup: &RunCgroup, grace: Duration) {
    if let Err(error) = cgroup.signal_all(Signal::SIGTERM) {
        warn!(%error, "sending SIGTERM to the adopted run");
    }
    match cgroup.wait_empty(grace) {
        Ok(true) => {}
        Ok(false) => warn!(?grace, "still running after the kill grace; killing"),
        Err(error) => warn!(%error, "waiting for the adopted run to exit"),
    }
}

/// Every `run-<id>` cgroup directly below a slot directory of the tree, configured slots
/// or not (a slot dropped from the configuration may still hold runs).
fn run_cgroups(tree: &Hierarchy) -> Result<Vec<Found>, CgroupError> {
    let all = Hierarchy::attach(Arc::clone(tree.fs()), tree.root())?;
    let mut found = Vec::new();
    for slot in all.slots() {
        for path in all.run_dirs(slot)? {
            let Some(id) = run_id(&path) else {
                info!(cgroup = %path.display(), "not a run cgroup; left alone");
                continue;
            };
            match RunCgroup::open(Arc::clone(tree.fs()), &path) {
                Ok(cgroup) => found.push(Found {
                    id,
                    slot: slot.clone(),
                    cgroup,
                }),
                // Removed between listing and opening: nothing left to settle.
                Err(CgroupError::NoSuchCgroup { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(found)
}

/// The run id of a directory named `run-<digits>`.
///
/// ```text
/// run-42 -> Some(42); run-, run-4x, run--1, backup -> None
/// ```
fn run_id(path: &Path) -> Option<i64> {
    let digits = path.file_name()?.to_str()?.strip_prefix("run-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The parent of `pid` if it is a live `slotcron` process other than this one: the run is
/// then supervised by it (after a crash, orphans are re-parented to init or a subreaper).
fn live_supervisor(pid: u32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ppid = parent_pid(&stat)?;
    let me = i32::try_from(std::process::id()).ok()?;
    if ppid <= 1 || ppid == me {
        return None;
    }
    let comm = std::fs::read_to_string(format!("/proc/{ppid}/comm")).ok()?;
    (comm.trim_end() == "slotcron").then_some(ppid)
}

/// The parent pid from `/proc/<pid>/stat` (`pid (comm) state ppid ...`; comm may hold
/// spaces and parentheses, so fields are counted after the last `)`).
fn parent_pid(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
#[path = "recovery_tests.rs"]
mod tests;
