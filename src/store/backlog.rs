//! Runs that ended while history could not be written (a full disk, a read-only or
//! damaged file): kept in memory, oldest first, up to [`BACKLOG_LIMIT`], and written when
//! the database takes writes again. The run itself never waits for history: it is
//! executed whatever the database says (ADR 0022).
//!
//! A run that got no row goes by a provisional id, negative and counting down from -1;
//! its log is `logs/JOB/-N.log` until [`flush`] gives it its row, then renamed to
//! `logs/JOB/ID.log`. A run whose row exists but whose completion could not be written
//! keeps its id, and [`flush`] completes the row: it is never left for crash recovery to
//! call `lost`.
//!
//! [`Backlog`] also holds whether history is writable now, and since when not, for
//! `/readyz`, `/metrics`, `slotcron status` and the daemon's alert.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{NewRun, RunCompletion, RunRecord, Store, StoreError};

/// The most runs kept in memory; past it the oldest is dropped (and counted). Ten thousand
/// runs of a few hundred bytes each: a few MiB at most.
pub const BACKLOG_LIMIT: usize = 10_000;

/// The backlog as the runner, the event loop and the HTTP server share it. A std Mutex:
/// it is held for a push or a pop, never across an `.await`.
pub type SharedBacklog = Arc<Mutex<Backlog>>;

/// One run history has not taken yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Unrecorded {
    /// The id the run went by: its row's, or a provisional one (negative) without a row.
    pub id: i64,
    /// Whether `id` is a row of `runs` (status `running`, to complete).
    pub has_row: bool,
    pub new: NewRun,
    /// The run's log, named after `id`.
    pub log_path: Option<PathBuf>,
    pub completion: RunCompletion,
}

impl Unrecorded {
    /// The run as history will show it once written.
    pub fn record(&self) -> RunRecord {
        let (new, done) = (&self.new, &self.completion);
        RunRecord {
            id: self.id,
            job: new.job.clone(),
            slot: new.slot.clone(),
            status: done.status,
            exit_code: done.exit_code,
            signal: done.signal,
            started_at: new.started_at,
            finished_at: Some(done.finished_at),
            duration_ms: Some(done.duration_ms),
            memory_limit_bytes: new.memory_limit_bytes,
            usage: done.usage,
            enforcement: new.enforcement,
            trigger: new.trigger.clone(),
            attempt: new.attempt,
            retry_of: new.retry_of,
            pid: None,
            cgroup: None,
            log_path: self.log_path.as_ref().map(|p| p.display().to_string()),
            queued_at: new.queued_at,
            wait_ms: new
                .queued_at
                .map(|q| u64::try_from((new.started_at - q).num_milliseconds()).unwrap_or(0)),
            error: done.error.clone(),
            pressure: done.pressure.map(crate::model::PressureView::ended),
        }
    }
}

/// Whether history takes writes, as the last attempt found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryHealth {
    /// `false` from a failed write until a write succeeds and nothing is left to write.
    pub writable: bool,
    /// The last write error, while not writable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When writes began to fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Runs kept in memory, to write.
    pub pending: usize,
    /// Runs dropped since the daemon started because more than [`BACKLOG_LIMIT`] waited.
    pub dropped: u64,
}

impl Default for HistoryHealth {
    /// Writable, nothing kept.
    fn default() -> HistoryHealth {
        HistoryHealth {
            writable: true,
            reason: None,
            since: None,
            pending: 0,
            dropped: 0,
        }
    }
}

impl HistoryHealth {
    /// One line for people: `history is not writable since ...: REASON; 3 runs kept ...`.
    pub fn describe(&self) -> String {
        let mut text = match (&self.reason, self.since) {
            (Some(reason), Some(since)) => format!(
                "history is not writable since {}: {reason}",
                since.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            _ => "history is writable".to_owned(),
        };
        if self.pending > 0 {
            text.push_str(&format!(
                "; {} finished runs kept in memory until it is",
                self.pending
            ));
        }
        if self.dropped > 0 {
            text.push_str(&format!("; {} runs dropped (oldest first)", self.dropped));
        }
        text
    }
}

/// The runs waiting for history, and whether it is writable.
#[derive(Debug, Default)]
pub struct Backlog {
    /// Oldest first; never longer than [`BACKLOG_LIMIT`].
    queue: VecDeque<Unrecorded>,
    /// The first failure of the current fault (when) and the latest (why); `None` while
    /// writes succeed.
    fault: Option<(DateTime<Utc>, String)>,
    dropped: u64,
    /// The last provisional id handed out (0: none yet).
    last_provisional: i64,
}

impl Backlog {
    /// A shared, empty backlog.
    pub fn shared() -> SharedBacklog {
        Arc::new(Mutex::new(Backlog::default()))
    }

