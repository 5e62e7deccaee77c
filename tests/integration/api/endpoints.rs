//! Every endpoint of `/api/v1`, `/healthz` and `/readyz` against a real daemon: the good
//! answers (checked against `docs/openapi.yaml`) and the bad ones (400, 401, 404, 409, 413,
//! 422). The dashboard's files are checked in `assets.rs`.

use std::time::Duration;

use super::{Schemas, addr, get, post, request, token};
use crate::helper::Sandbox;

const PATIENCE: Duration = Duration::from_secs(20);

fn sandbox() -> Sandbox {
    let sb = Sandbox::new("");
    sb.job(
        "flaky.yaml",
        "schedule: \"@daily\"\ncommand: [\"sh\", \"-c\", \"echo one; echo two; exit 3\"]\n",
    );
    sb.job(
        "sleepy.yaml",
        "schedule: \"@daily\"\ncommand: [\"sleep\", \"30\"]\n",
    );
    sb.job(
        "after.yaml",
        "schedule: \"@daily\"\ndepends_on: [sleepy]\ncommand: [\"true\"]\n",
    );
    sb
}

#[test]
fn reads_and_actions_answer_as_documented() {
    let schemas = Schemas::load();
    let sb = sandbox();
    let mut daemon = sb.daemon();
    let a = addr(&sb);
    let t = token(&sb);

    let health = get(&a, "/healthz");
    assert_eq!(health.status, 200);
    schemas.check("Healthz", &health.json());
    let ready = get(&a, "/readyz");
    assert_eq!(ready.status, 200, "{}", ready.body);
    schemas.check("Readyz", &ready.json());
    assert!(
        ready.json()["checks"]["cgroups"]
            .as_str()
            .unwrap()
            .starts_with("unconfined: "),
        "{}",
        ready.body
    );

    // Actions need the token.
    let refused = post(&a, "/api/v1/jobs/flaky/run", None);
    schemas.error(&refused, 401, "unauthorized");
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    schemas.error(
        &post(&a, "/api/v1/jobs/flaky/run", Some(&"0".repeat(64))),
        401,
        "unauthorized",
    );

    let started = post(&a, "/api/v1/jobs/flaky/run", Some(&t));
    assert_eq!(started.status, 202, "{}", started.body);
    schemas.check("Triggered", &started.json());
    assert_eq!(started.json()["queued"], false);
    schemas.error(
        &post(&a, "/api/v1/jobs/nope/run", Some(&t)),
        404,
        "not_found",
    );

    // The failed run shows in the job, its runs and its log.
    let job = daemon.wait_for("flaky's run to fail", PATIENCE, |_| {
        let job = get(&a, "/api/v1/jobs/flaky").json();
        (job["consecutive_failures"] == 1).then_some(job)
    });
    schemas.check("JobView", &job);
    assert_eq!(job["last_error"], "failed (exit code 3)");
    assert_eq!(job["state"], "idle");
    assert_eq!(job["effective_enabled"], true);
    assert!(job["next_run"].is_string(), "{job}");
    assert_eq!(job["health"]["execution"], "failing");
    let list = get(&a, "/api/v1/jobs");
    assert_eq!(list.status, 200);
    schemas.check("JobList", &list.json());
    let names: Vec<&str> = list.json()["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap().to_owned().leak() as &str)
        .collect();
    assert_eq!(names, ["after", "flaky", "sleepy"]);
    schemas.error(&get(&a, "/api/v1/jobs/nope"), 404, "not_found");

    let runs = get(&a, "/api/v1/jobs/flaky/runs?limit=1");
    assert_eq!(runs.status, 200, "{}", runs.body);
    schemas.check("RunPage", &runs.json());
    let run = runs.json()["runs"][0].clone();
    assert_eq!(run["status"], "failed");
    assert_eq!(runs.json()["next_before"], serde_json::Value::Null);
    let id = run["id"].as_i64().unwrap();
    let one = get(&a, &format!("/api/v1/runs/{id}"));
    schemas.check("RunRecord", &one.json());
    assert_eq!(one.json()["exit_code"], 3);
    let log = get(&a, &format!("/api/v1/runs/{id}/log"));
    assert_eq!(log.status, 200);
    assert_eq!(log.body, "one\ntwo\n");
    assert_eq!(
        log.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(log.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(log.header("x-slotcron-log-truncated"), Some("false"));
    let cut = get(&a, &format!("/api/v1/runs/{id}/log?bytes=5"));
    assert_eq!(
        (cut.body.as_str(), cut.header("x-slotcron-log-truncated")),
        ("two\n", Some("true"))
    );
    schemas.error(&get(&a, "/api/v1/runs/999999/log"), 404, "not_found");
    schemas.error(
        &get(&a, &format!("/api/v1/runs/{id}/log?bytes=0")),
        422,
        "invalid",
    );

    // Filters and their bad values.
    let failed = get(
        &a,
        "/api/v1/runs?status=failed&job=flaky&since=2000-01-01T00:00:00Z",
    );
    schemas.check("RunPage", &failed.json());
    assert_eq!(failed.json()["runs"].as_array().unwrap().len(), 1);
    schemas.error(&get(&a, "/api/v1/runs?limit=abc"), 400, "bad_request");
    schemas.error(&get(&a, "/api/v1/runs?since=yesterday"), 400, "bad_request");
    schemas.error(&get(&a, "/api/v1/runs?limit=0"), 422, "invalid");
    schemas.error(&get(&a, "/api/v1/runs?limit=100000"), 422, "invalid");
    schemas.error(&get(&a, "/api/v1/runs?status=bogus"), 422, "invalid");
    schemas.error(&get(&a, "/api/v1/runs/abc"), 400, "bad_request");
    schemas.error(&get(&a, "/api/v1/runs/999999"), 404, "not_found");
    schemas.error(&get(&a, "/api/v1/jobs/nope/runs"), 404, "not_found");
    schemas.error(&get(&a, "/api/v1/nothing/here"), 404, "not_found");
    assert_eq!(get(&a, "/elsewhere").status, 404);

    // The failure raised an alert: listed, acknowledged once, then a conflict.
    let alerts = get(&a, "/api/v1/alerts");
    schemas.check("AlertList", &alerts.json());
    let alert = alerts.json()["alerts"][0].clone();
    assert_eq!(
        (alert["job"].as_str(), alert["state"].as_str()),
        (Some("flaky"), Some("open"))
    );
    let alert_id = alert["id"].as_i64().unwrap();
    let acked = post(&a, &format!("/api/v1/alerts/{alert_id}/ack"), Some(&t));
    assert_eq!(acked.status, 200, "{}", acked.body);
    schemas.check("Message", &acked.json());
    schemas.error(
        &post(&a, &format!("/api/v1/alerts/{alert_id}/ack"), Some(&t)),
        409,
        "conflict",
    );
    schemas.error(
        &post(&a, "/api/v1/alerts/999999/ack", Some(&t)),
        404,
        "not_found",
    );
    let acknowledged = get(&a, "/api/v1/alerts?state=acknowledged").json();
    assert_eq!(acknowledged["alerts"][0]["id"], alert_id);
    assert_eq!(
        get(&a, "/api/v1/alerts?state=resolved").json()["alerts"],
        serde_json::json!([])
    );
    schemas.error(&get(&a, "/api/v1/alerts?state=closed"), 422, "invalid");

    // Enable, disable.
    let disabled = post(&a, "/api/v1/jobs/flaky/disable", Some(&t));
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    schemas.check("Enabled", &disabled.json());
    assert_eq!(disabled.json()["enabled"], false);
    let job = get(&a, "/api/v1/jobs/flaky").json();
    assert_eq!(
        (
            job["state"].as_str(),
            job["effective_enabled"].as_bool(),
            job["enabled_override"].as_bool()
        ),
        (Some("disabled"), Some(false), Some(false))
    );
    assert_eq!(
        post(&a, "/api/v1/jobs/flaky/enable", Some(&t)).json()["enabled"],
        true
    );
    schemas.error(
        &post(&a, "/api/v1/jobs/nope/enable", Some(&t)),
        404,
        "not_found",
    );

    // A dependency not met: skipped by policy, 409.
    schemas.error(
        &post(&a, "/api/v1/jobs/after/run", Some(&t)),
        409,
        "conflict",
    );

    // Kill: running, then not running any more.
    assert_eq!(post(&a, "/api/v1/jobs/sleepy/run", Some(&t)).status, 202);
    let sleepy = daemon.wait_for("sleepy to run", PATIENCE, |_| {
        let job = get(&a, "/api/v1/jobs/sleepy").json();
        (job["state"] == "running" && job["running"] == 1).then_some(job)
    });
    schemas.check("JobView", &sleepy);
    let run_id = daemon.wait_for("sleepy's run id", PATIENCE, |_| {
        get(&a, "/api/v1/runs?job=sleepy&status=running").json()["runs"][0]["id"].as_i64()
    });
    let killed = post(&a, &format!("/api/v1/runs/{run_id}/kill"), Some(&t));
    assert_eq!(killed.status, 202, "{}", killed.body);
    schemas.check("Message", &killed.json());
    // History says `killed` a moment before the event loop hears the run has ended (the
    // run's task records it, then tells the loop); until then a second kill answers 202
    // "already being stopped". Wait for both.
    daemon.wait_until("the kill to end the run", PATIENCE, |_| {
        get(&a, &format!("/api/v1/runs/{run_id}")).json()["status"] == "killed"
            && get(&a, "/api/v1/jobs/sleepy").json()["running"] == 0
    });
    schemas.error(
        &post(&a, &format!("/api/v1/runs/{run_id}/kill"), Some(&t)),
        409,
        "conflict",
    );
    schemas.error(
        &post(&a, "/api/v1/runs/999999/kill", Some(&t)),
        404,
        "not_found",
    );

    // Slots (unconfined: no live figures).
    let slots = get(&a, "/api/v1/slots");
    schemas.check("Slots", &slots.json());
    assert_eq!(slots.json()["slots"][0]["name"], "default");
    assert_eq!(slots.json()["slots"][0]["live"], serde_json::Value::Null);

    // A body over 16 KiB.
    let big = vec![b'x'; 20 * 1024];
    let auth = format!("Authorization: Bearer {t}");
    let too_big = request(&a, "POST", "/api/v1/jobs/flaky/run", &[auth], &big);
    schemas.error(&too_big, 413, "payload_too_large");
}

#[test]
fn the_token_file_is_owner_only_and_kept_across_restarts() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new("");
    let first = {
        let _daemon = sb.daemon();
        token(&sb)
    };
    let file = sb.path().join("state").join("api.token");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let _daemon = sb.daemon();
    assert_eq!(token(&sb), first);
}

#[test]
fn a_non_loopback_listener_without_a_token_refuses_to_start() {
    // 0.0.0.0 is not loopback; the state dir's token path is a directory, so no token.
    let sb = Sandbox::new("metrics: { listen: \"0.0.0.0:0\" }\n");
    let text = std::fs::read_to_string(sb.path().join("slotcron.yaml")).unwrap();
    let text = text.replace("metrics: { listen: \"127.0.0.1:0\" }\n", "");
    std::fs::write(sb.path().join("slotcron.yaml"), text).unwrap();
    std::fs::create_dir_all(sb.path().join("state").join("api.token")).unwrap();
    let out = sb.slotcron(&["daemon"]);
    assert!(!out.status.success());
    let err = crate::helper::stderr(&out);
    assert!(
        err.contains("not loopback") && err.contains("api.token"),
        "{err}"
    );
}

/// An alert with evidence and a degraded job's health, as the API serializes them, match
/// `docs/openapi.yaml` (the daemon test above sees only a failure and no baseline).
#[test]
fn evidence_in_alerts_and_health_matches_the_schemas() {
    use slotcron::alerts::{AlertKind, Finding};
    use slotcron::stats::effect::{Judging, Reference, Rule, judge};
    use slotcron::store::{JobRow, Store};

    let schemas = Schemas::load();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("db")).unwrap();
    let now = chrono::Utc::now();
    let row = JobRow {
        name: "backup".into(),
        file: "backup.yaml".into(),
        slot: "default".into(),
        schedule: "manual".into(),
        enabled: true,
        definition: "{}".into(),
    };
    store.sync_jobs(&[row], now).unwrap();
    let usual = Reference {
        median: 10_000.0,
        spread: 0.05,
        runs: 30,
    };
    let slow = judge(Rule::Slower, 20_000.0, 1, &usual, &Judging::default()).unwrap();
    let finding = Finding::with_evidence(AlertKind::Anomaly, "slow".into(), vec![slow.clone()]);
    let window = std::time::Duration::from_secs(3600);
    store.raise("backup", None, &finding, window, now).unwrap();
    store.resolve("backup", &[AlertKind::Anomaly], now).unwrap();
    store.raise("backup", None, &finding, window, now).unwrap();
    let alerts = serde_json::json!({ "alerts": store.alerts(true).unwrap() });
    schemas.check("AlertList", &alerts);
    assert_eq!(alerts["alerts"][0]["reopened"], 1);

    let baseline = slotcron::stats::Baseline {
        duration_median_ms: 10_000.0,
        duration_p95_ms: 11_000.0,
        duration_mad_ms: 300.0,
        memory_median_bytes: None,
        memory_max_bytes: None,
        memory_mad_bytes: None,
        duration_spread: Some(0.05),
        memory_spread: None,
        cpu_median_usec: None,
        runs: 30,
        newest_run_id: 30,
        checked_run_id: 40,
        held: true,
        computed_at: now,
    };
    let inputs = slotcron::stats::HealthInputs {
        baseline: Some(baseline),
        recent: slotcron::stats::Recent {
            runs: 5,
            duration_median_ms: Some(20_000.0),
            memory_median_bytes: None,
            memory_runs: 0,
        },
        ..slotcron::stats::HealthInputs::default()
    };
    let thresholds = slotcron::stats::health::Thresholds {
        consecutive_failures: 3,
        overdue_grace: Duration::from_secs(300),
        judging: Judging::default(),
    };
    let health = slotcron::stats::evaluate(&thresholds, &inputs, None, now);
    let health = serde_json::to_value(&health).unwrap();
    assert_eq!(health["performance"], "degraded");
    assert_eq!(health["degradation"][0]["runs"], 5);
    schemas.check("Health", &health);
}
