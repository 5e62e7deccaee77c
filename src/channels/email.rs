//! `type: email`: the alert as a plain-text message over SMTP, with lettre (blocking; run
//! on tokio's blocking pool by the dispatcher). TLS is rustls; the password is read from
//! the environment at each delivery, so it is never in the file nor kept in memory.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use super::alert::AlertMessage;
use super::error::DeliveryError;
use super::spec::{EmailSpec, StartTls};

/// Sends `alert` once. Blocking; every network step ends within `timeout`.
///
/// # Errors
/// A missing password variable, or the SMTP exchange failing (connection, STARTTLS,
/// AUTH, a refused sender or recipient).
pub fn send(
    spec: &EmailSpec,
    alert: &AlertMessage,
    host: &str,
    timeout: Duration,
) -> Result<(), DeliveryError> {
    let server = format!("{}:{}", spec.host, spec.port);
    let smtp_error = |message: String, permanent: bool| DeliveryError::Smtp {
        server: server.clone(),
        message,
        permanent,
    };
    let mut builder = SmtpTransport::builder_dangerous(&spec.host)
        .port(spec.port)
        .timeout(Some(timeout));
    builder = match spec.starttls {
        StartTls::None => builder.tls(Tls::None),
        StartTls::Opportunistic | StartTls::Required => {
            let params = TlsParameters::new(spec.host.clone())
                .map_err(|e| smtp_error(e.to_string(), true))?;
            builder.tls(if spec.starttls == StartTls::Required {
                Tls::Required(params)
            } else {
                Tls::Opportunistic(params)
            })
        }
    };
    if let (Some(user), Some(var)) = (&spec.username, &spec.password_env) {
        let password =
            std::env::var(var).map_err(|_| DeliveryError::MissingPassword(var.clone()))?;
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    let mut message = Message::builder()
        .from(spec.from.clone())
        .subject(alert.subject())
        .header(ContentType::TEXT_PLAIN);
    for to in &spec.to {
        message = message.to(to.clone());
    }
    let message = message
        .body(alert.mail_body(host))
        .map_err(|e| smtp_error(format!("cannot build the message: {e}"), true))?;
    builder.build().send(&message).map(drop).map_err(|e| {
        let text = e.to_string();
        if text.contains("STARTTLS is not supported") {
            smtp_error(
                "the server does not offer STARTTLS and `starttls: required` forbids sending in clear"
                    .to_owned(),
                true,
            )
        } else if e.is_timeout() {
            DeliveryError::Timeout(timeout)
        } else {
            smtp_error(text, e.is_permanent())
        }
    })
}
