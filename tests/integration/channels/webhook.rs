//! `type: webhook` against a local HTTP receiver.

use std::time::Duration;

use slotcron::channels::{DeliveryError, Outcome, Severity};

use super::receivers::http_receiver;
use super::{alert, channels, next, report_for, start};

#[tokio::test]
async fn posts_the_alert_as_json_with_a_slack_text_and_extra_headers() {
    let mut rx = http_receiver(vec![Some(200)]).await;
    let (handle, mut reports) = start(channels(&format!(
        "  - {{ name: hook, type: webhook, url: '{}', headers: {{ X-Token: s3cret }} }}\n",
        rx.url
    )));
    assert!(handle.send(alert(7, Severity::Error)));
    let request = next(&mut rx.requests).await;
    assert_eq!(request.line, "POST /hook HTTP/1.1");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-token"), Some("s3cret"));
    let json = request.json();
    assert_eq!(json["id"], 7);
    assert_eq!(json["job"], "backup");
    assert_eq!(json["kind"], "failure");
    assert_eq!(json["severity"], "error");
    assert_eq!(json["message"], "exit code 3");
    assert_eq!(json["change"], "opened");
    assert_eq!(json["at"], "2026-05-01T03:00:00Z");
    assert_eq!(json["host"], "testhost");
    assert_eq!(json["text"], "[error] backup: failure — exit code 3");
    assert_eq!(
        json["evidence"],
        serde_json::json!([]),
        "a failure is not judged by figures"
    );
    let report = report_for(&mut reports, "hook").await;
    assert_eq!((report.outcome, report.attempts), (Outcome::Delivered, 1));
}

#[tokio::test]
async fn retries_with_backoff_after_server_errors() {
    let mut rx = http_receiver(vec![Some(500), Some(500), Some(200)]).await;
    let (handle, mut reports) = start(channels(&format!(
        "  - {{ name: flaky, type: webhook, url: '{}', retries: 3 }}\n",
        rx.url
    )));
    handle.send(alert(1, Severity::Warning));
    let report = report_for(&mut reports, "flaky").await;
    assert_eq!((report.outcome, report.attempts), (Outcome::Delivered, 3));
    // Backoff base 50 ms: waits of 50 and 100 ms between the three attempts.
    assert!(
        report.elapsed >= Duration::from_millis(150),
        "{:?}",
        report.elapsed
    );
    for _ in 0..3 {
        next(&mut rx.requests).await;
    }
}

#[tokio::test]
async fn gives_up_after_the_retries_and_at_once_on_a_client_error() {
    let rx = http_receiver(vec![Some(503)]).await;
    let gone = http_receiver(vec![Some(404)]).await;
    let (handle, mut reports) = start(channels(&format!(
        "  - {{ name: down, type: webhook, url: '{}', retries: 2 }}\n  - {{ name: gone, type: webhook, url: '{}', retries: 5 }}\n",
        rx.url, gone.url
    )));
    handle.send(alert(2, Severity::Critical));
    // `gone` ends first; take both reports in the order they come.
    let mut by_channel = std::collections::BTreeMap::new();
    for _ in 0..2 {
        let report = report_for(&mut reports, "").await;
        by_channel.insert(report.channel.clone(), report);
    }
    let report = &by_channel["down"];
    assert_eq!(report.attempts, 3);
    assert!(matches!(
        report.outcome,
        Outcome::GaveUp(DeliveryError::Status { status: 503, .. })
    ));
    let report = &by_channel["gone"];
    assert_eq!(report.attempts, 1, "a 404 is not retried");
    assert!(matches!(
        report.outcome,
        Outcome::GaveUp(DeliveryError::Status { status: 404, .. })
    ));
}

#[tokio::test]
async fn a_silent_receiver_times_out_without_delaying_another_channel() {
    let mut silent = http_receiver(vec![None]).await;
    let mut fine = http_receiver(vec![Some(200)]).await;
    let (handle, mut reports) = start(channels(&format!(
        "  - {{ name: silent, type: webhook, url: '{}', timeout: 1s, retries: 0 }}\n  - {{ name: fine, type: webhook, url: '{}' }}\n",
        silent.url, fine.url
    )));
    let sent = tokio::time::Instant::now();
    handle.send(alert(3, Severity::Error));
    next(&mut silent.requests).await;
    next(&mut fine.requests).await;
    let report = report_for(&mut reports, "fine").await;
    assert_eq!(report.outcome, Outcome::Delivered);
    assert!(
        sent.elapsed() < Duration::from_millis(900),
        "the fine channel waited: {:?}",
        sent.elapsed()
    );
    let report = report_for(&mut reports, "silent").await;
    assert_eq!(
        report.outcome,
        Outcome::GaveUp(DeliveryError::Timeout(Duration::from_secs(1)))
    );
    assert!(
        report.elapsed >= Duration::from_secs(1) && report.elapsed < Duration::from_secs(3),
        "{:?}",
        report.elapsed
    );
}

#[tokio::test]
async fn alerts_below_a_channels_floor_do_not_reach_it() {
    let mut warning = http_receiver(vec![Some(200)]).await;
    let mut everything = http_receiver(vec![Some(200)]).await;
    let (handle, mut reports) = start(channels(&format!(
        "  - {{ name: warning, type: webhook, url: '{}' }}\n  - {{ name: all, type: webhook, url: '{}', min_severity: info }}\n",
        warning.url, everything.url
    )));
    handle.send(alert(10, Severity::Info));
    handle.send(alert(11, Severity::Warning));
    // Deliveries run concurrently: take every report (3 expected) in whatever order.
    let mut delivered = std::collections::BTreeSet::new();
    for _ in 0..3 {
        let report = report_for(&mut reports, "").await;
        assert_eq!(report.outcome, Outcome::Delivered);
        delivered.insert((report.channel, report.alert_id));
    }
    let expected = [
        ("all".to_owned(), 10),
        ("all".to_owned(), 11),
        ("warning".to_owned(), 11),
    ];
    assert_eq!(delivered, expected.into_iter().collect());
    let mut all_ids = [
        next(&mut everything.requests).await.json()["id"].as_i64(),
        next(&mut everything.requests).await.json()["id"].as_i64(),
    ];
    all_ids.sort();
    assert_eq!(all_ids, [Some(10), Some(11)]);
    assert_eq!(next(&mut warning.requests).await.json()["id"], 11);
    // Every delivery that was started has ended; none took alert 10 to the warning channel.
    assert!(warning.requests.try_recv().is_err());
}

#[tokio::test]
async fn a_full_queue_drops_without_waiting() {
    let (handle, _task) = slotcron::channels::Dispatcher::new(
        Vec::new(),
        slotcron::channels::DispatchOptions {
            queue: 1,
            ..Default::default()
        },
    )
    // Shut down at once, so nothing drains the queue.
    .spawn(std::future::ready(()));
    _task.await.unwrap();
    assert!(!handle.send(alert(1, Severity::Error)));
    assert_eq!(handle.dropped(), 1);
}
