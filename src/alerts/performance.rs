//! The rules judged against a job's baseline, all through the effect-size rule of
//! `stats::effect` (ADR 0031): `anomaly` (a successful run slower or bigger than usual),
//! `too_fast` and `too_small` (much shorter or smaller, when the job turns them on) and
//! `degraded` (the newest successful runs' median, from `stats::performance::verdict`, the
//! same verdict health shows). Every finding carries its evidence and says how the alert
//! stops if the change is the job's new normal.

use crate::model::RunStatus;
use crate::stats::effect::{Evidence, Figure, Judging, Rule, judge};
use crate::stats::{Baseline, Recent, verdict};
use crate::store::RunRecord;

use crate::model::alert::{AlertKind, Finding};

/// What history says about a job, for the rules judged against it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The job's stored baseline; `None` before it has one (nothing is judged).
    pub baseline: Option<Baseline>,
    /// The medians of its newest successful runs, this run included.
    pub recent: Recent,
}

impl History {
    /// Whether the duration can be judged: there is a baseline with a spread.
    fn judges(&self) -> bool {
        self.baseline
            .as_ref()
            .is_some_and(|b| b.duration_reference().is_some())
    }
}

/// The findings about a finished run of `job` judged against its history, in
/// `AlertKind::ALL` order: `anomaly`, `degraded`, `too_fast`, `too_small`. Only a success
/// is judged (a failed run stops early or late for its own reasons).
pub fn findings(run: &RunRecord, job: &str, history: &History, judging: &Judging) -> Vec<Finding> {
    let Some(baseline) = history
        .baseline
        .as_ref()
        .filter(|_| run.status == RunStatus::Success)
    else {
        return Vec::new();
    };
    let one = |rule: Rule| -> Option<Evidence> {
        let (value, usual) = match rule.figure() {
            Figure::Duration => (run.duration_ms? as f64, baseline.duration_reference()?),
            Figure::Memory => (
                run.usage.memory_peak_bytes? as f64,
                baseline.memory_reference()?,
            ),
        };
        judge(rule, value, 1, &usual, judging)
    };
    let hint = new_normal(job, baseline.runs);
    let id = run.id;
    let found: [(AlertKind, String, Vec<Evidence>); 4] = [
        (
            AlertKind::Anomaly,
            format!("run {id} cost more than usual"),
            [Rule::Slower, Rule::Bigger]
                .into_iter()
                .filter_map(one)
                .collect(),
        ),
        (
            AlertKind::Degraded,
            "performance degraded".to_owned(),
            verdict(Some(baseline), &history.recent, judging).evidence,
        ),
        (
            AlertKind::TooFast,
            format!("run {id} ended much sooner than usual"),
            one(Rule::Faster).into_iter().collect(),
        ),
        (
            AlertKind::TooSmall,
            format!("run {id} used much less memory than usual"),
            one(Rule::Smaller).into_iter().collect(),
        ),
    ];
    found
        .into_iter()
        .filter(|(_, _, evidence)| !evidence.is_empty())
        .map(|(kind, what, evidence)| {
            let message = format!("{what}: {}. {hint}", joined(&evidence));
            Finding::with_evidence(kind, message, evidence)
        })
        .collect()
}

/// The baseline kinds that the finished `run` shows to be over, given what it raised
/// (`raised`): a success judged against a baseline with a spread ends each of them that
/// it did not raise again. Anything else ends none.
pub fn resolutions(run: &RunRecord, history: &History, raised: &[AlertKind]) -> Vec<AlertKind> {
    if run.status != RunStatus::Success || !history.judges() {
        return Vec::new();
    }
    [
        AlertKind::Anomaly,
        AlertKind::Degraded,
        AlertKind::TooFast,
        AlertKind::TooSmall,
    ]
    .into_iter()
    .filter(|kind| !raised.contains(kind))
    .collect()
}

/// How the alert stops if the change is the job's new normal (item 5 of ADR 0031).
pub fn new_normal(job: &str, baseline_runs: u32) -> String {
    format!(
        "If this is its new normal, it stops once the newest {baseline_runs} successful runs \
         all show it (the baseline is checked every 10 successes), or at once after \
         `slotcron recalculate-baselines {job}`"
    )
}

fn joined(evidence: &[Evidence]) -> String {
    evidence
        .iter()
        .map(|e| e.summary.as_str())
        .collect::<Vec<_>>()
        .join("; and ")
}
