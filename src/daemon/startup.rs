//! Starting the daemon: load the jobs, take over what a previous daemon left running,
//! run `@reboot` jobs once per boot, give `catch_up: once` jobs their one missed run, and
//! put every job's next fire time on the timeline.

use chrono::{DateTime, Utc};
use tracing::info;

use crate::config::{CatchUp, Schedule};
use crate::scheduler::firing;

use super::DaemonError;
use super::engine::{Engine, Origin};
use super::recovery::Adopted;

/// The `meta` key holding the boot id `@reboot` jobs last ran for.
pub const BOOT_ID_KEY: &str = "boot_id";

/// Where the kernel publishes this boot's id.
pub const DEFAULT_BOOT_ID_PATH: &str = "/proc/sys/kernel/random/boot_id";

/// Reads this boot's id; `None` where the file does not exist.
pub fn read_boot_id(path: &std::path::Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Brings the engine from empty to scheduling.
///
/// # Errors
/// History cannot be read or written, or crash recovery fails.
pub async fn start(engine: &mut Engine, boot_id: Option<&str>) -> Result<(), DaemonError> {
    let now = engine.now();
    // Settle history before reading it: the reload below loads each job's summary (last
    // run, failure streak), which must see the runs a crash left completed `lost`.
    let adopted = recover(engine).await?;
    // Counters continue from history (after recovery, so runs completed `lost` count).
    let bounds = crate::metrics::counters::bucket_bounds_ms();
    let totals = engine.db(move |s| s.run_totals(&bounds)).await?;
    engine.count_from(crate::metrics::Counters::from_totals(totals));
    super::reload::reload(engine, super::reload::Cause::Asked).await;
    load_performance(engine).await?;
    for run in adopted {
        // After the reload: adoption sizes the run's seat from its job.
        engine.adopt(run);
    }
    engine.prune(now).await;
    engine.schedule_backup(now);
    let first_after_boot = match boot_id {
        None => false,
        Some(id) => {
            let id = id.to_owned();
            let stored = engine.db(|s| s.meta(BOOT_ID_KEY)).await?;
            if stored.as_deref() == Some(id.as_str()) {
                false
            } else {
                engine.db(move |s| s.set_meta(BOOT_ID_KEY, &id)).await?;
                true
            }
        }
    };
    let names: Vec<String> = engine.registry().jobs.keys().cloned().collect();
    for name in &names {
        let entry = &engine.registry().jobs[name];
        if !entry.enabled() {
            continue;
        }
        match &entry.job.schedule {
            Schedule::Reboot if first_after_boot => {
                info!(job = %name, "first start since boot: running @reboot job");
                engine.due(name, Origin::Reboot, now, now).await;
            }
            Schedule::Cron(_) | Schedule::Every(_) if entry.job.catch_up == CatchUp::Once => {
                if let Some(missed) = missed_since_last_run(engine, name, now) {
                    info!(job = %name, %missed, "catching up one missed run");
                    engine.due(name, Origin::CatchUp, missed, now).await;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// For `catch_up: once`: the first fire time between the job's last run and now, if any
/// ([`firing::missed_fire`]).
fn missed_since_last_run(engine: &Engine, name: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let entry = engine.registry().jobs.get(name)?;
    firing::missed_fire(&entry.job, entry.summary.last_started_at, now)
}

/// Settles what a killed predecessor left: finished runs are completed `lost`; runs still
/// going are returned, for the caller to adopt (they hold their seats until they end).
async fn recover(engine: &mut Engine) -> Result<Vec<Adopted>, DaemonError> {
    let enforcer = engine.enforcer().clone();
    let now = engine.now();
    let found = crate::store::handle::with(engine.store(), move |store| {
        super::recovery::recover(&enforcer, store, now)
    })
    .await
    .expect("recovery task panicked")
    .map_err(|e| DaemonError::Recovery(e.to_string()))?;
    let adopted = found.adopted.len();
    if !found.completed.is_empty() || adopted > 0 || !found.removed_orphans.is_empty() {
        let message = format!(
            "after a restart: {} runs completed lost, {adopted} adopted, {} leftover cgroups removed",
            found.completed.len(),
            found.removed_orphans.len()
        );
        info!(%message, "crash recovery");
        engine.event("recovered", None, None, message).await;
    }
    Ok(found.adopted)
}

/// Each job's performance verdict from history (its baseline and newest successes), for
/// `/metrics` until the job's next run updates it.
///
/// # Errors
/// History cannot be read.
async fn load_performance(engine: &mut Engine) -> Result<(), DaemonError> {
    use crate::stats::{performance::RECENT_RUNS, recent_medians, verdict};
    let machine = engine.settings().alerting.judging;
    let n = engine.settings().health.baseline_runs;
    let jobs: Vec<(String, crate::stats::Judging)> = engine
        .registry()
        .jobs
        .values()
        .map(|e| (e.job.name.clone(), e.job.alerts.judging(&machine)))
        .collect();
    let verdicts = engine
        .db(move |s| {
            let (baselines, recent) = (s.baselines()?, s.recent_successes(RECENT_RUNS)?);
            Ok(jobs
                .into_iter()
                .map(|(name, judging)| {
                    let runs = recent_medians(recent.get(&name).map_or(&[][..], Vec::as_slice));
                    let baseline = baselines.get(&name).filter(|b| b.runs == n);
                    let performance = verdict(baseline, &runs, &judging).performance;
                    (name, performance)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    for (name, performance) in verdicts {
        engine.note_performance(name, performance);
    }
    Ok(())
}
