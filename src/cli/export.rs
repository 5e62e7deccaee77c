//! `slotcron export systemd|kubernetes [JOB...] [--out DIR] [--image IMAGE]`: prints the
//! units or CronJobs (several Kubernetes documents separated by `---`), or writes one file
//! each into `--out`. Notes and refusals go to stderr, per job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::config::Job;
use crate::export::{self, DEFAULT_IMAGE, ExportError, Exported};

use super::context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// A .service and a .timer per job.
    Systemd,
    /// A batch/v1 CronJob per job.
    Kubernetes,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    pub target: Target,
    /// Jobs to export (default: every job that loads).
    pub jobs: Vec<String>,
    /// Write one file each into this folder instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Container image of the CronJobs.
    #[arg(long, default_value = DEFAULT_IMAGE)]
    pub image: String,
}

pub fn export(config: Option<&Path>, args: &ExportArgs) -> Result<ExitCode> {
    let loaded = context::load(config)?;
    let jobs: Vec<&Job> = if args.jobs.is_empty() {
        loaded.catalog.jobs.values().map(AsRef::as_ref).collect()
    } else {
        args.jobs
            .iter()
            .map(|name| match loaded.catalog.jobs.get(name) {
                Some(job) => Ok(job.as_ref()),
                None => bail!("no job named `{name}` that loads (see `slotcron check`)"),
            })
            .collect::<Result<_>>()?
    };
    let mut exported: Vec<Exported> = Vec::new();
    let mut refused: Vec<ExportError> = Vec::new();
    let mut file_owner: BTreeMap<String, String> = BTreeMap::new();
    for job in jobs {
        let result = match args.target {
            Target::Systemd => export::systemd::export(job, &loaded.settings.slots[&job.slot]),
            Target::Kubernetes => export::kubernetes::export(job, &args.image),
        };
        match result {
            Ok(e) => {
                let clash = e
                    .files
                    .iter()
                    .find_map(|f| file_owner.get(&f.name).map(|owner| (f.name.clone(), owner)));
                if let Some((file, owner)) = clash {
                    refused.push(ExportError {
                        job: job.name.clone(),
                        reason: format!("`{file}` is already job `{owner}`'s name"),
                    });
                    continue;
                }
                for f in &e.files {
                    file_owner.insert(f.name.clone(), job.name.clone());
                }
                exported.push(e);
            }
            Err(e) => refused.push(e),
        }
    }
    for e in &exported {
        for note in &e.notes {
            eprintln!("note: {}: {note}", e.job);
        }
    }
    for e in &refused {
        eprintln!("not exported: {e}");
    }
    match &args.out {
        Some(dir) => write(dir, &exported)?,
        None => print(args.target, &exported),
    }
    Ok(if refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print(target: Target, exported: &[Exported]) {
    let files = exported.iter().flat_map(|e| &e.files);
    for (i, file) in files.enumerate() {
        match target {
            Target::Kubernetes => {
                if i > 0 {
                    println!("---");
                }
                print!("{}", file.text);
            }
            Target::Systemd => {
                if i > 0 {
                    println!();
                }
                println!("# ==> {} <==", file.name);
                print!("{}", file.text);
            }
        }
    }
}

fn write(dir: &Path, exported: &[Exported]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for file in exported.iter().flat_map(|e| &e.files) {
        let path = dir.join(&file.name);
        std::fs::write(&path, &file.text).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
