//! Per-job totals for the counters and the duration histogram. They start from history
//! ([`Counters::from_totals`], one grouped query at daemon start), so a restart continues
//! them, and grow in memory as runs end ([`Counters::observe`]). Runs that another
//! process (`slotcron run`) records while the daemon runs are counted at its next start.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::model::IoStat;
use crate::model::RunStatus;
use crate::store::{RunRecord, RunTotals};

/// Upper bounds of the duration histogram's buckets, in seconds (`+Inf` follows): from a
/// second to six hours, the range of cron jobs.
pub const DURATION_BUCKETS: [f64; 11] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0,
];

/// The bounds of [`DURATION_BUCKETS`] in milliseconds, as history stores durations.
pub fn bucket_bounds_ms() -> Vec<u64> {
    DURATION_BUCKETS
        .iter()
        .map(|s| (s * 1000.0) as u64)
        .collect()
}

/// Run durations of one job, in the fixed buckets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DurationHistogram {
    /// Runs per bucket (not cumulative): `[i]` counts durations in
    /// `(DURATION_BUCKETS[i-1], DURATION_BUCKETS[i]]`, the last entry those above the
    /// highest bound. Sums to `count`.
    pub buckets: [u64; DURATION_BUCKETS.len() + 1],
    /// Sum of all durations, seconds.
    pub sum: f64,
    pub count: u64,
}

impl DurationHistogram {
    /// Counts one duration.
    pub fn observe(&mut self, seconds: f64) {
        let i = DURATION_BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(DURATION_BUCKETS.len());
        self.buckets[i] += 1;
        self.sum += seconds;
        self.count += 1;
    }

    /// Adds durations given as cumulative counts per bound (as [`RunTotals`] has them).
    fn add_cumulative(&mut self, le: &[u64], count: u64, sum: f64) {
        let mut below = 0;
        for (i, &c) in le.iter().enumerate().take(DURATION_BUCKETS.len()) {
            self.buckets[i] += c.saturating_sub(below);
            below = c;
        }
        self.buckets[DURATION_BUCKETS.len()] += count.saturating_sub(below);
        self.sum += sum;
        self.count += count;
    }

    /// `(upper bound, runs in that bucket)` with `+Inf` last, as the encoder takes them.
    pub fn pairs(&self) -> Vec<(f64, u64)> {
        DURATION_BUCKETS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(self.buckets)
            .collect()
    }
}

/// One job's totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobCounters {
    /// Finished runs by (slot, status); `running` never appears.
    pub runs: BTreeMap<(String, &'static str), u64>,
    /// CPU time of all its runs, µs.
    pub cpu_usec: u64,
    /// Processes the OOM killer killed in its runs.
    pub oom_kills: u64,
    /// Bytes and operations its runs read and wrote (`io.stat`, where measured).
    pub io: IoStat,
    /// Start of the newest run that ran (not skipped) and ended.
    pub last_run: Option<DateTime<Utc>>,
    /// End of the newest successful run.
    pub last_success: Option<DateTime<Utc>>,
    /// The job's performance as `stats::performance::verdict` judged it after its newest
    /// run (or at daemon start); `None` until then.
    pub performance: Option<crate::stats::Performance>,
    /// `memory_peak_bytes` of the newest run that ran and ended, with its id (the newest
    /// wins when history and live runs are merged).
    pub last_memory_peak: Option<(i64, u64)>,
    pub duration: DurationHistogram,
}

impl JobCounters {
    /// Total runs with `status`, across slots.
    pub fn runs_with(&self, status: RunStatus) -> u64 {
        self.runs
            .iter()
            .filter(|((_, s), _)| *s == status.as_str())
            .map(|(_, n)| n)
            .sum()
    }
}

/// Every job's totals, by name (jobs removed from `jobs_dir` included: they show again if
/// the job comes back).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    pub jobs: HashMap<String, JobCounters>,
    /// Steps the pressure response carried out since the daemon started, by name
    /// (`throttle`, `freeze`, `requeue`, `thaw`, `lift`; `scheduler::ladder::Action::name`).
    pub pressure_steps: BTreeMap<&'static str, u64>,
}

impl Counters {
    /// Totals from history (see `Store::run_totals`, called with [`bucket_bounds_ms`]).
    pub fn from_totals(totals: Vec<RunTotals>) -> Counters {
        let mut counters = Counters::default();
        for t in totals {
            let job = counters.jobs.entry(t.job).or_default();
            *job.runs.entry((t.slot, t.status.as_str())).or_default() += t.runs;
            job.cpu_usec += t.cpu_usage_usec;
            job.oom_kills += t.oom_kills;
            add_io(&mut job.io, &t.io);
            if t.status == RunStatus::Skipped {
                continue;
            }
            job.last_run = job.last_run.max(t.last_started_at);
            if t.status == RunStatus::Success {
                job.last_success = job.last_success.max(t.last_finished_at);
            }
            if job.last_memory_peak.is_none_or(|(id, _)| id < t.last_id)
                && let Some(peak) = t.last_memory_peak
            {
                job.last_memory_peak = Some((t.last_id, peak));
            }
            job.duration.add_cumulative(
                &t.duration_le,
                t.durations,
                t.duration_ms_sum as f64 / 1000.0,
            );
        }
        counters
    }

    /// Counts a run that ended (any final status, skipped included).
    pub fn observe(&mut self, run: &RunRecord) {
        let job = self.jobs.entry(run.job.clone()).or_default();
        *job.runs
            .entry((run.slot.clone(), run.status.as_str()))
            .or_default() += 1;
        job.cpu_usec += run.usage.cpu_usage_usec.unwrap_or(0);
        job.oom_kills += run.usage.oom_kills.unwrap_or(0);
        if let Some(io) = &run.usage.io {
            add_io(&mut job.io, io);
        }
        if matches!(run.status, RunStatus::Skipped | RunStatus::Running) {
            return;
        }
        job.last_run = job.last_run.max(Some(run.started_at));
        if run.status == RunStatus::Success {
            job.last_success = job.last_success.max(run.finished_at);
        }
        if let Some(peak) = run.usage.memory_peak_bytes {
            job.last_memory_peak = Some((run.id, peak));
        }
        if let Some(ms) = run.duration_ms {
            job.duration.observe(ms as f64 / 1000.0);
        }
    }

    /// Counts a run recorded `skipped` (the daemon records these without a [`RunRecord`]).
    pub fn observe_skip(&mut self, job: &str, slot: &str) {
        let job = self.jobs.entry(job.to_owned()).or_default();
        *job.runs
            .entry((slot.to_owned(), RunStatus::Skipped.as_str()))
            .or_default() += 1;
    }
}

/// Adds one run's (or one group's) io figures to a job's totals.
fn add_io(total: &mut IoStat, more: &IoStat) {
    total.rbytes = total.rbytes.saturating_add(more.rbytes);
    total.wbytes = total.wbytes.saturating_add(more.wbytes);
    total.rios = total.rios.saturating_add(more.rios);
    total.wios = total.wios.saturating_add(more.wios);
}
