//! What a request to the daemon came to ([`Outcome`]): the status report, something done
//! ([`Effect`]) or a refusal ([`Refusal`]). The control socket turns it into a
//! [`Response`] line; the HTTP API picks its status code from it. Both sit above this
//! module and below the daemon that decides (ADR 0033).

use super::protocol::{Response, StatusReport};

/// What a request came to, before it is put into words for one client: the control socket
/// sends [`Response`] (via `From`), the HTTP API a status code chosen from [`Refusal`] or
/// [`Effect`] without parsing messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The answer to [`Request::Status`].
    Status(Box<StatusReport>),
    /// Carried out; `message` says what happened, for a human.
    Done { effect: Effect, message: String },
    /// Refused or failed; `message` says why, for a human.
    Refused { why: Refusal, message: String },
}

/// What a request that was carried out did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// A triggered run started at once.
    Started,
    /// A triggered run waits for a seat in its slot.
    Queued,
    /// The job is now enabled (`true`) or disabled (`false`).
    Enabled(bool),
    /// Anything else (a kill signalled, a reload, a reset).
    Other,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No job of that name is scheduled.
    UnknownJob,
    /// No run with that id is in progress (it may exist in history, finished).
    NotRunning,
    /// A policy decided against it (a trigger recorded as skipped).
    Conflict,
    /// The daemon is stopping.
    Unavailable,
    /// Something failed (history could not be written).
    Failed,
}

impl Outcome {
    /// Carried out, with what happened in words.
    pub fn done(effect: Effect, message: impl Into<String>) -> Outcome {
        Outcome::Done {
            effect,
            message: message.into(),
        }
    }

    /// Refused, with why in words.
    pub fn refused(why: Refusal, message: impl Into<String>) -> Outcome {
        Outcome::Refused {
            why,
            message: message.into(),
        }
    }
}

impl From<Outcome> for Response {
    fn from(outcome: Outcome) -> Response {
        match outcome {
            Outcome::Status(report) => Response::Status(report),
            Outcome::Done { message, .. } => Response::ok(message),
            Outcome::Refused { message, .. } => Response::error(message),
        }
    }
}
