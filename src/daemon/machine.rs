//! The machine's memory, as the kernel reports it: `MemAvailable` of `/proc/meminfo` and
//! the pressure stall information of `/proc/pressure/memory` (PSI). One small seam
//! ([`MemorySignals`]) so that the decisions made on these signals (the `protect` gate,
//! `crate::scheduler::protect`; the pressure ladder, `crate::scheduler::ladder`) stay
//! pure and the engine can be tested on values ([`FixedMemory`]) instead of files.
//!
//! [`ProcMemory`] reads the real files below a proc root that is an argument
//! ([`DEFAULT_PROC_ROOT`] in the binary, a temp dir in its own tests).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::cgroup::Pressure;
use crate::scheduler::{MachineState, Readings};

/// The proc filesystem of the machine slotcron protects.
pub const DEFAULT_PROC_ROOT: &str = "/proc";

/// Where the engine learns how much memory the machine has to spare.
///
/// The two readers differ in what a missing file means, because their users do: the
/// `protect` gate wants to know when it cannot read the machine (it warns and holds
/// nothing back), the pressure ladder acts on whichever signals it has.
pub trait MemorySignals: Send + Sync {
    /// What the `protect` gate looks at. PSI missing (no PSI on this kernel, `psi=0`) is
    /// no reading, not an error.
    ///
    /// # Errors
    /// When `meminfo` cannot be read, or a PSI file that exists cannot be read or parsed.
    fn machine_state(&self) -> Result<MachineState, MemoryReadError>;

    /// What the pressure ladder reads each period; a signal that cannot be read is `None`.
    fn readings(&self) -> Readings;
}

/// A file of the proc root could not be read or parsed.
#[derive(Debug, thiserror::Error)]
#[error("reading {path}: {message}")]
pub struct MemoryReadError {
    pub path: PathBuf,
    pub message: String,
}

/// The kernel's own files below a proc root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcMemory {
    /// The proc filesystem's mount point (`/proc`), or a test's temp dir laid out like it.
    root: PathBuf,
}

impl Default for ProcMemory {
    /// The files below [`DEFAULT_PROC_ROOT`].
    fn default() -> ProcMemory {
        ProcMemory::new(DEFAULT_PROC_ROOT)
    }
}

impl ProcMemory {
    /// The files below `root`.
    pub fn new(root: impl Into<PathBuf>) -> ProcMemory {
        ProcMemory { root: root.into() }
    }

    /// The proc root this reads below.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn meminfo(&self) -> PathBuf {
        self.root.join("meminfo")
    }

    fn psi(&self) -> PathBuf {
        self.root.join("pressure/memory")
    }
}

