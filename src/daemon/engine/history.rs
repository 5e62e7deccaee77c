//! When history cannot be written (ADR 0022): runs go on and the runner keeps what could
//! not be recorded ([`crate::store::Backlog`]); the engine writes it back every
//! [`HISTORY_RETRY`] until the database takes it, and makes the fault loud when it begins
//! and when it ends: the log, `sd_notify` `STATUS=`, and an alert to the notification
//! channels (which need no database). `/readyz`, `/metrics` and `slotcron status` read the
//! backlog's [`HistoryHealth`] themselves.

use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use crate::alerts::Severity;
use crate::channels::AlertMessage;
use crate::store::identity::{self, FileId};
use crate::store::{HistoryHealth, Store, backup};

use super::{Engine, Wake};

/// How often kept runs are offered to the database again while it refuses them.
pub const HISTORY_RETRY: chrono::Duration = chrono::Duration::seconds(5);

/// The alert kind the channels receive for the fault (not an alert of the database, which
/// is what cannot be written).
pub const HISTORY_ALERT_KIND: &str = "history_unwritable";

impl Engine {
    /// How history stands now.
    pub fn history_health(&self) -> HistoryHealth {
        self.runner
            .backlog()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .health()
    }

    /// Writes the kept runs if any, then says whether the fault began or ended and plans
    /// the next attempt while it lasts.
    pub async fn flush_history(&mut self, now: DateTime<Utc>) {
        let backlog = self.runner.backlog().clone();
        let pending = !backlog
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_empty();
        if pending {
            match self
                .db(move |s| crate::store::backlog::flush(s, &backlog, now))
                .await
            {
                Ok(0) => {}
                Ok(written) => info!(written, "kept runs written to history"),
                Err(error) => warn!(%error, "history still refuses the kept runs"),
            }
        }
        self.report_history(now);
    }

    /// Announces a change of history's state, and keeps the retry planned while it is
    /// not writable or runs wait.
    pub fn report_history(&mut self, now: DateTime<Utc>) {
        let health = self.history_health();
        let troubled = !health.writable || health.pending > 0;
        if troubled {
            if self.timeline.get(&Wake::History).is_none() {
                self.timeline.set(Wake::History, now + HISTORY_RETRY);
            }
        } else {
            self.timeline.remove(&Wake::History);
        }
        if health.writable == self.history_writable {
            return;
        }
        self.history_writable = health.writable;
        let text = health.describe();
        if health.writable {
            info!("history is writable again; every kept run is written");
            self.notifier
                .status(&format!("scheduling {} jobs", self.registry.jobs.len()));
        } else {
            error!(reason = %text, "history cannot be written: jobs still run, and what they do is kept in memory until it can");
            self.notifier.status(&text);
        }
        if let Some(sink) = &self.fault_sink {
            let _ = sink.send(history_alert(&health, now));
        }
    }
}

impl Engine {
    /// At shutdown: a last attempt to write the kept runs; those history still refuses are
    /// named in the log, the only record left of them.
    pub async fn flush_history_at_shutdown(&mut self) {
        self.flush_history(self.now()).await;
        let backlog = self.runner.backlog().clone();
        let backlog = backlog
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for run in backlog.runs() {
            error!(job = %run.new.job, run_id = run.id, status = %run.completion.status,
                exit_code = ?run.completion.exit_code, started_at = %run.new.started_at,
                finished_at = %run.completion.finished_at,
                "stopping with this run unrecorded: history still cannot be written");
        }
    }
}

impl Engine {
    /// Puts the next daily backup on the timeline: a day after the newest one, or now.
    pub fn schedule_backup(&mut self, now: DateTime<Utc>) {
        let dir = self.settings.state_dir.join(backup::BACKUP_DIR);
        let next = backup::backups(&dir)
            .first()
            .map(|(_, at)| DateTime::<Utc>::from(*at) + backup::BACKUP_EVERY)
            .map_or(now, |at| at.max(now));
        self.timeline.set(Wake::Backup, next);
    }

    /// Copies the history to `<state_dir>/backups` on a blocking thread with a connection
    /// of its own, then plans the next copy in a day.
    pub async fn backup(&mut self, now: DateTime<Utc>) {
        self.timeline.set(Wake::Backup, now + backup::BACKUP_EVERY);
        let db = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .path()
            .to_owned();
        if !db.is_file() {
            return;
        }
        let dir = self.settings.state_dir.join(backup::BACKUP_DIR);
        let done = tokio::task::spawn_blocking(move || backup::backup(&db, &dir, now)).await;
        match done {
            Ok(Ok(path)) => info!(path = %path.display(), "history backed up"),
            Ok(Err(error)) => {
                let error = crate::store::backlog::describe(&error);
                warn!(%error, "backing up history; trying again in a day");
            }
            Err(error) => warn!(%error, "backing up history"),
        }
    }
}

