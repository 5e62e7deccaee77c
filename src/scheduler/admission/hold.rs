//! Why a queued run keeps waiting although its slot has a seat and memory for it: `protect`
//! holds new runs back, the pressure response has not cleared, the run it replaces has
//! not ended, or it `blocks:` a running job. [`hold`] is the `eligible` test that
//! [`Admission::admit`](super::Admission::admit) is given, as a pure function.

use crate::config::Priority;

use super::{Admitted, Pending};

/// The trigger of a run the pressure response stopped and queued again: it waits until
/// the ladder is calm (ADR 0036).
pub const REQUEUE_TRIGGER: &str = "requeue";

/// The machine and the seats as [`hold`] sees them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floor<'a> {
    /// `protect` holds new runs back (critical ones still start).
    pub paused: bool,
    /// The pressure response has nothing to act on ([`Ladder::is_calm`](crate::scheduler::Ladder::is_calm)).
    pub calm: bool,
    /// The job of each run holding a seat.
    pub running: &'a [&'a str],
}

/// Why a queued run is passed over for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// `protect` holds new runs back and the run is not critical.
    Protect,
    /// The pressure response stopped this run; it waits until the pressure has cleared.
    Pressure,
    /// `concurrency: replace`: the run it replaces still holds its seat; the new one never
    /// runs beside it.
    Replacing,
    /// `blocks:` (either way) between its job and this one, which runs or was admitted
    /// just before it.
    Blocked(String),
}

/// Whether `run` must keep waiting on `floor`. `replace`: its job has `concurrency:
/// replace`; `admitted`: the runs admitted before it in this pass; `blocks(a, b)`: whether
/// jobs `a` and `b` may not run at the same time.
pub fn hold(
    run: &Pending,
    replace: bool,
    floor: &Floor<'_>,
    admitted: &[Admitted],
    blocks: impl Fn(&str, &str) -> bool,
) -> Option<Hold> {
    if floor.paused && run.priority != Priority::Critical {
        return Some(Hold::Protect);
    }
    if !floor.calm && run.trigger == REQUEUE_TRIGGER {
        return Some(Hold::Pressure);
    }
    if replace && floor.running.contains(&run.job.as_str()) {
        return Some(Hold::Replacing);
    }
    let others = floor.running.iter().copied();
    let others = others.chain(admitted.iter().map(|a| a.0.job.as_str()));
    others
        .filter(|other| blocks(&run.job, other))
        .map(|other| Hold::Blocked(other.to_owned()))
        .next()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn run(job: &str, priority: Priority, trigger: &str) -> Pending {
        let t = Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap();
        Pending {
            job: job.into(),
            slot: "default".into(),
            priority,
            due: t,
            queued_at: t,
            trigger: trigger.into(),
            attempt: 1,
            retry_of: None,
            expected_memory: 0,
        }
    }

    const FREE: Floor<'static> = Floor {
        paused: false,
        calm: true,
        running: &[],
    };

    /// `backup` and `vacuum` block each other.
    fn blocks(a: &str, b: &str) -> bool {
        matches!((a, b), ("backup", "vacuum") | ("vacuum", "backup"))
    }

    #[test]
    fn a_free_floor_holds_nothing() {
        let r = run("backup", Priority::Medium, "schedule");
        assert_eq!(hold(&r, true, &FREE, &[], blocks), None);
    }

    #[test]
    fn protect_holds_all_but_critical_runs() {
        let paused = Floor {
            paused: true,
            ..FREE
        };
        let normal = run("report", Priority::Medium, "schedule");
        assert_eq!(
            hold(&normal, false, &paused, &[], blocks),
            Some(Hold::Protect)
        );
        let critical = run("report", Priority::Critical, "schedule");
        assert_eq!(hold(&critical, false, &paused, &[], blocks), None);
    }

    #[test]
    fn a_requeued_run_waits_for_the_pressure_to_clear() {
        let pressed = Floor {
            calm: false,
            ..FREE
        };
        let requeued = run("batch", Priority::Medium, REQUEUE_TRIGGER);
        assert_eq!(
            hold(&requeued, false, &pressed, &[], blocks),
            Some(Hold::Pressure)
        );
        assert_eq!(hold(&requeued, false, &FREE, &[], blocks), None);
        let fresh = run("batch", Priority::Medium, "schedule");
        assert_eq!(hold(&fresh, false, &pressed, &[], blocks), None);
    }

    #[test]
    fn replace_waits_for_the_old_run_to_leave_its_seat() {
        let floor = Floor {
            running: &["sync"],
            ..FREE
        };
        let r = run("sync", Priority::Medium, "schedule");
        assert_eq!(hold(&r, true, &floor, &[], blocks), Some(Hold::Replacing));
        assert_eq!(
            hold(&r, false, &floor, &[], blocks),
            None,
            "allow: side by side"
        );
    }

    #[test]
    fn blocks_holds_against_running_and_just_admitted_runs_either_way() {
        let floor = Floor {
            running: &["report", "vacuum"],
            ..FREE
        };
        let backup = run("backup", Priority::Critical, "schedule");
        assert_eq!(
            hold(&backup, false, &floor, &[], blocks),
            Some(Hold::Blocked("vacuum".into()))
        );
        let vacuum = Admitted(run("vacuum", Priority::Medium, "schedule"));
        assert_eq!(
            hold(&backup, false, &FREE, &[vacuum], blocks),
            Some(Hold::Blocked("vacuum".into()))
        );
        let report = run("report", Priority::Medium, "schedule");
        assert_eq!(hold(&report, false, &floor, &[], blocks), None);
    }
}
