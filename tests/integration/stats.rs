//! Baselines and health through the binary: `slotcron run` N times, then what
//! `slotcron jobs` and `slotcron recalculate-baselines` say.

use serde_json::Value;

use crate::helper::{Sandbox, stderr, stdout};

/// The `health` element of `name` in `slotcron jobs --json`.
fn health(sb: &Sandbox, name: &str) -> Value {
    let out = sb.slotcron(&["jobs", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let job = list.into_iter().find(|j| j["name"] == name).expect(name);
    job["health"].clone()
}

#[test]
fn ten_successful_runs_make_a_baseline_and_a_healthy_job() {
    let sb = Sandbox::new("baseline_runs: 10\n");
    sb.job("nap.yaml", "command: sleep 0.1\n");
    let fresh = health(&sb, "nap");
    assert_eq!(fresh["execution"], "never_run");
    assert_eq!(fresh["baseline_missing"], "0 of 10 successful runs");
    for _ in 0..9 {
        assert_eq!(sb.run("nap").1, 0);
    }
    let h = health(&sb, "nap");
    assert_eq!(h["baseline"], Value::Null);
    assert_eq!(h["performance"], "unknown");
    assert_eq!(h["baseline_missing"], "9 of 10 successful runs");
    let table = stdout(&sb.slotcron(&["jobs"]));
    assert!(table.contains("no baseline (9 of 10 runs)"), "{table}");

    assert_eq!(sb.run("nap").1, 0);
    let h = health(&sb, "nap");
    let median = h["baseline"]["duration_median_ms"]
        .as_f64()
        .expect("a baseline");
    // `sleep 0.1`: about 100 ms (a millisecond less when the clock starts after the fork),
    // far more only on a very loaded machine.
    assert!((90.0..10_000.0).contains(&median), "median {median} ms");
    assert!(h["baseline"]["duration_p95_ms"].as_f64().unwrap() >= median);
    assert_eq!(h["baseline"]["runs"], 10);
    assert_eq!(h["baseline_missing"], Value::Null);
    assert_eq!(h["status"], "healthy");
    assert_eq!(h["execution"], "ok");
    assert_ne!(h["performance"], "unknown");
    assert_eq!(h["rolling_24h"]["runs"], 10);
    assert_eq!(h["rolling_24h"]["failures"], 0);
    let table = stdout(&sb.slotcron(&["jobs"]));
    let cells = |line: &str| -> Vec<String> {
        line.split_whitespace()
            .rev()
            .take(3)
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        cells(table.lines().next().unwrap()),
        ["PERFORMANCE", "EXECUTION", "HEALTH"]
    );
    assert_eq!(
        cells(table.lines().nth(1).unwrap())[1..],
        ["ok", "healthy"],
        "{table}"
    );

    let out = sb.slotcron(&["recalculate-baselines", "nap"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).lines().nth(1).unwrap().starts_with("nap  10"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn three_failures_in_a_row_make_a_job_critical() {
    let sb = Sandbox::new("");
    sb.job("broken.yaml", "command: 'false'\n");
    assert_eq!(sb.run("broken").1, 1);
    assert_eq!(sb.run("broken").1, 1);
    let h = health(&sb, "broken");
    assert_eq!(h["status"], "warning", "{h}");
    assert_eq!(h["execution"], "failing");
    assert_eq!(sb.run("broken").1, 1);
    let h = health(&sb, "broken");
    assert_eq!(h["status"], "critical", "{h}");
    assert_eq!(h["execution"], "failing");
    assert_eq!(h["rolling_24h"]["failures"], 3);
    assert_eq!(h["baseline_missing"], "0 of 30 successful runs");
}

/// `slotcron alerts --json` as a list.
fn alerts(sb: &Sandbox) -> Vec<Value> {
    let out = sb.slotcron(&["alerts", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_slower_run_alerts_with_its_evidence_and_recalculate_baselines_accepts_the_new_level() {
    // Ten runs: with fewer, the spread is too uncertain for one run to be judged unusual.
    let sb = Sandbox::new("baseline_runs: 10\n");
    let floor = "alerts: { slower: { at_least: 100ms } }\n";
    // 200 ms: long enough that process start-up on a loaded machine is small beside it.
    sb.job("nap.yaml", &format!("command: sleep 0.2\n{floor}"));
    for _ in 0..10 {
        assert_eq!(sb.run("nap").1, 0);
    }
    assert_eq!(alerts(&sb), Vec::<Value>::new());
    // 7.5 times as long and 1.3 s more: unusual, beyond +50 % and the job's 100 ms.
    sb.job("nap.yaml", &format!("command: sleep 1.5\n{floor}"));
    let (slow, _) = sb.run("nap");
    let open = alerts(&sb);
    assert_eq!(open.len(), 1, "{open:#?}");
    let anomaly = &open[0];
    assert_eq!(
        (anomaly["kind"].as_str(), anomaly["first_run_id"].as_i64()),
        (Some("anomaly"), slow["id"].as_i64())
    );
    let evidence = &anomaly["evidence"][0];
    assert_eq!(evidence["rule"], "slower");
    assert_eq!(evidence["figure"], "duration");
    assert_eq!(evidence["value"], slow["duration_ms"].as_f64().unwrap());
    assert_eq!(
        (
            evidence["baseline_runs"].as_u64(),
            evidence["at_least"].as_f64()
        ),
        (Some(10), Some(100.0))
    );
    assert!(evidence["ratio"].as_f64().unwrap() > 3.0, "{evidence}");
    let message = anomaly["message"].as_str().unwrap();
    assert!(
        message.contains(&evidence["summary"].as_str().unwrap().to_owned()),
        "{message}"
    );
    assert!(
        message.ends_with("`slotcron recalculate-baselines nap`"),
        "{message}"
    );

    let out = sb.slotcron(&["recalculate-baselines", "nap"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with(&format!(
            "nap: its baseline restarts at run {}, where its open anomaly alert began",
            slow["id"]
        )),
        "{}",
        stdout(&out)
    );
    assert_eq!(alerts(&sb), Vec::<Value>::new(), "the anomaly is resolved");
    assert_eq!(
        health(&sb, "nap")["baseline_missing"],
        "1 of 10 successful runs"
    );
    // The new level is not judged against the old one.
    assert_eq!(sb.run("nap").1, 0);
    assert_eq!(alerts(&sb), Vec::<Value>::new());
}
