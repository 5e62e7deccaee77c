//! The life of one run: record it, give it a cgroup, start it inside, wait for it (or for its
//! timeout, or for a stop request), empty and remove the cgroup, read what the kernel
//! measured, and complete the record. Every path after the record exists completes it.

use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use tokio::task::JoinHandle;
use tracing::{Instrument, info, info_span, warn};

use crate::cgroup::RunCgroup;
use crate::clock::SharedClock;
use crate::config::{Job, Settings, Slot};
use crate::model::{Enforcement, RunUsage};
use crate::store::backlog::is_unwritable;
use crate::store::{
    Backlog, NewRun, RunCompletion, RunRecord, SharedBacklog, Store, StoreError, Unrecorded,
};

use super::enforce::Enforcer;
use super::limits::{effective_limits, run_limits};
use super::log::{CappedLog, pump_output};
use super::outcome::{Stopped, completed, not_started};
use super::pause::PressureClock;
use super::reap::{Target, Waited, cleanup, joined, signal_group, wait_exit};
use super::spawn::{Identity, Launch, spawn};

/// How long the output pump may still drain after the run ended (an escaped process of an
/// unconfined run may hold the pipe open forever).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs jobs now, each in its own cgroup below its slot.
#[derive(Clone)]
pub struct Runner {
    settings: Arc<Settings>,
    enforcer: Arc<Enforcer>,
    /// A std Mutex is right here: it is only locked inside `spawn_blocking`, never across
    /// an `.await`.
    store: Arc<Mutex<Store>>,
    /// Runs history could not take yet, and whether it takes writes (ADR 0022).
    backlog: SharedBacklog,
    /// Where a run's start and end times come from.
    clock: SharedClock,
}

/// One request to run a job.
#[derive(Debug)]
pub struct RunRequest<'a> {
    pub job: &'a Job,
    /// `manual`, `schedule`, `retry`...
    pub trigger: &'a str,
    /// 1 for a first attempt.
    pub attempt: u32,
    /// The first attempt's run id, for retries.
    pub retry_of: Option<i64>,
    /// When the run entered its slot's queue, if it waited.
    pub queued_at: Option<DateTime<Utc>>,
    /// When the scheduler gave the run its seat: recorded as `started_at` (so wait time is
    /// admission's alone); `None` means now.
    pub dispatched_at: Option<DateTime<Utc>>,
    /// Told the run's id as soon as its history row exists (the daemon needs it to kill
    /// the run on request before it ends).
    pub on_recorded: Option<tokio::sync::oneshot::Sender<i64>>,
    /// Where the daemon notes what the pressure ladder does to the run: frozen time does
    /// not count against `limits.timeout`, and the run's throttled and frozen time is
    /// recorded when it ends.
    pub pressure: PressureClock,
}

