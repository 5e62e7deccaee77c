//! Protecting the interactive session: while the machine is short of memory, no new run
//! starts (critical jobs excepted). The signals are the kernel's own: `MemAvailable` in
//! `/proc/meminfo` and the `some avg10` share of `/proc/pressure/memory` (PSI).
//!
//! Pure: the daemon reads the signals (`crate::daemon::machine`) and asks
//! [`ProtectGate::look`] what they come to, given whether the gate was closed; it then
//! carries out the answer (records the change, holds runs back, looks again later).

use crate::config::ByteSize;

/// The thresholds of `protect:` in `slotcron.yaml`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProtectGate {
    /// Start nothing while `MemAvailable` is below this.
    pub reserve_memory: Option<ByteSize>,
    /// Start nothing while memory PSI `some avg10` (percent) is above this.
    pub max_memory_pressure: Option<f64>,
}

/// What the kernel says about the machine's memory right now.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MachineState {
    /// `MemAvailable`, in bytes; `None` if the kernel does not report it.
    pub mem_available: Option<u64>,
    /// `/proc/pressure/memory` `some avg10`; `None` without PSI (`psi=0`, old kernels).
    pub memory_pressure: Option<f64>,
}

/// What one look at the machine comes to, given whether the gate was closed before.
#[derive(Debug, Clone, PartialEq)]
pub enum Look {
    /// It was open and closes: new runs are held back, for this reason (in words).
    Closes(String),
    /// It was closed and opens: the held runs may start.
    Opens,
    /// It was closed and stays closed; the reason given when it closed stands.
    StaysClosed,
    /// It was open and stays open.
    StaysOpen,
}

impl From<&crate::config::Protect> for ProtectGate {
    /// The thresholds of `protect:`.
    fn from(protect: &crate::config::Protect) -> ProtectGate {
        ProtectGate {
            reserve_memory: protect.reserve_memory,
            max_memory_pressure: protect.max_memory_pressure,
        }
    }
}

impl ProtectGate {
    /// Whether any threshold is set.
    pub fn is_active(&self) -> bool {
        self.reserve_memory.is_some() || self.max_memory_pressure.is_some()
    }

    /// `None` when new runs may start; otherwise why not, in words for the user.
    pub fn check(&self, state: &MachineState) -> Option<String> {
        if let (Some(reserve), Some(available)) = (self.reserve_memory, state.mem_available)
            && available < reserve.bytes()
        {
            return Some(format!(
                "MemAvailable {} is below protect.reserve_memory {reserve}",
                ByteSize::new(available)
            ));
        }
        if let (Some(max), Some(pressure)) = (self.max_memory_pressure, state.memory_pressure)
            && pressure > max
        {
            return Some(format!(
                "memory pressure (PSI some avg10) {pressure:.1}% is above \
                 protect.max_memory_pressure {max}%"
            ));
        }
        None
    }

    /// The gate's next state from the machine's `state` and whether it was `closed`.
    /// A machine that could not be read (`state` is `None`) holds nothing back: the gate
    /// protects the session, it does not stop the scheduler on a read error.
    pub fn look(&self, state: Option<&MachineState>, closed: bool) -> Look {
        match (closed, state.and_then(|s| self.check(s))) {
            (false, Some(why)) => Look::Closes(why),
            (false, None) => Look::StaysOpen,
            (true, Some(_)) => Look::StaysClosed,
            (true, None) => Look::Opens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    const GATE: ProtectGate = ProtectGate {
        reserve_memory: Some(ByteSize::new(2 * GIB)),
        max_memory_pressure: Some(20.0),
    };

    const CALM: MachineState = MachineState {
        mem_available: Some(6 * GIB),
        memory_pressure: Some(0.5),
    };

    #[test]
    fn reserve_and_pressure_each_close_the_gate() {
        assert_eq!(GATE.check(&CALM), None);
        let short = MachineState {
            mem_available: Some(GIB),
            ..CALM
        };
        assert_eq!(
            GATE.check(&short).as_deref(),
            Some("MemAvailable 1G is below protect.reserve_memory 2G")
        );
        let pressured = MachineState {
            memory_pressure: Some(35.2),
            ..CALM
        };
        assert_eq!(
            GATE.check(&pressured).as_deref(),
            Some(
                "memory pressure (PSI some avg10) 35.2% is above \
                 protect.max_memory_pressure 20%"
            )
        );
        assert_eq!(ProtectGate::default().check(&short), None);
        assert!(!ProtectGate::default().is_active());
        assert!(GATE.is_active());
    }

    #[test]
    fn the_thresholds_are_strict_and_a_missing_signal_never_closes() {
        let at_reserve = MachineState {
            mem_available: Some(2 * GIB),
            memory_pressure: Some(20.0),
        };
        assert_eq!(GATE.check(&at_reserve), None, "exactly at both thresholds");
        let one_byte_short = MachineState {
            mem_available: Some(2 * GIB - 1),
            ..at_reserve
        };
        assert!(GATE.check(&one_byte_short).is_some());
        let no_signals = MachineState::default();
        assert_eq!(GATE.check(&no_signals), None);
    }

    #[test]
    fn a_look_turns_the_state_and_the_gate_before_into_a_change() {
        let short = MachineState {
            mem_available: Some(GIB),
            ..CALM
        };
        assert_eq!(
            GATE.look(Some(&short), false),
            Look::Closes("MemAvailable 1G is below protect.reserve_memory 2G".into())
        );
        assert_eq!(GATE.look(Some(&short), true), Look::StaysClosed);
        assert_eq!(GATE.look(Some(&CALM), true), Look::Opens);
        assert_eq!(GATE.look(Some(&CALM), false), Look::StaysOpen);
        // A machine that cannot be read opens a closed gate and keeps an open one open.
        assert_eq!(GATE.look(None, true), Look::Opens);
        assert_eq!(GATE.look(None, false), Look::StaysOpen);
    }
}
