//! `slotcron discover`: finds scripts in folders and proposes a job file for each.
//!
//! [`scan`] walks the folders (the only I/O besides [`write`]); [`script`], [`when`] and
//! [`classify`] are pure heuristics over a script's path and text, each value carrying the
//! reasons it was chosen (`--verbose` prints them); [`write`] renders the job YAML with a
//! content-hash mark and decides, per file, whether to create, update or leave it alone.
//! Rules and their order: `docs/adr/0019-discovery.md`.

pub mod classify;
pub mod scan;
pub mod script;
pub mod when;
pub mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{Priority, Settings};
use classify::{Category, Evidence, Resources};
use scan::ScriptFile;
use script::Kind;

/// The prefix of every discovered job's name and file, which keeps discovered jobs apart
/// from hand-written ones.
pub const NAME_PREFIX: &str = "auto_";
/// The longest job name (the rule of `config::valid_job_name`).
const MAX_NAME: usize = 128;

/// A value and why it was chosen, one line per rule that fired or was rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen<T> {
    pub value: T,
    pub reasons: Vec<String>,
}

impl<T> Chosen<T> {
    pub fn new(value: T, reason: impl Into<String>) -> Chosen<T> {
        Chosen {
            value,
            reasons: vec![reason.into()],
        }
    }

    pub fn with(value: T, reasons: Vec<String>) -> Chosen<T> {
        Chosen { value, reasons }
    }
}

/// Everything the heuristics decided about one script.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub kind: Chosen<Kind>,
    pub command: Chosen<Vec<String>>,
    pub description: Chosen<Option<String>>,
    /// Text that [`crate::config::Schedule::parse`] accepts; `manual` when none was found.
    pub schedule: Chosen<String>,
    pub category: Chosen<Category>,
    pub priority: Chosen<Priority>,
    pub resources: Chosen<Resources>,
}

/// Analyses one script: `None` if it is not one (no shebang, no script extension).
/// `script.path` is absolute; `script.relative` is below the folder that was scanned.
pub fn analyze(script: &ScriptFile, settings: &Settings) -> Option<Analysis> {
    let text = &script.text;
    let kind = script::kind(&script.path, text)?;
    let comments = script::comments(text);
    let evidence = Evidence::new(&script.relative, &comments, text);
    let category = classify::category(&comments, &evidence);
    let lines = text.lines().count();
    let resources = classify::resources(category.value, script.size, lines, &evidence);
    Some(Analysis {
        command: command(&script.path, text, &kind.value, script.executable),
        description: script::description(&script.path, text),
        schedule: when::schedule(&script.path, &comments),
        priority: classify::priority(&comments, &evidence),
        resources: classify::fit(resources, &settings.slots),
        category,
        kind,
    })
}

/// How the script is run: by itself when it is executable and has a shebang; through its
/// shebang's interpreter when it has one but is not executable; else through the
/// interpreter of its kind.
pub fn command(path: &Path, text: &str, kind: &Kind, executable: bool) -> Chosen<Vec<String>> {
    let path_text = path.to_string_lossy().into_owned();
    let shebang = text
        .strip_prefix("#!")
        .and_then(|rest| rest.lines().next())
        .map(|line| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|words| !words.is_empty());
    match (shebang, executable) {
        (Some(_), true) => Chosen::new(vec![path_text], "executable with a shebang: run as is"),
        (Some(mut words), false) => {
            words.push(path_text);
            Chosen::new(words, "not executable: run through its shebang line")
        }
        (None, _) => Chosen::new(
            vec![kind.interpreter().to_owned(), path_text],
            format!("no shebang: run with `{}`", kind.interpreter()),
        ),
    }
}

/// The job name for a script: [`NAME_PREFIX`] and its file name without extension,
/// lower-cased, every character outside `a-z 0-9 - _ .` replaced by `_` (runs collapsed),
/// trimmed of `_`, `-` and `.` at the ends and cut to the 128-byte limit of job names.
///
/// ```
/// use std::path::Path;
/// use slotcron::discover::job_name;
/// assert_eq!(job_name(Path::new("/srv/Nightly Backup (DB).sh")), "auto_nightly_backup_db");
/// ```
pub fn job_name(script: &Path) -> String {
    let name = script.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let stem = match script.extension().and_then(|e| e.to_str()) {
        Some(ext) if Kind::from_extension(ext).is_some() => {
            script.file_stem().and_then(|s| s.to_str()).unwrap_or(name)
        }
        _ => name,
    };
    let mut out = String::new();
    for c in script_name_chars(stem) {
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    let mut out = out.trim_matches(['_', '-', '.']).to_owned();
    if out.is_empty() {
        out = "script".to_owned();
    }
    out.truncate(MAX_NAME - NAME_PREFIX.len());
    format!("{NAME_PREFIX}{}", out.trim_end_matches(['_', '-', '.']))
}

fn script_name_chars(stem: &str) -> impl Iterator<Item = char> + '_ {
    stem.chars().map(|c| {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            c
        } else {
            '_'
        }
    })
}

/// Whether a problem stops a script from becoming a job by choice or by failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Seen and deliberately left alone (binary file, symlink loop, name clash, an edited
    /// or hand-written job file). Does not change the exit code.
    Skipped,
    /// Could not be read or written (unreadable file, dangling link, missing folder,
    /// failed write). `slotcron discover` exits 1.
    Error,
}

