//! The pressure response (issue 16, ADR 0036): what slotcron may do to runs that are
//! already going when the whole machine runs short of memory. `protect.response:` in
//! `slotcron.yaml` sets the signals, their thresholds with hysteresis and how often they
//! are read; `on_pressure:` in a job file says which steps the job accepts. Parsed here
//! from the raw fields so [`super::settings`] and [`super::job`] only assemble them.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::fields::Fields;
use super::raw::{RawBand, RawResponse};
use super::units::{ByteSize, duration_text, format_duration};

/// `protect.response.period` when not set: PSI `avg10` moves on a 2 s period.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(2);
/// The shortest `protect.response.period`.
pub const MIN_PERIOD: Duration = Duration::from_millis(100);
/// The longest `protect.response.period`.
pub const MAX_PERIOD: Duration = Duration::from_secs(60);

/// One rung of the ladder, in the order it is climbed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// `memory.high` below the run's current usage: the kernel reclaims from it.
    Throttle,
    /// `cgroup.freeze`: the run stops; its frozen time does not count against its timeout.
    Freeze,
    /// The run is stopped and queued again in its slot; only where the job declares it.
    Requeue,
}

impl Step {
    /// Every step, in ladder order.
    pub const ALL: [Step; 3] = [Step::Throttle, Step::Freeze, Step::Requeue];

    /// Its name in `on_pressure:`.
    pub fn name(self) -> &'static str {
        match self {
            Step::Throttle => "throttle",
            Step::Freeze => "freeze",
            Step::Requeue => "requeue",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The steps a job accepts (`on_pressure:`). Critical jobs accept none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OnPressure {
    pub throttle: bool,
    pub freeze: bool,
    /// Only when written in the job file: requeueing restarts the run from scratch.
    pub requeue: bool,
}

impl OnPressure {
    /// `[throttle, freeze]`: what a job that says nothing accepts.
    pub const DEFAULT: OnPressure = OnPressure {
        throttle: true,
        freeze: true,
        requeue: false,
    };
    /// `[]`: untouched under pressure (every critical job).
    pub const NONE: OnPressure = OnPressure {
        throttle: false,
        freeze: false,
        requeue: false,
    };

    /// Whether the job accepts `step`.
    pub fn accepts(self, step: Step) -> bool {
        match step {
            Step::Throttle => self.throttle,
            Step::Freeze => self.freeze,
            Step::Requeue => self.requeue,
        }
    }

    /// The accepted steps, in ladder order.
    pub fn steps(self) -> Vec<Step> {
        Step::ALL.into_iter().filter(|s| self.accepts(*s)).collect()
    }
}

impl Default for OnPressure {
    fn default() -> OnPressure {
        OnPressure::DEFAULT
    }
}

impl Serialize for OnPressure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.steps())
    }
}

/// `on_pressure:` of a job, `critical` when its `priority` is. Absent:
/// [`OnPressure::DEFAULT`], or [`OnPressure::NONE`] for a critical job; a critical job that
/// lists a step is a problem.
pub fn on_pressure(f: &mut Fields<'_>, raw: Option<&[String]>, critical: bool) -> OnPressure {
    let Some(names) = raw else {
        return if critical {
            OnPressure::NONE
        } else {
            OnPressure::DEFAULT
        };
    };
    let mut accepted = OnPressure::NONE;
    for name in names {
        let Some(step) = Step::ALL.into_iter().find(|s| s.name() == name) else {
            f.problem(
                "on_pressure",
                name,
                "must be a list of: throttle, freeze, requeue (e.g. `[throttle, freeze]`)",
            );
            continue;
        };
        if accepted.accepts(step) {
            f.problem("on_pressure", name, "is listed twice");
        }
        match step {
            Step::Throttle => accepted.throttle = true,
            Step::Freeze => accepted.freeze = true,
            Step::Requeue => accepted.requeue = true,
        }
    }
    if critical && accepted != OnPressure::NONE {
        f.problem(
            "on_pressure",
            format!("[{}]", names.join(", ")),
            "a critical job is never throttled, frozen or requeued; \
             remove `on_pressure` or lower `priority`",
        );
    }
    accepted
}

/// A threshold with hysteresis: the ladder climbs while the signal is past `act` and
/// comes down once it is back past `clear`; in between, it holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Band<T> {
    pub act: T,
    pub clear: T,
}

