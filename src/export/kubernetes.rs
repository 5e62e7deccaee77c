//! `slotcron export kubernetes`: one `batch/v1` `CronJob` per job. The schedule goes over
//! as a 5-field expression written from the values each field matches, so that
//! Kubernetes' cron library (robfig/cron v3) fires on the same instants. That library has
//! its own day rule: it ANDs the day fields only when one is written `*` or `?` (a step,
//! `*/2`, clears its "star" bit) and ORs them otherwise; cron ANDs whenever one *starts*
//! with `*`. So an AND is written with the unrestricted field as `*`, an OR with both
//! fields as explicit values, and an AND of two restricted fields (`0 0 */2 * 1`), which
//! that library cannot say, is refused, as are `@reboot`, `manual`, `@every` and seconds.

use serde_json::{Value, json};

use super::{ExportError, Exported, File};
use crate::config::{CatchUp, Command, Concurrency, FieldKind, FieldSet, Job, Schedule};

/// Longest CronJob name: its Jobs get an 11-character suffix within DNS-1123's 63.
pub const MAX_NAME: usize = 52;

/// The default container image.
pub const DEFAULT_IMAGE: &str = "debian:stable-slim";

/// A job name as a DNS-1123 label: lower case, `[a-z0-9-]`, alphanumeric at both ends.
///
/// ```
/// use slotcron::export::dns_name;
/// assert_eq!(dns_name("cron_Backup.daily"), "cron-backup-daily");
/// ```
pub fn dns_name(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    let short: String = mapped.chars().take(MAX_NAME).collect();
    short.trim_matches('-').to_owned()
}

/// The CronJob of one job.
///
/// # Errors
/// The schedule has no CronJob form, or the name has no DNS-1123 form.
pub fn export(job: &Job, image: &str) -> Result<Exported, ExportError> {
    let fail = |reason: String| ExportError {
        job: job.name.clone(),
        reason,
    };
    let schedule = schedule(job).map_err(fail)?;
    let name = dns_name(&job.name);
    if name.is_empty() {
        return Err(fail(format!("`{}` has no DNS-1123 form", job.name)));
    }
    let mut notes = Vec::new();
    if name != job.name {
        notes.push(format!("named `{name}` (DNS-1123)"));
    }
    let container = container(job, &name, image, &mut notes);
    let spec = cron_spec(job, schedule, container, &mut notes);
    not_carried_over(job, &mut notes);
    let doc = json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": name,
            "labels": { "app.kubernetes.io/managed-by": "slotcron-export" },
            "annotations": { "slotcron/job": job.name },
        },
        "spec": spec,
    });
    let text = serde_saphyr::to_string(&doc).expect("a JSON value always serializes");
    Ok(Exported {
        job: job.name.clone(),
        files: vec![File {
            name: format!("{name}.yaml"),
            text,
        }],
        notes,
    })
}

/// The CronJob's one container: the command, its environment, limits and folder.
fn container(job: &Job, name: &str, image: &str, notes: &mut Vec<String>) -> Value {
    let (command, args) = match &job.command {
        Command::Shell(script) => (json!(["/bin/sh", "-c"]), json!([script])),
        Command::Argv(argv) => (json!(argv), Value::Null),
    };
    let mut env: Vec<Value> = vec![json!({"name": "SLOTCRON_JOB", "value": job.name})];
    if let Some(tz) = &job.timezone {
        env.push(json!({"name": "TZ", "value": tz.name()}));
    }
    env.extend(job.env.iter().map(|(k, v)| json!({"name": k, "value": v})));
    if let Some(file) = &job.env_file {
        notes.push(format!(
            "env_file {} not exported: put its variables in a Secret and add `envFrom`",
            file.display()
        ));
    }
    let mut limits = serde_json::Map::new();
    if let Some(memory) = job.limits.memory {
        limits.insert("memory".into(), json!(memory_quantity(memory.bytes())));
    }
    if let Some(cpu) = job.limits.cpu {
        limits.insert("cpu".into(), json!(cpu_quantity(cpu)));
    }
    let mut container = json!({
        "name": name,
        "image": image,
        "command": command,
        "env": env,
    });
    if !args.is_null() {
        container["args"] = args;
    }
    if !limits.is_empty() {
        container["resources"] = json!({ "limits": limits });
    }
    if let Some(dir) = &job.working_dir {
        container["workingDir"] = json!(dir.display().to_string());
    }
    container
}

