//! Alert notifications: each alert the alerts module opens or escalates is sent to the
//! channels of `notifications:` in `slotcron.yaml` (a webhook, e-mail over SMTP, a command)
//! whose `min_severity` it reaches, each delivery with its own timeout and retries, off
//! the scheduler's path (ADR 0015).
//!
//! - [`alert`]: [`AlertMessage`] and [`Severity`], and the JSON, text and subject they
//!   become.
//! - [`spec`]: the validated channel configuration ([`ChannelSpec`]).
//! - [`dispatch`]: the queue, the fan-out task and the retry loop ([`Dispatcher`]).
//! - `webhook`, `email`, `command`: one attempt of one kind of channel.

pub mod alert;
mod command;
pub mod dispatch;
mod email;
mod error;
pub mod spec;
mod webhook;

pub use alert::{AlertMessage, Payload, Severity, local_host_name};
pub use dispatch::{
    DEFAULT_BACKOFF_BASE, DEFAULT_BACKOFF_CAP, DEFAULT_QUEUE, DEFAULT_SHUTDOWN_GRACE,
    DeliveryReport, DispatchOptions, Dispatcher, DispatcherHandle, Outcome, backoff, spawn,
};
pub use error::DeliveryError;
pub use spec::{
    ChannelSpec, CommandSpec, DEFAULT_MIN_SEVERITY, DEFAULT_RETRIES, DEFAULT_SMTP_PORT,
    DEFAULT_TIMEOUT, EmailSpec, MAX_RETRIES, StartTls, Target, WebhookSpec,
};
