//! slotcron: a job runner for one Linux machine in which the kernel, through cgroup v2
//! execution slots, keeps background jobs from taking the machine away from its users.
//!
//! The crate is a library with a thin binary on top (`src/main.rs`). Each module owns one
//! concern, and modules sit in layers: one imports only its own layer and those below it
//! (ADR 0033, enforced by `layers_tests`):
//! - [`model`]: the vocabulary shared by every other module (run status, alert kinds, health
//!   words, evidence); it imports nothing of the crate.
//! - [`clock`]: the one source of wall-clock time, passed in (a fake one for tests); it
//!   imports nothing of the crate either.
//! - [`config`]: `slotcron.yaml` and the job files, validated into domain types.
//! - [`cgroup`]: the cgroup v2 seam: slot tree, per-run cgroups, kernel file parsers, a fake.
//! - [`runner`]: one run's life, from history row to cgroup to process to kernel figures.
//! - [`store`]: the run history in SQLite (jobs as loaded, every run and how it ended).
//! - [`retention`]: pruning runs and their logs past `retention`.
//! - [`baseline`]: the arithmetic of a job's normal run and of judging a figure against it.
//! - [`stats`]: the figures and health of each job, from its history and its definition.
//! - [`scheduler`]: the scheduler's decisions without I/O: admission, timeline, policies.
//! - [`daemon`]: the long-running service: event loop, reload, crash recovery, systemd.
//! - [`descriptors`]: the daemon's descriptor limit, raised, and its budget for runs first.
//! - [`gate`]: admission of connections within a budget, evicting the longest-idle.
//! - [`control`]: how the daemon is asked: the Unix-socket protocol, server and client, and
//!   the handle, outcomes and live events the HTTP server shares with the daemon.
//! - [`plan`]: the forecast: the next hours played through the scheduler's own rules on a
//!   virtual clock, each run lasting what its baseline says.
//! - [`followup`]: what history does with a finished run (alerts, baseline), for every run.
//! - [`alerts`]: rules that turn finished runs into alerts, and the alerts' lifecycle.
//! - [`discover`]: finds scripts in folders and proposes a disabled job file for each.
//! - [`crontab`]: `import-crontab`: crontab lines read as cron reads them, into job files.
//! - [`export`]: jobs as systemd units or Kubernetes CronJobs.
//! - [`jobfiles`]: generated job files into `jobs_dir`: atomic, never outside it.
//! - [`cli`]: one function per subcommand of the `slotcron` binary.
//! - [`channels`]: alert notifications: webhook, e-mail, command; queued, retried, off the
//!   scheduler's path.
//! - [`metrics`]: the figures of `GET /metrics` and their OpenMetrics encoding.
//! - [`http`]: the daemon's HTTP server: `/metrics`, the JSON API and the dashboard.
//! - [`views`]: what the CLI and the API show of a job, shared.
//! - [`owner_only`]: folders 0700 and files 0600 under `state_dir`, whatever the umask.
//! - [`printable`]: text from files made safe to print: control characters escaped, excerpts.

pub mod alerts;
pub mod baseline;
pub mod cgroup;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod crontab;
pub mod daemon;
pub mod descriptors;
pub mod discover;
pub mod export;
pub mod followup;
pub mod gate;
pub mod http;
pub mod jobfiles;
pub mod metrics;
pub mod model;
pub mod owner_only;
pub mod plan;
pub mod printable;
pub mod retention;
pub mod runner;
pub mod scheduler;
pub mod stats;
pub mod store;
pub mod views;

#[cfg(test)]
mod layers_tests;