    /// A write failed with `error` at `at`.
    pub fn failed(&mut self, error: &StoreError, at: DateTime<Utc>) {
        let reason = describe(error);
        match &mut self.fault {
            Some((_, last)) => *last = reason,
            None => self.fault = Some((at, reason)),
        }
    }

    /// A write succeeded; the fault is over once nothing waits.
    pub fn wrote(&mut self) {
        if self.queue.is_empty() {
            self.fault = None;
        }
    }

    /// An id for a run history has no row for: -1, -2, ...
    pub fn provisional_id(&mut self) -> i64 {
        self.last_provisional -= 1;
        self.last_provisional
    }

    /// Keeps `run` until history takes it; drops the oldest when full.
    pub fn keep(&mut self, run: Unrecorded) {
        if self.queue.len() >= BACKLOG_LIMIT {
            if let Some(old) = self.queue.pop_front() {
                tracing::error!(job = %old.new.job, run_id = old.id, status = %old.completion.status,
                    "history still not writable and {BACKLOG_LIMIT} runs wait: this one is dropped");
            }
            self.dropped += 1;
        }
        self.queue.push_back(run);
    }

    /// Whether anything waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// How history stands now.
    pub fn health(&self) -> HistoryHealth {
        HistoryHealth {
            writable: self.fault.is_none(),
            reason: self.fault.as_ref().map(|(_, r)| r.clone()),
            since: self.fault.as_ref().map(|(t, _)| *t),
            pending: self.queue.len(),
            dropped: self.dropped,
        }
    }

