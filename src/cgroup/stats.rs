//! What a run or a slot used, as read from its knob files: the result types and their
//! parsers (pure, like the ones in [`super::parse`]).

use super::parse::{ParseError, parse_flat_keyed, parse_psi_fields};

/// Counters of `memory.events` (hierarchical: they include child cgroups).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryEvents {
    /// Reclaimed below `memory.low` protection.
    pub low: u64,
    /// Throttled at `memory.high`.
    pub high: u64,
    /// Hit `memory.max`.
    pub max: u64,
    /// The OOM condition was reached here (this cgroup's or a descendant's limit).
    pub oom: u64,
    /// Processes killed by the OOM killer. Judge "OOM-killed" by this, not by `oom`.
    pub oom_kill: u64,
    /// Group kills because of `memory.oom.group` (kernel 5.17+; 0 before).
    pub oom_group_kill: u64,
}

impl MemoryEvents {
    /// Parses `memory.events`, ignoring keys it does not know.
    ///
    /// ```
    /// use slotcron::cgroup::MemoryEvents;
    /// let e = MemoryEvents::parse("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").unwrap();
    /// assert_eq!((e.max, e.oom_kill, e.oom_group_kill), (3, 1, 0));
    /// ```
    ///
    /// # Errors
    /// On a malformed line (the error names it).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let mut e = MemoryEvents::default();
        for (k, v) in parse_flat_keyed(s)? {
            match k {
                "low" => e.low = v,
                "high" => e.high = v,
                "max" => e.max = v,
                "oom" => e.oom = v,
                "oom_kill" => e.oom_kill = v,
                "oom_group_kill" => e.oom_group_kill = v,
                _ => {}
            }
        }
        Ok(e)
    }
}

/// `cpu.stat`. The `nr_*`/`throttled_usec` fields exist only where the cpu controller is
/// enabled, hence `Option`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuStat {
    pub usage_usec: u64,
    pub user_usec: u64,
    pub system_usec: u64,
    pub nr_periods: Option<u64>,
    pub nr_throttled: Option<u64>,
    pub throttled_usec: Option<u64>,
}

impl CpuStat {
    /// Parses `cpu.stat`, ignoring keys it does not know.
    ///
    /// ```
    /// use slotcron::cgroup::CpuStat;
    /// let c = CpuStat::parse("usage_usec 10\nuser_usec 7\nsystem_usec 3\n").unwrap();
    /// assert_eq!((c.usage_usec, c.nr_throttled), (10, None));
    /// ```
    ///
    /// # Errors
    /// On a malformed line (the error names it).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let mut c = CpuStat::default();
        for (k, v) in parse_flat_keyed(s)? {
            match k {
                "usage_usec" => c.usage_usec = v,
                "user_usec" => c.user_usec = v,
                "system_usec" => c.system_usec = v,
                "nr_periods" => c.nr_periods = Some(v),
                "nr_throttled" => c.nr_throttled = Some(v),
                "throttled_usec" => c.throttled_usec = Some(v),
                _ => {}
            }
        }
        Ok(c)
    }
}

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

/// What a finished (or running) run used. Read it before `remove`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    /// `memory.peak` in bytes; `None` on kernels before 5.19 (file absent).
    pub memory_peak: Option<u64>,
    pub memory_events: MemoryEvents,
    pub cpu: CpuStat,
    /// `pids.peak`; `None` where the file is absent (older kernels).
    pub pids_peak: Option<u64>,
}

impl RunStats {
    /// Whether the kernel's OOM killer killed a process of the run.
    pub fn oom_killed(&self) -> bool {
        self.memory_events.oom_kill > 0
    }
}

/// A slot's current use, for status output and admission decisions.
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
