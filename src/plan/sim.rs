//! The forecast's event loop on a virtual clock. It keeps the books the daemon's engine
//! keeps (`crate::daemon::engine`) and moves them with the same calls in the same order:
//! a fire time takes the next one off [`firing`] and goes through [`decide`]; a queued run
//! waits in [`Admission`] and starts when [`Admission::admit_on`] says so; a run that ends
//! frees its seat, starts its `after:` followers ([`Links`]) and lets the queue move. Only
//! the world is different: no process runs, a run lasts its [`Estimate`] and succeeds,
//! and the machine's available memory is what it was at the start less what the runs
//! going are predicted to use.
//!
//! Runs that end at the same instant as a fire time end first (their seat is free for
//! it); fire times of one instant come due in the order of the jobs' names, as after the
//! daemon's start.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::config::{CatchUp, Concurrency, Job, Schedule, Settings};
use crate::model::{RunStatus, format_duration};
use crate::scheduler::due::unmet_dependency;
use crate::scheduler::{
    Admission, Decision, DueJob, Floor, LastOutcome, Links, Look, MachineState, Origin, Pending,
    ProtectGate, Timeline, decide, firing, job_breaker,
};
use crate::store::JobSummary;

use super::estimate::{Estimate, estimate};
use super::series::Recorder;
use super::{Fate, Finding, FindingKind, Inputs, JobPlan, Options, Plan, PlannedRun};

/// What the virtual clock wakes up for. At one instant, ends come first, then fire times,
/// then overdue checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Wake {
    /// A run (by id) ends.
    End(usize),
    /// A job (by index) reaches its next fire time (after jitter).
    Fire(usize),
    /// A queued run of the job reaches `alerting.overdue_grace` past its due time.
    Overdue(usize),
}

/// One job's books, as the daemon's registry keeps them.
#[derive(Debug)]
struct JobBooks<'a> {
    job: &'a Job,
    enabled: bool,
    /// History's summary, moved on as forecast runs start and succeed.
    summary: JobSummary,
    estimate: Estimate,
    /// The newest ended run (a history id before the forecast's first, then a forecast
    /// run id), for `depends_on`.
    last: Option<LastOutcome>,
    next_nominal: Option<DateTime<Utc>>,
    /// Its runs holding a seat, by id.
    running: Vec<usize>,
    /// Its runs waiting in the queue, by id.
    queued: Vec<usize>,
}

/// The forecast in motion.
pub struct Sim<'a> {
    settings: &'a Settings,
    options: &'a Options,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    jobs: Vec<JobBooks<'a>>,
    index: HashMap<&'a str, usize>,
    links: Links,
    admission: Admission,
    gate: ProtectGate,
    mem_available: Option<u64>,
    timeline: Timeline<Wake>,
    runs: Vec<PlannedRun>,
    /// Runs holding a seat, by id, in the order they started.
    active: Vec<usize>,
    /// Predicted memory of the runs holding a seat, by slot.
    memory: BTreeMap<&'a str, u64>,
    /// Whether `protect` held runs back at the last look.
    held: bool,
    recorder: Recorder,
    findings: Vec<Finding>,
}

