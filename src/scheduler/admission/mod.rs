//! Admission: a queued run starts when its slot has a free seat and its expected memory fits
//! both the slot's free budget and, if set, the global budget across slots. Each slot's
//! queue is ordered by priority, then due time, then arrival.
//!
//! Memory is head-of-line: when the first run of a queue does not fit, nothing behind it
//! in that slot jumps ahead, so a large job is never starved by a stream of small ones.
//! Runs that must wait for a reason of their own (`blocks:` a running job, the machine
//! under pressure: [`hold`]) are passed over without holding up the rest.
//! The kernel's `memory.max` stays the hard backstop; these budgets only keep slotcron
//! from starting work the kernel would have to kill.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::config::{Priority, Settings};

mod hold;
pub use hold::{Floor, Hold, REQUEUE_TRIGGER, hold};

/// A run waiting for its slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub job: String,
    pub slot: String,
    pub priority: Priority,
    /// When it became due; orders runs of equal priority.
    pub due: DateTime<Utc>,
    /// When it entered the queue (recorded with the run as `queued_at`).
    pub queued_at: DateTime<Utc>,
    /// What started it: `schedule`, `manual`, `retry`, `catch_up`, `after:<job>`, ...
    pub trigger: String,
    /// 1 for a first attempt.
    pub attempt: u32,
    /// The first attempt's run id, for retries.
    pub retry_of: Option<i64>,
    /// Bytes admission reserves for the run while it runs.
    pub expected_memory: u64,
}

/// A slot as admission sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotSpec {
    pub name: String,
    pub max_concurrent: u32,
    /// The slot's `memory.max`: the budget runs' expected memory is counted against.
    pub memory_budget: u64,
    /// Runs that may wait at once; 0 means a run that cannot start at once is skipped.
    pub queue_limit: u32,
}

/// Order within a slot's queue: priority (critical first), due time, arrival.
type Key = (crate::config::Priority, DateTime<Utc>, u64);

/// One slot's seats, reserved memory and queue.
#[derive(Debug, Clone)]
pub struct SlotBook {
    pub spec: SlotSpec,
    /// Runs holding a seat (including adopted runs after a restart).
    pub running: u32,
    /// Sum of the expected memory of the runs holding a seat.
    pub reserved: u64,
    queue: BTreeMap<Key, Pending>,
}

impl SlotBook {
    /// Runs waiting, in the order they would start.
    pub fn queued(&self) -> impl Iterator<Item = &Pending> {
        self.queue.values()
    }

    /// Number of runs waiting.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    fn fits(&self, memory: u64) -> bool {
        // An idle slot always admits its first run, even one expected to need more than
        // the whole budget (the kernel limit decides); otherwise it would wait forever.
        self.running == 0 || self.reserved.saturating_add(memory) <= self.spec.memory_budget
    }
}

/// Why a run was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("slot `{slot}` already has {limit} runs waiting (queue_limit)")]
pub struct QueueFull {
    pub slot: String,
    pub limit: u32,
}

/// A run admission has just given a seat; its memory is reserved until [`Admission::release`].
#[derive(Debug, Clone, PartialEq)]
pub struct Admitted(pub Pending);

/// Seats, budgets and queues of every slot.
#[derive(Debug, Clone)]
pub struct Admission {
    slots: BTreeMap<String, SlotBook>,
    /// `cgroup.memory_max`: all slots together; `None` when not set.
    global_budget: Option<u64>,
    /// Sum of `reserved` over all slots.
    global_reserved: u64,
    /// Runs holding a seat in any slot.
    global_running: u32,
    /// Arrival counter: makes queue keys unique and keeps FIFO among equals.
    seq: u64,
}

impl Admission {
    /// Empty books for these slots.
    pub fn new(slots: impl IntoIterator<Item = SlotSpec>, global_budget: Option<u64>) -> Self {
        let slots = slots
            .into_iter()
            .map(|spec| {
                let book = SlotBook {
                    spec,
                    running: 0,
                    reserved: 0,
                    queue: BTreeMap::new(),
                };
                (book.spec.name.clone(), book)
            })
            .collect();
        Admission {
            slots,
            global_budget,
            global_reserved: 0,
            global_running: 0,
            seq: 0,
        }
    }

    /// Empty books for the slots of `settings` and its `cgroup.memory_max`: the books the
    /// daemon keeps, and the ones the forecast (`crate::plan`) plays on.
    pub fn for_settings(settings: &Settings) -> Self {
        Admission::new(
            settings.slots.values().map(|slot| SlotSpec {
                name: slot.name.clone(),
                max_concurrent: slot.max_concurrent,
                memory_budget: slot.memory_max.bytes(),
                queue_limit: slot.queue_limit,
            }),
            settings.memory_max.map(|m| m.bytes()),
        )
    }

    /// The slot books, by name.
    pub fn slots(&self) -> impl Iterator<Item = &SlotBook> {
        self.slots.values()
    }

    /// One slot's book.
    pub fn slot(&self, name: &str) -> Option<&SlotBook> {
        self.slots.get(name)
    }

