//! Alerts raised by the daemon's runs reach the configured channels.

use std::time::Duration;

use crate::channels::receivers::http_receiver;
use crate::helper::{PATIENCE, Sandbox};

#[test]
fn a_failed_run_in_the_daemon_posts_its_alert_to_the_webhook() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut hook = rt.block_on(http_receiver(vec![Some(200)]));
    let sb = Sandbox::new(&format!(
        "notifications:\n  - type: webhook\n    url: {}\n    min_severity: error\n    retries: 0\n",
        hook.url
    ));
    sb.job("broken.yaml", "command: exit 3\n");
    let mut d = sb.daemon();
    d.trigger("broken");
    let request = rt
        .block_on(async { tokio::time::timeout(PATIENCE, hook.requests.recv()).await })
        .expect("the webhook is called")
        .expect("a request");
    let body = request.json();
    assert_eq!(body["job"], "broken");
    assert_eq!(body["kind"], "failure");
    assert_eq!(body["severity"], "error");
    assert_eq!(body["change"], "opened");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("[error] broken: failure"),
        "{body}"
    );
    // The alert is in the history too, open.
    d.wait_until("the alert recorded", PATIENCE, |d| {
        d.slotcron(&["alerts", "--json"]).status.success()
    });
    // A second failure repeats the open alert: no second notification.
    d.trigger("broken");
    let again = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(2), hook.requests.recv()).await
    });
    assert!(again.is_err(), "a repeat does not notify: {again:?}");
}
