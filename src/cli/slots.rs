//! `slotcron slots`: each slot's limits and, where its cgroup is live, its current usage:
//! from the running daemon's tree when it answers on the control socket (so an admin's
//! shell, which is not delegated, sees the service's usage), else from the tree this
//! process would use itself.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::cgroup::{Hierarchy, KernelFs, SlotUsage};
use crate::config::Slot;
use crate::control::{ControlError, Request, Response, call, socket_path};
use crate::runner::{CgroupEnv, Enforcer, ProbeError, online_cpus, slot_limits};

use super::context;
use super::request::CALL_TIMEOUT;
use super::table::{bytes, render};

#[derive(Debug, Args)]
pub struct SlotsArgs {
    /// Print a JSON array.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct SlotView {
    name: String,
    max_concurrent: u32,
    memory_max_bytes: u64,
    memory_high_bytes: Option<u64>,
    cpu_max_percent: f64,
    cpu_quota_usec: u64,
    pids_max: Option<u64>,
    swap_max_bytes: u64,
    /// Live figures from the slot's cgroup; `None` where cgroups are not in use.
    usage: Option<UsageView>,
}

/// What the kernel says a slot uses now.
#[derive(Serialize)]
struct UsageView {
    /// Run cgroups in the slot.
    runs: usize,
    memory_current_bytes: u64,
    memory_peak_bytes: Option<u64>,
    pids_current: u64,
    cpu_usage_usec: u64,
    cpu_throttled_usec: Option<u64>,
    memory_pressure_avg10: Option<f64>,
}

impl From<SlotUsage> for UsageView {
    fn from(u: SlotUsage) -> UsageView {
        UsageView {
            runs: u.runs.len(),
            memory_current_bytes: u.memory_current,
            memory_peak_bytes: u.memory_peak,
            pids_current: u.pids_current,
            cpu_usage_usec: u.cpu.usage_usec,
            cpu_throttled_usec: u.cpu.throttled_usec,
            memory_pressure_avg10: u.memory_pressure.map(|p| p.some.avg10),
        }
    }
}

pub fn slots(config: Option<&Path>, args: &SlotsArgs) -> Result<ExitCode> {
    let settings = context::load_settings(config)?;
    let socket = socket_path(&settings);
    let source = live_source(call(&socket, &Request::Status, CALL_TIMEOUT), || {
        Enforcer::probe(&settings, &CgroupEnv::kernel()).map(|r| r.root)
    });
    let cpus = online_cpus();
    // Read-only: the tree the daemon (or an earlier run) laid out, if there is one.
    let tree = source
        .root
        .as_ref()
        .and_then(|r| Hierarchy::attach(Arc::new(KernelFs), r).ok());
    let views: Vec<SlotView> = settings
        .slots
        .values()
        .map(|slot| {
            let usage = tree.as_ref().and_then(|t| t.slot_usage(&slot.name).ok());
            view(slot, cpus, usage.map(UsageView::from))
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&views)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = views
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                v.max_concurrent.to_string(),
                bytes(v.memory_max_bytes),
                format!("{}%", v.cpu_max_percent),
                v.pids_max.map_or("max".into(), |p| p.to_string()),
                v.usage.as_ref().map_or("-".into(), |u| u.runs.to_string()),
                v.usage
                    .as_ref()
                    .map_or("-".into(), |u| bytes(u.memory_current_bytes)),
            ]
        })
        .collect();
    print!(
        "{}",
        render(
            &[
                "SLOT", "SEATS", "MEMORY", "CPU", "PIDS", "RUNNING", "MEM NOW"
            ],
            &rows
        )
    );
    if let Some(note) = source.note {
        println!("{note}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the live figures come from: the slot tree's root, or why there is none.
#[derive(Debug, PartialEq)]
struct Source {
    root: Option<PathBuf>,
    /// Printed under the table when there are no live figures.
    note: Option<String>,
}

impl Source {
    fn tree(root: PathBuf) -> Source {
        Source {
            root: Some(root),
            note: None,
        }
    }

    fn none(why: String) -> Source {
        Source {
            root: None,
            note: Some(format!("cgroups not in use: {why}")),
        }
    }
}

/// The running daemon's tree when it answers (whatever cgroup this command runs in: an
/// admin's shell is not delegated, the daemon's service is); otherwise the tree this
/// process would use itself (`probe`), as `slotcron run` would.
fn live_source(
    answer: Result<Response, ControlError>,
    probe: impl FnOnce() -> Result<PathBuf, ProbeError>,
) -> Source {
    let no_daemon = match answer {
        Ok(Response::Status(report)) => {
            return match report.cgroup_root {
                Some(root) => Source::tree(root),
                None => Source::none(format!(
                    "the daemon (pid {}) runs jobs with enforcement {}",
                    report.pid, report.enforcement
                )),
            };
        }
        Ok(other) => format!("the daemon answered {other:?}"),
        Err(error) => error.to_string(),
    };
    match probe() {
        Ok(root) => Source::tree(root),
        Err(reason) => Source::none(format!("{reason} ({no_daemon})")),
    }
}

fn view(slot: &Slot, cpus: u32, usage: Option<UsageView>) -> SlotView {
    let limits = slot_limits(slot, cpus);
    SlotView {
        name: slot.name.clone(),
        max_concurrent: slot.max_concurrent,
        memory_max_bytes: slot.memory_max.bytes(),
        memory_high_bytes: slot.memory_high.map(|m| m.bytes()),
        cpu_max_percent: slot.cpu_max_percent,
        cpu_quota_usec: limits.cpu.max.map_or(0, |c| c.quota_usec),
        pids_max: slot.pids_max,
        swap_max_bytes: slot.swap_max.bytes(),
        usage,
    }
}
