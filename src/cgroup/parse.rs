//! Pure parsers of the kernel's cgroup files and of the two `/proc` files the probe reads,
//! plus the formatting of limit values. No I/O here: callers pass the file contents, so
//! every format is tested with plain strings.

use std::path::PathBuf;

/// A kernel file did not have the expected format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}: {content:?}", line.map(|n| format!("line {n}: ")).unwrap_or_default())]
pub struct ParseError {
    /// 1-based line number, when the file has lines.
    pub line: Option<usize>,
    /// The offending text.
    pub content: String,
    /// What was expected.
    pub reason: &'static str,
}

impl ParseError {
    pub(crate) fn new(line: Option<usize>, content: &str, reason: &'static str) -> Self {
        ParseError {
            line,
            content: content.to_owned(),
            reason,
        }
    }
}

/// Parses a single unsigned number (as in `memory.current`, `pids.peak`).
///
/// ```
/// use slotcron::cgroup::parse::parse_u64;
/// assert_eq!(parse_u64("4096\n").unwrap(), 4096);
/// assert!(parse_u64("lots").is_err());
/// ```
///
/// # Errors
/// When the trimmed text is not a `u64`.
pub fn parse_u64(s: &str) -> Result<u64, ParseError> {
    let t = s.trim();
    t.parse()
        .map_err(|_| ParseError::new(None, t, "expected an unsigned number"))
}

/// Parses a value that may be `max` (unlimited), as in `memory.max` or `pids.max`.
///
/// ```
/// use slotcron::cgroup::parse::parse_max;
/// assert_eq!(parse_max("max\n").unwrap(), None);
/// assert_eq!(parse_max("1024").unwrap(), Some(1024));
/// ```
///
/// # Errors
/// When the text is neither `max` nor a `u64`.
pub fn parse_max(s: &str) -> Result<Option<u64>, ParseError> {
    match s.trim() {
        "max" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| ParseError::new(None, t, "expected \"max\" or an unsigned number")),
    }
}

/// Formats a limit for a `*.max` knob: `None` is `max`.
///
/// ```
/// use slotcron::cgroup::parse::format_max;
/// assert_eq!(format_max(None), "max");
/// assert_eq!(format_max(Some(268435456)), "268435456");
/// ```
pub fn format_max(v: Option<u64>) -> String {
    v.map_or_else(|| "max".to_owned(), |n| n.to_string())
}

/// Parses a flat-keyed file (`memory.events`, `cpu.stat`, `pids.events`): one
/// `key value` pair per line. Blank lines are skipped; callers ignore keys they do not know.
///
/// ```
/// use slotcron::cgroup::parse::parse_flat_keyed;
/// let pairs = parse_flat_keyed("oom 1\noom_kill 2\n").unwrap();
/// assert_eq!(pairs, vec![("oom", 1), ("oom_kill", 2)]);
/// assert_eq!(parse_flat_keyed("oom x\n").unwrap_err().line, Some(1));
/// ```
///
/// # Errors
/// On a line that is not exactly a key and an unsigned number; the error names the line.
pub fn parse_flat_keyed(s: &str) -> Result<Vec<(&str, u64)>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in s.lines().enumerate() {
        let mut fields = line.split_whitespace();
        let Some(key) = fields.next() else { continue };
        let value = fields.next().and_then(|v| v.parse().ok());
        match (value, fields.next()) {
            (Some(v), None) => out.push((key, v)),
            _ => {
                return Err(ParseError::new(
                    Some(i + 1),
                    line,
                    "expected \"key number\"",
                ));
            }
        }
    }
    Ok(out)
}

/// One line of a nested-keyed file (`io.stat`, `io.max`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NestedLine<'a> {
    /// 1-based line number.
    pub number: usize,
    /// The whole line, for errors.
    pub text: &'a str,
    /// The line's key (a `MAJ:MIN` device).
    pub key: &'a str,
    /// Its `key=value` pairs, in order; values as written (`max` stays text).
    pub pairs: Vec<(&'a str, &'a str)>,
}

