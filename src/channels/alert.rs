//! What a channel delivers: one alert, as the alerts module hands it over, and the forms it
//! takes on the wire (the JSON document, the one-line text, the e-mail subject).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// What a rule judged against the baseline saw (figures, effect, the rule that fired).
pub use crate::model::Evidence;

/// How bad an alert is: the alerts module's scale (`Info < Warning < Error < Critical`),
/// so a channel's floor is a plain comparison.
///
/// ```
/// use slotcron::channels::Severity;
/// assert!(Severity::Error >= Severity::Warning);
/// assert_eq!("critical".parse::<Severity>().unwrap(), Severity::Critical);
/// ```
pub use crate::model::Severity;

/// One alert to notify about: a rule opened or escalated for a job.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertMessage {
    /// The alert's id in the alerts store.
    pub id: i64,
    /// The job the alert is about.
    pub job: String,
    /// The rule that fired (`failure`, `max_duration`, ...).
    pub kind: String,
    pub severity: Severity,
    /// One line for people (`exit code 3`).
    pub message: String,
    /// For alerts judged against the job's baseline (`anomaly`, `degraded`, `too_fast`,
    /// `too_small`): every figure the rule used; empty for the others.
    pub evidence: Vec<Evidence>,
    /// `opened` or `escalated`.
    pub change: String,
    /// When the alert changed.
    pub at: DateTime<Utc>,
}

impl AlertMessage {
    /// The Slack-style one-liner: `[error] backup: failure — exit code 3`.
    pub fn text(&self) -> String {
        format!(
            "[{}] {}: {} — {}",
            self.severity, self.job, self.kind, self.message
        )
    }

    /// The e-mail subject: `[slotcron] error backup failure`.
    pub fn subject(&self) -> String {
        format!("[slotcron] {} {} {}", self.severity, self.job, self.kind)
    }

    /// The JSON document a webhook receives and a command hook reads on stdin.
    pub fn payload(&self, host: &str) -> Payload<'_> {
        Payload {
            id: self.id,
            job: &self.job,
            kind: &self.kind,
            severity: self.severity,
            message: &self.message,
            evidence: &self.evidence,
            change: &self.change,
            at: self.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            host: host.to_owned(),
            text: self.text(),
        }
    }

    /// The body of the e-mail: the one-liner, then every field on its own line, then each
    /// item of evidence on its own line.
    pub fn mail_body(&self, host: &str) -> String {
        let evidence: String = self
            .evidence
            .iter()
            .map(|e| format!("evidence: {}\n", e.summary))
            .collect();
        format!(
            "{}\n\njob:      {}\nkind:     {}\nseverity: {}\nchange:   {}\nat:       {}\nhost:     {}\nalert id: {}\n{evidence}",
            self.text(),
            self.job,
            self.kind,
            self.severity,
            self.change,
            self.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            host,
            self.id,
        )
    }
}

/// The JSON form of an alert. `text` makes the same document acceptable to a Slack (or
/// Mattermost, Rocket.Chat) incoming webhook, which shows only that field.
#[derive(Debug, Clone, Serialize)]
pub struct Payload<'a> {
    pub id: i64,
    pub job: &'a str,
    pub kind: &'a str,
    pub severity: Severity,
    pub message: &'a str,
    /// Empty for kinds not judged against the baseline.
    pub evidence: &'a [Evidence],
    pub change: &'a str,
    /// RFC 3339, UTC, whole seconds (`2026-05-01T03:00:00Z`).
    pub at: String,
    /// The machine slotcron runs on.
    pub host: String,
    /// [`AlertMessage::text`].
    pub text: String,
}

/// This machine's host name, for the `host` field; `localhost` if it cannot be read.
pub fn local_host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn alert() -> AlertMessage {
        AlertMessage {
            id: 7,
            job: "backup".into(),
            kind: "failure".into(),
            severity: Severity::Error,
            message: "exit code 3".into(),
            evidence: Vec::new(),
            change: "opened".into(),
            at: Utc.with_ymd_and_hms(2026, 5, 1, 3, 0, 0).unwrap(),
        }
    }

    #[test]
    fn text_subject_and_json() {
        let a = alert();
        assert_eq!(a.text(), "[error] backup: failure — exit code 3");
        assert_eq!(a.subject(), "[slotcron] error backup failure");
        let json = serde_json::to_value(a.payload("box")).unwrap();
        assert_eq!(json["at"], "2026-05-01T03:00:00Z");
        assert_eq!(json["severity"], "error");
        assert_eq!(json["host"], "box");
        assert_eq!(json["id"], 7);
        assert_eq!(json["evidence"], serde_json::json!([]));
        assert!(a.mail_body("box").ends_with("alert id: 7\n"));
    }

    #[test]
    fn the_mail_lists_each_item_of_evidence_on_its_own_line() {
        use crate::baseline::effect::{Judging, Reference, Rule, judge};
        let usual = Reference {
            median: 10_000.0,
            spread: 0.05,
            runs: 30,
        };
        let slow = judge(Rule::Slower, 20_000.0, 1, &usual, &Judging::default()).unwrap();
        let a = AlertMessage {
            kind: "anomaly".into(),
            evidence: vec![slow.clone()],
            ..alert()
        };
        let body = a.mail_body("box");
        assert!(
            body.ends_with(&format!("alert id: 7\nevidence: {}\n", slow.summary)),
            "{body}"
        );
        assert!(body.contains("duration 20.0 s is 2.00x the baseline median 10.0 s"));
    }
}
