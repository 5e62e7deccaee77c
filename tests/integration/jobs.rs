//! `slotcron jobs`: the effective enabled state when `slotcron enable/disable` (through the
//! daemon, here the store directly) overrides a job file.

use serde_json::Value;
use slotcron::store::{DEFAULT_DB_FILE, Store};

use crate::helper::{Sandbox, stderr, stdout};

/// `slotcron jobs --json` as a map from job name to its element.
fn jobs_json(sb: &Sandbox) -> serde_json::Map<String, Value> {
    let out = sb.slotcron(&["jobs", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    list.into_iter()
        .map(|job| (job["name"].as_str().unwrap().to_owned(), job))
        .collect()
}

/// The ENABLED cell of each job in the `slotcron jobs` table, by name.
fn enabled_cells(sb: &Sandbox) -> Vec<(String, String)> {
    let out = sb.slotcron(&["jobs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let header = text.lines().next().unwrap();
    let (start, end) = (
        header.find("ENABLED").unwrap(),
        header.find("MEMORY").unwrap(),
    );
    text.lines()
        .skip(1)
        .map(|line| {
            let name = line.split_whitespace().next().unwrap().to_owned();
            (name, line[start..end].trim().to_owned())
        })
        .collect()
}

#[test]
fn jobs_shows_enable_and_disable_overrides() {
    let sb = Sandbox::new("");
    sb.job("a.yaml", "command: 'true'\n")
        .job("b.yaml", "command: 'true'\nenabled: false\n")
        .job("c.yaml", "command: 'true'\n");
    let before = jobs_json(&sb);
    assert_eq!(before["a"]["enabled_override"], Value::Null);
    assert!(
        !sb.path().join("state").join(DEFAULT_DB_FILE).exists(),
        "jobs does not create the database"
    );

    // `run` creates the database and brings its own job's row in step (ADR 0035).
    for job in ["a", "b", "c"] {
        assert_eq!(sb.run(job).1, 0, "run {job}");
    }
    let mut store = Store::open(&sb.path().join("state").join(DEFAULT_DB_FILE)).unwrap();
    let now = chrono::Utc::now();
    store.set_enabled_override("a", Some(false), now).unwrap();
    store.set_enabled_override("b", Some(true), now).unwrap();
    drop(store);

    let cell = |s: &str| s.to_owned();
    assert_eq!(
        enabled_cells(&sb),
        [
            (cell("a"), cell("no (override)")),
            (cell("b"), cell("yes (override)")),
            (cell("c"), cell("yes")),
        ]
    );
    let json = jobs_json(&sb);
    let pair = |name: &str| {
        (
            json[name]["enabled"].clone(),
            json[name]["enabled_override"].clone(),
        )
    };
    assert_eq!(pair("a"), (Value::Bool(true), Value::Bool(false)));
    assert_eq!(pair("b"), (Value::Bool(false), Value::Bool(true)));
    assert_eq!(pair("c"), (Value::Bool(true), Value::Null));
    assert_eq!(json["c"]["last_run"]["status"], "success");
}
