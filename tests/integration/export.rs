//! `slotcron export`: systemd timers elapse when slotcron would fire (checked with
//! `systemd-analyze calendar` where it is installed), and CronJobs carry the fields the
//! CronJob schema requires, with the job's values. `kubectl apply --dry-run=client` is not
//! used: it needs an API server even in client mode, and tests have none.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use slotcron::config::{Settings, parse_job};

use crate::helper::{Sandbox, stdout};

const ITERATIONS: usize = 60;

/// Schedules and zones: both day-field rules, steps, names, nicknames, seconds.
const SCHEDULES: &[(&str, &str)] = &[
    ("*/15 * * * *", "UTC"),
    ("0 0 1,15 * *", "UTC"),
    ("30 4 1-7 * 1", "UTC"),
    ("0 9-17 * * mon-fri", "UTC"),
    ("23 0-23/2 * * *", "UTC"),
    ("0 0 13 * 5", "UTC"),
    ("0 0 */2 * 1", "UTC"),
    ("0 0 1 * */2", "UTC"),
    ("0 0 1-31 * 1", "UTC"),
    ("1-59/61 */100 * * *", "UTC"),
    ("@every 15m", "UTC"),
    ("@every 6h", "UTC"),
    ("0 8 * jan-mar,oct-dec mon,wed,fri", "UTC"),
    ("0 0 1-31/10 * *", "UTC"),
    ("5,35 */6 * * *", "UTC"),
    ("@weekly", "UTC"),
    ("@monthly", "UTC"),
    ("*/20 * * * * *", "UTC"),
    ("30 2 * * *", "Europe/Berlin"),
    ("0 12 * * 6-7", "America/New_York"),
];

/// `systemd-analyze calendar`'s elapse times for `expr` after `base`, in UTC.
fn systemd_elapses(expr: &str, base: &str) -> Vec<DateTime<Utc>> {
    let out = Command::new("systemd-analyze")
        .env("TZ", "UTC")
        .args(["calendar", &format!("--iterations={ITERATIONS}")])
        .arg(format!("--base-time={base}"))
        .arg(expr)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{expr}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("Next elapse:").or_else(|| {
                l.split_once("Iter. #")
                    .and_then(|(_, r)| r.split_once(':'))
                    .map(|(_, r)| r)
            })?;
            // "Wed 2026-04-01 00:15:00 UTC"
            let words: Vec<&str> = rest.split_whitespace().collect();
            let naive = NaiveDateTime::parse_from_str(
                &format!("{} {}", words[1], words[2]),
                "%Y-%m-%d %H:%M:%S",
            )
            .unwrap();
            assert_eq!(words[3], "UTC", "{l}");
            Some(naive.and_utc())
        })
        .collect()
}

