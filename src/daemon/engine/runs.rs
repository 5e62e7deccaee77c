//! Runs in motion: starting one in its own task, taking over one a previous daemon left,
//! and what follows when one ends (seat released, summary updated, retry, breaker,
//! `after:` chain); stopping runs on request and at shutdown.

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

use crate::model::RunStatus;
use crate::runner::{PressureClock, RunRequest};
use crate::scheduler::{BreakerState, Pending, retry_backoff};
use crate::store::RunRecord;

use super::{Active, Engine, Origin, RunEvent, Wake};
use crate::control::live::LiveEvent;

impl Engine {
    /// Starts an admitted run in a task of its own; its seat and memory are already
    /// reserved. The task reports the run's id, then how it ended.
    pub(super) fn start(&mut self, run: Pending) {
        let Some(entry) = self.registry.jobs.get(&run.job) else {
            self.admission.release(&run.slot, run.expected_memory);
            return;
        };
        let job = entry.job.clone();
        let token = self.token();
        let (cancel_tx, cancel_rx) = oneshot::channel::<()>();
        // A run is recorded with when it was queued and when admission gave it its seat:
        // wait time is `started_at - queued_at`, the scheduler's doing alone.
        let dispatched_at = self.now();
        let pressure = PressureClock::default();
        self.active.insert(
            token,
            Active {
                job: run.job.clone(),
                slot: run.slot.clone(),
                run_id: None,
                started_at: dispatched_at,
                attempt: run.attempt,
                trigger: run.trigger.clone(),
                memory: run.expected_memory,
                cancel: Some(cancel_tx),
                priority: job.priority,
                pressure: pressure.clone(),
                retry_of: run.retry_of,
                requeue: false,
            },
        );
        self.arm_pressure(dispatched_at);
        let runner = self.runner.clone();
        let events = self.events.clone();
        let queued_at = Some(run.queued_at);
        tokio::spawn(async move {
            let (id_tx, id_rx) = oneshot::channel();
            let request = RunRequest {
                job: &job,
                trigger: &run.trigger,
                attempt: run.attempt,
                retry_of: run.retry_of,
                queued_at,
                dispatched_at: Some(dispatched_at),
                on_recorded: Some(id_tx),
                pressure,
            };
            let cancel = async {
                // A dropped sender (the engine gone) must not stop the run.
                if cancel_rx.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let forward_id = {
                let events = events.clone();
                async move {
                    if let Ok(id) = id_rx.await {
                        let _ = events.send(RunEvent::Recorded { token, id });
                    }
                    std::future::pending::<()>().await
                }
            };
            let result = tokio::select! {
                result = runner.run(request, cancel) => result,
                () = forward_id => unreachable!("forward_id never completes"),
            };
            let result = result.map(Box::new).map_err(|e| e.to_string());
            let _ = events.send(RunEvent::Finished { token, result });
        });
    }

    /// Takes over a run a previous daemon left going: it holds a seat in its slot until
    /// its cgroup is empty, and is then completed `lost` (see `recovery`). `kill` and
    /// shutdown stop it like any run.
    pub fn adopt(&mut self, adopted: crate::daemon::recovery::Adopted) {
        let job = self.registry.jobs.get(&adopted.job).map(|e| e.job.clone());
        let memory = job.as_ref().map_or(0, |j| self.expected_memory(j));
        let priority = job.map_or(crate::config::Priority::Medium, |j| j.priority);
        self.admission.occupy(&adopted.slot, memory);
        let token = self.token();
        let (cancel_tx, cancel_rx) = oneshot::channel::<()>();
        self.active.insert(
            token,
            Active {
                job: adopted.job.clone(),
                slot: adopted.slot.clone(),
                run_id: Some(adopted.run_id),
                started_at: adopted.started_at,
                attempt: 1,
                trigger: "adopted".into(),
                memory,
                cancel: Some(cancel_tx),
                priority,
                pressure: PressureClock::default(),
                retry_of: None,
                requeue: false,
            },
        );
        self.arm_pressure(self.now());
        let store = self.store.clone();
        let grace = self.settings.kill_grace;
        let events = self.events.clone();
        let clock = self.clock.clone();
        tokio::spawn(async move {
            let stop = async {
                if cancel_rx.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let result = crate::daemon::recovery::watch_adopted(adopted, store, clock, stop, grace)
                .await
                .map(Box::new)
                .map_err(|e| e.to_string());
            let _ = events.send(RunEvent::Finished { token, result });
        });
    }

    /// A run task reported its row id.
    pub fn recorded(&mut self, token: u64, id: i64) {
        let Some(active) = self.active.get_mut(&token) else {
            return;
        };
        active.run_id = Some(id);
        let event = LiveEvent::RunStarted {
            run_id: id,
            job: active.job.clone(),
            slot: active.slot.clone(),
            started_at: active.started_at,
            trigger: active.trigger.clone(),
        };
        self.publish(event);
        if id < 0 {
            // History could not take the run's start: say so now, not when it ends.
            self.report_history(self.now());
        }
    }

    /// A run ended: free its seat, update the job's state, then retries, breaker and
    /// `after:` chains, and start whatever may start now.
    pub async fn finished(&mut self, token: u64, result: Result<Box<RunRecord>, String>) {
        let Some(active) = self.active.remove(&token) else {
            return;
        };
        self.admission.release(&active.slot, active.memory);
        self.ladder.forget(token);
        let now = self.now();
        let mut record = match result {
            Ok(record) => record,
            Err(error) => {
                warn!(job = %active.job, %error, "a run could not be recorded");
                self.dispatch(now).await;
                return;
            }
        };
        if active.requeue && !self.stopping {
            self.requeue(&active, &mut record, now).await;
        }
        self.learn(&record);
        self.publish(LiveEvent::RunFinished {
            run_id: record.id,
            job: record.job.clone(),
            status: record.status,
            duration_ms: record.duration_ms,
            usage: record.usage,
        });
        self.metrics.observe(&record);
        if !self.stopping {
            self.after_run(&record, now).await;
        }
        self.check_identity(now).await;
        self.flush_history(now).await;
        // The freed seat goes to the next run before this one's alerts and baseline are
        // worked out: nothing admission decides depends on them (issue 15). The yield lets
        // a run just started record its row before the follow-up takes the history.
        self.dispatch(now).await;
        tokio::task::yield_now().await;
        self.follow_up(&record, now).await;
    }

    /// Updates the job's summary with a finished run, as the store would compute it
    /// (`JobSummary::learn`).
    pub fn learn(&mut self, record: &RunRecord) {
        if let Some(entry) = self.registry.jobs.get_mut(&record.job) {
            entry.summary.learn(record);
        }
    }

    /// A run of `name` has waited in its queue past `alerting.overdue_grace`: raise an
    /// `overdue` alert (resolved by the job's next finished run).
    pub async fn check_overdue(&mut self, name: &str, now: DateTime<Utc>) {
        let Some(waiting) = self
            .admission
            .slots()
            .flat_map(|book| book.queued())
            .filter(|run| run.job == name)
            .map(|run| run.due)
            .min()
        else {
            return;
        };
        let last_started = self
            .registry
            .jobs
            .get(name)
            .and_then(|e| e.summary.last_started_at);
        let settings = self.settings.alerting;
        let Some(finding) = crate::alerts::overdue(waiting, last_started, now, &settings) else {
            return;
        };
        let job = name.to_owned();
        let raised = self
            .db(move |s| {
                let change = s.raise(&job, None, &finding, settings.flap_window, now)?;
                Ok((change, finding))
            })
            .await;
        match raised {
            Ok((change, finding)) if change.notifies() => {
                warn!(job = name, message = %finding.message, "overdue");
                self.announce(crate::alerts::AlertNotice {
                    alert_id: change.id(),
                    job: name.to_owned(),
                    kind: finding.kind,
                    severity: finding.severity,
                    message: finding.message,
                    evidence: finding.evidence,
                    change,
                });
            }
            Ok(_) => {}
            Err(error) => warn!(job = name, %error, "recording an overdue alert"),
        }
    }

    /// Records the run's alerts and refreshes its job's baseline (`followup::record`, in one
    /// visit to the history thread), keeps the job's performance for `/metrics` and sends
    /// the alerts that opened or escalated to `alert_sink`. Alerts never hold up scheduling.
    async fn follow_up(&mut self, record: &RunRecord, now: DateTime<Utc>) {
        let Some(entry) = self.registry.jobs.get(&record.job) else {
            return;
        };
        let (job, settings, run) = (entry.job.clone(), self.settings.clone(), record.clone());
        let Ok(done) = self
            .db(move |s| Ok(crate::followup::record(s, &job, &run, &settings, now)))
            .await
        else {
            return;
        };
        let counters = self.metrics.jobs.entry(record.job.clone()).or_default();
        counters.performance = Some(done.performance);
        for (id, kind) in done.alerts.resolved {
            self.publish(LiveEvent::AlertResolved {
                id,
                job: record.job.clone(),
                kind,
            });
        }
        for notice in done.alerts.notices {
            info!(job = %notice.job, alert_id = notice.alert_id, kind = %notice.kind,
                severity = %notice.severity, change = notice.change.as_str(), "alert");
            self.announce(notice);
        }
    }

    /// An alert opened or escalated: tells the event streams, then the notification
    /// channels (`alert_sink`).
    fn announce(&self, notice: crate::alerts::AlertNotice) {
        self.publish(LiveEvent::AlertRaised {
            id: notice.alert_id,
            job: notice.job.clone(),
            kind: notice.kind,
            severity: notice.severity,
            message: notice.message.clone(),
        });
        if let Some(sink) = &self.alert_sink {
            let _ = sink.send(notice);
        }
    }

    pub(super) async fn after_run(&mut self, record: &RunRecord, now: DateTime<Utc>) {
        let Some(entry) = self.registry.jobs.get(&record.job) else {
            return;
        };
        let job = entry.job.clone();
        let breaker = entry.breaker(now);
        let streak = entry.summary.consecutive_failures;
        let failed = matches!(
            record.status,
            RunStatus::Failed | RunStatus::Timeout | RunStatus::OomKilled
        );
        if failed && record.attempt <= job.retries {
            let next = record.attempt + 1;
            let wait = retry_backoff(job.retry_delay, next);
            let key = self.token();
            let origin = Origin::Retry {
                attempt: next,
                retry_of: record.retry_of.unwrap_or(record.id),
            };
            info!(job = %job.name, attempt = next, ?wait, "retrying after backoff");
            self.retries.insert(key, (job.name.clone(), origin));
            self.timeline.set(
                Wake::Retry(key),
                now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
            );
        }
        if let BreakerState::Open { until } = breaker
            && failed
        {
            let message = format!(
                "{streak} consecutive failed runs; not scheduled until {until} or `slotcron reset {}`",
                job.name
            );
            warn!(job = %job.name, %message, "circuit breaker tripped");
            self.event("breaker_tripped", Some(&job.name), Some(record.id), message)
                .await;
        }
        if record.status == RunStatus::Success {
            let followers = self.registry.links.followers(&record.job).to_vec();
            for follower in followers {
                let verdict = self
                    .due(&follower, Origin::After(record.job.clone()), now, now)
                    .await;
                debug!(job = %follower, ?verdict, "after chain");
            }
        }
    }

    /// A retry's backoff has passed.
    pub async fn retry(&mut self, key: u64, now: DateTime<Utc>) {
        if let Some((job, origin)) = self.retries.remove(&key) {
            let verdict = self.due(&job, origin, now, now).await;
            debug!(%job, ?verdict, "retry");
        }
    }

    /// Stops the run with this id (`slotcron kill`), thawing it first if the pressure
    /// response froze it.
    ///
    /// # Errors
    /// No running run has this id.
    pub fn kill(&mut self, run_id: i64) -> Result<String, String> {
        let token = self
            .active
            .iter()
            .find(|(_, a)| a.run_id == Some(run_id))
            .map(|(t, _)| *t)
            .ok_or_else(|| format!("run {run_id} is not running"))?;
        self.thaw_for_stop(token);
        let active = self.active.get_mut(&token).expect("found above");
        match active.cancel.take() {
            Some(cancel) => {
                let _ = cancel.send(());
                Ok(format!(
                    "stopping run {run_id} of `{}` (SIGTERM, then SIGKILL after {:?})",
                    active.job, self.settings.kill_grace
                ))
            }
            None => Ok(format!("run {run_id} is already being stopped")),
        }
    }

    /// Stop admitting; stop every run (each gets the kill grace). Runs still waiting for a
    /// seat are recorded `skipped`, so history shows what the shutdown cost.
    pub async fn begin_shutdown(&mut self) {
        self.stopping = true;
        let now = self.now();
        for run in self.admission.remove_queued(|_| true) {
            let Some(job) = self.registry.jobs.get(&run.job).map(|e| e.job.clone()) else {
                continue;
            };
            let origin = match run.retry_of {
                Some(retry_of) => Origin::Retry {
                    attempt: run.attempt,
                    retry_of,
                },
                None => Origin::Schedule,
            };
            let reason = format!(
                "the daemon stopped while this run waited for a seat (queued {})",
                run.queued_at.format("%H:%M:%S")
            );
            self.record_skip(&job, &origin, &run.trigger, now, reason)
                .await;
        }
        let tokens: Vec<u64> = self.active.keys().copied().collect();
        for token in tokens {
            self.thaw_for_stop(token);
        }
        for active in self.active.values_mut() {
            if let Some(cancel) = active.cancel.take() {
                let _ = cancel.send(());
            }
        }
    }
}