    /// Puts a run in its slot's queue.
    ///
    /// # Errors
    /// [`QueueFull`] when the slot already has `queue_limit` runs waiting. A run for an
    /// unknown slot is refused the same way (limit 0): the loader never produces one.
    pub fn enqueue(&mut self, run: Pending) -> Result<(), QueueFull> {
        let Some(book) = self.slots.get_mut(&run.slot) else {
            return Err(QueueFull {
                slot: run.slot,
                limit: 0,
            });
        };
        if book.queue.len() >= book.spec.queue_limit as usize {
            return Err(QueueFull {
                slot: run.slot,
                limit: book.spec.queue_limit,
            });
        }
        self.seq += 1;
        book.queue.insert((run.priority, run.due, self.seq), run);
        Ok(())
    }

    /// Takes every run that may start now, in order, and reserves its seat and memory.
    /// `eligible` passes over runs that must keep waiting for a reason of their own; it is
    /// shown the runs admitted so far in this call (for `blocks:` between two queued runs).
    ///
    /// Across slots, the best head (priority, then due time) goes first, so the global
    /// budget serves the most urgent work; when that head does not fit the global budget,
    /// admission stops for everyone until memory is released.
    pub fn admit(
        &mut self,
        mut eligible: impl FnMut(&Pending, &[Admitted]) -> bool,
    ) -> Vec<Admitted> {
        let mut admitted = Vec::new();
        loop {
            let mut best: Option<(Key, String)> = None;
            for (name, book) in &self.slots {
                if book.running >= book.spec.max_concurrent {
                    continue;
                }
                let Some((key, run)) = book.queue.iter().find(|(_, run)| eligible(run, &admitted))
                else {
                    continue;
                };
                // Head-of-line: when the first eligible run does not fit, the slot waits.
                if !book.fits(run.expected_memory) {
                    continue;
                }
                let better = match &best {
                    None => true,
                    Some((k, _)) => (key.0, key.1) < (k.0, k.1),
                };
                if better {
                    best = Some((*key, name.clone()));
                }
            }
            let Some((key, slot)) = best else { break };
            let book = self.slots.get_mut(&slot).expect("found above");
            let memory = book.queue[&key].expected_memory;
            let global_fits = match self.global_budget {
                None => true,
                Some(budget) => {
                    self.global_running == 0
                        || self.global_reserved.saturating_add(memory) <= budget
                }
            };
            if !global_fits {
                break;
            }
            let run = book.queue.remove(&key).expect("found above");
            book.running += 1;
            book.reserved += memory;
            self.global_running += 1;
            self.global_reserved += memory;
            admitted.push(Admitted(run));
        }
        admitted
    }

    /// Takes every queued run that may start now on `floor`: [`Admission::admit`] with
    /// [`hold`] as its test. `replaces(job)`: whether the job has `concurrency: replace`;
    /// `blocks(a, b)`: whether jobs `a` and `b` may not run at the same time.
    pub fn admit_on(
        &mut self,
        floor: &Floor<'_>,
        replaces: impl Fn(&str) -> bool,
        blocks: impl Fn(&str, &str) -> bool,
    ) -> Vec<Admitted> {
        self.admit(|run, so_far| hold(run, replaces(&run.job), floor, so_far, &blocks).is_none())
    }

    /// Counts a run that is already going (adopted after a restart) against its slot.
    pub fn occupy(&mut self, slot: &str, memory: u64) {
        if let Some(book) = self.slots.get_mut(slot) {
            book.running += 1;
            book.reserved += memory;
            self.global_running += 1;
            self.global_reserved += memory;
        }
    }

    /// Frees the seat and memory of a run that ended.
    pub fn release(&mut self, slot: &str, memory: u64) {
        if let Some(book) = self.slots.get_mut(slot) {
            book.running = book.running.saturating_sub(1);
            book.reserved = book.reserved.saturating_sub(memory);
            self.global_running = self.global_running.saturating_sub(1);
            self.global_reserved = self.global_reserved.saturating_sub(memory);
        }
    }

    /// Takes every queued run matching `pred` out of the queues (a job removed, replaced or
    /// the daemon stopping).
    pub fn remove_queued(&mut self, mut pred: impl FnMut(&Pending) -> bool) -> Vec<Pending> {
        let mut removed = Vec::new();
        for book in self.slots.values_mut() {
            let keys: Vec<Key> = book
                .queue
                .iter()
                .filter(|(_, run)| pred(run))
                .map(|(k, _)| *k)
                .collect();
            for key in keys {
                removed.extend(book.queue.remove(&key));
            }
        }
        removed
    }

    /// Whether a run of `job` is waiting.
    pub fn is_queued(&self, job: &str) -> bool {
        self.slots
            .values()
            .any(|book| book.queue.values().any(|run| run.job == job))
    }

    /// Runs waiting in every slot.
    pub fn queued_total(&self) -> usize {
        self.slots.values().map(SlotBook::queue_len).sum()
    }
}

#[cfg(test)]
mod tests;
