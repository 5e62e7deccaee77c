//! `slotcron export systemd|kubernetes`: jobs as systemd units or Kubernetes CronJobs, for
//! users who outgrow one machine (`docs/outgrowing-one-machine.md`). Each exporter turns
//! one job into files and notes on what did not carry over, or refuses it with the reason;
//! nothing is approximated silently (`docs/adr/0020-crontab-import-and-export.md`).

pub mod kubernetes;
mod oncalendar;
pub mod systemd;

pub use kubernetes::{DEFAULT_IMAGE, dns_name};
pub use oncalendar::{Trigger, trigger};
pub use systemd::quote as systemd_quote;

/// One file an exporter writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// File name, no folder (`backup.service`, `backup.yaml`).
    pub name: String,
    pub text: String,
}

/// One job, exported.
#[derive(Debug, Clone)]
pub struct Exported {
    pub job: String,
    pub files: Vec<File>,
    /// What did not carry over, or carries over differently.
    pub notes: Vec<String>,
}

/// A job that cannot be exported to the target, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{job}: {reason}")]
pub struct ExportError {
    pub job: String,
    pub reason: String,
}
