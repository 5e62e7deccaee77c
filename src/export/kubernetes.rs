//! `slotcron export kubernetes`: one `batch/v1` `CronJob` per job. The schedule goes over
//! as a 5-field expression (Kubernetes reads cron with the same day-field rule as croner
//! without `+`); `@reboot`, `manual`, `@every`, seconds fields and croner's extensions are
//! refused with the reason.

use serde_json::{Value, json};

use super::oncalendar::expand_nickname;
use super::{ExportError, Exported, File};
use crate::config::{CatchUp, Command, Concurrency, Job, Schedule};
use crate::crontab::{FieldKind, parse_field};

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
    let (command, args) = match &job.command {
        Command::Shell(script) => (json!(["/bin/sh", "-c"]), json!([script])),
        Command::Argv(argv) => (json!(argv), Value::Null),
    };
    let mut env: Vec<Value> = vec![json!({"name": "SLOTCRON_JOB", "value": job.name})];
    if let Some(tz) = job.timezone {
        env.push(json!({"name": "TZ", "value": tz.name()}));
    }
    env.extend(job.env.iter().map(|(k, v)| json!({"name": k, "value": v})));
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
    if let Some(tz) = job.timezone {
        spec["timeZone"] = json!(tz.name());
    } else {
        notes.push("no timezone: the schedule is read in the controller's zone (UTC)".into());
    }
    if job.catch_up == CatchUp::None {
        // A run that cannot start within a minute of its time is skipped, as slotcron
        // skips missed runs; with `catch_up: once` Kubernetes starts one missed run.
        spec["startingDeadlineSeconds"] = json!(60);
    }
    if job.user.is_some() || job.group.is_some() {
        notes.push("user/group: not carried over; set securityContext.runAsUser".into());
    }
    if job.jitter.is_some() {
        notes.push("jitter: not carried over (CronJobs have no random delay)".into());
    }
    if job.limits.pids.is_some() {
        notes.push("limits.pids: not carried over (a node-level setting)".into());
    }
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

/// The schedule in the syntax Kubernetes accepts.
fn schedule(job: &Job) -> Result<String, String> {
    let text = job.schedule_text.trim();
    match &job.schedule {
        Schedule::Reboot => return Err("`@reboot` has no CronJob form".into()),
        Schedule::Manual => return Err("`manual` has no CronJob form (create a Job)".into()),
        Schedule::Every(_) => return Err(format!("`{text}` (an interval) has no CronJob form")),
        Schedule::Cron(_) => {}
    }
    let words: Vec<&str> = expand_nickname(text).split_whitespace().collect();
    if words.len() != 5 {
        return Err(format!(
            "`{text}`: a CronJob schedule has 5 fields (no seconds)"
        ));
    }
    if words[4].starts_with('+') {
        return Err(format!(
            "`{text}`: Kubernetes cannot AND day of month and day of week (`+`)"
        ));
    }
    for (word, kind) in words.iter().zip(FieldKind::ALL) {
        parse_field(word, kind).map_err(|why| format!("`{text}`: {why}"))?;
    }
    Ok(words.join(" "))
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
}