/// `protect.response:`: the pressure response for running jobs. Each set signal is
/// checked; any one past its `act` climbs the ladder, all back past `clear` bring it down.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Response {
    /// How often the signals are read while runs are active; 100 ms to 60 s.
    #[serde(serialize_with = "duration_text::serialize")]
    pub period: Duration,
    /// PSI `some avg10` of `/proc/pressure/memory`, percent: act above, clear below
    /// (`clear < act`, both in [0, 100]).
    pub some_avg10: Option<Band<f64>>,
    /// PSI `full avg10`, percent, as `some_avg10`.
    pub full_avg10: Option<Band<f64>>,
    /// `MemAvailable`: act below, clear above (`clear > act`).
    pub mem_available: Option<Band<ByteSize>>,
    /// PSI `some avg10` of each slot's own `memory.pressure`, percent, as `some_avg10`; a
    /// slot past it climbs the ladder on its own runs only.
    pub slot_some_avg10: Option<Band<f64>>,
    /// PSI `full avg10` of each slot's `memory.pressure`, as `slot_some_avg10`.
    pub slot_full_avg10: Option<Band<f64>>,
}

impl Response {
    /// Whether a slot's own `memory.pressure` is a signal (then it is read each period
    /// for the slots with runs in progress).
    pub fn reads_slots(&self) -> bool {
        self.slot_some_avg10.is_some() || self.slot_full_avg10.is_some()
    }
}

/// `protect.response:`; `None` when absent or unusable (then with problems).
pub fn response(f: &mut Fields<'_>, raw: Option<&RawResponse>) -> Option<Response> {
    let raw = raw?;
    let before = f.problems.len();
    let period = f
        .duration("protect.response.period", raw.period.as_ref())
        .unwrap_or(DEFAULT_PERIOD);
    if !(MIN_PERIOD..=MAX_PERIOD).contains(&period) {
        f.problem(
            "protect.response.period",
            format_duration(period),
            format!(
                "must be from {} to {}",
                format_duration(MIN_PERIOD),
                format_duration(MAX_PERIOD)
            ),
        );
    }
    let some_avg10 = psi_band(f, "some_avg10", raw.some_avg10.as_ref());
    let full_avg10 = psi_band(f, "full_avg10", raw.full_avg10.as_ref());
    let mem_available = available_band(f, raw.mem_available.as_ref());
    let slot_some_avg10 = psi_band(f, "slot_some_avg10", raw.slot_some_avg10.as_ref());
    let slot_full_avg10 = psi_band(f, "slot_full_avg10", raw.slot_full_avg10.as_ref());
    let none_given = [
        &raw.some_avg10,
        &raw.full_avg10,
        &raw.mem_available,
        &raw.slot_some_avg10,
        &raw.slot_full_avg10,
    ]
    .iter()
    .all(|band| band.is_none());
    if none_given {
        f.problem(
            "protect.response",
            "{}",
            "needs at least one signal: some_avg10, full_avg10, mem_available, \
             slot_some_avg10 or slot_full_avg10 (e.g. `some_avg10: { act: 40, clear: 10 }`)",
        );
    }
    (f.problems.len() == before).then_some(Response {
        period,
        some_avg10,
        full_avg10,
        mem_available,
        slot_some_avg10,
        slot_full_avg10,
    })
}

/// A PSI band: `act` in (0, 100], `clear` in [0, act), default half of `act`.
fn psi_band(f: &mut Fields<'_>, name: &str, raw: Option<&RawBand>) -> Option<Band<f64>> {
    let raw = raw?;
    let field = |part: &str| format!("protect.response.{name}.{part}");
    let act = required(f, &field("act"), raw)?;
    let act = f.number(&field("act"), Some(act), 0.0..=100.0)?;
    if act <= 0.0 {
        f.problem(&field("act"), act, "must be above 0 (a PSI percentage)");
        return None;
    }
    let clear = f
        .number(&field("clear"), raw.clear.as_ref(), 0.0..=100.0)
        .unwrap_or(act / 2.0);
    if clear >= act {
        f.problem(
            &field("clear"),
            clear,
            format!("must be below `act` ({act}): the gap between them is the hysteresis"),
        );
        return None;
    }
    Some(Band { act, clear })
}

/// The `MemAvailable` band: `clear` above `act`, default twice `act`.
fn available_band(f: &mut Fields<'_>, raw: Option<&RawBand>) -> Option<Band<ByteSize>> {
    let raw = raw?;
    let field = "protect.response.mem_available";
    let act = required(f, &format!("{field}.act"), raw)?;
    let act = f.size(&format!("{field}.act"), Some(act))?;
    let clear = f
        .size(&format!("{field}.clear"), raw.clear.as_ref())
        .unwrap_or(ByteSize::new(act.bytes().saturating_mul(2)));
    if clear <= act {
        f.problem(
            &format!("{field}.clear"),
            clear,
            format!("must be above `act` ({act}): the gap between them is the hysteresis"),
        );
        return None;
    }
    Some(Band { act, clear })
}

fn required<'r>(
    f: &mut Fields<'_>,
    field: &str,
    raw: &'r RawBand,
) -> Option<&'r super::units::Scalar> {
    if raw.act.is_none() {
        f.problem(
            field,
            "",
            "is required (the threshold the ladder climbs at)",
        );
    }
    raw.act.as_ref()
}

#[cfg(test)]
#[path = "pressure_tests.rs"]
mod tests;
