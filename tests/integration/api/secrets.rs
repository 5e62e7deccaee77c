//! Job `env` values are not served to a reader who did not ask for them with the token:
//! `GET /api/v1/jobs[/NAME]` shows the names with `null` values; `?reveal_env=true` with
//! the token shows the values, without it is 401. `slotcron jobs --json` follows the same
//! rule with `--reveal-env`.

use super::{Schemas, addr, get, request, token};
use crate::helper::{Sandbox, stdout};

const SECRET: &str = "s3cret-value-42";

fn sandbox() -> Sandbox {
    let sb = Sandbox::new("");
    sb.job(
        "db.yaml",
        &format!("command: [\"true\"]\nenv: {{ PGPASSWORD: {SECRET}, PGHOST: localhost }}\n"),
    );
    sb
}

#[test]
fn env_values_are_served_only_when_asked_for_with_the_token() {
    let schemas = Schemas::load();
    let sb = sandbox();
    let _daemon = sb.daemon();
    let a = addr(&sb);
    let t = token(&sb);

    for path in ["/api/v1/jobs/db", "/api/v1/jobs"] {
        let answer = get(&a, path);
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(
            !answer.body.contains(SECRET),
            "{path} leaks: {}",
            answer.body
        );
    }
    let one = get(&a, "/api/v1/jobs/db").json();
    schemas.check("JobView", &one);
    assert_eq!(
        one["env"],
        serde_json::json!({"PGHOST": null, "PGPASSWORD": null})
    );

    schemas.error(
        &get(&a, "/api/v1/jobs/db?reveal_env=true"),
        401,
        "unauthorized",
    );
    let wrong = format!("Authorization: Bearer {}", "0".repeat(64));
    let answer = request(&a, "GET", "/api/v1/jobs?reveal_env=true", &[wrong], b"");
    schemas.error(&answer, 401, "unauthorized");
    let auth = [format!("Authorization: Bearer {t}")];
    let answer = request(&a, "GET", "/api/v1/jobs/db?reveal_env=true", &auth, b"");
    assert_eq!(answer.status, 200, "{}", answer.body);
    schemas.check("JobView", &answer.json());
    assert_eq!(answer.json()["env"]["PGPASSWORD"], SECRET);
    let answer = request(&a, "GET", "/api/v1/jobs?reveal_env=true", &auth, b"");
    assert_eq!(answer.json()["jobs"][0]["env"]["PGPASSWORD"], SECRET);
    let answer = request(&a, "GET", "/api/v1/jobs/db?reveal_env=yes", &auth, b"");
    schemas.error(&answer, 400, "bad_request");
}

#[test]
fn slotcron_jobs_hides_env_values_unless_asked() {
    let sb = sandbox();
    let out = sb.slotcron(&["jobs", "--json"]);
    assert!(out.status.success());
    assert!(!stdout(&out).contains(SECRET), "{}", stdout(&out));
    let jobs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jobs[0]["env"]["PGPASSWORD"], serde_json::Value::Null);
    let out = sb.slotcron(&["jobs", "--json", "--reveal-env"]);
    assert!(out.status.success(), "{}", crate::helper::stderr(&out));
    let jobs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jobs[0]["env"]["PGPASSWORD"], SECRET);
}
