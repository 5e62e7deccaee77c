//! Integration tests: the real `slotcron` binary against real SQLite and real processes in
//! temp dirs, and the runner in-process against the fake cgroupfs. One test binary, as in
//! pueue: `helper` holds the fixtures, each other module one area.

mod helper;

mod alerts;
mod api;
mod channels;
mod check;
mod contrib;
mod control;
mod daemon;
mod fake_cgroup;
mod http;
mod jobs;
mod next;
mod promtool;
mod prune;
mod run;
mod stats;
