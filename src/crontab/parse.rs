//! Reading a crontab, line by line, as cronie does: entries (five time fields or an `@`
//! nickname, then the command), environment lines that apply to the lines after them,
//! comments, and commented-out entries. Pure: text in, [`Parsed`] out; every line that is
//! not understood becomes a [`LineError`] with its number and reason, and the other lines
//! are still read.

use crate::config::{FieldKind, parse_field};

/// Which crontab format: a user's (`crontab -e`) or the system's (`/etc/crontab`,
/// `/etc/cron.d/*`), which has a user name between the time fields and the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    User,
    System,
}

/// When an entry fires, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// Five fields, each valid for cron; slotcron reads them as cron does, so they go
    /// into the job file as written.
    Fields { fields: [String; 5] },
    /// `@daily` and the like, lower-cased; `@reboot` included.
    Nickname(String),
}

/// One crontab entry, with everything the lines above it set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number.
    pub line: usize,
    pub when: When,
    /// The system format's user field.
    pub user: Option<String>,
    /// The command up to the first unescaped `%`, `\%` read as `%`.
    pub command: String,
    /// What follows the first unescaped `%`, as written ([`stdin_bytes`] gives what cron
    /// feeds the command).
    pub stdin: Option<String>,
    /// Environment lines above the entry, in order (not `SHELL`, `MAILTO`, `CRON_TZ`).
    pub env: Vec<(String, String)>,
    /// `SHELL=` in effect, if any.
    pub shell: Option<String>,
    /// `MAILTO=` in effect, if any (empty: mail off).
    pub mailto: Option<String>,
    /// `CRON_TZ=` in effect, if any.
    pub timezone: Option<String>,
    /// The comment block directly above the entry, `#` removed.
    pub comment: Vec<String>,
    /// A commented-out entry (`# 0 2 * * * cmd`).
    pub disabled: bool,
}

/// A line that did not become an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub text: String,
    pub reason: String,
}

/// The outcome of reading one crontab.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub entries: Vec<Entry>,
    pub errors: Vec<LineError>,
}

/// The nicknames cronie knows.
const NICKNAMES: [&str; 8] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
    "@reboot",
];

/// The settings environment lines have made so far.
#[derive(Default)]
struct Scope {
    env: Vec<(String, String)>,
    shell: Option<String>,
    mailto: Option<String>,
    timezone: Option<String>,
}

/// Reads a whole crontab.
pub fn parse(text: &str, flavor: Flavor) -> Parsed {
    let mut parsed = Parsed::default();
    let mut scope = Scope::default();
    let mut comment: Vec<String> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            comment.clear();
            continue;
        }
        if let Some(body) = trimmed.strip_prefix('#') {
            let body = body.trim_start_matches('#').trim();
            match parse_entry(body, flavor) {
                Ok(spec) if !body.is_empty() => {
                    let entry = spec.into_entry(line, &scope, std::mem::take(&mut comment), true);
                    parsed.entries.push(entry);
                }
                _ if is_header(body) => {}
                _ => comment.push(body.to_owned()),
            }
            continue;
        }
        if let Some((name, value)) = env_line(trimmed) {
            comment.clear();
            match name.as_str() {
                "SHELL" => scope.shell = Some(value),
                "MAILTO" => scope.mailto = Some(value),
                "CRON_TZ" => scope.timezone = Some(value).filter(|v| !v.is_empty()),
                _ => {
                    scope.env.retain(|(k, _)| *k != name);
                    scope.env.push((name, value));
                }
            }
            continue;
        }
        // Not `trimmed`: trailing blanks after a `%` are stdin.
        match parse_entry(raw.trim_start(), flavor) {
            Ok(spec) => {
                let entry = spec.into_entry(line, &scope, std::mem::take(&mut comment), false);
                parsed.entries.push(entry);
            }
            Err(reason) => {
                comment.clear();
                parsed.errors.push(LineError {
                    line,
                    text: raw.to_owned(),
                    reason,
                });
            }
        }
    }
    parsed
}

/// The column header of crontab templates (`# m h  dom mon dow   command`): not a description.
fn is_header(body: &str) -> bool {
    let words: Vec<&str> = body.split_whitespace().collect();
    words.starts_with(&["m", "h", "dom", "mon", "dow"])
        || words.starts_with(&["min", "hour", "day", "month"])
}

/// `NAME = value` (value optionally in matching quotes), as cronie's `load_env` reads it.
fn env_line(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once('=')?;
    let name = name.trim();
    let mut chars = name.chars();
    let first = chars.next()?;
    if !(first.is_ascii_alphabetic() || first == '_')
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    let value = value.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
        .unwrap_or(value);
    Some((name.to_owned(), unquoted.to_owned()))
}

/// An entry before the scope is applied.
struct Spec {
    when: When,
    user: Option<String>,
    command: String,
    stdin: Option<String>,
}