impl<'a> RunRequest<'a> {
    /// A first attempt asked for by hand (`slotcron run`), not queued.
    pub fn manual(job: &'a Job) -> RunRequest<'a> {
        RunRequest {
            job,
            trigger: "manual",
            attempt: 1,
            retry_of: None,
            queued_at: None,
            dispatched_at: None,
            on_recorded: None,
            pressure: PressureClock::default(),
        }
    }
}

/// The run could not be recorded. Everything else (a command that does not exist, a user
/// that cannot be switched to, a cgroup that cannot be made) is recorded as a failed run.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("history: {0}")]
    Store(#[from] StoreError),
    #[error("job `{job}` names slot `{slot}`, which is not configured")]
    UnknownSlot { job: String, slot: String },
}

/// Why a recorded run never got going.
#[derive(Debug, thiserror::Error)]
enum StartFailure {
    #[error("{0}")]
    Identity(#[from] super::spawn::IdentityError),
    #[error("creating the run's cgroup: {0}")]
    Cgroup(#[from] crate::cgroup::CgroupError),
    #[error("creating the run's log {path}: {source}")]
    Log { path: PathBuf, source: io::Error },
    #[error("env_file {path}: {why}")]
    EnvFile { path: PathBuf, why: String },
    #[error("working_dir {path}: {why}")]
    WorkingDir { path: PathBuf, why: String },
    #[error("creating the output pipe: {0}")]
    Pipe(nix::Error),
    #[error("starting `{program}`: {source}")]
    Spawn { program: String, source: io::Error },
}

/// The run's folder is there (it was at load; it may have gone since). Without this
/// check the failed `chdir` reads as "starting `/bin/sh`: No such file or directory".
fn usable_working_dir(job: &Job) -> Result<(), StartFailure> {
    let path = super::spawn::working_dir(job);
    match crate::config::why_not_a_folder(&path) {
        None => Ok(()),
        Some(why) => Err(StartFailure::WorkingDir { path, why }),
    }
}

/// `job` with the variables of its `env_file` added (its own `env` wins), read now so a
/// rotated secret is used at once.
fn with_env_file(job: &Job) -> Result<Job, StartFailure> {
    let mut job = job.clone();
    if let Some(path) = &job.env_file {
        let vars = crate::config::read_env_file(path).map_err(|why| StartFailure::EnvFile {
            path: path.clone(),
            why,
        })?;
        for (key, value) in vars {
            job.env.entry(key).or_insert(value);
        }
    }
    Ok(job)
}

impl StartFailure {
    /// The shell's convention: 127 not found, 126 not executable.
    fn exit_code(&self) -> Option<i32> {
        match self {
            StartFailure::Spawn { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                Some(127)
            }
            StartFailure::Spawn { source, .. }
                if source.kind() == io::ErrorKind::PermissionDenied =>
            {
                Some(126)
            }
            _ => None,
        }
    }
}

impl Runner {
    /// A runner over these settings, enforcement and history.
    pub fn new(
        settings: Arc<Settings>,
        enforcer: Arc<Enforcer>,
        store: Arc<Mutex<Store>>,
    ) -> Runner {
        Runner {
            settings,
            enforcer,
            store,
            backlog: Backlog::shared(),
            clock: crate::clock::system(),
        }
    }

    /// The same runner, reading its times from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Runner {
        self.clock = clock;
        self
    }

    /// The runs history could not take yet, and whether it takes writes.
    pub fn backlog(&self) -> &SharedBacklog {
        &self.backlog
    }

    /// Where a run's output is kept.
    pub fn log_path(&self, job: &str, run_id: i64) -> PathBuf {
        self.settings
            .state_dir
            .join("logs")
            .join(job)
            .join(format!("{run_id}.log"))
    }

    /// Runs `req.job` now and waits for it. `cancel` resolving stops the run (SIGTERM, the
    /// kill grace, then SIGKILL) and records it `killed`.
    ///
    /// A run is executed even when history cannot be written: it is then kept in the
    /// backlog (with a provisional, negative id if it has no row) and its record returned.
    ///
    /// # Errors
    /// Only for a slot that is not configured or a run history refuses (not a write
    /// fault); every other failure is a recorded failed run.
    pub async fn run(
        &self,
        req: RunRequest<'_>,
        cancel: impl Future<Output = ()>,
    ) -> Result<RunRecord, RunnerError> {
        let job = req.job;
        let slot = self
            .settings
            .slots
            .get(&job.slot)
            .ok_or_else(|| RunnerError::UnknownSlot {
                job: job.name.clone(),
                slot: job.slot.clone(),
            })?;
        let enforcement = match *self.enforcer {
            Enforcer::Cgroup(_) => Enforcement::Cgroup,
            Enforcer::Unconfined { .. } => Enforcement::None,
        };
        let new = NewRun {
            job: job.name.clone(),
            slot: job.slot.clone(),
            trigger: req.trigger.to_owned(),
            attempt: req.attempt,
            retry_of: req.retry_of,
            enforcement,
            memory_limit_bytes: (enforcement == Enforcement::Cgroup)
                .then(|| effective_limits(job, slot, self.settings.memory_max).memory_bytes),
            queued_at: req.queued_at,
            started_at: req.dispatched_at.unwrap_or_else(|| self.clock.now()),
        };
        let clock = Instant::now();
        let (id, has_row) = self.insert(&new).await?;
        if let Some(tell) = req.on_recorded {
            // The receiver may be gone (the daemon no longer cares): nothing to do then.
            let _ = tell.send(id);
        }
        let span = info_span!("run", job = %job.name, run_id = id);
        let mut completion = match self
            .execute(id, job, slot, &req.pressure, cancel)
            .instrument(span.clone())
            .await
        {
            Ok(done) => done,
            Err(failure) => {
                span.in_scope(|| warn!(error = %failure, "run failed to start"));
                not_started(
                    failure.to_string(),
                    failure.exit_code(),
                    self.clock.now(),
                    clock.elapsed(),
                )
            }
        };
        completion.pressure = req.pressure.book().recorded(completion.finished_at);
        let status = completion.status;
        span.in_scope(|| info!(%status, "finished"));
        let kept = Unrecorded {
            id,
            has_row,
            log_path: Some(self.log_path(&job.name, id)),
            new,
            completion,
        };
        self.complete(kept).await
    }

    /// Inserts the run's row; returns its id and `true`, or, when history cannot take the
    /// write (or older runs still wait for it), a provisional id and `false`.
    async fn insert(&self, new: &NewRun) -> Result<(i64, bool), RunnerError> {
        // A retry of a run kept without a row follows it into the backlog, which gives it
        // the row's id (or none if that run was dropped).
        if new.retry_of.is_none_or(|id| id >= 0) {
            let row = new.clone();
            match self.db(move |s| s.start_run(&row)).await {
                Ok(id) => return Ok((id, true)),
                Err(RunnerError::Store(error)) if is_unwritable(&error) => {
                    warn!(job = %new.job, %error, "history cannot record this run's start; running it anyway");
                    self.note_failure(&error);
                }
                Err(error) => return Err(error),
            }
        }
        let mut backlog = self.backlog.lock().unwrap_or_else(PoisonError::into_inner);
        Ok((backlog.provisional_id(), false))
    }

    /// Records how the run ended, or keeps it in the backlog when history cannot take it.
    async fn complete(&self, run: Unrecorded) -> Result<RunRecord, RunnerError> {
        let record = run.record();
        if run.has_row {
            let (id, done) = (run.id, run.completion.clone());
            // The row as stored (with its pid and cgroup), read in the same visit.
            let finished = self.db(move |s| {
                s.finish_run(id, &done)?;
                Ok(s.run(id).ok().flatten())
            });
            match finished.await {
                Ok(stored) => {
                    self.backlog
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .wrote();
                    return Ok(stored.unwrap_or(record));
                }
                Err(RunnerError::Store(error)) if is_unwritable(&error) => {
                    warn!(job = %run.new.job, run_id = id, %error,
                        "history cannot record how this run ended; kept in memory until it can");
                    self.note_failure(&error);
                }
                Err(error) => return Err(error),
            }
        }
        self.backlog
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keep(run);
        Ok(record)
    }

    fn note_failure(&self, error: &StoreError) {
        self.backlog
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failed(error, self.clock.now());
    }

    async fn execute(
        &self,
        id: i64,
        job: &Job,
        slot: &Slot,
        pressure: &PressureClock,
        cancel: impl Future<Output = ()>,
    ) -> Result<RunCompletion, StartFailure> {
        let identity = Identity::resolve(job.user.as_deref(), job.group.as_deref())?;
        let cgroup = self.run_cgroup(id, job, slot)?;
        let started = self
            .start(id, job, identity.as_ref(), cgroup.as_deref())
            .await;
        let (child, output, log) = match started {
            Ok(parts) => parts,
            Err(failure) => {
                if let Some(cg) = cgroup {
                    let _ = tokio::task::spawn_blocking(move || cleanup(&cg)).await;
                }
                return Err(failure);
            }
        };
        let pid = child.id();
        let log_path = log.path().display().to_string();
        let cgroup_path = cgroup.as_ref().map(|cg| cg.path().display().to_string());
        // Recorded beside the run, not before it: waiting for the process need not wait
        // for history (joined before the run is completed).
        let recording = self.record_beside(id, pid, cgroup_path, log_path);
        info!(pid, "started");
        let pump = tokio::spawn(pump_output(output, log));
        let clock = Instant::now();
        let target = Target {
            cgroup: cgroup.clone(),
            session: Pid::from_raw(pid as i32),
        };
        let mut waiter = tokio::spawn(wait_exit(pid as i32));
        let timeout = async {
            match job.limits.timeout {
                Some(limit) => pressure.timeout(limit).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(timeout, cancel);
        let (stopped, waited) = tokio::select! {
            waited = &mut waiter => (Stopped::No, joined(waited)),
            () = &mut timeout => {
                warn!(timeout = ?job.limits.timeout, "timed out; stopping the run");
                (Stopped::Timeout, self.stop(&target, &mut waiter).await)
            }
            () = &mut cancel => {
                info!("stop requested; stopping the run");
                (Stopped::Cancelled, self.stop(&target, &mut waiter).await)
            }
        };
        let finished_at = self.clock.now();
        // Whatever the main process left behind (background grandchildren) dies with it:
        // its session here, and everything in its cgroup in `cleanup`.
        signal_group(target.session, Signal::SIGKILL);
        drop(target);
        let stats = match cgroup {
            Some(cg) => read_and_remove(cg).await,
            None => None,
        };
        if tokio::time::timeout(DRAIN_TIMEOUT, pump).await.is_err() {
            warn!(
                "output still open after the run ended (an escaped process holds it); log closed"
            );
        }
        let waited = waited.map_err(|error| warn!(%error, "waiting for the run's process"));
        let _ = recording.await;
        Ok(completed(
            waited.ok(),
            stopped,
            stats,
            finished_at,
            clock.elapsed(),
        ))
    }

    /// Records the started process in history in a task beside the run (joined before
    /// the run is completed), so waiting for the process need not wait for history.
    fn record_beside(
        &self,
        id: i64,
        pid: u32,
        cgroup_path: Option<String>,
        log_path: String,
    ) -> JoinHandle<()> {
        let runner = self.clone();
        tokio::spawn(
            async move {
                runner.record_process(id, pid, cgroup_path, log_path).await;
            }
            .instrument(tracing::Span::current()),
        )
    }

    /// The run's own cgroup under its slot's, with its limits; `None` when unconfined.
    fn run_cgroup(
        &self,
        id: i64,
        job: &Job,
        slot: &Slot,
    ) -> Result<Option<Arc<RunCgroup>>, StartFailure> {
        Ok(match &*self.enforcer {
            Enforcer::Cgroup(tree) => Some(Arc::new(tree.create_run(
                &job.slot,
                &format!("run-{id}"),
                &run_limits(job, slot),
            )?)),
            Enforcer::Unconfined { .. } => None,
        })
    }

    /// Records the started process (pid, its start time, cgroup and log) in the run's row;
    /// a failure is logged, the run goes on. A provisional id (negative) has no row: the
    /// backlog keeps the log path.
    async fn record_process(
        &self,
        id: i64,
        pid: u32,
        cgroup_path: Option<String>,
        log_path: String,
    ) {
        if id <= 0 {
            return;
        }
        let recorded = self
            .db(move |s| {
                let ticks = super::process::process_start(pid);
                s.set_run_started(id, pid, ticks, cgroup_path.as_deref(), &log_path)
            })
            .await;
        if let Err(error) = recorded {
            warn!(%error, "recording the run's pid");
        }
    }

    /// Creates the log and the pipe, and starts the process inside the cgroup.
    async fn start(
        &self,
        id: i64,
        job: &Job,
        identity: Option<&Identity>,
        cgroup: Option<&RunCgroup>,
    ) -> Result<(std::process::Child, OwnedFd, CappedLog), StartFailure> {
        usable_working_dir(job)?;
        let path = self.log_path(&job.name, id);
        let log = CappedLog::create(&path, self.settings.log_max.bytes())
            .map_err(|source| StartFailure::Log { path, source })?;
        let procs = cgroup.map(RunCgroup::open_procs).transpose()?;
        let (read, write) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(StartFailure::Pipe)?;
        // fork() copies the page tables of the whole daemon: milliseconds, not microseconds.
        // On a blocking thread it never stalls the async workers that start other runs.
        let (job, identity) = (with_env_file(job)?, identity.cloned());
        let child = tokio::task::spawn_blocking(move || {
            let launch = Launch {
                job: &job,
                run_id: id,
                cgroup_procs: procs.as_ref(),
                identity: identity.as_ref(),
                output: &write,
            };
            // The child has its copies of `write` and `procs`; ours close when this
            // closure returns, so the pipe ends when the run's processes do.
            spawn(&launch).map_err(|source| StartFailure::Spawn {
                program: job.command.argv()[0].clone(),
                source,
            })
        })
        .await
        .expect("spawning thread panicked")?;
        Ok((child, read, log))
    }

    /// SIGTERM to every process of the run, then up to the kill grace for all of them to
    /// exit (not just the main process: as systemd's stop timeout), then SIGKILL. Returns
    /// how the main process ended.
    async fn stop(&self, target: &Target, waiter: &mut JoinHandle<Waited>) -> Waited {
        target.terminate();
        let grace = self.settings.kill_grace;
        let deadline = tokio::time::Instant::now() + grace;
        let exited = match tokio::time::timeout_at(deadline, &mut *waiter).await {
            Ok(waited) => Some(joined(waited)),
            Err(_) => None,
        };
        let everyone_gone = match (&exited, &target.cgroup) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(_), Some(cg)) => {
                let cg = cg.clone();
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                tokio::task::spawn_blocking(move || cg.wait_empty(left).unwrap_or(false))
                    .await
                    .unwrap_or(false)
            }
        };
        if !everyone_gone {
            warn!(?grace, "still running after the kill grace; killing");
            target.kill();
        }
        match exited {
            Some(waited) => waited,
            None => joined(waiter.await),
        }
    }

    async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, RunnerError> {
        let store = self.store.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut store)
        })
        .await
        .expect("history task panicked");
        Ok(result?)
    }
}

/// Empties the run's cgroup, reads the kernel's figures and removes it, off the async threads.
async fn read_and_remove(cg: Arc<RunCgroup>) -> Option<RunUsage> {
    tokio::task::spawn_blocking(move || cleanup(&cg))
        .await
        .ok()
        .flatten()
}
