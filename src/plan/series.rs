//! Each slot's figures over the forecast, kept as points where they change, and their
//! peaks.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::scheduler::Admission;

use super::{Peak, Point, Series};

/// The name of the series of all slots together.
pub const MACHINE: &str = "*";

/// The series being recorded, one per slot and one for the machine.
#[derive(Debug)]
pub struct Recorder {
    /// By slot name.
    slots: BTreeMap<String, Series>,
    machine: Series,
}

impl Recorder {
    /// Empty series for the slots of `settings`.
    pub fn new(settings: &Settings) -> Recorder {
        let slots = (settings.slots.values())
            .map(|slot| {
                let series = empty(
                    &slot.name,
                    Some(slot.max_concurrent),
                    Some(slot.memory_max.bytes()),
                );
                (slot.name.clone(), series)
            })
            .collect();
        Recorder {
            slots,
            machine: empty(MACHINE, None, settings.memory_max.map(|m| m.bytes())),
        }
    }

    /// Takes down each slot's figures at `at` from admission's books and `memory` (the
    /// predicted memory of each slot's runs): a new point where a figure changed, the
    /// last point replaced when it is at the same instant.
    pub fn record(
        &mut self,
        at: DateTime<Utc>,
        admission: &Admission,
        memory: &BTreeMap<&str, u64>,
    ) {
        let mut total = Point {
            at,
            running: 0,
            queued: 0,
            reserved_bytes: 0,
            memory_bytes: 0,
        };
        for book in admission.slots() {
            let point = Point {
                at,
                running: book.running,
                queued: u32::try_from(book.queue_len()).unwrap_or(u32::MAX),
                reserved_bytes: book.reserved,
                memory_bytes: memory.get(book.spec.name.as_str()).copied().unwrap_or(0),
            };
            total.running += point.running;
            total.queued = total.queued.saturating_add(point.queued);
            total.reserved_bytes += point.reserved_bytes;
            total.memory_bytes += point.memory_bytes;
            if let Some(series) = self.slots.get_mut(&book.spec.name) {
                push(&mut series.points, point);
            }
        }
        push(&mut self.machine.points, total);
    }

    /// The slots' series by name and the machine's, with their peaks.
    pub fn finish(self) -> (Vec<Series>, Series) {
        let slots = self.slots.into_values().map(with_peak).collect();
        (slots, with_peak(self.machine))
    }
}

fn empty(name: &str, seats: Option<u32>, memory_max_bytes: Option<u64>) -> Series {
    Series {
        name: name.to_owned(),
        seats,
        memory_max_bytes,
        points: Vec::new(),
        peak: Peak::default(),
    }
}

/// Adds `point` unless it says what the last one says; replaces the last one at the same
/// instant.
fn push(points: &mut Vec<Point>, point: Point) {
    let same = |last: &Point| {
        (
            last.running,
            last.queued,
            last.reserved_bytes,
            last.memory_bytes,
        ) == (
            point.running,
            point.queued,
            point.reserved_bytes,
            point.memory_bytes,
        )
    };
    match points.last_mut() {
        Some(last) if last.at == point.at => *last = point,
        Some(last) if same(last) => {}
        _ => points.push(point),
    }
    // A replaced point may now repeat the one before it.
    if points.len() >= 2
        && same(&points[points.len() - 2])
        && points[points.len() - 1].at == point.at
    {
        points.pop();
    }
}

/// `series` with its peaks: each figure's highest value and the first point with it.
fn with_peak(mut series: Series) -> Series {
    let mut peak = Peak::default();
    for p in &series.points {
        if p.running > peak.running {
            (peak.running, peak.running_at) = (p.running, Some(p.at));
        }
        if p.queued > peak.queued {
            (peak.queued, peak.queued_at) = (p.queued, Some(p.at));
        }
        if p.reserved_bytes > peak.reserved_bytes {
            (peak.reserved_bytes, peak.reserved_at) = (p.reserved_bytes, Some(p.at));
        }
        if p.memory_bytes > peak.memory_bytes {
            (peak.memory_bytes, peak.memory_at) = (p.memory_bytes, Some(p.at));
        }
    }
    series.peak = peak;
    series
}