impl NestedLine<'_> {
    /// An error about this line.
    pub fn error(&self, reason: &'static str) -> ParseError {
        ParseError::new(Some(self.number), self.text, reason)
    }
}

/// Parses a nested-keyed file: one line per key (a `MAJ:MIN` device), then `key=value`
/// pairs. Blank lines are skipped.
///
/// ```
/// use slotcron::cgroup::parse::parse_nested_keyed;
/// let lines = parse_nested_keyed("8:16 rbytes=4096 wios=2\n").unwrap();
/// assert_eq!((lines[0].key, lines[0].pairs.clone()), ("8:16", vec![("rbytes", "4096"), ("wios", "2")]));
/// assert_eq!(parse_nested_keyed("\n8:16 rbytes\n").unwrap_err().line, Some(2));
/// ```
///
/// # Errors
/// On a field that is not `key=value`; the error names the line.
pub fn parse_nested_keyed(s: &str) -> Result<Vec<NestedLine<'_>>, ParseError> {
    let mut out = Vec::new();
    for (i, text) in s.lines().enumerate() {
        let mut fields = text.split_whitespace();
        let Some(key) = fields.next() else { continue };
        let pairs = fields
            .map(|f| {
                f.split_once('=')
                    .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ParseError::new(Some(i + 1), text, "expected \"KEY k=v ...\""))?;
        out.push(NestedLine {
            number: i + 1,
            text,
            key,
            pairs,
        });
    }
    Ok(out)
}

/// Reads `populated` from `cgroup.events`: whether any process lives in the subtree.
///
/// ```
/// use slotcron::cgroup::parse::parse_populated;
/// assert_eq!(parse_populated("populated 1\nfrozen 0\n").unwrap(), true);
/// assert_eq!(parse_populated("populated 0\nfrozen 0\n").unwrap(), false);
/// ```
///
/// # Errors
/// When the key is missing or its value is not 0 or 1.
pub fn parse_populated(s: &str) -> Result<bool, ParseError> {
    match parse_flat_keyed(s)?
        .into_iter()
        .find(|(k, _)| *k == "populated")
    {
        Some((_, 0)) => Ok(false),
        Some((_, 1)) => Ok(true),
        Some(_) => Err(ParseError::new(None, s, "populated must be 0 or 1")),
        None => Err(ParseError::new(None, s, "no \"populated\" key")),
    }
}

/// Splits `cgroup.controllers` or `cgroup.subtree_control` into controller names.
///
/// ```
/// use slotcron::cgroup::parse::parse_controllers;
/// assert_eq!(parse_controllers("cpu memory pids\n"), ["cpu", "memory", "pids"]);
/// ```
pub fn parse_controllers(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// Parses `cgroup.procs`: one pid per line. A `0` line is skipped: the kernel never lists
/// it, but it is the "this process" value writers use and the fake may hold it literally.
///
/// ```
/// use slotcron::cgroup::parse::parse_procs;
/// assert_eq!(parse_procs("12\n345\n").unwrap(), vec![12, 345]);
/// assert!(parse_procs("-1\n").is_err());
/// ```
///
/// # Errors
/// On a line that is not a non-negative pid; the error names the line.
pub fn parse_procs(s: &str) -> Result<Vec<i32>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in s.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        match t.parse::<i32>() {
            Ok(0) => {}
            Ok(pid) if pid > 0 => out.push(pid),
            _ => return Err(ParseError::new(Some(i + 1), line, "expected a process id")),
        }
    }
    Ok(out)
}

/// Finds the cgroup v2 path in `/proc/self/cgroup` (the `0::/path` line). `None` on a
/// pure cgroup v1 host, where no such line exists.
///
/// ```
/// use std::path::PathBuf;
/// use slotcron::cgroup::parse::parse_self_cgroup;
/// let s = "4:memory:/x\n0::/system.slice/slotcron.service\n";
/// assert_eq!(parse_self_cgroup(s), Some(PathBuf::from("/system.slice/slotcron.service")));
/// assert_eq!(parse_self_cgroup("4:memory:/x\n"), None);
/// ```
pub fn parse_self_cgroup(s: &str) -> Option<PathBuf> {
    s.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| PathBuf::from(p.trim_end()))
}

