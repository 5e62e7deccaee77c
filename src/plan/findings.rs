//! The findings read off a played forecast (the simulation adds those it meets on the way:
//! a fire time while the previous run still goes, a skip, `protect` holding runs, an
//! `overdue` alert): long waits, runs that never start, memory peaks above a slot's cap,
//! `cgroup.memory_max` or `protect.reserve_memory`, and jobs whose figures are guesses.
//! Then every finding in time order.

use chrono::{DateTime, Utc};

use crate::baseline::effect::Figure;
use crate::baseline::units::amount;
use crate::config::Settings;
use crate::model::format_duration;

use super::{Fate, Finding, FindingKind, Plan, Series};

/// Adds the findings read off `plan` and sorts them all by time, then kind, then job.
pub fn add(plan: &mut Plan, settings: &Settings) {
    let mut found = Vec::new();
    waits(plan, &mut found);
    for series in &plan.slots {
        found.extend(over_cap(series, FindingKind::OverSlotMemory));
    }
    found.extend(over_cap(&plan.machine, FindingKind::OverGlobalMemory));
    let reserve = settings.protect.reserve_memory.map(|r| r.bytes());
    if let (Some(reserve), Some(available)) = (reserve, plan.mem_available_bytes) {
        found.extend(below_reserve(&plan.machine, available, reserve));
    }
    guesses(plan, &mut found);
    plan.findings.extend(found);
    plan.findings
        .sort_by(|a, b| (a.at, a.kind, &a.job, a.run).cmp(&(b.at, b.kind, &b.job, b.run)));
}

fn memory(bytes: u64) -> String {
    amount(Figure::Memory, bytes as f64)
}

/// Runs that wait longer than the plan's threshold, and runs that never start.
fn waits(plan: &Plan, found: &mut Vec<Finding>) {
    let over = std::time::Duration::from_millis(plan.wait_over_ms);
    for run in &plan.runs {
        let (kind, at, message) = match run.fate {
            Fate::Runs {
                queued_at, wait_ms, ..
            } if wait_ms > plan.wait_over_ms => (
                FindingKind::LongWait,
                queued_at,
                format!(
                    "`{}` waits {} for a seat in slot `{}` (more than {})",
                    run.job,
                    amount(Figure::Duration, wait_ms as f64),
                    run.slot,
                    format_duration(over)
                ),
            ),
            Fate::Waits { queued_at } => (
                FindingKind::NeverStarts,
                queued_at,
                format!(
                    "`{}` still waits for a seat in slot `{}` when the forecast ends",
                    run.job, run.slot
                ),
            ),
            _ => continue,
        };
        found.push(Finding {
            kind,
            at,
            job: Some(run.job.clone()),
            slot: Some(run.slot.clone()),
            run: Some(run.id),
            message,
        });
    }
}

/// A series whose predicted memory peak is above its cap.
fn over_cap(series: &Series, kind: FindingKind) -> Option<Finding> {
    let cap = series.memory_max_bytes?;
    let (peak, at) = (series.peak.memory_bytes, series.peak.memory_at?);
    if peak <= cap {
        return None;
    }
    let (what, field) = match kind {
        FindingKind::OverSlotMemory => (format!("slot `{}`", series.name), "its memory_max"),
        _ => ("all slots together".to_owned(), "cgroup.memory_max"),
    };
    Some(Finding {
        kind,
        at,
        job: None,
        slot: (kind == FindingKind::OverSlotMemory).then(|| series.name.clone()),
        run: None,
        message: format!(
            "{what}: runs predicted to use {} at once, above {field} {} (the kernel reclaims, \
             then OOM-kills inside the cap)",
            memory(peak),
            memory(cap)
        ),
    })
}

/// The first time the machine's available memory, less what the runs use, is predicted
/// below `protect.reserve_memory`.
fn below_reserve(machine: &Series, available: u64, reserve: u64) -> Option<Finding> {
    let point =
        (machine.points.iter()).find(|p| available.saturating_sub(p.memory_bytes) < reserve)?;
    let at: DateTime<Utc> = point.at;
    Some(Finding {
        kind: FindingKind::BelowReserve,
        at,
        job: None,
        slot: None,
        run: None,
        message: format!(
            "MemAvailable predicted to fall to {} ({} now, runs using {}), below \
             protect.reserve_memory {}",
            memory(available.saturating_sub(point.memory_bytes)),
            memory(available),
            memory(point.memory_bytes),
            memory(reserve)
        ),
    })
}

/// Jobs with runs in the window whose figures are guesses, at their first run.
fn guesses(plan: &Plan, found: &mut Vec<Finding>) {
    for job in plan
        .jobs
        .iter()
        .filter(|j| j.runs > 0 && j.estimate.is_guess())
    {
        let Some(first) = plan.runs.iter().find(|r| r.job == job.name) else {
            continue;
        };
        let e = &job.estimate;
        let duration = amount(Figure::Duration, e.duration_ms as f64);
        let duration = match e.duration_from {
            super::Source::Baseline => format!("duration {duration} from its baseline"),
            super::Source::Timeout => format!("duration {duration} (its limits.timeout)"),
            _ => format!("duration {duration} (assumed: no timeout)"),
        };
        let memory = match e.memory_from {
            super::Source::Baseline => {
                format!("memory {} from its baseline", memory(e.memory_bytes))
            }
            _ => format!(
                "memory {} (what admission reserves)",
                memory(e.memory_bytes)
            ),
        };
        let why = match e.baseline_runs {
            None => "no successful run in history",
            Some(_) => "its runs recorded no memory peak",
        };
        found.push(Finding {
            kind: FindingKind::Guess,
            at: first.due,
            job: Some(job.name.clone()),
            slot: Some(job.slot.clone()),
            run: Some(first.id),
            message: format!("`{}`: {why}: {duration}, {memory}", job.name),
        });
    }
}