impl<'a> Sim<'a> {
    /// Books for `inputs`' jobs at `options.from`, nothing running, nothing queued.
    pub fn new(inputs: &Inputs<'a>, options: &'a Options) -> Sim<'a> {
        let settings = inputs.settings;
        let mut sorted: Vec<&'a Job> = inputs.jobs.to_vec();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let history = inputs.history;
        let jobs: Vec<JobBooks<'a>> = sorted
            .iter()
            .map(|&job| {
                let summary = history
                    .summaries
                    .get(&job.name)
                    .cloned()
                    .unwrap_or_default();
                let last = summary.last_final.map(|run| LastOutcome {
                    id: run.id,
                    status: run.status,
                });
                JobBooks {
                    job,
                    enabled: history.enabled(&job.name, job.enabled),
                    estimate: estimate(job, settings, history, options.percentile),
                    summary,
                    last,
                    next_nominal: None,
                    running: Vec::new(),
                    queued: Vec::new(),
                }
            })
            .collect();
        let index = jobs
            .iter()
            .enumerate()
            .map(|(i, b)| (b.job.name.as_str(), i))
            .collect();
        Sim {
            settings,
            options,
            until: options.until(),
            now: options.from,
            index,
            links: Links::new(sorted.iter().copied()),
            admission: Admission::for_settings(settings),
            gate: ProtectGate::from(&settings.protect),
            mem_available: inputs.mem_available,
            timeline: Timeline::new(),
            runs: Vec::new(),
            active: Vec::new(),
            memory: settings
                .slots
                .keys()
                .map(|name| (name.as_str(), 0))
                .collect(),
            held: false,
            recorder: Recorder::new(settings),
            findings: Vec::new(),
            jobs,
        }
    }

    /// Plays the window and everything it set going to its end.
    pub fn run(mut self) -> Plan {
        self.start();
        self.record();
        while let Some(at) = self.timeline.next_deadline() {
            self.now = at;
            let mut due = self.timeline.pop_due(at);
            due.sort_unstable_by_key(|(wake, _)| *wake);
            for (wake, _) in due {
                match wake {
                    Wake::End(run) => self.end(run),
                    Wake::Fire(job) => self.fire(job),
                    Wake::Overdue(job) => self.overdue(job),
                }
            }
            self.record();
        }
        self.finish()
    }

    /// As the daemon's start: every enabled job's first fire time, then (if asked) each
    /// `catch_up: once` job's missed fire time.
    fn start(&mut self) {
        let from = self.options.from;
        let mut missed = Vec::new();
        for j in 0..self.jobs.len() {
            let books = &self.jobs[j];
            let catches_up = matches!(books.job.schedule, Schedule::Cron(_) | Schedule::Every(_))
                && books.job.catch_up == CatchUp::Once;
            if self.options.catch_up && books.enabled && catches_up {
                missed.extend(
                    firing::missed_fire(books.job, books.summary.last_started_at, from)
                        .map(|at| (j, at)),
                );
            }
            let next = books.job.next_fire(from);
            self.schedule(j, next);
        }
        for (j, at) in missed {
            self.due(j, Origin::CatchUp, at);
        }
    }

    /// Puts job `j`'s fire time `next` on the timeline with its expected jitter, unless the
    /// job is disabled or the time is past the window.
    fn schedule(&mut self, j: usize, next: Option<DateTime<Utc>>) {
        let books = &mut self.jobs[j];
        books.next_nominal = next.filter(|at| books.enabled && *at < self.until);
        match books.next_nominal {
            Some(at) => {
                let deadline = firing::jittered(at, books.job.jitter, firing::expected_jitter);
                self.timeline.set(Wake::Fire(j), deadline);
            }
            None => {
                self.timeline.remove(&Wake::Fire(j));
            }
        }
    }

    /// A fire time of job `j` has come: the next one goes on the timeline, this one is due.
    fn fire(&mut self, j: usize) {
        let Some(nominal) = self.jobs[j].next_nominal else {
            return;
        };
        let next = firing::next_after_due(self.jobs[j].job, nominal, self.now);
        self.schedule(j, next);
        self.due(j, Origin::Schedule, nominal);
    }

    /// Job `j` is due for `origin`: [`decide`], then queue it and admit what may start,
    /// as `Engine::due` does.
    fn due(&mut self, j: usize, origin: Origin, due: DateTime<Utc>) {
        let facts = self.due_job(j, &origin);
        let decision = decide(&facts);
        // Busy matters only once the dependencies are met (`decide`'s order).
        let busy = (unmet_dependency(&facts.dependencies).is_none())
            .then(|| self.busy_with(j))
            .flatten();
        let name = self.jobs[j].job.name.clone();
        match decision {
            Decision::Ignore(off) => {
                let reason = off.describe(&name);
                self.add_run(j, &origin, due, Fate::Ignored { reason });
                return;
            }
            Decision::Skip(reason) => {
                let id = self.add_run(
                    j,
                    &origin,
                    due,
                    Fate::Skipped {
                        reason: reason.clone(),
                    },
                );
                match busy {
                    Some(previous) => {
                        self.still_running(id, previous, "concurrency forbid skips this one");
                    }
                    None => {
                        let message = format!("`{name}` skipped: {reason}");
                        self.found(FindingKind::Skipped, Some(id), message);
                    }
                }
                return;
            }
            Decision::Replace => self.replace(j),
            Decision::Queue => {}
        }
        let id = self.enqueue(j, origin, due);
        if let Some(previous) = busy {
            let effect = match self.jobs[j].job.concurrency {
                Concurrency::Replace => "concurrency replace stops it for this one",
                _ => "concurrency allow runs this one beside it",
            };
            self.still_running(id, previous, effect);
        }
    }

    /// What [`decide`] needs to know about job `j` coming due for `origin`.
    fn due_job(&self, j: usize, origin: &Origin) -> DueJob<'a> {
        let books = &self.jobs[j];
        let last = |dep: &str| self.index.get(dep).and_then(|&d| self.jobs[d].last);
        DueJob {
            asker: origin.asker(),
            enabled: books.enabled,
            breaker: job_breaker(books.job.breaker.as_ref(), &books.summary, self.now),
            concurrency: books.job.concurrency,
            dependencies: (books.job.depends_on.iter())
                .map(|dep| (dep.as_str(), last(dep)))
                .collect(),
            running: books.running.iter().map(|&id| Some(id as i64)).collect(),
            queued: !books.queued.is_empty(),
        }
    }

    /// The run of job `j` that holds a seat or waits for one, if any.
    fn busy_with(&self, j: usize) -> Option<usize> {
        let books = &self.jobs[j];
        books.running.first().or(books.queued.first()).copied()
    }

    /// Puts a run of job `j` in its slot's queue (or records why not), then admits;
    /// returns the run's id.
    fn enqueue(&mut self, j: usize, origin: Origin, due: DateTime<Utc>) -> usize {
        let job = self.jobs[j].job;
        let (attempt, retry_of) = origin.attempt();
        let pending = Pending {
            job: job.name.clone(),
            slot: job.slot.clone(),
            priority: job.priority,
            due,
            queued_at: self.now,
            trigger: origin.trigger(),
            attempt,
            retry_of,
            expected_memory: self.jobs[j].estimate.reserved_bytes,
        };
        if let Err(full) = self.admission.enqueue(pending) {
            let reason = full.to_string();
            let message = format!("`{}` skipped: {reason}", job.name);
            let id = self.add_run(j, &origin, due, Fate::Skipped { reason });
            self.found(FindingKind::Skipped, Some(id), message);
            return id;
        }
        let id = self.add_run(
            j,
            &origin,
            due,
            Fate::Waits {
                queued_at: self.now,
            },
        );
        self.jobs[j].queued.push(id);
        self.dispatch();
        if !self.jobs[j].queued.is_empty() {
            let grace = chrono::Duration::from_std(self.settings.alerting.overdue_grace)
                .unwrap_or(chrono::Duration::MAX);
            self.timeline.set(Wake::Overdue(j), due + grace);
        }
        id
    }

    /// `concurrency: replace`: job `j`'s runs going stop now, its queued ones are dropped.
    fn replace(&mut self, j: usize) {
        for id in std::mem::take(&mut self.jobs[j].running) {
            self.timeline.remove(&Wake::End(id));
            if let Fate::Runs {
                ended_at, replaced, ..
            } = &mut self.runs[id].fate
            {
                (*ended_at, *replaced) = (self.now, true);
            }
            self.jobs[j].last = Some(LastOutcome {
                id: id as i64,
                status: RunStatus::Killed,
            });
            self.release(id);
        }
        let name = self.jobs[j].job.name.as_str();
        self.admission.remove_queued(|p| p.job == name);
        for id in std::mem::take(&mut self.jobs[j].queued) {
            if let Fate::Waits { queued_at } = self.runs[id].fate {
                self.runs[id].fate = Fate::Dropped {
                    queued_at,
                    at: self.now,
                };
            }
        }
    }

    /// Starts every queued run that may start now, as `Engine::dispatch` does.
    fn dispatch(&mut self) {
        if self.admission.queued_total() == 0 {
            return;
        }
        let paused = self.protect();
        let running: Vec<&str> = (self.active.iter())
            .map(|&id| self.runs[id].job.as_str())
            .collect();
        let floor = Floor {
            paused,
            // The pressure response acts on PSI, which the forecast does not predict.
            calm: true,
            running: &running,
        };
        let (jobs, index, links) = (&self.jobs, &self.index, &self.links);
        let replaces = |job: &str| {
            (index.get(job)).is_some_and(|&j| jobs[j].job.concurrency == Concurrency::Replace)
        };
        let admitted = self
            .admission
            .admit_on(&floor, replaces, |a, b| links.blocks(a, b));
        for run in admitted {
            self.begin(run.0);
        }
    }

    /// Whether `protect` holds new runs back now (the gate's own look, on the machine's
    /// available memory less what the runs going are predicted to use); each time it
    /// closes is a finding.
    fn protect(&mut self) -> bool {
        if !self.gate.is_active() {
            return false;
        }
        let used: u64 = self.memory.values().sum();
        let state = MachineState {
            mem_available: self.mem_available.map(|m| m.saturating_sub(used)),
            memory_pressure: None,
        };
        match self.gate.look(Some(&state), self.held) {
            Look::Closes(why) => {
                let message = format!("new runs held back: {why}");
                self.found(FindingKind::ProtectHolds, None, message);
                self.held = true;
            }
            Look::Opens => self.held = false,
            Look::StaysClosed | Look::StaysOpen => {}
        }
        self.held
    }

    /// An admitted run takes its seat: it ends after its estimate.
    fn begin(&mut self, pending: Pending) {
        let Some(&j) = self.index.get(pending.job.as_str()) else {
            self.admission
                .release(&pending.slot, pending.expected_memory);
            return;
        };
        let runs = &self.runs;
        let position = (self.jobs[j].queued.iter()).position(|&id| {
            runs[id].due == pending.due
                && matches!(runs[id].fate, Fate::Waits { queued_at } if queued_at == pending.queued_at)
        });
        let id = self.jobs[j]
            .queued
            .remove(position.expect("an admitted run was queued"));
        let estimate = &self.jobs[j].estimate;
        let ended_at = self.now + estimate.duration();
        let wait = (self.now - pending.queued_at).num_milliseconds().max(0) as u64;
        self.runs[id].fate = Fate::Runs {
            queued_at: pending.queued_at,
            started_at: self.now,
            ended_at,
            wait_ms: wait,
            memory_bytes: estimate.memory_bytes,
            reserved_bytes: pending.expected_memory,
            replaced: false,
        };
        *self
            .memory
            .entry(self.jobs[j].job.slot.as_str())
            .or_default() += estimate.memory_bytes;
        let books = &mut self.jobs[j];
        books.running.push(id);
        books.summary.last_started_at = Some(self.now);
        self.active.push(id);
        self.timeline.set(Wake::End(id), ended_at);
    }

    /// Frees run `id`'s seat, reservation and predicted memory.
    fn release(&mut self, id: usize) {
        let Fate::Runs {
            reserved_bytes,
            memory_bytes,
            ..
        } = self.runs[id].fate
        else {
            return;
        };
        let slot = self.runs[id].slot.as_str();
        self.admission.release(slot, reserved_bytes);
        if let Some(used) = self.memory.get_mut(slot) {
            *used = used.saturating_sub(memory_bytes);
        }
        self.active.retain(|&a| a != id);
    }

    /// Run `id` ends, successfully: its seat is free, its followers are due, the queue
    /// moves, as `Engine::finished` does.
    fn end(&mut self, id: usize) {
        let Some(&j) = self.index.get(self.runs[id].job.as_str()) else {
            return;
        };
        self.release(id);
        let books = &mut self.jobs[j];
        books.running.retain(|&r| r != id);
        books.last = Some(LastOutcome {
            id: id as i64,
            status: RunStatus::Success,
        });
        (
            books.summary.consecutive_failures,
            books.summary.last_failure_at,
        ) = (0, None);
        if self.now < self.until {
            let leader = books.job.name.clone();
            for follower in self.links.followers(&leader).to_vec() {
                if let Some(&f) = self.index.get(follower.as_str()) {
                    self.due(f, Origin::After(leader.clone()), self.now);
                }
            }
        }
        self.dispatch();
    }

    /// A queued run of job `j` has reached its grace: the daemon's `overdue` rule decides.
    fn overdue(&mut self, j: usize) {
        let books = &self.jobs[j];
        let Some(waiting) = books.queued.iter().map(|&id| self.runs[id].due).min() else {
            return;
        };
        let last_started = books.summary.last_started_at;
        let alerting = &self.settings.alerting;
        if let Some(finding) = crate::alerts::overdue(waiting, last_started, self.now, alerting) {
            let run = books.queued.first().copied();
            let message = format!("`{}`: overdue alert: {}", books.job.name, finding.message);
            self.found(FindingKind::Overdue, run, message);
        }
    }

    /// Records a run of job `j` that came due; returns its id.
    fn add_run(&mut self, j: usize, origin: &Origin, due: DateTime<Utc>, fate: Fate) -> usize {
        let job = self.jobs[j].job;
        let id = self.runs.len();
        self.runs.push(PlannedRun {
            id,
            job: job.name.clone(),
            slot: job.slot.clone(),
            trigger: origin.trigger(),
            due,
            fate,
        });
        id
    }

    /// Run `id` came due while run `previous` of its job held or waited for a seat.
    fn still_running(&mut self, id: usize, previous: usize, effect: &str) {
        let run = &self.runs[previous];
        let state = match run.fate {
            Fate::Runs { started_at, .. } => {
                let ago = (self.now - started_at).to_std().unwrap_or_default();
                format!(
                    "run {previous}, started {} ago, is still running",
                    format_duration(ago)
                )
            }
            _ => format!("run {previous} still waits for a seat"),
        };
        self.findings.push(Finding {
            kind: FindingKind::StillRunning,
            at: self.now,
            job: Some(run.job.clone()),
            slot: Some(run.slot.clone()),
            run: Some(id),
            message: format!("`{}` due again: {state}: {effect}", run.job),
        });
    }

    /// Adds a finding at the current instant about run `run` (its job and slot with it).
    fn found(&mut self, kind: FindingKind, run: Option<usize>, message: String) {
        let (job, slot) = match run.and_then(|id| self.runs.get(id)) {
            Some(r) => (Some(r.job.clone()), Some(r.slot.clone())),
            None => (None, None),
        };
        self.findings.push(Finding {
            kind,
            at: self.now,
            job,
            slot,
            run,
            message,
        });
    }

    fn record(&mut self) {
        self.recorder
            .record(self.now, &self.admission, &self.memory);
    }

    /// The plan: runs, series, and the findings read off them.
    fn finish(self) -> Plan {
        let mut counts = vec![0u32; self.jobs.len()];
        for run in &self.runs {
            if let Some(&j) = self.index.get(run.job.as_str()) {
                counts[j] += 1;
            }
        }
        let jobs: Vec<JobPlan> = (self.jobs.iter().zip(counts))
            .map(|(books, runs)| JobPlan {
                name: books.job.name.clone(),
                slot: books.job.slot.clone(),
                schedule: books.job.schedule_text.clone(),
                enabled: books.enabled,
                estimate: books.estimate.clone(),
                runs,
            })
            .collect();
        let (slots, machine) = self.recorder.finish();
        let mut plan = Plan {
            from: self.options.from,
            until: self.until,
            percentile: self.options.percentile,
            catch_up: self.options.catch_up,
            wait_over_ms: u64::try_from(self.options.wait_over.as_millis()).unwrap_or(u64::MAX),
            mem_available_bytes: self.mem_available,
            jobs,
            runs: self.runs,
            slots,
            machine,
            findings: self.findings,
        };
        super::findings::add(&mut plan, self.settings);
        plan
    }
}