/// One line of `/proc/self/mountinfo`, the fields the probe needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// Field 5: where it is mounted (octal escapes such as `\040` decoded).
    pub mount_point: PathBuf,
    /// First field after ` - `: `cgroup2`, `cgroup`, `tmpfs`, ...
    pub fs_type: String,
    /// Last field: per-superblock options (for cgroup v1: the bound controllers).
    pub super_options: String,
}

/// Parses `/proc/self/mountinfo`; malformed lines are skipped.
///
/// ```
/// use slotcron::cgroup::parse::parse_mountinfo;
/// let m = parse_mountinfo("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
/// assert_eq!(m[0].fs_type, "cgroup2");
/// assert_eq!(m[0].mount_point.to_str(), Some("/sys/fs/cgroup"));
/// ```
pub fn parse_mountinfo(s: &str) -> Vec<MountEntry> {
    s.lines()
        .filter_map(|line| {
            let (head, tail) = line.split_once(" - ")?;
            let mount_point = head.split_whitespace().nth(4)?;
            let mut tail = tail.split_whitespace();
            let fs_type = tail.next()?.to_owned();
            let super_options = tail.nth(1).unwrap_or_default().to_owned();
            Some(MountEntry {
                mount_point: unescape_octal(mount_point).into(),
                fs_type,
                super_options,
            })
        })
        .collect()
}

/// The first cgroup2 mount point in `/proc/self/mountinfo`, if any.
///
/// ```
/// use slotcron::cgroup::parse::cgroup2_mount;
/// let v1 = "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
/// assert_eq!(cgroup2_mount(v1), None);
/// ```
pub fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    parse_mountinfo(mountinfo)
        .into_iter()
        .find(|m| m.fs_type == "cgroup2")
        .map(|m| m.mount_point)
}

fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match oct {
            Some(d) => {
                let v = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses one PSI line's fields (`avg10=.. avg60=.. avg300=.. total=..`).
pub(crate) fn parse_psi_fields(
    line_no: usize,
    line: &str,
    fields: &str,
) -> Result<(f64, f64, f64, u64), ParseError> {
    let bad = || ParseError::new(Some(line_no), line, "expected avg10= avg60= avg300= total=");
    let (mut a10, mut a60, mut a300, mut total) = (None, None, None, None);
    for kv in fields.split_whitespace() {
        let (k, v) = kv.split_once('=').ok_or_else(bad)?;
        match k {
            "avg10" => a10 = v.parse().ok(),
            "avg60" => a60 = v.parse().ok(),
            "avg300" => a300 = v.parse().ok(),
            "total" => total = v.parse().ok(),
            _ => {}
        }
    }
    match (a10, a60, a300, total) {
        (Some(a), Some(b), Some(c), Some(t)) => Ok((a, b, c, t)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_decodes_octal_escapes_and_super_options() {
        let m = parse_mountinfo("1 2 0:3 / /mnt/a\\040b rw - cgroup cgroup rw,memory\n");
        assert_eq!(m[0].mount_point, PathBuf::from("/mnt/a b"));
        assert_eq!(m[0].super_options, "rw,memory");
    }

    #[test]
    fn flat_keyed_rejects_extra_fields_and_names_line() {
        let e = parse_flat_keyed("a 1\nb 2 3\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.content, "b 2 3");
    }

    #[test]
    fn procs_skips_zero_and_blank_lines() {
        assert_eq!(parse_procs("0\n\n7\n").unwrap(), vec![7]);
        assert_eq!(parse_procs("7\nx\n").unwrap_err().line, Some(2));
    }

    #[test]
    fn populated_missing_key_is_an_error() {
        assert!(parse_populated("frozen 0\n").is_err());
        assert!(parse_populated("populated 2\n").is_err());
    }
}