    /// The kept runs, oldest first (for shutdown's last word in the log).
    pub fn runs(&self) -> impl Iterator<Item = &Unrecorded> {
        self.queue.iter()
    }
}

/// Whether `error` means the database cannot take writes now (and the run should be kept
/// for later), rather than a refused value that no retry would fix.
pub fn is_unwritable(error: &StoreError) -> bool {
    match error {
        StoreError::Sql { source, .. } | StoreError::Open { source, .. } => {
            source.sqlite_error_code() != Some(rusqlite::ErrorCode::ConstraintViolation)
        }
        StoreError::Corrupt { .. } | StoreError::CreateDir { .. } => true,
        _ => false,
    }
}

/// `error` with its causes, in one line.
pub fn describe(error: &StoreError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Writes the kept runs to `store`, oldest first, until one fails (at `now`). Returns how
/// many were written.
///
/// # Errors
/// The write that failed; that run and those after it stay kept.
pub fn flush(
    store: &mut Store,
    backlog: &Mutex<Backlog>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let lock = || backlog.lock().unwrap_or_else(PoisonError::into_inner);
    let mut written = 0;
    loop {
        let Some(run) = lock().queue.front().cloned() else {
            lock().wrote();
            return Ok(written);
        };
        let provisional = run.id;
        let result = give_row(store, run).and_then(|run| {
            // From here on the front of the queue is the run with its row, and the runs
            // that retry it name that row.
            let mut backlog = lock();
            for later in &mut backlog.queue {
                if later.new.retry_of == Some(provisional) {
                    later.new.retry_of = Some(run.id);
                }
            }
            if let Some(front) = backlog.queue.front_mut() {
                *front = run.clone();
            }
            drop(backlog);
            complete(store, &run)
        });
        match result {
            Ok(()) => {
                lock().queue.pop_front();
                written += 1;
            }
            Err(error) => {
                lock().failed(&error, now);
                return Err(error);
            }
        }
    }
}

/// Gives a run kept without a row its row and renames its log after the row's id;
/// later runs that retry it now name that id.
fn give_row(store: &mut Store, mut run: Unrecorded) -> Result<Unrecorded, StoreError> {
    if run.has_row {
        return Ok(run);
    }
    if run.new.retry_of.is_some_and(|id| id < 0) {
        // The run it retries was dropped before it had a row.
        run.new.retry_of = None;
    }
    let id = store.start_run(&run.new)?;
    if let Some(path) = &run.log_path {
        let named = path.with_file_name(format!("{id}.log"));
        if std::fs::rename(path, &named).is_ok() {
            run.log_path = Some(named);
        }
    }
    run.id = id;
    run.has_row = true;
    Ok(run)
}

/// Records a kept run's log path and completion on its row.
fn complete(store: &mut Store, run: &Unrecorded) -> Result<(), StoreError> {
    if let Some(path) = &run.log_path {
        let path = path.display().to_string();
        match store.set_run_process(run.id, None, None, Some(&path)) {
            Err(StoreError::NotRunning { .. }) | Ok(()) => {}
            Err(error) => return Err(error),
        }
    }
    match store.finish_run(run.id, &run.completion) {
        // Completed by an earlier attempt whose answer was lost: nothing left to do.
        Err(StoreError::NotRunning { .. }) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::{Enforcement, RunStatus, RunUsage};
    use crate::store::JobRow;

    fn store() -> Store {
        let mut store = Store::open_in_memory().unwrap();
        let job = JobRow {
            name: "j".into(),
            file: "/jobs.d/j.yaml".into(),
            slot: "default".into(),
            schedule: "* * * * *".into(),
            enabled: true,
            definition: "{}".into(),
        };
        store.sync_jobs(&[job], Utc::now()).unwrap();
        store
    }

    fn kept(id: i64, has_row: bool, retry_of: Option<i64>) -> Unrecorded {
        let at = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        Unrecorded {
            id,
            has_row,
            new: NewRun {
                job: "j".into(),
                slot: "default".into(),
                trigger: if retry_of.is_some() {
                    "retry"
                } else {
                    "schedule"
                }
                .into(),
                attempt: if retry_of.is_some() { 2 } else { 1 },
                retry_of,
                enforcement: Enforcement::None,
                memory_limit_bytes: None,
                queued_at: None,
                started_at: at,
            },
            log_path: None,
            completion: RunCompletion {
                status: RunStatus::Failed,
                exit_code: Some(3),
                signal: None,
                finished_at: at,
                duration_ms: 5,
                usage: RunUsage::default(),
                error: None,
                pressure: None,
            },
        }
    }

    #[test]
    fn the_oldest_run_is_dropped_past_the_limit() {
        let mut backlog = Backlog::default();
        for n in 0..=BACKLOG_LIMIT as i64 {
            backlog.keep(kept(-n - 1, false, None));
        }
        let health = backlog.health();
        assert_eq!((health.pending, health.dropped), (BACKLOG_LIMIT, 1));
        assert_eq!(backlog.runs().next().unwrap().id, -2);
    }

    #[test]
    fn flush_completes_a_running_row_and_gives_kept_runs_rows_and_their_retries_the_ids() {
        let mut store = store();
        let row = store.start_run(&kept(0, false, None).new).unwrap();
        let backlog = Mutex::new(Backlog::default());
        {
            let mut b = backlog.lock().unwrap();
            b.failed(&StoreError::invalid("test", "disk full"), Utc::now());
            b.keep(kept(row, true, None));
            b.keep(kept(-1, false, None));
            b.keep(kept(-2, false, Some(-1)));
        }
        assert!(!backlog.lock().unwrap().health().writable);
        assert_eq!(flush(&mut store, &backlog, Utc::now()).unwrap(), 3);
        assert_eq!(backlog.lock().unwrap().health(), HistoryHealth::default());
        let first = store.run(row).unwrap().unwrap();
        assert_eq!(
            (first.status, first.exit_code),
            (RunStatus::Failed, Some(3))
        );
        let retry = store.run(row + 2).unwrap().unwrap();
        assert_eq!(retry.retry_of, Some(row + 1));
        assert!(store.running_runs().unwrap().is_empty());
    }
}
