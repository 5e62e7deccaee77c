//! `slotcron generate man DIR` and `slotcron generate completions SHELL`: the manual pages
//! and shell completions, made from the same clap definition that parses the command line,
//! so they can never describe options the binary does not have. Hidden from `--help`: it
//! is a packaging step (`packaging/deb/build`), as ripgrep's `rg --generate` is.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Subcommand};
use clap_complete::Shell;

use super::Cli;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    pub what: Generated,
}

#[derive(Debug, Subcommand)]
pub enum Generated {
    /// Write slotcron.1 and one page per subcommand (slotcron-run.1 ...) into DIR.
    Man {
        /// The folder to write the pages to (created if absent).
        dir: PathBuf,
    },
    /// Print the completion script for SHELL on stdout.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: Shell,
    },
}

pub fn generate(args: &GenerateArgs) -> Result<ExitCode> {
    match &args.what {
        Generated::Man { dir } => write_man_pages(dir)?,
        Generated::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut public_command(),
                "slotcron",
                &mut std::io::stdout(),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The command line without its hidden subcommands: clap_complete would offer them
/// (`slotcron gen<TAB>`), which clap_mangen already leaves out.
fn public_command() -> clap::Command {
    let full = Cli::command();
    let visible: Vec<clap::Command> = full
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .cloned()
        .collect();
    let mut public = clap::Command::new("slotcron")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .args(full.get_arguments().cloned())
        .subcommands(visible);
    if let Some(about) = full.get_about() {
        public = public.about(about.clone());
    }
    public
}

/// Writes `slotcron.1` and `slotcron-<subcommand>.1` for every visible subcommand.
///
/// # Errors
/// `dir` cannot be created or a page cannot be written; the error names the folder.
pub fn write_man_pages(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .with_context(|| format!("writing manual pages to {}", dir.display()))
}