impl Engine {
    /// Remembers which file the history is, so that [`Engine::check_identity`] notices it
    /// deleted or replaced; a store in memory has none.
    pub fn watch_history_file(&mut self) {
        self.db_identity = self
            .db_file()
            .and_then(|p| Some((p.clone(), crate::store::identity::FileId::of(&p)?)));
    }

    /// The history's file; `None` for a store in memory.
    pub fn db_file(&self) -> Option<std::path::PathBuf> {
        let store = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let path = store.path();
        (path != std::path::Path::new(":memory:")).then(|| path.to_owned())
    }

    /// After each run: is the history file at its path still the one open? If it was
    /// deleted or replaced, say so loudly and open what is there now (a new, empty one if
    /// none), with the jobs written in. Runs that ended between the change and now went to
    /// the old file.
    pub async fn check_identity(&mut self, now: DateTime<Utc>) {
        let Some((path, known)) = self.db_identity.clone() else {
            return;
        };
        let found = FileId::of(&path);
        if found == Some(known) {
            return;
        }
        let what = if found.is_none() {
            "deleted"
        } else {
            "replaced"
        };
        let message = format!(
            "the history database {} was {what} while the daemon ran; runs recorded since              went to the old file; {} is opened now",
            path.display(),
            if found.is_none() {
                "a new, empty one"
            } else {
                "the file found there"
            }
        );
        error!("{message}");
        self.notifier.status(&message);
        if let Some(sink) = &self.fault_sink {
            let _ = sink.send(fault_alert(HISTORY_REPLACED_KIND, message, now));
        }
        let (settings, shared) = (self.settings.clone(), self.store.clone());
        let path_again = path.clone();
        let reopened = tokio::task::spawn_blocking(move || {
            let mut store = shared
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // The old connection is closed first: its WAL and shared-memory files sit at
            // the new file's names, and a new connection would take their pages as its own.
            drop(std::mem::replace(&mut *store, Store::open_in_memory()?));
            let catalog = crate::config::Catalog::load_dir(&settings.jobs_dir, &settings);
            let opened = Store::open(&path).and_then(|mut new| {
                crate::daemon::registry::sync_history(&mut new, &catalog, now)?;
                Ok(new)
            });
            match opened {
                Ok(new) => *store = new,
                Err(error) => {
                    // Until the file opens (tried again after each run), runs are recorded
                    // in memory only; they go on all the same.
                    crate::daemon::registry::sync_history(&mut store, &catalog, now)?;
                    return Err(error);
                }
            }
            let _ = identity::mark(&settings.state_dir);
            Ok::<_, crate::store::StoreError>(FileId::of(&path))
        })
        .await
        .expect("reopening history panicked");
        match reopened {
            Ok(Some(id)) => self.db_identity = Some((path_again, id)),
            Ok(None) => {}
            Err(error) => {
                warn!(%error, "opening the history database again; runs are kept until it opens");
                self.runner
                    .backlog()
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .failed(&error, now);
                self.report_history(now);
            }
        }
    }
}

/// The alert kind the channels receive when the history file was deleted or replaced.
pub const HISTORY_REPLACED_KIND: &str = "history_replaced";

fn fault_alert(kind: &str, message: String, now: DateTime<Utc>) -> AlertMessage {
    AlertMessage {
        id: 0,
        job: "slotcron".to_owned(),
        kind: kind.to_owned(),
        severity: Severity::Critical,
        message,
        evidence: Vec::new(),
        change: "opened".to_owned(),
        at: now,
    }
}

/// The message the notification channels deliver when the fault begins or ends.
fn history_alert(health: &HistoryHealth, now: DateTime<Utc>) -> AlertMessage {
    let (severity, change) = if health.writable {
        (Severity::Info, "resolved")
    } else {
        (Severity::Critical, "opened")
    };
    AlertMessage {
        id: 0,
        job: "slotcron".to_owned(),
        kind: HISTORY_ALERT_KIND.to_owned(),
        severity,
        message: health.describe(),
        evidence: Vec::new(),
        change: change.to_owned(),
        at: now,
    }
}
