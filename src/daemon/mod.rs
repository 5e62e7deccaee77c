//! The long-running service (`slotcron daemon`): what it finds at start after a crash
//! ([`recovery`]) and how it tells systemd where it stands ([`notify`]).

pub mod notify;
pub mod recovery;