impl MemorySignals for ProcMemory {
    fn machine_state(&self) -> Result<MachineState, MemoryReadError> {
        let meminfo = self.meminfo();
        let text = std::fs::read_to_string(&meminfo).map_err(|e| MemoryReadError {
            path: meminfo.clone(),
            message: e.to_string(),
        })?;
        let psi = self.psi();
        let memory_pressure = match std::fs::read_to_string(&psi) {
            Ok(text) => Some(
                Pressure::parse(&text)
                    .map_err(|e| MemoryReadError {
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
                return Err(MemoryReadError {
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

    fn readings(&self) -> Readings {
        let psi = std::fs::read_to_string(self.psi())
            .ok()
            .and_then(|text| Pressure::parse(&text).ok());
        let meminfo = std::fs::read_to_string(self.meminfo()).ok();
        Readings {
            some_avg10: psi.map(|p| p.some.avg10),
            full_avg10: psi.and_then(|p| p.full).map(|f| f.avg10),
            mem_available: meminfo.as_deref().and_then(mem_available),
        }
    }
}

/// `MemAvailable:` of a `/proc/meminfo` text, in bytes.
///
/// ```
/// use slotcron::daemon::machine::mem_available;
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

/// Signals a test sets by hand: the readings it was given, until it sets others. The gate
/// sees `some_avg10` as its memory pressure, as [`ProcMemory`] reads it.
#[derive(Debug, Default)]
pub struct FixedMemory {
    /// A std `Mutex`: only held to copy the readings in or out, never across an `.await`.
    readings: Mutex<Readings>,
}

impl FixedMemory {
    /// Signals that read `readings`.
    pub fn new(readings: Readings) -> FixedMemory {
        FixedMemory {
            readings: Mutex::new(readings),
        }
    }

    /// From now on the signals read `readings`.
    pub fn set(&self, readings: Readings) {
        *self.readings.lock().unwrap_or_else(|e| e.into_inner()) = readings;
    }
}

impl MemorySignals for FixedMemory {
    fn machine_state(&self) -> Result<MachineState, MemoryReadError> {
        let readings = self.readings();
        Ok(MachineState {
            mem_available: readings.mem_available,
            memory_pressure: readings.some_avg10,
        })
    }

    fn readings(&self) -> Readings {
        *self.readings.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PSI: &str = "some avg10=42.00 avg60=1.00 avg300=0.00 total=9\n\
                       full avg10=3.50 avg60=0.00 avg300=0.00 total=1\n";

    #[test]
    fn reads_a_proc_root_with_and_without_psi() {
        let dir = tempfile::tempdir().unwrap();
        let proc = ProcMemory::new(dir.path());
        std::fs::write(
            dir.path().join("meminfo"),
            "MemTotal: 16000000 kB\nMemFree: 100 kB\nMemAvailable: 1000 kB\n",
        )
        .unwrap();
        let state = proc.machine_state().unwrap();
        assert_eq!(state.mem_available, Some(1_024_000));
        assert_eq!(state.memory_pressure, None);
        std::fs::create_dir(dir.path().join("pressure")).unwrap();
        std::fs::write(dir.path().join("pressure/memory"), PSI).unwrap();
        assert_eq!(proc.machine_state().unwrap().memory_pressure, Some(42.0));
        let missing = ProcMemory::new(dir.path().join("missing"));
        let err = missing.machine_state().unwrap_err();
        assert!(err.to_string().contains("missing/meminfo"), "{err}");
    }

    #[test]
    fn the_gate_is_told_of_a_psi_file_it_cannot_parse() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("meminfo"), "MemAvailable: 1000 kB\n").unwrap();
        std::fs::create_dir(dir.path().join("pressure")).unwrap();
        std::fs::write(dir.path().join("pressure/memory"), "nonsense\n").unwrap();
        let proc = ProcMemory::new(dir.path());
        let err = proc.machine_state().unwrap_err();
        assert!(err.to_string().contains("pressure/memory"), "{err}");
        // The ladder acts on what it has: MemAvailable without the PSI.
        assert_eq!(
            proc.readings(),
            Readings {
                some_avg10: None,
                full_avg10: None,
                mem_available: Some(1_024_000),
            }
        );
    }

    #[test]
    fn the_ladder_reads_each_signal_that_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let proc = ProcMemory::new(dir.path());
        assert_eq!(proc.readings(), Readings::default(), "nothing to read");
        std::fs::create_dir(dir.path().join("pressure")).unwrap();
        std::fs::write(dir.path().join("pressure/memory"), PSI).unwrap();
        assert_eq!(
            proc.readings(),
            Readings {
                some_avg10: Some(42.0),
                full_avg10: Some(3.5),
                mem_available: None,
            }
        );
        assert_eq!(ProcMemory::default().root(), Path::new("/proc"));
    }

    #[test]
    fn fixed_memory_reads_what_it_was_last_given() {
        let fixed = FixedMemory::new(Readings {
            some_avg10: Some(12.5),
            full_avg10: Some(1.0),
            mem_available: Some(2048),
        });
        let state = fixed.machine_state().unwrap();
        assert_eq!(state.memory_pressure, Some(12.5));
        assert_eq!(state.mem_available, Some(2048));
        fixed.set(Readings::default());
        assert_eq!(fixed.machine_state().unwrap(), MachineState::default());
    }
}
