//! Why one delivery attempt failed, and whether trying again can help.

use std::time::Duration;

use crate::model::format_duration;

/// One failed attempt of one channel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The attempt did not finish within the channel's `timeout` (a command is killed).
    #[error("no answer within {}", format_duration(*.0))]
    Timeout(Duration),
    /// The webhook answered with a status outside 2xx.
    #[error("HTTP status {status} from {url}")]
    Status { url: String, status: u16 },
    /// The webhook could not be reached or the exchange broke off.
    #[error("POST {url}: {message}")]
    Http { url: String, message: String },
    /// The SMTP exchange failed; `permanent` when the server said 5xx or the setup cannot
    /// work (STARTTLS required but not offered).
    #[error("SMTP {server}: {message}")]
    Smtp {
        server: String,
        message: String,
        permanent: bool,
    },
    /// `smtp.password_env` names a variable that is not set (or not UTF-8).
    #[error("environment variable `{0}` (smtp.password_env) is not set")]
    MissingPassword(String),
    /// The command could not be started.
    #[error("cannot start `{program}`: {message}")]
    Spawn { program: String, message: String },
    /// The command ran and failed.
    #[error("`{program}` {status}{}", if .stderr.is_empty() { String::new() } else { format!(": {}", .stderr) })]
    Exit {
        program: String,
        /// `exited with code 2` or `killed by signal 9`.
        status: String,
        /// The last line the command wrote to stderr.
        stderr: String,
    },
}

impl DeliveryError {
    /// True when the same attempt would fail the same way, so retrying is pointless: a 4xx
    /// other than 408/429, an SMTP 5xx or missing STARTTLS, a missing password, a program
    /// that cannot be started.
    pub fn is_permanent(&self) -> bool {
        match self {
            DeliveryError::Status { status, .. } => {
                (400..500).contains(status) && *status != 408 && *status != 429
            }
            DeliveryError::Smtp { permanent, .. } => *permanent,
            DeliveryError::MissingPassword(_) | DeliveryError::Spawn { .. } => true,
            DeliveryError::Timeout(_) | DeliveryError::Http { .. } | DeliveryError::Exit { .. } => {
                false
            }
        }
    }
}