impl Spec {
    fn into_entry(self, line: usize, scope: &Scope, comment: Vec<String>, disabled: bool) -> Entry {
        Entry {
            line,
            when: self.when,
            user: self.user,
            command: self.command,
            stdin: self.stdin,
            env: scope.env.clone(),
            shell: scope.shell.clone(),
            mailto: scope.mailto.clone(),
            timezone: scope.timezone.clone(),
            comment,
            disabled,
        }
    }
}

/// The first whitespace-separated word and the rest, leading whitespace removed.
fn word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(end) => (&text[..end], text[end..].trim_start()),
        None => (text, ""),
    }
}

/// Parses an entry line (already known not to be a comment or environment line).
fn parse_entry(line: &str, flavor: Flavor) -> Result<Spec, String> {
    let (first, mut rest) = word(line);
    let when = if first.starts_with('@') {
        let nick = first.to_ascii_lowercase();
        if nick == "@every" {
            return Err("`@every` is slotcron's syntax, not cron's".into());
        }
        if !NICKNAMES.contains(&nick.as_str()) {
            return Err(format!(
                "unknown nickname `{first}` (cron knows {})",
                NICKNAMES.join(" ")
            ));
        }
        When::Nickname(nick)
    } else {
        let mut fields: [String; 5] = Default::default();
        fields[0] = first.to_owned();
        for slot in fields.iter_mut().skip(1) {
            let (w, r) = word(rest);
            if w.is_empty() {
                return Err("fewer than five time fields before the command".into());
            }
            *slot = w.to_owned();
            rest = r;
        }
        for (text, kind) in fields.iter().zip(FieldKind::CRON) {
            parse_field(text, kind).map_err(|e| e.to_string())?;
        }
        When::Fields { fields }
    };
    let user = match flavor {
        Flavor::User => None,
        Flavor::System => {
            let (user, r) = word(rest);
            if user.is_empty() {
                return Err("no user field (the system crontab format has one)".into());
            }
            if looks_like_field(user) {
                return Err(format!(
                    "the user field `{user}` looks like a sixth time field; cron has five"
                ));
            }
            rest = r;
            Some(user.to_owned())
        }
    };
    if rest.is_empty() {
        return Err("no command after the schedule".into());
    }
    let (next, _) = word(rest);
    if flavor == Flavor::User && matches!(when, When::Fields { .. }) && looks_like_field(next) {
        return Err(format!(
            "six time fields: cron has five and would run `{rest}` as the command \
             (slotcron's seconds field is not crontab syntax)"
        ));
    }
    let (command, stdin) = split_percent(rest);
    if command.trim().is_empty() {
        return Err("the command before the first `%` is empty".into());
    }
    Ok(Spec {
        when,
        user,
        command,
        stdin,
    })
}

/// A word made only of what time fields are made of (`*`, `*/5`, `0`), which a command
/// hardly ever starts with.
fn looks_like_field(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'*' | b',' | b'/' | b'-'))
        && word.bytes().any(|b| b.is_ascii_digit() || b == b'*')
}

/// cron's `%` rule (`do_command.c`): the first `%` not escaped by a backslash ends the
/// command (`\%` there is a `%`, other backslashes stay); the rest is the command's stdin
/// as written, `None` if nothing follows (see [`stdin_bytes`] for what cron feeds).
///
/// ```
/// use slotcron::crontab::split_percent;
/// assert_eq!(split_percent(r"date +\%F%a%b"), ("date +%F".into(), Some("a%b".into())));
/// ```
pub fn split_percent(text: &str) -> (String, Option<String>) {
    let mut command = String::with_capacity(text.len());
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            if c == '%' {
                command.pop();
            }
            command.push(c);
            escaped = false;
        } else if c == '%' {
            let rest = &text[i + 1..];
            return (command, Some(rest.to_owned()).filter(|r| !r.is_empty()));
        } else {
            escaped = c == '\\';
            command.push(c);
        }
    }
    (command, None)
}

/// What cron writes to the command's stdin for the text after the first `%`
/// (`do_command.c`): each `%` a newline, `\%` a `%`, other backslashes kept, and a
/// newline after the last character unless it is one, so `while read` loops see every line.
///
/// ```
/// use slotcron::crontab::stdin_bytes;
/// assert_eq!(stdin_bytes("line1%line2"), "line1\nline2\n");
/// assert_eq!(stdin_bytes(r"100\%%"), "100%\n");
/// ```
pub fn stdin_bytes(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 1);
    let (mut escaped, mut newline_due) = (false, false);
    for c in input.chars() {
        let c = match (escaped, c) {
            (true, '%') => '%',
            (true, c) => {
                out.push('\\');
                c
            }
            (false, '%') => '\n',
            (false, c) => c,
        };
        escaped = c == '\\';
        if !escaped {
            out.push(c);
            newline_due = c != '\n';
        }
    }
    if escaped {
        out.push('\\');
    }
    if newline_due {
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
