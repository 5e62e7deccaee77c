//! `type: command`: a shell script that records its environment and stdin, and one that
//! outlives its timeout.

use std::time::Duration;

use slotcron::channels::{DeliveryError, Outcome, Severity};
use slotcron::stats::effect::{Judging, Reference, Rule, judge};

use super::{PATIENCE, alert, channels, report_for, start};

#[tokio::test]
async fn the_hook_gets_the_alert_in_its_environment_and_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let script = dir.path().join("hook.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv | grep '^SLOTCRON_ALERT_' | sort > {out}.env\ncat > {out}.json\n",
            out = out.display()
        ),
    )
    .unwrap();
    let (handle, mut reports) = start(channels(&format!(
        "  - {{ name: hook, type: command, command: [/bin/sh, '{}'] }}\n",
        script.display()
    )));
    let usual = Reference {
        median: 10_000.0,
        spread: 0.05,
        runs: 30,
    };
    let slow = judge(Rule::Slower, 20_000.0, 1, &usual, &Judging::default()).unwrap();
    let mut sent = alert(9, Severity::Warning);
    sent.evidence = vec![slow.clone()];
    handle.send(sent);
    let report = report_for(&mut reports, "hook").await;
    assert_eq!(report.outcome, Outcome::Delivered);
    let env = std::fs::read_to_string(out.with_extension("env")).unwrap();
    for line in [
        "SLOTCRON_ALERT_ID=9",
        "SLOTCRON_ALERT_JOB=backup",
        "SLOTCRON_ALERT_KIND=failure",
        "SLOTCRON_ALERT_SEVERITY=warning",
        "SLOTCRON_ALERT_MESSAGE=exit code 3",
        "SLOTCRON_ALERT_CHANGE=opened",
    ] {
        assert!(env.lines().any(|l| l == line), "missing {line} in:\n{env}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.with_extension("json")).unwrap()).unwrap();
    assert_eq!(json["id"], 9);
    assert_eq!(json["text"], "[warning] backup: failure — exit code 3");
    assert_eq!(json["evidence"][0]["rule"], "slower");
    assert_eq!(json["evidence"][0]["summary"], slow.summary.as_str());
    let evidence = env
        .lines()
        .find_map(|l| l.strip_prefix("SLOTCRON_ALERT_EVIDENCE="))
        .expect("SLOTCRON_ALERT_EVIDENCE");
    let evidence: serde_json::Value = serde_json::from_str(evidence).unwrap();
    assert_eq!(evidence, json["evidence"]);
}

#[tokio::test]
async fn a_hook_that_outlives_its_timeout_is_killed_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("survived");
    let (handle, mut reports) = start(channels(&format!(
        "  - {{ name: slow, type: command, timeout: 300ms, retries: 0, command: [/bin/sh, -c, 'sleep 2; touch {}'] }}\n",
        marker.display()
    )));
    handle.send(alert(10, Severity::Error));
    let report = report_for(&mut reports, "slow").await;
    assert_eq!(
        report.outcome,
        Outcome::GaveUp(DeliveryError::Timeout(Duration::from_millis(300)))
    );
    assert!(
        report.elapsed < Duration::from_secs(2),
        "{:?}",
        report.elapsed
    );
    // The only fixed wait: proving something does NOT happen after the script's 2 s.
    tokio::time::sleep(Duration::from_millis(2500).min(PATIENCE)).await;
    assert!(
        !marker.exists(),
        "the hook's shell went on after the timeout"
    );
}

#[tokio::test]
async fn a_failing_hook_reports_its_exit_code_and_last_stderr_line() {
    let (handle, mut reports) = start(channels(
        "  - { name: bad, type: command, retries: 1, command: [/bin/sh, -c, 'echo nope >&2; exit 4'] }\n",
    ));
    handle.send(alert(11, Severity::Error));
    let report = report_for(&mut reports, "bad").await;
    assert_eq!(report.attempts, 2);
    let Outcome::GaveUp(error) = report.outcome else {
        panic!()
    };
    assert_eq!(error.to_string(), "`/bin/sh` exited with code 4: nope");
}
