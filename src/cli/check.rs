//! `slotcron check`: every problem in the configuration and the job files, or a one-line
//! summary.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::config::{self, EnforcementMode};
use crate::runner::{CgroupEnv, Enforcer};

pub fn check(config_path: Option<&Path>) -> Result<ExitCode> {
    let loaded = match config::load(config_path) {
        Ok(loaded) => loaded,
        Err(problems) => {
            for problem in &problems.0 {
                println!("{problem}");
            }
            println!("{} problem(s) in the configuration", problems.0.len());
            return Ok(ExitCode::FAILURE);
        }
    };
    let settings = &loaded.settings;
    let mut problems: Vec<String> = loaded
        .catalog
        .problems
        .iter()
        .map(ToString::to_string)
        .collect();
    let enforcement = match Enforcer::probe(settings, &CgroupEnv::kernel()) {
        Ok(root) => format!("cgroup v2 at {}", root.display()),
        Err(reason) if settings.enforcement == EnforcementMode::Required => {
            problems.push(format!(
                "enforcement is `required` but cgroup v2 is unusable: {reason}"
            ));
            "unavailable".to_owned()
        }
        Err(_) if settings.enforcement == EnforcementMode::Off => "off".to_owned(),
        Err(reason) => format!("none (jobs would run without limits: {reason})"),
    };
    for problem in &problems {
        println!("{problem}");
    }
    let jobs = loaded.catalog.jobs.len();
    if problems.is_empty() {
        println!(
            "ok: {jobs} job(s) in {}, {} slot(s), config: {}, enforcement: {enforcement}",
            settings.jobs_dir.display(),
            settings.slots.len(),
            config::describe_source(settings),
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{} problem(s); {jobs} job(s) loaded", problems.len());
        Ok(ExitCode::FAILURE)
    }
}
