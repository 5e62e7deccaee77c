//! What a slot uses now, as read from its knob files by each controller, and the PSI
//! parser that three controllers share (pure, like [`super::parse`]). What a run used is
//! [`crate::model::RunUsage`], which the controllers fill the same way.

use super::parse::{ParseError, parse_psi_fields};
use crate::model::CpuStat;

/// One line of a PSI file: share of wall time stalled, in percent, and total µs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PressureLine {
    pub avg10: f64,
    pub avg60: f64,
    pub avg300: f64,
    pub total_usec: u64,
}

/// A PSI file (`memory.pressure`, `/proc/pressure/memory`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pressure {
    /// Some tasks stalled.
    pub some: PressureLine,
    /// All non-idle tasks stalled (absent for CPU at the system level on old kernels).
    pub full: Option<PressureLine>,
}

impl Pressure {
    /// Parses a PSI file.
    ///
    /// ```
    /// use slotcron::cgroup::Pressure;
    /// let p = Pressure::parse(
    ///     "some avg10=1.50 avg60=0.20 avg300=0.00 total=1234\n\
    ///      full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n",
    /// ).unwrap();
    /// assert_eq!(p.some.avg10, 1.5);
    /// assert_eq!(p.full.map(|f| f.total_usec), Some(5));
    /// ```
    ///
    /// # Errors
    /// When the `some` line is missing or a line is malformed.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let (mut some, mut full) = (None, None);
        for (i, line) in s.lines().enumerate() {
            let Some((kind, fields)) = line.split_once(' ') else {
                continue;
            };
            let (avg10, avg60, avg300, total_usec) = parse_psi_fields(i + 1, line, fields)?;
            let l = PressureLine {
                avg10,
                avg60,
                avg300,
                total_usec,
            };
            match kind {
                "some" => some = Some(l),
                "full" => full = Some(l),
                _ => {}
            }
        }
        let some = some.ok_or(ParseError {
            line: None,
            content: s.to_owned(),
            reason: "no \"some\" line",
        })?;
        Ok(Pressure { some, full })
    }
}

/// A slot's current use, for status output and admission decisions, each controller
/// filling its part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlotUsage {
    /// `memory.current` in bytes.
    pub memory_current: u64,
    /// `memory.max`; `None` = unlimited.
    pub memory_max: Option<u64>,
    /// `memory.peak`; `None` where absent (kernel < 5.19).
    pub memory_peak: Option<u64>,
    /// `memory.pressure`; `None` where absent (PSI off).
    pub memory_pressure: Option<Pressure>,
    /// `cpu.pressure`; `None` where absent.
    pub cpu_pressure: Option<Pressure>,
    /// `io.pressure`; `None` where absent (no io controller, PSI off).
    pub io_pressure: Option<Pressure>,
    pub cpu: CpuStat,
    /// `pids.current`.
    pub pids_current: u64,
    /// Names of the run cgroups in the slot, sorted.
    pub runs: Vec<String>,
}
