//! `type: webhook`: the alert as a JSON POST, with ureq (blocking; run on tokio's blocking
//! pool by the dispatcher). One agent per channel, with the channel's timeout on the whole
//! exchange, so a receiver that never answers frees its thread when the timeout ends.

use std::time::Duration;

use ureq::Agent;

use super::alert::AlertMessage;
use super::error::DeliveryError;
use super::spec::WebhookSpec;

/// A webhook channel, ready to post.
#[derive(Debug, Clone)]
pub struct Webhook {
    spec: WebhookSpec,
    /// Keeps connections between deliveries; its global timeout is the channel's.
    agent: Agent,
}

impl Webhook {
    /// An agent whose every request ends within `timeout`; non-2xx statuses are answers,
    /// not transport errors, so they can be told apart.
    pub fn new(spec: WebhookSpec, timeout: Duration) -> Webhook {
        let agent = Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("slotcron/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Webhook { spec, agent }
    }

    /// Posts `alert` once. Blocking.
    ///
    /// # Errors
    /// A transport error, a timeout, or a status outside 2xx.
    pub fn post(
        &self,
        alert: &AlertMessage,
        host: &str,
        timeout: Duration,
    ) -> Result<(), DeliveryError> {
        let url = self.spec.url.to_string();
        let body = serde_json::to_vec(&alert.payload(host)).expect("a payload always serializes");
        let mut request = self
            .agent
            .post(self.spec.url.clone())
            .header("content-type", "application/json");
        for (name, value) in &self.spec.headers {
            request = request.header(name, value);
        }
        match request.send(&body[..]) {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(DeliveryError::Status {
                url,
                status: response.status().as_u16(),
            }),
            Err(ureq::Error::Timeout(_)) => Err(DeliveryError::Timeout(timeout)),
            Err(e) => Err(DeliveryError::Http {
                url,
                message: e.to_string(),
            }),
        }
    }
}
