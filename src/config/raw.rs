//! serde structs that mirror the YAML exactly (`deny_unknown_fields`, everything optional
//! that has a default). They are never used past loading: `TryFrom`-style conversions in
//! [`super::settings`] and [`super::job`] turn them into validated domain types.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::units::Scalar;

/// `slotcron.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub jobs_dir: Option<String>,
    pub state_dir: Option<String>,
    pub enforcement: Option<String>,
    pub cgroup: Option<RawCgroup>,
    pub slots: Option<BTreeMap<String, RawSlot>>,
    pub kill_grace: Option<Scalar>,
    pub log_max: Option<Scalar>,
    pub protect: Option<RawProtect>,
    pub retention: Option<RawRetention>,
    pub retention_mode: Option<String>,
    pub alerting: Option<RawAlerting>,
    pub notifications: Option<Vec<RawNotification>>,
    pub metrics: Option<RawMetrics>,
    pub api: Option<RawApi>,
    pub baseline_runs: Option<Scalar>,
    /// Accepted only to be refused with a message that says what replaced it.
    pub degraded_factor: Option<Scalar>,
    pub discover: Option<RawDiscover>,
}

/// `discover:` in `slotcron.yaml`: where `slotcron discover` looks without arguments.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiscover {
    /// Folders (or glob patterns such as `services/*/cron/`).
    pub paths: Option<Vec<String>>,
}

/// `alerting:` in `slotcron.yaml`: machine-wide alert thresholds (per-job ones are in the
/// job file's `alerts:`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerting {
    pub anomaly_z: Option<Scalar>,
    pub slower: Option<RawEffect>,
    pub bigger: Option<RawEffect>,
    pub faster: Option<RawEffect>,
    pub smaller: Option<RawEffect>,
    pub flap_window: Option<Scalar>,
    pub queue_wait_threshold: Option<Scalar>,
    pub overdue_grace: Option<Scalar>,
}

/// `slower:`, `bigger:`, `faster:` or `smaller:` in `alerting:` or a job's `alerts:`: what
/// counts as a material change in that direction.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEffect {
    /// A percentage of the baseline median (`50%`).
    pub by: Option<Scalar>,
    /// A duration (`slower`, `faster`) or a size (`bigger`, `smaller`).
    pub at_least: Option<Scalar>,
}

/// One entry of `notifications:`. One struct for every `type`, so a field that belongs to
/// another type is reported by name rather than as a shapeless serde error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotification {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub min_severity: Option<String>,
    pub timeout: Option<Scalar>,
    pub retries: Option<Scalar>,
    /// `type: webhook`.
    pub url: Option<String>,
    pub headers: Option<BTreeMap<String, Scalar>>,
    /// `type: email`.
    pub smtp: Option<RawSmtp>,
    pub from: Option<String>,
    pub to: Option<Vec<String>>,
    /// `type: command`.
    pub command: Option<Vec<String>>,
}

/// `smtp:` of an e-mail notification.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub host: Option<String>,
    pub port: Option<Scalar>,
    pub starttls: Option<String>,
    pub username: Option<String>,
    pub password_env: Option<String>,
    /// Accepted only to be refused with a message that says where the password goes.
    pub password: Option<Scalar>,
}

/// `metrics:` in `slotcron.yaml`: the Prometheus endpoint.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetrics {
    /// `host:port`, or `off`.
    pub listen: Option<String>,
}

/// `api:` in `slotcron.yaml`: the HTTP API served beside `/metrics`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    /// Whether reads (GET) are open without the token on a non-loopback address.
    pub public_read: Option<bool>,
}

/// `protect:` in `slotcron.yaml`: what the scheduler keeps free for the rest of the machine.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProtect {
    pub reserve_memory: Option<Scalar>,
    pub max_memory_pressure: Option<Scalar>,
    /// The pressure response for running jobs.
    pub response: Option<RawResponse>,
}

