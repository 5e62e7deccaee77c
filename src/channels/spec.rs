//! The validated form of one entry of `notifications:` in `slotcron.yaml`. Built only by
//! the settings loader, so every value here has been checked (a URL with a host, mailboxes
//! that parse, a non-empty argv, a password named by an environment variable, never held).

use std::time::Duration;

use lettre::message::Mailbox;
use ureq::http::{HeaderName, HeaderValue, Uri};

use super::alert::Severity;

/// `min_severity` of a channel that does not set one.
pub const DEFAULT_MIN_SEVERITY: Severity = Severity::Warning;
/// `timeout` of a channel that does not set one: the limit on one attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// `retries` of a channel that does not set one: attempts after the first.
pub const DEFAULT_RETRIES: u32 = 3;
/// The most `retries` a channel may ask for.
pub const MAX_RETRIES: u32 = 10;
/// SMTP port when `smtp.port` is not set (submission, STARTTLS).
pub const DEFAULT_SMTP_PORT: u16 = 587;

/// One notification channel.
#[derive(Debug, Clone)]
pub struct ChannelSpec {
    /// Unique among the channels; `<type>-<index>` when not written (`webhook-0`).
    pub name: String,
    /// Alerts below this severity are not sent here.
    pub min_severity: Severity,
    /// Limit on one attempt (> 0).
    pub timeout: Duration,
    /// Attempts after the first failed one (0 to [`MAX_RETRIES`]).
    pub retries: u32,
    /// Where and how the alert goes.
    pub target: Target,
}

/// The kind of channel and what it needs.
#[derive(Debug, Clone)]
pub enum Target {
    Webhook(WebhookSpec),
    Email(EmailSpec),
    Command(CommandSpec),
}

impl Target {
    /// The `type:` this target is written as.
    pub fn type_name(&self) -> &'static str {
        match self {
            Target::Webhook(_) => "webhook",
            Target::Email(_) => "email",
            Target::Command(_) => "command",
        }
    }
}

/// `type: webhook`: a JSON POST.
#[derive(Debug, Clone)]
pub struct WebhookSpec {
    /// An `http` or `https` URL with a host.
    pub url: Uri,
    /// Extra request headers, in file order (e.g. an API key header).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// How the SMTP connection is secured (`smtp.starttls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartTls {
    /// Plain text throughout. Only with no `username`, or against a loopback host.
    None,
    /// STARTTLS when the server offers it, plain text otherwise.
    Opportunistic,
    /// STARTTLS or fail: the message and password never cross the network in clear.
    Required,
}

/// `type: email`: a message over SMTP.
#[derive(Debug, Clone)]
pub struct EmailSpec {
    /// The SMTP server's host name (also the name its TLS certificate must carry).
    pub host: String,
    pub port: u16,
    pub starttls: StartTls,
    /// Log in with this user; `password_env` is then set too.
    pub username: Option<String>,
    /// The environment variable that holds the password, read at each delivery. The
    /// password itself is never in the file nor in this struct.
    pub password_env: Option<String>,
    pub from: Mailbox,
    /// At least one.
    pub to: Vec<Mailbox>,
}

/// `type: command`: a program run with the alert in its environment and on stdin.
#[derive(Debug, Clone)]
pub struct CommandSpec {
    /// Program and arguments; never empty, the program never an empty string.
    pub argv: Vec<String>,
}
