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
use crate::store::{HistoryHealth, backup};

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
                .db(move |s| crate::store::backlog::flush(s, &backlog))
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
        self.flush_history(Utc::now()).await;
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
