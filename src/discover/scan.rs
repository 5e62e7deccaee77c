//! Walks the folders to discover: which files are scripts, which are binary, which
//! cannot be read. Symbolic links are followed (scripts are often linked into a cron
//! folder); walkdir detects a link back to a folder above it, which is reported and not
//! entered. Hidden entries and dependency folders (`node_modules`, `vendor`,
//! `__pycache__`) are not entered. FIFOs, sockets and devices are never opened.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use walkdir::{DirEntry, WalkDir};

use super::script::Kind;
use super::{Issue, Severity};

/// A NUL byte among the first this many bytes makes a file binary (git's rule).
pub const BINARY_PROBE: usize = 8 * 1024;
/// At most this much of a script is read: enough for any hand-written script; a larger
/// file is analysed by its head, and its size is taken from its metadata.
pub const MAX_READ: u64 = 1 << 20;
/// Folders that hold dependencies, never jobs.
const SKIPPED_DIRS: &[&str] = &["node_modules", "vendor", "__pycache__", "site-packages"];

/// A file that looks like a script: a script extension or a `#!` line, and no NUL byte.
#[derive(Debug, Clone)]
pub struct ScriptFile {
    /// Absolute path, as reached (through links, not resolved).
    pub path: PathBuf,
    /// The path below the scanned folder (the file name when a file was given).
    pub relative: PathBuf,
    /// Its text (UTF-8, invalid sequences replaced), at most [`MAX_READ`] bytes.
    pub text: String,
    /// Its size in bytes.
    pub size: u64,
    /// Whether any execute bit is set.
    pub executable: bool,
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Scanned {
    pub scripts: Vec<ScriptFile>,
    pub issues: Vec<Issue>,
    pub ignored: Vec<PathBuf>,
}

/// Walks each root (a folder, or a single file) in name order. A root that does not exist
/// is an error.
pub fn scan(roots: &[PathBuf]) -> Scanned {
    let mut out = Scanned::default();
    for root in roots {
        let root = std::path::absolute(root).unwrap_or_else(|_| root.clone());
        if let Err(e) = std::fs::metadata(&root) {
            out.issues
                .push(error(&root, format!("cannot read folder: {e}")));
            continue;
        }
        let walk = WalkDir::new(&root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !skipped_dir(e));
        for entry in walk {
            match entry {
                Ok(entry) => visit(&root, &entry, &mut out),
                Err(e) => out.issues.push(walk_error(&root, &e)),
            }
        }
    }
    out
}

/// The folders `discover.paths` patterns match now, in pattern order then name order. A
/// pattern that matches nothing is an error: a misspelt path must not look like "no
/// scripts".
pub fn expand(patterns: &[String]) -> (Vec<PathBuf>, Vec<Issue>) {
    let mut roots = Vec::new();
    let mut issues = Vec::new();
    for pattern in patterns {
        let before = roots.len();
        match glob::glob(pattern) {
            Ok(paths) => {
                for path in paths {
                    match path {
                        Ok(path) => roots.push(path),
                        Err(e) => {
                            issues.push(error(e.path(), format!("cannot read: {}", e.error())))
                        }
                    }
                }
            }
            Err(e) => issues.push(error(
                Path::new(pattern),
                format!("not a glob pattern: {}", e.msg),
            )),
        }
        if roots.len() == before {
            issues.push(error(
                Path::new(pattern),
                "discover.paths: the pattern matches no folder".to_owned(),
            ));
        }
    }
    (roots, issues)
}

fn skipped_dir(entry: &DirEntry) -> bool {
    let name = entry.file_name().to_string_lossy();
    name.starts_with('.') || (entry.file_type().is_dir() && SKIPPED_DIRS.contains(&&*name))
}

fn walk_error(root: &Path, e: &walkdir::Error) -> Issue {
    let path = e.path().unwrap_or(root).to_path_buf();
    if let Some(ancestor) = e.loop_ancestor() {
        return Issue {
            reason: format!(
                "symlink loop: leads back to {}, which is already being scanned",
                ancestor.display()
            ),
            path,
            severity: Severity::Skipped,
        };
    }
    let reason = match e.io_error() {
        Some(io) if io.kind() == std::io::ErrorKind::NotFound => {
            "cannot read: dangling symlink (its target does not exist)".to_owned()
        }
        Some(io) => format!("cannot read: {io}"),
        None => format!("cannot read: {e}"),
    };
    error(&path, reason)
}

fn error(path: &Path, reason: String) -> Issue {
    Issue {
        path: path.to_path_buf(),
        reason,
        severity: Severity::Error,
    }
}

fn has_script_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| Kind::from_extension(e).is_some())
}