/// `protect.response:`: the signals that act on running jobs, and how often they are read.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResponse {
    pub period: Option<Scalar>,
    pub some_avg10: Option<RawBand>,
    pub full_avg10: Option<RawBand>,
    pub mem_available: Option<RawBand>,
    pub slot_some_avg10: Option<RawBand>,
    pub slot_full_avg10: Option<RawBand>,
}

/// A threshold with hysteresis: `{ act: 40, clear: 10 }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBand {
    pub act: Option<Scalar>,
    pub clear: Option<Scalar>,
}

/// `cgroup:` in `slotcron.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCgroup {
    pub root: Option<String>,
    pub memory_max: Option<Scalar>,
}

/// One entry of `slots:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlot {
    pub max_concurrent: Option<Scalar>,
    pub memory_max: Option<Scalar>,
    pub memory_high: Option<Scalar>,
    pub cpu_max_percent: Option<Scalar>,
    pub pids_max: Option<Scalar>,
    pub swap_max: Option<Scalar>,
    pub queue_limit: Option<Scalar>,
    pub io: Option<RawIo>,
}

/// A job file in `jobs_dir`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    pub name: Option<String>,
    pub description: Option<String>,
    pub command: RawCommand,
    pub schedule: Option<String>,
    pub timezone: Option<String>,
    pub slot: Option<String>,
    pub priority: Option<String>,
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub enabled: Option<bool>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub working_dir: Option<Scalar>,
    #[serde(default)]
    pub env: BTreeMap<String, Scalar>,
    pub env_file: Option<String>,
    #[serde(default)]
    pub limits: RawLimits,
    pub io: Option<RawIo>,
    #[serde(default)]
    pub weights: RawWeights,
    pub retries: Option<Scalar>,
    pub retry_delay: Option<Scalar>,
    pub concurrency: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub blocks: Vec<String>,
    #[serde(default)]
    pub after: Vec<String>,
    pub jitter: Option<Scalar>,
    pub catch_up: Option<String>,
    pub breaker: Option<RawBreaker>,
    /// The pressure steps the job accepts: `[throttle, freeze, requeue]`, or `[]`.
    pub on_pressure: Option<Vec<String>>,
    #[serde(default)]
    pub alerts: RawAlerts,
}

/// `command:` is a shell string or an argv list.
#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "`command` must be a string (run by /bin/sh -c) or a list of strings (an argv); quote values YAML reads as other types"
)]
pub enum RawCommand {
    Shell(String),
    Argv(Vec<String>),
}

/// `limits:` of a job.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub memory: Option<Scalar>,
    pub cpu: Option<Scalar>,
    pub pids: Option<Scalar>,
    pub timeout: Option<Scalar>,
}

/// `weights:` of a job.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeights {
    pub cpu: Option<Scalar>,
    pub memory: Option<Scalar>,
}

/// `alerts:` of a job.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    pub max_duration: Option<Scalar>,
    pub max_memory: Option<Scalar>,
    pub consecutive_failures: Option<Scalar>,
    pub slower: Option<RawEffect>,
    pub bigger: Option<RawEffect>,
    pub faster: Option<RawEffect>,
    pub smaller: Option<RawEffect>,
    pub too_fast: Option<bool>,
    pub too_small: Option<bool>,
}

/// `breaker:` of a job.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    pub failures: Option<Scalar>,
    pub cooldown: Option<Scalar>,
}

/// `retention:` is a duration, or `off` (which YAML reads as the boolean `false`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawRetention {
    Switch(bool),
    Value(Scalar),
}

/// `io:` of a slot or a job.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIo {
    pub weight: Option<Scalar>,
    pub max: Option<Vec<RawIoMax>>,
}

/// One entry of `io.max`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIoMax {
    pub device: Option<Scalar>,
    pub rbps: Option<Scalar>,
    pub wbps: Option<Scalar>,
    pub riops: Option<Scalar>,
    pub wiops: Option<Scalar>,
}
