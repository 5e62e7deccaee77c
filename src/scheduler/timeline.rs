//! The deadlines the daemon sleeps towards: each key (a job's next fire, a retry, a
//! re-check) has at most one deadline. A binary heap with lazy deletion: setting a key
//! again or removing it leaves the old heap entry behind, recognised as stale by its
//! generation when it surfaces. Every operation is O(log n), so 10,000 jobs cost nothing
//! per wake-up.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;

use chrono::{DateTime, Utc};

/// Deadlines by key.
#[derive(Debug, Clone)]
pub struct Timeline<K> {
    heap: BinaryHeap<Reverse<(DateTime<Utc>, u64, K)>>,
    /// The live deadline and generation of each key; heap entries with another generation
    /// are stale.
    live: HashMap<K, (DateTime<Utc>, u64)>,
    generation: u64,
}

impl<K> Default for Timeline<K> {
    fn default() -> Self {
        Timeline {
            heap: BinaryHeap::new(),
            live: HashMap::new(),
            generation: 0,
        }
    }
}

impl<K: Clone + Eq + Hash + Ord> Timeline<K> {
    /// An empty timeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key`'s deadline, replacing any earlier one.
    pub fn set(&mut self, key: K, at: DateTime<Utc>) {
        self.generation += 1;
        self.live.insert(key.clone(), (at, self.generation));
        self.heap.push(Reverse((at, self.generation, key)));
        // Keep stale entries from piling up when deadlines are reset far more often than
        // they fire (a reload storm).
        if self.heap.len() > 2 * self.live.len() + 64 {
            self.compact();
        }
    }

    /// Removes `key`'s deadline, if it has one.
    pub fn remove(&mut self, key: &K) -> Option<DateTime<Utc>> {
        self.live.remove(key).map(|(at, _)| at)
    }

    /// `key`'s deadline.
    pub fn get(&self, key: &K) -> Option<DateTime<Utc>> {
        self.live.get(key).map(|(at, _)| *at)
    }

    /// The earliest deadline.
    pub fn next_deadline(&mut self) -> Option<DateTime<Utc>> {
        self.drop_stale();
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Takes every key whose deadline is at or before `now`, earliest first.
    pub fn pop_due(&mut self, now: DateTime<Utc>) -> Vec<(K, DateTime<Utc>)> {
        let mut due = Vec::new();
        loop {
            self.drop_stale();
            match self.heap.peek() {
                Some(Reverse((at, _, _))) if *at <= now => {
                    let Reverse((at, _, key)) = self.heap.pop().expect("peeked");
                    self.live.remove(&key);
                    due.push((key, at));
                }
                _ => return due,
            }
        }
    }

    /// Number of keys with a deadline.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Whether no key has a deadline.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    fn drop_stale(&mut self) {
        while let Some(Reverse((_, generation, key))) = self.heap.peek() {
            if self.live.get(key).is_some_and(|(_, g)| g == generation) {
                return;
            }
            self.heap.pop();
        }
    }

    fn compact(&mut self) {
        let live = &self.live;
        self.heap
            .retain(|Reverse((_, g, key))| live.get(key).is_some_and(|(_, lg)| lg == g));
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn t(sec: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap() + Duration::seconds(sec)
    }

    #[test]
    fn pops_due_keys_in_order_and_forgets_replaced_and_removed_deadlines() {
        let mut tl = Timeline::new();
        tl.set("a", t(30));
        tl.set("b", t(10));
        tl.set("c", t(20));
        tl.set("a", t(5)); // replaces 30
        tl.remove(&"c");
        assert_eq!(tl.next_deadline(), Some(t(5)));
        assert_eq!(tl.pop_due(t(10)), vec![("a", t(5)), ("b", t(10))]);
        assert_eq!(tl.next_deadline(), None);
        assert!(tl.is_empty());
        assert!(
            tl.pop_due(t(100)).is_empty(),
            "the replaced deadline of a never fires"
        );
    }

    #[test]
    fn stale_entries_are_compacted() {
        let mut tl = Timeline::new();
        for i in 0..10_000 {
            tl.set(1u32, t(i));
        }
        assert!(tl.heap.len() <= 2 * tl.len() + 64, "{}", tl.heap.len());
        assert_eq!(tl.pop_due(t(20_000)), vec![(1, t(9_999))]);
    }
}
