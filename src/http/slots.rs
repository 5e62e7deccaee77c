//! `GET /slots`: each slot's seats, queue and limits from the engine, and its live figures
//! read from its cgroup files on a blocking thread. `cpu_percent` is the CPU time used
//! since the previous read (by any client) over the wall time between them; the previous
//! read is kept in [`CpuReads`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use super::error::ApiError;
use crate::cgroup::{Pressure, SlotUsage};
use crate::control::SlotStatus;
use crate::control::handle::SlotBook;

/// Reads closer together than this reuse the previous `cpu_percent` (a rate over a few
/// milliseconds says nothing).
pub const MIN_CPU_WINDOW: Duration = Duration::from_millis(500);

/// The previous `cpu.stat` read of each slot.
#[derive(Debug, Default)]
pub struct CpuReads(Mutex<HashMap<String, CpuRead>>);

#[derive(Debug, Clone, Copy)]
struct CpuRead {
    at: Instant,
    usage_usec: u64,
    percent: Option<f64>,
}

impl CpuReads {
    /// The CPU use of `slot` since its previous read, in percent of one CPU; `None` on the
    /// first read (or when the counter went back: a recreated cgroup).
    pub fn percent(&self, slot: &str, usage_usec: u64, now: Instant) -> Option<f64> {
        let mut reads = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let previous = reads.get(slot).copied();
        let percent = match previous {
            Some(p) if now.duration_since(p.at) < MIN_CPU_WINDOW => return p.percent,
            Some(p) if usage_usec >= p.usage_usec => {
                let wall = now.duration_since(p.at).as_micros() as f64;
                Some(((usage_usec - p.usage_usec) as f64 / wall * 1000.0).round() / 10.0)
            }
            _ => None,
        };
        reads.insert(
            slot.to_owned(),
            CpuRead {
                at: now,
                usage_usec,
                percent,
            },
        );
        percent
    }
}

#[derive(Debug, Serialize)]
pub struct SlotsBody {
    slots: Vec<SlotJson>,
    global: GlobalJson,
}

#[derive(Debug, Serialize)]
struct SlotJson {
    name: String,
    max_concurrent: u32,
    running: u32,
    queued: u32,
    queue_limit: u32,
    memory_max_bytes: u64,
    memory_reserved_bytes: u64,
    cpu_max_percent: f64,
    pids_max: Option<u64>,
    live: Option<Live>,
}

#[derive(Debug, Serialize)]
struct GlobalJson {
    memory_max_bytes: Option<u64>,
    enforcement: String,
    paused: Option<String>,
}

#[derive(Debug, Serialize)]
struct Live {
    memory_current_bytes: Option<u64>,
    memory_peak_bytes: Option<u64>,
    cpu_usage_usec: Option<u64>,
    cpu_percent: Option<f64>,
    pids_current: Option<u64>,
    psi: Psi,
}

#[derive(Debug, Serialize)]
struct Psi {
    memory_some_avg10: Option<f64>,
    cpu_some_avg10: Option<f64>,
    io_some_avg10: Option<f64>,
}

fn live(usage: &SlotUsage, cpu_percent: Option<f64>) -> Live {
    let avg10 = |p: &Option<Pressure>| p.map(|p| p.some.avg10);
    Live {
        memory_current_bytes: Some(usage.memory_current),
        memory_peak_bytes: usage.memory_peak,
        cpu_usage_usec: Some(usage.cpu.usage_usec),
        cpu_percent,
        pids_current: Some(usage.pids_current),
        psi: Psi {
            memory_some_avg10: avg10(&usage.memory_pressure),
            cpu_some_avg10: avg10(&usage.cpu_pressure),
            io_some_avg10: avg10(&usage.io_pressure),
        },
    }
}

/// The body of `GET /slots` (and of the `slots` event) now.
///
/// # Errors
/// 503 when the engine has stopped.
pub async fn body(state: &AppState) -> Result<SlotsBody, ApiError> {
    let report = state.engine.slots().await?;
    let (tree, cpu) = (state.cgroup.clone(), state.cpu.clone());
    let books = report.slots;
    let slots = tokio::task::spawn_blocking(move || {
        books
            .into_iter()
            .map(|book: SlotBook| {
                let live = tree.as_ref().and_then(|tree| {
                    let usage = tree
                        .slot_usage(&book.status.name)
                        .map_err(|e| tracing::debug!(slot = %book.status.name, error = %e, "slot figures unreadable"))
                        .ok()?;
                    let percent = cpu.percent(&book.status.name, usage.cpu.usage_usec, Instant::now());
                    Some(live(&usage, percent))
                });
                let SlotStatus {
                    name,
                    running,
                    max_concurrent,
                    queued,
                    queue_limit,
                    memory_reserved,
                    memory_max,
                } = book.status;
                SlotJson {
                    name,
                    max_concurrent,
                    running,
                    queued,
                    queue_limit,
                    memory_max_bytes: memory_max,
                    memory_reserved_bytes: memory_reserved,
                    cpu_max_percent: book.cpu_max_percent,
                    pids_max: book.pids_max,
                    live,
                }
            })
            .collect()
    })
    .await?;
    Ok(SlotsBody {
        slots,
        global: GlobalJson {
            memory_max_bytes: report.memory_max,
            enforcement: report.enforcement,
            paused: report.paused,
        },
    })
}

/// `GET /slots`.
pub async fn slots(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(body(&state).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_percent_is_usage_over_wall_time_since_the_previous_read() {
        let reads = CpuReads::default();
        let t0 = Instant::now();
        assert_eq!(reads.percent("a", 1_000_000, t0), None, "first read");
        // 1.5 s of CPU in 2 s of wall time: 75 % of one CPU.
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(reads.percent("a", 2_500_000, t1), Some(75.0));
        // Too soon: the previous figure again, and the window is not reset.
        assert_eq!(
            reads.percent("a", 9_999_999, t1 + Duration::from_millis(10)),
            Some(75.0)
        );
        // Two full CPUs.
        let t2 = t1 + Duration::from_secs(1);
        assert_eq!(reads.percent("a", 4_500_000, t2), Some(200.0));
        // A counter that went back (the cgroup was made again) starts over.
        assert_eq!(reads.percent("a", 10, t2 + Duration::from_secs(1)), None);
        assert_eq!(reads.percent("b", 10, t2), None, "slots apart");
    }
}