/// The CronJob's `spec`: schedule, concurrency, suspension, deadlines and the pod's job.
fn cron_spec(job: &Job, schedule: String, container: Value, notes: &mut Vec<String>) -> Value {
    let mut job_spec = json!({
        "backoffLimit": job.retries,
        "template": { "spec": { "restartPolicy": "Never", "containers": [container] } },
    });
    if let Some(timeout) = job.limits.timeout {
        job_spec["activeDeadlineSeconds"] = json!(timeout.as_secs().max(1));
    }
    let mut spec = json!({
        "schedule": schedule,
        "concurrencyPolicy": match job.concurrency {
            Concurrency::Forbid => "Forbid",
            Concurrency::Allow => "Allow",
            Concurrency::Replace => "Replace",
        },
        "suspend": !job.enabled,
        "jobTemplate": { "spec": job_spec },
    });
    if let Some(tz) = &job.timezone {
        spec["timeZone"] = json!(tz.name());
    } else {
        notes.push("no timezone: the schedule is read in the controller's zone (UTC)".into());
    }
    if job.catch_up == CatchUp::None {
        // A run that cannot start within a minute of its time is skipped, as slotcron
        // skips missed runs; with `catch_up: once` Kubernetes starts one missed run.
        spec["startingDeadlineSeconds"] = json!(60);
    }
    spec
}

/// A note for each field a CronJob cannot carry.
fn not_carried_over(job: &Job, notes: &mut Vec<String>) {
    if job.user.is_some() || job.group.is_some() {
        notes.push("user/group: not carried over; set securityContext.runAsUser".into());
    }
    if job.jitter.is_some() {
        notes.push("jitter: not carried over (CronJobs have no random delay)".into());
    }
    if job.io.is_some() {
        notes.push(
            "io (weight, per-device caps): not carried over (a container has no block-io \
             limits in Kubernetes)"
                .into(),
        );
    }
    if job.limits.pids.is_some() {
        notes.push("limits.pids: not carried over (a node-level setting)".into());
    }
}

/// The schedule in the syntax Kubernetes accepts, with the same fire times.
fn schedule(job: &Job) -> Result<String, String> {
    let text = job.schedule_text.trim();
    let expr = match &job.schedule {
        Schedule::Reboot => return Err("`@reboot` has no CronJob form".into()),
        Schedule::Manual => return Err("`manual` has no CronJob form (create a Job)".into()),
        Schedule::Every(_) => return Err(format!("`{text}` (an interval) has no CronJob form")),
        Schedule::Cron(expr) => expr,
    };
    if expr.field(FieldKind::Second).bits != 1 {
        return Err(format!("`{text}`: a CronJob schedule has no seconds field"));
    }
    let days = expr.field(FieldKind::DayOfMonth);
    let weekdays = expr.field(FieldKind::DayOfWeek);
    let (full_days, full_weekdays) = (
        is_full(days, FieldKind::DayOfMonth),
        is_full(weekdays, FieldKind::DayOfWeek),
    );
    let (dom, dow) = if !expr.and_days() && (full_days || full_weekdays) {
        // OR with a field that matches every day: every day.
        ("*".to_owned(), "*".to_owned())
    } else if !expr.and_days() {
        // OR: neither may carry the library's star bit, so never `*`.
        (
            values(days, FieldKind::DayOfMonth),
            values(weekdays, FieldKind::DayOfWeek),
        )
    } else if full_days {
        ("*".to_owned(), field(weekdays, FieldKind::DayOfWeek))
    } else if full_weekdays {
        (values(days, FieldKind::DayOfMonth), "*".to_owned())
    } else {
        return Err(format!(
            "`{text}`: cron ANDs its day-of-month and day-of-week fields (one starts with `*`), \
             and Kubernetes' cron library ANDs them only when one is exactly `*`: no CronJob \
             schedule fires on the same days"
        ));
    };
    Ok([
        field(expr.field(FieldKind::Minute), FieldKind::Minute),
        field(expr.field(FieldKind::Hour), FieldKind::Hour),
        dom,
        field(expr.field(FieldKind::Month), FieldKind::Month),
        dow,
    ]
    .join(" "))
}

