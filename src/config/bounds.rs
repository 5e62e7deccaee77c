//! The smallest and largest values slotcron accepts where a value outside them cannot be
//! meant (ADR 0024): each is a typo or a forgotten unit, and accepting it would only fail
//! later, at run time or never visibly. One home for these figures; the README quotes them.

use std::time::Duration;

use super::units::ByteSize;

/// The least memory a job's `limits.memory`, a slot's `memory_max`/`memory_high` or
/// `cgroup.memory_max` may be. A cgroup capped lower cannot start `/bin/sh` (its binary,
/// libc and page tables alone take 1 to 2 MiB), and a bare number below it is nearly
/// always a forgotten unit (`memory: 512` is 512 bytes, not 512M).
pub const MIN_MEMORY: ByteSize = ByteSize::new(4 << 20);

/// The least `log_max`: one page. Less keeps no useful tail of a run's output.
pub const MIN_LOG_MAX: ByteSize = ByteSize::new(4 << 10);

/// The shortest `limits.timeout`: starting a run in its cgroup alone takes milliseconds,
/// so a shorter limit times out every run before the command has done anything.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);

/// The longest command (bytes, all of an argv together). Linux refuses any single
/// argument over 128 KiB (`MAX_ARG_STRLEN`) with `E2BIG` at exec; past 64 KiB a script
/// belongs in a file that the command names.
pub const MAX_COMMAND: usize = 64 << 10;
