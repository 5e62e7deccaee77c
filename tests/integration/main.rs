//! Integration tests: the real `slotcron` binary against real SQLite and real processes in
//! temp dirs, and the runner in-process against the fake cgroupfs. One test binary, as in
//! pueue: `helper` holds the fixtures, each other module one area.

mod helper;

mod agreement;
mod alerting;
mod alerts;
mod api;
mod channels;
mod check;
mod contrib;
mod control;
mod cron_conformance;
mod cron_reference;
mod daemon;
mod discover;
mod export;
mod fake_cgroup;
mod http;
mod import;
mod jobs;
mod limits;
mod next;
mod packaging;
mod plan;
mod pressure;
mod promtool;
mod prune;
mod robfig;
mod run;
mod stats;
