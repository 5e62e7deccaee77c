//! `type: email` against a local SMTP receiver (no STARTTLS, AUTH PLAIN offered).

use slotcron::channels::{DeliveryError, Outcome, Severity};

use super::receivers::smtp_receiver;
use super::{alert, channels, next, report_for, start};

#[tokio::test]
async fn sends_from_to_subject_and_body_without_login_when_none_is_configured() {
    let mut smtp = smtp_receiver().await;
    let (handle, mut reports) = start(channels(&format!(
        "  - name: mail\n    type: email\n    smtp: {{ host: 127.0.0.1, port: {}, starttls: none }}\n    from: slotcron@example.com\n    to: [ops@example.com, 'Night Shift <night@example.com>']\n",
        smtp.port
    )));
    handle.send(alert(5, Severity::Critical));
    let mail = next(&mut smtp.mails).await;
    assert_eq!(mail.login, None, "no AUTH without a username");
    assert_eq!(mail.mail_from, "<slotcron@example.com>");
    assert_eq!(mail.rcpt_to, ["<ops@example.com>", "<night@example.com>"]);
    for needle in [
        "From: slotcron@example.com\r\n",
        "To: ops@example.com, \"Night Shift\" <night@example.com>\r\n",
        "Subject: [slotcron] critical backup failure\r\n",
        "job:      backup",
        "host:     testhost",
    ] {
        assert!(
            mail.data.contains(needle),
            "missing {needle:?} in:\n{}",
            mail.data
        );
    }
    let report = report_for(&mut reports, "mail").await;
    assert_eq!((report.outcome, report.attempts), (Outcome::Delivered, 1));
}

#[tokio::test]
async fn logs_in_with_the_password_from_the_environment_when_configured() {
    // PATH is set in every test process; reading it needs no `set_var` (unsafe with
    // threads), and the point is only that the value comes from the named variable.
    let password = std::env::var("PATH").unwrap();
    let mut smtp = smtp_receiver().await;
    let (handle, mut reports) = start(channels(&format!(
        "  - name: mail\n    type: email\n    smtp: {{ host: 127.0.0.1, port: {}, starttls: none, username: me, password_env: PATH }}\n    from: slotcron@example.com\n    to: [ops@example.com]\n",
        smtp.port
    )));
    handle.send(alert(6, Severity::Error));
    let mail = next(&mut smtp.mails).await;
    assert_eq!(mail.login, Some(format!("me:{password}")));
    assert_eq!(
        report_for(&mut reports, "mail").await.outcome,
        Outcome::Delivered
    );
}

#[tokio::test]
async fn a_missing_password_variable_fails_at_once() {
    let smtp = smtp_receiver().await;
    let (handle, mut reports) = start(channels(&format!(
        "  - {{ name: mail, type: email, smtp: {{ host: 127.0.0.1, port: {}, starttls: none, username: me, password_env: SLOTCRON_TEST_NO_SUCH_VARIABLE }}, from: a@example.com, to: [b@example.com] }}\n",
        smtp.port
    )));
    handle.send(alert(7, Severity::Error));
    let report = report_for(&mut reports, "mail").await;
    assert_eq!(report.attempts, 1);
    assert_eq!(
        report.outcome,
        Outcome::GaveUp(DeliveryError::MissingPassword(
            "SLOTCRON_TEST_NO_SUCH_VARIABLE".into()
        ))
    );
}

#[tokio::test]
async fn starttls_required_against_a_server_without_it_fails_clearly() {
    let mut smtp = smtp_receiver().await;
    let (handle, mut reports) = start(channels(&format!(
        "  - {{ name: mail, type: email, smtp: {{ host: 127.0.0.1, port: {}, starttls: required, username: me, password_env: PATH }}, from: a@example.com, to: [b@example.com] }}\n",
        smtp.port
    )));
    handle.send(alert(8, Severity::Error));
    let report = report_for(&mut reports, "mail").await;
    assert_eq!(
        report.attempts, 1,
        "a server without STARTTLS will not grow it: no retry"
    );
    let Outcome::GaveUp(error) = report.outcome else {
        panic!("delivered in clear")
    };
    let text = error.to_string();
    assert!(
        text.contains("does not offer STARTTLS") && text.contains("starttls: required"),
        "{text}"
    );
    assert!(smtp.mails.try_recv().is_err(), "nothing was sent");
}