fn visit(root: &Path, entry: &DirEntry, out: &mut Scanned) {
    let path = entry.path();
    let file_type = entry.file_type();
    if file_type.is_dir() {
        return;
    }
    if !file_type.is_file() {
        if has_script_extension(path) {
            let what = if file_type.is_fifo() {
                "a FIFO"
            } else if file_type.is_socket() {
                "a socket"
            } else {
                "a device"
            };
            out.issues.push(Issue {
                path: path.to_path_buf(),
                reason: format!("not a regular file ({what}): never opened"),
                severity: Severity::Skipped,
            });
        } else {
            out.ignored.push(path.to_path_buf());
        }
        return;
    }
    let metadata = match entry.metadata() {
        Ok(m) => m,
        Err(e) => return out.issues.push(walk_error(root, &e)),
    };
    let executable = metadata.permissions().mode() & 0o111 != 0;
    let bytes = match read_head(path) {
        Ok(bytes) => bytes,
        Err(e) => return out.issues.push(error(path, format!("cannot read: {e}"))),
    };
    let probe = &bytes[..bytes.len().min(BINARY_PROBE)];
    if probe.contains(&0) {
        if has_script_extension(path) || executable {
            out.issues.push(Issue {
                path: path.to_path_buf(),
                reason: "binary file (NUL byte in its first 8 KiB): not a script".into(),
                severity: Severity::Skipped,
            });
        } else {
            out.ignored.push(path.to_path_buf());
        }
        return;
    }
    if !(bytes.starts_with(b"#!") || has_script_extension(path)) {
        out.ignored.push(path.to_path_buf());
        return;
    }
    let relative = path
        .strip_prefix(root)
        .ok()
        .filter(|r| !r.as_os_str().is_empty())
        .or_else(|| path.file_name().map(Path::new))
        .unwrap_or(path)
        .to_path_buf();
    out.scripts.push(ScriptFile {
        path: path.to_path_buf(),
        relative,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        size: metadata.len(),
        executable,
    });
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?.take(MAX_READ).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn finds_scripts_reports_binaries_loops_and_dangling_links() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "a.sh", b"echo a\n");
        write(d, "sub/run", b"#!/bin/sh\necho b\n");
        write(d, "README.md", b"# docs\n");
        write(d, "data.bin", b"\0\0\0");
        write(d, "tool.sh", b"\x7fELF\0\0");
        write(d, ".git/hook.sh", b"echo hidden\n");
        write(d, "node_modules/x/index.js", b"1\n");
        symlink(d, d.join("sub/loop")).unwrap();
        symlink(d.join("missing.sh"), d.join("gone.sh")).unwrap();
        let found = scan(&[d.to_path_buf()]);
        let scripts: Vec<_> = found.scripts.iter().map(|s| s.relative.clone()).collect();
        assert_eq!(scripts, [PathBuf::from("a.sh"), PathBuf::from("sub/run")]);
        let issues: Vec<(String, Severity)> = found
            .issues
            .iter()
            .map(|i| {
                let name = i.path.strip_prefix(d).unwrap().display().to_string();
                (format!("{name}: {}", i.reason), i.severity)
            })
            .collect();
        assert_eq!(issues.len(), 3, "{issues:?}");
        assert!(
            issues[0]
                .0
                .starts_with("gone.sh: cannot read: dangling symlink")
        );
        assert_eq!(issues[0].1, Severity::Error);
        assert!(
            issues[1].0.starts_with("sub/loop: symlink loop"),
            "{issues:?}"
        );
        assert_eq!(issues[1].1, Severity::Skipped);
        assert!(issues[2].0.starts_with("tool.sh: binary file"));
        assert_eq!(found.ignored.len(), 2, "README.md and data.bin");
    }

    #[test]
    fn a_missing_root_is_an_error_and_a_file_root_is_scanned() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "one.py", b"print(1)\n");
        let found = scan(&[dir.path().join("nope"), dir.path().join("one.py")]);
        assert_eq!(found.issues.len(), 1);
        assert_eq!(found.issues[0].severity, Severity::Error);
        assert_eq!(found.scripts.len(), 1);
        assert_eq!(found.scripts[0].relative, PathBuf::from("one.py"));
    }

    #[test]
    fn patterns_expand_to_existing_folders_and_empty_ones_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        for svc in ["web", "api", "db"] {
            std::fs::create_dir_all(dir.path().join(format!("services/{svc}"))).unwrap();
        }
        std::fs::create_dir(dir.path().join("services/web/cron")).unwrap();
        std::fs::create_dir(dir.path().join("services/api/cron")).unwrap();
        let base = dir.path().display();
        let (roots, issues) = expand(&[
            format!("{base}/services/*/cron/"),
            format!("{base}/nothing/*"),
        ]);
        let names: Vec<_> = roots
            .iter()
            .map(|r| r.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            [
                PathBuf::from("services/api/cron"),
                PathBuf::from("services/web/cron")
            ]
        );
        assert_eq!(issues.len(), 1);
        assert!(issues[0].reason.contains("matches no folder"));
    }

    #[test]
    fn fifos_named_like_scripts_are_reported_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.sh");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let found = scan(&[dir.path().to_path_buf()]);
        assert_eq!(found.issues.len(), 1);
        assert!(found.issues[0].reason.contains("FIFO"));
    }
}
