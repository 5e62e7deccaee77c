//! Protecting the interactive session: while the machine is short of memory, no new run
//! starts (critical jobs excepted). The signals are the kernel's own: `MemAvailable` in
//! `/proc/meminfo` and the `some avg10` share of `/proc/pressure/memory` (PSI).
//!
//! Reading is split from deciding: [`MachineState::read`] takes the proc root as an
//! argument (tests point it at a temp dir), [`ProtectGate::check`] is a pure function.

use std::io;
use std::path::{Path, PathBuf};

use crate::cgroup::Pressure;
use crate::config::ByteSize;

/// The proc filesystem of the machine slotcron protects.
pub const DEFAULT_PROC_ROOT: &str = "/proc";

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

/// A file of the proc root could not be read or parsed.
#[derive(Debug, thiserror::Error)]
#[error("reading {path}: {message}")]
pub struct ProtectError {
    pub path: PathBuf,
    pub message: String,
}

impl MachineState {
    /// Reads `meminfo` and, if present, `pressure/memory` below `proc_root`.
    ///
    /// # Errors
    /// When `meminfo` cannot be read, or a PSI file that exists cannot be parsed.
    pub fn read(proc_root: &Path) -> Result<MachineState, ProtectError> {
        let meminfo = proc_root.join("meminfo");
        let text = std::fs::read_to_string(&meminfo).map_err(|e| ProtectError {
            path: meminfo.clone(),
            message: e.to_string(),
        })?;
        let psi = proc_root.join("pressure/memory");
        let memory_pressure = match std::fs::read_to_string(&psi) {
            Ok(text) => Some(
                Pressure::parse(&text)
                    .map_err(|e| ProtectError {
                        path: psi,
                        message: e.to_string(),
                    })?
                    .some
                    .avg10,
            ),
            // No PSI on this kernel (or disabled): only the reserve applies.
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound) => None,
            Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => None,
            Err(e) => {
                return Err(ProtectError {
                    path: psi,
                    message: e.to_string(),
                });
            }
        };
        Ok(MachineState {
            mem_available: mem_available(&text),
            memory_pressure,
        })
    }
}

/// `MemAvailable:` of a `/proc/meminfo` text, in bytes.
///
/// ```
/// use slotcron::scheduler::protect::mem_available;
/// let text = "MemTotal:       16303428 kB\nMemAvailable:    2048000 kB\n";
/// assert_eq!(mem_available(text), Some(2048000 * 1024));
/// assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
/// ```
pub fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    kib.checked_mul(1024)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn reserve_and_pressure_each_close_the_gate() {
        let gate = ProtectGate {
            reserve_memory: Some(ByteSize::new(2 * GIB)),
            max_memory_pressure: Some(20.0),
        };
        let calm = MachineState {
            mem_available: Some(6 * GIB),
            memory_pressure: Some(0.5),
        };
        assert_eq!(gate.check(&calm), None);
        let short = MachineState {
            mem_available: Some(GIB),
            ..calm
        };
        let why = gate.check(&short).unwrap();
        assert!(why.contains("below protect.reserve_memory"), "{why}");
        let pressured = MachineState {
            memory_pressure: Some(35.2),
            ..calm
        };
        let why = gate.check(&pressured).unwrap();
        assert!(why.contains("35.2%"), "{why}");
        assert_eq!(ProtectGate::default().check(&short), None);
    }

    #[test]
    fn reads_a_proc_root_with_and_without_psi() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("meminfo"),
            "MemTotal: 16000000 kB\nMemFree: 100 kB\nMemAvailable: 1000 kB\n",
        )
        .unwrap();
        let state = MachineState::read(dir.path()).unwrap();
        assert_eq!(state.mem_available, Some(1_024_000));
        assert_eq!(state.memory_pressure, None);
        std::fs::create_dir(dir.path().join("pressure")).unwrap();
        std::fs::write(
            dir.path().join("pressure/memory"),
            "some avg10=42.00 avg60=1.00 avg300=0.00 total=9\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1\n",
        )
        .unwrap();
        assert_eq!(
            MachineState::read(dir.path()).unwrap().memory_pressure,
            Some(42.0)
        );
        let err = MachineState::read(&dir.path().join("missing")).unwrap_err();
        assert!(err.to_string().contains("missing/meminfo"), "{err}");
    }
}