#[test]
fn timers_elapse_when_slotcron_fires_needs_systemd_analyze() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("skipped: systemd-analyze not installed");
        return;
    }
    let sb = Sandbox::new("");
    // And expressions drawn at random from cron's grammar (UTC: systemd's rules for
    // skipped and repeated wall times differ from cron's).
    let mut rng = fastrand::Rng::with_seed(6);
    let random: Vec<(String, &str)> = (0..40)
        .map(|_| (crate::cron_conformance::random_expression(&mut rng), "UTC"))
        .filter(|(expr, _)| slotcron::config::Schedule::parse(expr).is_ok())
        .collect();
    let schedules: Vec<(&str, &str)> = SCHEDULES
        .iter()
        .copied()
        .chain(random.iter().map(|(e, z)| (e.as_str(), *z)))
        .collect();
    for (i, (schedule, zone)) in schedules.iter().enumerate() {
        sb.job(
            &format!("j{i:02}.yaml"),
            &format!("command: \"true\"\nschedule: \"{schedule}\"\ntimezone: {zone}\n"),
        );
    }
    let out_dir = sb.path().join("units");
    let out = sb.slotcron(&["export", "systemd", "--out", out_dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = "2026-04-01 00:00:00 UTC";
    let after: DateTime<Utc> = "2026-04-01T00:00:00Z".parse().unwrap();
    let settings = Settings::builtin();
    for (i, (schedule, _)) in schedules.iter().enumerate() {
        let timer = std::fs::read_to_string(out_dir.join(format!("j{i:02}.timer"))).unwrap();
        let calendars: Vec<&str> = timer
            .lines()
            .filter_map(|l| l.strip_prefix("OnCalendar="))
            .collect();
        assert!(!calendars.is_empty(), "{timer}");
        // A timer elapses at the union of its OnCalendar= values.
        let mut systemd: Vec<DateTime<Utc>> = calendars
            .iter()
            .flat_map(|c| systemd_elapses(c, base))
            .collect();
        systemd.sort();
        systemd.dedup();
        systemd.truncate(ITERATIONS);
        let file = sb.jobs_dir().join(format!("j{i:02}.yaml"));
        let job = parse_job(&file, &std::fs::read_to_string(&file).unwrap(), &settings).unwrap();
        let ours: Vec<DateTime<Utc>> =
            std::iter::successors(job.next_fire(after), |t| job.next_fire(*t))
                .take(ITERATIONS)
                .collect();
        assert_eq!(systemd, ours, "`{schedule}` as {calendars:?}");
    }
}

#[test]
fn service_units_carry_the_limits_and_quote_the_command() {
    let sb = Sandbox::new("");
    sb.job(
        "nightly.yaml",
        "command: echo \"$HOME\" 100% \\ done\nschedule: \"0 2 * * *\"\ntimezone: Europe/Berlin\n\
         catch_up: once\njitter: 30s\nslot: heavy\nenv: { GREETING: \"hi there\" }\n\
         limits: { memory: 512M, cpu: 1.5, pids: 32, timeout: 10m }\nweights: { cpu: 0.5 }\n",
    )
    .job(
        "boot.yaml",
        "command: [/bin/echo, up]\nschedule: \"@reboot\"\n",
    )
    .job("byhand.yaml", "command: \"true\"\nschedule: manual\n");
    let out = sb.slotcron(&["export", "systemd"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for line in [
        r#"ExecStart="/bin/sh" "-c" "echo \"$$HOME\" 100%% \\ done""#,
        "MemoryMax=536870912",
        "MemorySwapMax=0",
        "CPUQuota=150%",
        "CPUWeight=50",
        "TasksMax=32",
        "TimeoutStartSec=600",
        r#"Environment="GREETING=hi there""#,
        r#"Environment="TZ=Europe/Berlin""#,
        "OnCalendar=*-*-* 02:00:00 Europe/Berlin",
        "Persistent=true",
        "RandomizedDelaySec=30",
        "OnBootSec=0",
        r#"ExecStart="/bin/echo" "up""#,
        "# ==> byhand.service <==",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    assert!(!text.contains("byhand.timer"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("note: byhand: schedule `manual`: no timer"),
        "{err}"
    );
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("skipped (verify part): systemd-analyze not installed");
        return;
    }
    let dir = sb.path().join("units");
    let out = sb.slotcron(&["export", "systemd", "--out", dir.to_str().unwrap()]);
    assert!(out.status.success());
    let units: Vec<String> = [
        "nightly.service",
        "nightly.timer",
        "boot.service",
        "boot.timer",
        "byhand.service",
    ]
    .iter()
    .map(|u| dir.join(u).display().to_string())
    .collect();
    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&units)
        .output()
        .unwrap();
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// `path` in a YAML document, as a JSON value.
fn at<'a>(doc: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(doc, |v, key| match key.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[key],
        })
}

#[test]
fn cronjobs_have_the_schemas_required_fields_and_the_jobs_values() {
    let sb = Sandbox::new("");
    sb.job(
        "Nightly_Backup.yaml",
        "command: tar -czf /b.tgz /srv\nschedule: \"@daily\"\ntimezone: Europe/Berlin\n\
         concurrency: replace\nretries: 3\nenv: { A: \"1\" }\nworking_dir: /srv\n\
         limits: { memory: 1536M, cpu: 0.25, timeout: 1h }\n",
    )
    .job(
        "argv.yaml",
        "command: [/bin/echo, hi]\nschedule: \"*/5 * * * *\"\nenabled: false\ncatch_up: once\n",
    )
    .job("boot.yaml", "command: x\nschedule: \"@reboot\"\n");
    let out = sb.slotcron(&["export", "kubernetes", "--image", "alpine:3.20"]);
    assert_eq!(out.status.code(), Some(1), "@reboot is refused");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("not exported: boot: `@reboot` has no CronJob form")
    );
    let docs: Vec<Value> = serde_saphyr::from_multiple(&stdout(&out)).unwrap();
    assert_eq!(docs.len(), 2);
    for doc in &docs {
        assert_eq!(at(doc, "apiVersion"), "batch/v1");
        assert_eq!(at(doc, "kind"), "CronJob");
        let name = at(doc, "metadata.name").as_str().unwrap();
        assert!(
            name.len() <= 52
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        assert!(at(doc, "spec.schedule").is_string());
        let pod = at(doc, "spec.jobTemplate.spec.template.spec");
        assert_eq!(at(pod, "restartPolicy"), "Never");
        assert_eq!(at(pod, "containers.0.name"), name);
        assert_eq!(at(pod, "containers.0.image"), "alpine:3.20");
    }
    let (backup, argv) = (&docs[0], &docs[1]);
    assert_eq!(at(backup, "metadata.name"), "nightly-backup");
    assert_eq!(at(backup, "spec.schedule"), "0 0 * * *");
    assert_eq!(at(backup, "spec.timeZone"), "Europe/Berlin");
    assert_eq!(at(backup, "spec.concurrencyPolicy"), "Replace");
    assert_eq!(at(backup, "spec.startingDeadlineSeconds"), 60);
    assert_eq!(at(backup, "spec.jobTemplate.spec.backoffLimit"), 3);
    assert_eq!(
        at(backup, "spec.jobTemplate.spec.activeDeadlineSeconds"),
        3600
    );
    let container = at(backup, "spec.jobTemplate.spec.template.spec.containers.0");
    assert_eq!(
        at(container, "command"),
        &serde_json::json!(["/bin/sh", "-c"])
    );
    assert_eq!(
        at(container, "args"),
        &serde_json::json!(["tar -czf /b.tgz /srv"])
    );
    assert_eq!(at(container, "resources.limits.memory"), "1536Mi");
    assert_eq!(at(container, "resources.limits.cpu"), "250m");
    assert_eq!(at(container, "workingDir"), "/srv");
    assert!(
        at(container, "env")
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"name": "A", "value": "1"}))
    );
    assert_eq!(at(argv, "spec.suspend"), true);
    assert!(at(argv, "spec.startingDeadlineSeconds").is_null());
    assert_eq!(
        at(
            argv,
            "spec.jobTemplate.spec.template.spec.containers.0.command"
        ),
        &serde_json::json!(["/bin/echo", "hi"])
    );
    // --out: one file per CronJob.
    let dir = sb.path().join("k8s");
    sb.slotcron(&[
        "export",
        "kubernetes",
        "argv",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(Path::new(&dir.join("argv.yaml")).exists());
}

/// A block device of this machine, by number (`7:0`), if it has one.
fn a_block_device() -> Option<String> {
    let mut numbers: Vec<String> = std::fs::read_dir("/sys/dev/block")
        .ok()?
        .filter_map(|e| Some(e.ok()?.file_name().to_str()?.to_owned()))
        .collect();
    numbers.sort();
    numbers.into_iter().next()
}

#[test]
fn io_becomes_systemds_io_settings_and_kubernetes_says_it_has_none() {
    let Some(device) = a_block_device() else {
        println!("skipped: this machine has no block device for an io.max entry to name");
        return;
    };
    let sb = Sandbox::new("");
    sb.job(
        "dd.yaml",
        &format!(
            "command: dd if=/dev/zero of=/tmp/x bs=1M count=10\nschedule: \"@daily\"\n\
             io: {{ weight: 300, max: [{{ device: \"{device}\", wbps: 2M, riops: 100 }}] }}\n"
        ),
    );
    let out = sb.slotcron(&["export", "systemd"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    for line in [
        "IOWeight=300".to_owned(),
        format!("IOWriteBandwidthMax=/dev/block/{device} 2097152"),
        format!("IOReadIOPSMax=/dev/block/{device} 100"),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    assert!(!text.contains("IOReadBandwidthMax"), "{text}");
    let out = sb.slotcron(&["export", "kubernetes"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("note: dd: io (weight, per-device caps): not carried over"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
