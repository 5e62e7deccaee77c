//! `slotcron run` records alerts as the daemon does; `slotcron alerts` and `slotcron ack`
//! read and acknowledge them straight from the history database.

use serde_json::Value;

use crate::helper::{Sandbox, stderr, stdout};

/// `slotcron alerts --json [extra]` as a list.
fn alerts(sb: &Sandbox, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["alerts", "--json"];
    args.extend_from_slice(extra);
    let out = sb.slotcron(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn of_kind<'a>(alerts: &'a [Value], kind: &str) -> &'a Value {
    alerts
        .iter()
        .find(|a| a["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} alert in {alerts:#?}"))
}

#[test]
fn three_failures_open_two_alerts_ack_silences_and_a_success_resolves() {
    let sb = Sandbox::new("");
    assert_eq!(alerts(&sb, &[]), Vec::<Value>::new());
    sb.job("flaky.yaml", "command: 'exit 3'\n");
    let mut run_ids = Vec::new();
    for _ in 0..3 {
        let (record, code) = sb.run("flaky");
        assert_eq!((record["status"].as_str(), code), (Some("failed"), 3));
        run_ids.push(record["id"].as_i64().unwrap());
    }

    let open = alerts(&sb, &[]);
    assert_eq!(open.len(), 2, "{open:#?}");
    let failure = of_kind(&open, "failure");
    assert_eq!(failure["job"], "flaky");
    assert_eq!(failure["severity"], "error");
    assert_eq!(failure["count"], 3);
    assert_eq!(failure["state"], "open");
    assert_eq!(failure["first_run_id"], run_ids[0]);
    assert_eq!(failure["last_run_id"], run_ids[2]);
    assert_eq!(
        failure["message"],
        format!("run {} failed with exit code 3", run_ids[2])
    );
    let streak = of_kind(&open, "consecutive_failures");
    assert_eq!(streak["severity"], "critical");
    assert_eq!(streak["count"], 1);
    assert_eq!(streak["message"], "3 consecutive failed runs (alert at 3)");

    let id = failure["id"].as_i64().unwrap().to_string();
    let out = sb.slotcron(&["ack", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("alert {id} acknowledged\n"));
    let open = alerts(&sb, &[]);
    assert_eq!(open.len(), 2, "acknowledged alerts stay open");
    assert_eq!(of_kind(&open, "failure")["state"], "acknowledged");
    let table = stdout(&sb.slotcron(&["alerts"]));
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "ID", "JOB", "TYPE", "SEVERITY", "COUNT", "REOPENED", "FIRST", "LAST", "STATE",
            "MESSAGE"
        ],
        "{table}"
    );
    assert!(table.contains("acknowledged"), "{table}");

    let out = sb.slotcron(&["ack", "999"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("alert 999 does not exist"),
        "{}",
        stderr(&out)
    );

    sb.job("flaky.yaml", "command: 'true'\n");
    let (record, code) = sb.run("flaky");
    assert_eq!((record["status"].as_str(), code), (Some("success"), 0));
    assert_eq!(alerts(&sb, &[]), Vec::<Value>::new());
    let all = alerts(&sb, &["--all"]);
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|a| a["state"] == "resolved"), "{all:#?}");
    assert_eq!(stdout(&sb.slotcron(&["alerts"])), "no open alerts\n");
}

#[test]
fn a_human_run_summary_names_the_alerts_it_opened() {
    let sb = Sandbox::new("");
    sb.job(
        "broken.yaml",
        "command: 'exit 1'\nalerts: { consecutive_failures: 1 }\n",
    );
    let out = sb.slotcron(&["run", "broken"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(
            "  alert:       opened error failure (alert 1): run 1 failed with exit code 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("opened critical consecutive_failures (alert 2)"),
        "{text}"
    );
    // A repeat notifies nobody.
    let again = stdout(&sb.slotcron(&["run", "broken"]));
    assert!(!again.contains("alert:"), "{again}");
}