/// A path discovery did not turn into a job, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub path: PathBuf,
    pub reason: String,
    pub severity: Severity,
}

/// A job discovery proposes for one script.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// The script (absolute).
    pub script: PathBuf,
    /// `auto_<name>`: a valid job name; the file is `<job_name>.yaml` in `jobs_dir`.
    pub job_name: String,
    pub analysis: Analysis,
    /// The job file's body ([`write::render`]), checked to load as `slotcron check`
    /// loads it.
    pub body: String,
}

/// What a scan found: a proposal per script, the issues, and files that are not scripts.
#[derive(Debug, Default)]
pub struct Discovery {
    pub proposals: Vec<Proposal>,
    pub issues: Vec<Issue>,
    /// Files looked at that are neither scripts nor worth reporting (`README.md`).
    pub ignored: Vec<PathBuf>,
}

/// Scans `roots` and analyses every script found. Two scripts that map to one job name
/// are both reported and neither is proposed: which one would win would depend on walk
/// order, and a job that silently switches scripts is worse than none.
pub fn discover(roots: &[PathBuf], settings: &Settings) -> Discovery {
    let scanned = scan::scan(roots);
    let mut discovery = Discovery {
        issues: scanned.issues,
        ignored: scanned.ignored,
        ..Discovery::default()
    };
    let mut by_name: BTreeMap<String, Vec<Proposal>> = BTreeMap::new();
    for (script, result) in scanned
        .scripts
        .iter()
        .zip(propose_all(&scanned.scripts, settings))
    {
        match result {
            None => discovery.ignored.push(script.path.clone()),
            Some(Err(reason)) => discovery.issues.push(Issue {
                path: script.path.clone(),
                reason,
                severity: Severity::Error,
            }),
            Some(Ok(p)) => by_name.entry(p.job_name.clone()).or_default().push(p),
        }
    }
    for (name, mut group) in by_name {
        if group.len() == 1 {
            discovery.proposals.extend(group.pop());
            continue;
        }
        let paths: Vec<String> = group
            .iter()
            .map(|p| p.script.display().to_string())
            .collect();
        for p in group {
            discovery.issues.push(Issue {
                reason: format!(
                    "name clash: job `{name}` would come from each of {}; rename one",
                    paths.join(", ")
                ),
                path: p.script,
                severity: Severity::Skipped,
            });
        }
    }
    discovery
}

/// Below this many scripts one thread does the work.
const PARALLEL_MIN: usize = 500;

/// [`propose`] for every script, on all cores (as the catalog parses job files): each
/// script is independent, and rendering and checking 10,000 job files is most of the
/// work of a large discovery.
fn propose_all(
    scripts: &[ScriptFile],
    settings: &Settings,
) -> Vec<Option<Result<Proposal, String>>> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = cores.min(scripts.len() / PARALLEL_MIN).max(1);
    if threads == 1 {
        return scripts.iter().map(|s| propose(s, settings)).collect();
    }
    let chunk = scripts.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = scripts
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|s| propose(s, settings))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a discovery thread panicked"))
            .collect()
    })
}

/// Analyses, names and renders one script, and checks the job file loads; `None` if it
/// is not a script, `Some(Err)` if the generated file would not load (a bug, reported).
pub fn propose(script: &ScriptFile, settings: &Settings) -> Option<Result<Proposal, String>> {
    let analysis = analyze(script, settings)?;
    let job_name = job_name(&script.path);
    let mut proposal = Proposal {
        script: script.path.clone(),
        job_name,
        analysis,
        body: String::new(),
    };
    proposal.body = write::render(&proposal);
    let file = settings
        .jobs_dir
        .join(format!("{}.yaml", proposal.job_name));
    let text = write::file_text(&proposal.body);
    Some(match crate::config::parse_job(&file, &text, settings) {
        Ok(_) => Ok(proposal),
        Err(problems) => {
            let first = problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            Err(format!("the generated job does not load: {first}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_are_sanitized_to_the_job_name_rules() {
        for (path, want) in [
            ("/a/backup.sh", "auto_backup"),
            ("/a/Sync-Users.PY", "auto_sync-users"),
            ("/a/report.v2.php", "auto_report.v2"),
            ("/a/run-me", "auto_run-me"),
            ("/a/.hidden.sh", "auto_hidden"),
            ("/a/données à jour.sh", "auto_donn_es_jour"),
            ("/a/___.sh", "auto_script"),
        ] {
            let got = job_name(Path::new(path));
            assert_eq!(got, want, "{path}");
            assert!(crate::config::valid_job_name(&got), "{got}");
        }
        let long = format!("/a/{}.sh", "x".repeat(300));
        let got = job_name(Path::new(&long));
        assert_eq!(got.len(), MAX_NAME);
        assert!(crate::config::valid_job_name(&got));
    }

    #[test]
    fn commands_honour_shebang_and_execute_bit() {
        let p = Path::new("/s/a.py");
        let run = |text: &str, exec: bool| command(p, text, &Kind::Python, exec).value;
        assert_eq!(run("#!/usr/bin/env python3\n", true), ["/s/a.py"]);
        assert_eq!(
            run("#!/usr/bin/env python3\n", false),
            ["/usr/bin/env", "python3", "/s/a.py"]
        );
        assert_eq!(run("print(1)\n", true), ["python3", "/s/a.py"]);
    }
}
