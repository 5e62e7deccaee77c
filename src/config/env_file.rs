//! `env_file:`: a job's environment variables from a file of its own, outside the job file
//! and the history database, so secrets live in one owner-only file. Read when the catalog
//! loads (to report problems; the values are not kept) and again for each run (so a
//! rotated secret is used at once). Messages name the file, its mode and line numbers,
//! never a value.
//!
//! The format: one `KEY=VALUE` per line; blank lines and lines starting with `#` are
//! skipped; an `export ` prefix is allowed; one pair of matching quotes (`"` or `'`)
//! around the value is removed, nothing else is interpreted.

use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode bits that refuse a file: group or others may read or write it.
const SHARED_BITS: u32 = 0o066;

/// The variables of `path`, in file order.
///
/// # Errors
/// Why the file cannot be used, naming its mode or the line, never a value.
pub fn read(path: &Path) -> Result<Vec<(String, String)>, String> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            _ => format!("cannot open: {e}"),
        })?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".to_owned());
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & SHARED_BITS != 0 {
        return Err(format!(
            "mode {mode:04o}: group or others may read or write it; make it owner-only (chmod 600)"
        ));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| format!("cannot read: {e}"))?;
    parse(&text)
}

/// Parses the text of an env file.
///
/// ```
/// use slotcron::config::parse_env_file;
/// let vars = parse_env_file("# db\nexport A=\"x y\"\nB='1'\nC=a=b\n").unwrap();
/// assert_eq!(vars, [("A".into(), "x y".into()), ("B".into(), "1".into()), ("C".into(), "a=b".into())]);
/// assert_eq!(parse_env_file("A=1\nsecret\n").unwrap_err(), "line 2: not KEY=VALUE");
/// ```
///
/// # Errors
/// The first bad line, by number.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut vars = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let bad = |why: &str| format!("line {}: {why}", i + 1);
        let (key, value) = line.split_once('=').ok_or_else(|| bad("not KEY=VALUE"))?;
        let key = key.trim_end();
        let valid_key = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_key {
            return Err(bad(
                "the name must be letters, digits and `_`, not first a digit",
            ));
        }
        if value.contains('\0') {
            return Err(bad("the value contains a NUL byte"));
        }
        vars.push((key.to_owned(), unquote(value.trim_start()).to_owned()));
    }
    Ok(vars)
}

fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return &value[1..value.len() - 1];
        }
    }
    value
}
