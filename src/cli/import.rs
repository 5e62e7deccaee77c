//! `slotcron import-crontab [FILE|DIR|-]... [--system] [--write]`: crontabs into job files
//! (see [`crate::crontab`]). Prints the files it would write, or with `--write` writes
//! them into `jobs_dir`; every line it could not convert goes to stderr with its number.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::crontab::{self, Flavor, Imported, Names, Rejected, Written};

use super::context;

/// Where `--system` reads from when no FILE is given.
pub const DEFAULT_SYSTEM_CRONTABS: [&str; 2] = ["/etc/crontab", "/etc/cron.d"];

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Crontab files, folders (each file in them), or `-` for stdin
    /// (`crontab -l | slotcron import-crontab -`). With --system the default is
    /// /etc/crontab and /etc/cron.d.
    #[arg(value_name = "FILE|-")]
    pub files: Vec<PathBuf>,
    /// The system format (/etc/crontab, /etc/cron.d/*): a user field before the command.
    #[arg(long)]
    pub system: bool,
    /// Write `jobs_dir/cron_<name>.yaml` (never over a file edited since it was imported).
    #[arg(long)]
    pub write: bool,
}

pub fn import(config: Option<&Path>, args: &ImportArgs) -> Result<ExitCode> {
    let settings = context::load_settings(config)?;
    let flavor = if args.system {
        Flavor::System
    } else {
        Flavor::User
    };
    let files: Vec<PathBuf> = match (args.files.is_empty(), args.system) {
        (false, _) => args.files.clone(),
        (true, true) => DEFAULT_SYSTEM_CRONTABS.iter().map(PathBuf::from).collect(),
        (true, false) => bail!(
            "name a crontab file, or `-` for stdin (e.g. `crontab -l | slotcron import-crontab -`)"
        ),
    };
    let mut names = Names::default();
    let mut imported: Vec<Imported> = Vec::new();
    let mut rejected: Vec<Rejected> = Vec::new();
    for (label, text) in read_all(&files)? {
        let parsed = crontab::parse(&text, flavor);
        let (jobs, bad) =
            crontab::convert(&label, parsed, &mut names, &settings.jobs_dir, &settings);
        imported.extend(jobs);
        rejected.extend(bad);
    }
    for r in &rejected {
        eprintln!(
            "{}:{}: {}\n    {}",
            r.file,
            r.error.line,
            r.error.reason,
            r.error.text.trim()
        );
    }
    if args.write {
        write(&settings.jobs_dir, &imported, rejected.len())?;
    } else {
        for (i, job) in imported.iter().enumerate() {
            if i > 0 {
                println!("---");
            }
            println!("# ==> {} <==", job.file_name);
            print!("{}", job.text);
        }
        eprintln!(
            "{} job(s) to write (run again with --write); {} line(s) not converted",
            imported.len(),
            rejected.len()
        );
    }
    Ok(if rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `--write`: each job into `jobs_dir`, one line per file, then a summary.
fn write(jobs_dir: &Path, imported: &[Imported], rejected: usize) -> Result<()> {
    std::fs::create_dir_all(jobs_dir)
        .with_context(|| format!("creating jobs_dir {}", jobs_dir.display()))?;
    let (mut new, mut updated, mut unchanged, mut skipped) = (0, 0, 0, 0);
    for job in imported {
        let outcome = crontab::write_job(jobs_dir, job)?;
        let what = match &outcome {
            Written::New => {
                new += 1;
                "new".to_owned()
            }
            Written::Updated => {
                updated += 1;
                "updated".to_owned()
            }
            Written::Unchanged => {
                unchanged += 1;
                "unchanged".to_owned()
            }
            Written::Skipped(why) => {
                skipped += 1;
                format!("skipped: {why}")
            }
        };
        println!("{:<24} from {}: {what}", job.file_name, job.source);
    }
    println!(
        "{new} new, {updated} updated, {unchanged} unchanged, {skipped} skipped in {}; \
         {rejected} line(s) not converted",
        jobs_dir.display()
    );
    Ok(())
}

/// Each crontab's label and text: files as named, folders file by file (sorted; hidden
/// files and package-manager leftovers skipped, as cron skips them), `-` as stdin.
fn read_all(paths: &[PathBuf]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the crontab from stdin")?;
            out.push(("<stdin>".to_owned(), text));
        } else if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("reading {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && !ignored(p))
                .collect();
            files.sort();
            for file in files {
                out.push(read(&file)?);
            }
        } else {
            out.push(read(path)?);
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<(String, String)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok((path.display().to_string(), text))
}

/// Names cron does not read in `/etc/cron.d`.
fn ignored(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(".");
    name.starts_with('.')
        || name.ends_with('~')
        || [
            ".dpkg-old",
            ".dpkg-dist",
            ".dpkg-new",
            ".rpmsave",
            ".rpmnew",
        ]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}