/// The bounds of a field as Kubernetes' library has them (day of week 0-6).
fn bounds(kind: FieldKind) -> (u8, u8) {
    match kind {
        FieldKind::DayOfWeek => (0, 6),
        kind => kind.bounds(),
    }
}

fn is_full(set: FieldSet, kind: FieldKind) -> bool {
    let (low, high) = bounds(kind);
    (low..=high).all(|v| set.has(v))
}

/// `*` for a field that matches every value, else its values.
fn field(set: FieldSet, kind: FieldKind) -> String {
    if is_full(set, kind) {
        "*".to_owned()
    } else {
        values(set, kind)
    }
}

/// The values as a list of `a`, `a-b` and `a-b/step` (never `*`).
fn values(set: FieldSet, kind: FieldKind) -> String {
    let (_, high) = bounds(kind);
    let values: Vec<u8> = set.values().filter(|v| *v <= high).collect();
    if let [first, second, third, ..] = values[..] {
        let step = second - first;
        let last = *values.last().expect("three values");
        let progression: Vec<u8> = (first..=last).step_by(usize::from(step)).collect();
        if step > 1 && third - second == step && progression == values {
            return format!("{first}-{last}/{step}");
        }
    }
    let mut runs: Vec<(u8, u8)> = Vec::new();
    for v in values {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == v => *end = v,
            _ => runs.push((v, v)),
        }
    }
    runs.iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Bytes as a Kubernetes quantity: `Gi` or `Mi` where exact, else `Ki`, else bytes.
fn memory_quantity(bytes: u64) -> String {
    for (unit, size) in [("Gi", 1u64 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    bytes.to_string()
}

/// Cores as a Kubernetes quantity: whole cores as a number, else millicores.
fn cpu_quantity(cores: f64) -> String {
    let milli = (cores * 1000.0).round() as u64;
    if milli.is_multiple_of(1000) {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_and_names() {
        assert_eq!(memory_quantity(512 << 20), "512Mi");
        assert_eq!(memory_quantity(2 << 30), "2Gi");
        assert_eq!(memory_quantity(1536 << 20), "1536Mi");
        assert_eq!(memory_quantity(1000), "1000");
        assert_eq!(cpu_quantity(0.5), "500m");
        assert_eq!(cpu_quantity(2.0), "2");
        assert_eq!(dns_name(&"x".repeat(60)).len(), MAX_NAME);
        assert_eq!(dns_name("_a_"), "a");
    }

    fn schedule_of(text: &str) -> Result<String, String> {
        let job = crate::config::parse_job(
            std::path::Path::new("/jobs.d/j.yaml"),
            &format!("command: x\nschedule: '{text}'\n"),
            &crate::config::Settings::builtin(),
        )
        .unwrap();
        schedule(&job)
    }

    #[test]
    fn schedules_are_written_for_kubernetes_day_rule() {
        for (cron, k8s) in [
            ("*/15 9-17 * * mon-fri", "0-45/15 9-17 * * 1-5"),
            ("0 0 13 * 5", "0 0 13 * 5"),
            ("0 0 1-31 * 1", "0 0 * * *"),
            ("0 0 1-15 * 1", "0 0 1-15 * 1"),
            ("@daily", "0 0 * * *"),
            ("0 0 */2 * *", "0 0 1-31/2 * *"),
            ("0 0 * * 7", "0 0 * * 0"),
            ("0 0 * * */2", "0 0 * * 0-6/2"),
            ("0 0 */1 * 1", "0 0 * * 1"),
            ("@monthly", "0 0 1 * *"),
            ("@weekly", "0 0 * * 0"),
            ("0 0 12 * * *", "0 12 * * *"),
        ] {
            assert_eq!(schedule_of(cron).as_deref(), Ok(k8s), "{cron}");
        }
        for refused in [
            "0 0 */2 * 1",
            "0 0 1 * */2",
            "*/5 * * * * *",
            "@every 5m",
            "@reboot",
        ] {
            assert!(schedule_of(refused).is_err(), "{refused}");
        }
    }
}
