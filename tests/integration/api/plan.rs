//! `GET /api/v1/plan`: the forecast of the daemon's jobs, the same JSON as `slotcron plan
//! --json` (one function builds both), checked against `docs/openapi.yaml`.

use chrono::{Timelike, Utc};
use serde_json::Value;

use super::{Schemas, addr, get};
use crate::helper::{Sandbox, stderr};

/// Jobs whose fire times are half a day from now (so the daemon runs nothing while the
/// test compares answers), one of them waiting for the other in a one-seat slot.
fn sandbox() -> Sandbox {
    let sb = Sandbox::new(
        "slots:\n  default: { max_concurrent: 5, memory_max: 3G }\n  one: { max_concurrent: 1, memory_max: 1G }\n",
    );
    let hour = (Utc::now().hour() + 12) % 24;
    for name in ["first", "second"] {
        sb.job(
            &format!("{name}.yaml"),
            &format!(
                "command: \"true\"\nschedule: \"0 {hour} * * *\"\ntimezone: UTC\nslot: one\n\
                 limits: {{ timeout: 20m }}\n"
            ),
        );
    }
    sb
}

#[test]
fn the_plan_endpoint_answers_what_the_command_prints() {
    let schemas = Schemas::load();
    let sb = sandbox();
    let _daemon = sb.daemon();
    let a = addr(&sb);
    let from = "2026-12-06T00:00:00Z";

    let answer = get(&a, &format!("/api/v1/plan?hours=48&from={from}"));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let api = answer.json();
    schemas.check("Plan", &api);
    let out = sb.slotcron(&["plan", "--json", "--hours", "48", "--from", from]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(api, cli);

    // Two days, two jobs, one seat: each day the second waits the first's 20m timeout.
    let waits: Vec<(&str, u64)> = (api["runs"].as_array().unwrap().iter())
        .map(|r| (r["job"].as_str().unwrap(), r["wait_ms"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        waits,
        [
            ("first", 0),
            ("second", 1_200_000),
            ("first", 0),
            ("second", 1_200_000)
        ]
    );
    assert_eq!(api["percentile"], "p50");

    let pessimistic = get(
        &a,
        &format!("/api/v1/plan?from={from}&pessimistic=true&catch_up=true"),
    );
    assert_eq!(pessimistic.status, 200, "{}", pessimistic.body);
    let p = pessimistic.json();
    schemas.check("Plan", &p);
    assert_eq!(
        (&p["percentile"], &p["catch_up"], &p["until"]),
        (
            &Value::from("p95"),
            &Value::from(true),
            &Value::from("2026-12-07T00:00:00Z")
        )
    );

    schemas.error(&get(&a, "/api/v1/plan?hours=0"), 422, "invalid");
    schemas.error(&get(&a, "/api/v1/plan?hours=169"), 422, "invalid");
    schemas.error(&get(&a, "/api/v1/plan?hours=x"), 400, "bad_request");
    schemas.error(&get(&a, "/api/v1/plan?from=tonight"), 400, "bad_request");
    schemas.error(&get(&a, "/api/v1/plan?pessimistic=yes"), 400, "bad_request");
}
