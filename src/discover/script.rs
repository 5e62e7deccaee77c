//! What a script's text says about itself: its language (shebang, else extension), its
//! comment lines, and a description from its leading comment block. Pure functions over
//! (path, text); no I/O.

use std::fmt;
use std::path::Path;

use super::Chosen;

/// How many lines from the top are searched for comments: directives and schedule
/// phrases live in a script's header, and the rest of a long script is code.
pub const HEAD_LINES: usize = 100;
/// A description longer than this is cut at a word boundary.
pub const MAX_DESCRIPTION: usize = 200;

/// The language a script is written in, which decides how it is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Sh,
    Bash,
    Php,
    Python,
    Node,
    Perl,
    Ruby,
    /// A shebang naming another interpreter (`awk`, `zsh`, ...): run through the shebang.
    Other(String),
}

impl Kind {
    /// The interpreter a script of this kind is run with when it cannot run by itself
    /// (no shebang, or not executable).
    pub fn interpreter(&self) -> &str {
        match self {
            Kind::Sh => "sh",
            Kind::Bash => "bash",
            Kind::Php => "php",
            Kind::Python => "python3",
            Kind::Node => "node",
            Kind::Perl => "perl",
            Kind::Ruby => "ruby",
            Kind::Other(name) => name,
        }
    }

    fn from_interpreter(name: &str) -> Kind {
        // `python3.12` -> `python`, `php8.2` -> `php`: versions do not change the language.
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        match base {
            "sh" | "dash" | "ash" => Kind::Sh,
            "bash" => Kind::Bash,
            "php" | "php-cli" => Kind::Php,
            "python" | "pypy" => Kind::Python,
            "node" | "nodejs" => Kind::Node,
            "perl" => Kind::Perl,
            "ruby" => Kind::Ruby,
            _ => Kind::Other(name.to_owned()),
        }
    }

    /// The kind an extension stands for, if it is a script extension.
    pub fn from_extension(ext: &str) -> Option<Kind> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "sh" => Kind::Sh,
            "bash" => Kind::Bash,
            "php" => Kind::Php,
            "py" => Kind::Python,
            "js" | "mjs" | "cjs" => Kind::Node,
            "pl" => Kind::Perl,
            "rb" => Kind::Ruby,
            _ => return None,
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Kind::Sh => "sh",
            Kind::Python => "python",
            Kind::Other(name) => name,
            other => other.interpreter(),
        };
        f.write_str(name)
    }
}

/// The interpreter a `#!` line names: its program's file name, or with `env` the first
/// argument that is not an option (`#!/usr/bin/env -S python3 -u` -> `python3`).
pub fn shebang(text: &str) -> Option<String> {
    let line = text.strip_prefix("#!")?.lines().next().unwrap_or_default();
    let mut words = line.split_whitespace();
    let program = words.next()?;
    let name = program.rsplit('/').next().unwrap_or(program);
    if name != "env" {
        return Some(name.to_owned());
    }
    words
        .find(|w| !w.starts_with('-') && !w.contains('='))
        .map(|w| w.rsplit('/').next().unwrap_or(w).to_owned())
}

/// The script's kind: from its shebang, else from its extension; `None` if neither says.
pub fn kind(path: &Path, text: &str) -> Option<Chosen<Kind>> {
    if let Some(interpreter) = shebang(text) {
        let kind = Kind::from_interpreter(&interpreter);
        return Some(Chosen::new(kind, format!("shebang names `{interpreter}`")));
    }
    let ext = path.extension()?.to_str()?;
    Kind::from_extension(ext).map(|kind| Chosen::new(kind, format!("extension `.{ext}`")))
}

/// One full-line comment: its 1-based line number and its text without the marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub line: usize,
    pub text: String,
}

/// The text of a comment line without its marker (`#`, `//`, `/*`, `*`, `*/`), or
/// `None` for a line that is not a comment.
fn strip_marker(line: &str) -> Option<&str> {
    let t = line.trim();
    let rest = if let Some(r) = t.strip_prefix("//") {
        r
    } else if let Some(r) = t.strip_prefix("/*") {
        r.trim_start_matches('*')
    } else if let Some(r) = t.strip_prefix("*/") {
        r
    } else if t.starts_with('#') && !t.starts_with("#!") {
        t.trim_start_matches('#')
    } else {
        t.strip_prefix('*')?
    };
    Some(rest.trim().trim_end_matches("*/").trim_end())
}

/// The comment lines among the first [`HEAD_LINES`] lines, including a Python module
/// docstring's lines. The shebang and `<?php` are not comments.
pub fn comments(text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut in_docstring = false;
    for (i, line) in text.lines().take(HEAD_LINES).enumerate() {
        let t = line.trim();
        if in_docstring || t.starts_with("\"\"\"") || t.starts_with("'''") {
            let body = t.trim_start_matches("\"\"\"").trim_start_matches("'''");
            let closes = (!in_docstring && (body.contains("\"\"\"") || body.contains("'''")))
                || (in_docstring && (t.contains("\"\"\"") || t.contains("'''")));
            let body = body
                .trim_end_matches("\"\"\"")
                .trim_end_matches("'''")
                .trim();
            out.push(Comment {
                line: i + 1,
                text: body.to_owned(),
            });
            in_docstring = !closes;
            continue;
        }
        if let Some(text) = strip_marker(line) {
            out.push(Comment {
                line: i + 1,
                text: text.to_owned(),
            });
        }
    }
    out
}

/// `Key: value` on a comment line, for the directive keys slotcron reads
/// (`Schedule`, `Cron`, `Priority`, `Category`); the key is matched case-insensitively.
pub fn directive<'a>(comment: &'a str, keys: &[&str]) -> Option<&'a str> {
    let (key, value) = comment.split_once(':')?;
    let key = key.trim();
    keys.iter()
        .any(|k| k.eq_ignore_ascii_case(key))
        .then(|| value.trim())
}

/// Keys of directive lines, which are never part of a description.
const DIRECTIVE_KEYS: &[&str] = &[
    "schedule",
    "cron",
    "crontab",
    "priority",
    "category",
    "author",
    "license",
    "usage",
    "copyright",
];

/// The first paragraph of the leading comment block (the comments before the first line
/// of code), without directives, modelines and separator lines.
pub fn description(path: &Path, text: &str) -> Chosen<Option<String>> {
    let mut words: Vec<&str> = Vec::new();
    let mut in_docstring = false;
    let mut first_line = None;
    for (i, line) in text.lines().take(HEAD_LINES).enumerate() {
        let t = line.trim();
        let is_preamble = (i == 0 && t.starts_with("#!")) || t.starts_with("<?php") || t.is_empty();
        let comment = if in_docstring || t.starts_with("\"\"\"") || t.starts_with("'''") {
            let body = t.trim_matches(|c| c == '"' || c == '\'');
            let opening = !in_docstring;
            in_docstring = if opening {
                !(t.len() >= 6 && (t.ends_with("\"\"\"") || t.ends_with("'''")))
            } else {
                !(t.ends_with("\"\"\"") || t.ends_with("'''"))
            };
            Some(body.trim())
        } else {
            strip_marker(line)
        };
        match comment {
            None if is_preamble && words.is_empty() => continue,
            None => break,
            Some("") if words.is_empty() => continue,
            Some("") => break,
            Some(c) if is_noise(c) => {
                if words.is_empty() {
                    continue;
                }
                break;
            }
            Some(c) => {
                first_line.get_or_insert(i + 1);
                words.extend(c.split_whitespace());
            }
        }
    }
    let Some(line) = first_line else {
        return Chosen::new(None, "no leading comment block");
    };
    let mut joined = words.join(" ");
    // "backup.sh - Nightly backup" -> "Nightly backup".
    if let Some(name) = path.file_name().and_then(|n| n.to_str())
        && let Some(rest) = joined.strip_prefix(name)
    {
        joined = rest
            .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '-' | ':' | '—'))
            .to_owned();
    }
    let joined = shorten(&joined);
    Chosen::new(
        (!joined.is_empty()).then_some(joined),
        format!("leading comment block from line {line}"),
    )
}

/// Lines that are comments but say nothing about the script.
fn is_noise(comment: &str) -> bool {
    let lower = comment.to_ascii_lowercase();
    directive(comment, DIRECTIVE_KEYS).is_some()
        || lower.starts_with("vim:")
        || lower.starts_with("-*-")
        || lower.starts_with("shellcheck ")
        || lower.starts_with("@")
        || !comment.chars().any(char::is_alphanumeric)
}

fn shorten(text: &str) -> String {
    if text.len() <= MAX_DESCRIPTION {
        return text.to_owned();
    }
    let mut cut = MAX_DESCRIPTION;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &text[..cut];
    let head = head.rsplit_once(' ').map_or(head, |(h, _)| h);
    format!("{}...", head.trim_end_matches([',', ';', ':', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(path: &str, text: &str) -> Option<Kind> {
        kind(Path::new(path), text).map(|c| c.value)
    }

    #[test]
    fn shebang_wins_over_extension_and_env_forms_are_read() {
        assert_eq!(kind_of("a.sh", "#!/bin/bash\n"), Some(Kind::Bash));
        assert_eq!(kind_of("a", "#!/usr/bin/env python3\n"), Some(Kind::Python));
        assert_eq!(
            kind_of("a", "#!/usr/bin/env -S python3.12 -u\n"),
            Some(Kind::Python)
        );
        assert_eq!(kind_of("a", "#!/usr/bin/env node\n"), Some(Kind::Node));
        assert_eq!(kind_of("a", "#!/usr/bin/php8.2 -q\n"), Some(Kind::Php));
        assert_eq!(kind_of("a", "#! /bin/sh -e\n"), Some(Kind::Sh));
        assert_eq!(kind_of("a", "#!/usr/bin/perl -w\n"), Some(Kind::Perl));
        assert_eq!(kind_of("a", "#!/usr/bin/env ruby\n"), Some(Kind::Ruby));
        assert_eq!(
            kind_of("a", "#!/usr/bin/awk -f\n"),
            Some(Kind::Other("awk".into()))
        );
    }

    #[test]
    fn without_shebang_the_extension_decides_and_unknown_is_none() {
        assert_eq!(kind_of("x/report.PY", "print(1)\n"), Some(Kind::Python));
        assert_eq!(kind_of("job.mjs", ""), Some(Kind::Node));
        assert_eq!(kind_of("job.rb", ""), Some(Kind::Ruby));
        assert_eq!(kind_of("notes.txt", "hello\n"), None);
        assert_eq!(kind_of("Makefile", "all:\n"), None);
        let reason = &kind(Path::new("a.pl"), "").unwrap().reasons[0];
        assert_eq!(reason, "extension `.pl`");
    }

    #[test]
    fn comments_of_every_syntax_and_docstrings_are_collected() {
        let text = "#!/bin/sh\n# one\ncode # not a line comment\n// two\n/* three */\n * four\n\"\"\"five\nsix\"\"\"\nx = 1\n";
        let got: Vec<(usize, String)> = comments(text)
            .into_iter()
            .map(|c| (c.line, c.text))
            .collect();
        let want = [
            (2, "one"),
            (4, "two"),
            (5, "three"),
            (6, "four"),
            (7, "five"),
            (8, "six"),
        ];
        assert_eq!(got, want.map(|(l, t)| (l, t.to_owned())).to_vec(),);
    }

    #[test]
    fn directives_match_their_key_case_insensitively() {
        assert_eq!(
            directive("SCHEDULE: 0 2 * * *", &["schedule"]),
            Some("0 2 * * *")
        );
        assert_eq!(directive("Note: x", &["schedule"]), None);
        assert_eq!(directive("no colon", &["schedule"]), None);
    }

    fn describe(path: &str, text: &str) -> Option<String> {
        description(Path::new(path), text).value
    }

    #[test]
    fn description_is_the_first_paragraph_of_the_leading_block() {
        let text = "#!/bin/bash\n\n# backup.sh - Nightly dump of the\n# orders database.\n#\n# Second paragraph.\nset -e\n";
        assert_eq!(
            describe("/x/backup.sh", text).as_deref(),
            Some("Nightly dump of the orders database.")
        );
    }

    #[test]
    fn description_skips_directives_separators_and_php_open_tag() {
        let text = "<?php\n// ##########\n// Schedule: 0 3 * * *\n// Rebuilds the search index.\n";
        assert_eq!(
            describe("a.php", text).as_deref(),
            Some("Rebuilds the search index.")
        );
        let text = "#!/usr/bin/env python3\n\"\"\"Fetch exchange rates.\"\"\"\nimport os\n";
        assert_eq!(
            describe("a.py", text).as_deref(),
            Some("Fetch exchange rates.")
        );
    }

    #[test]
    fn no_leading_block_means_no_description_and_a_reason() {
        let chosen = description(Path::new("a.sh"), "#!/bin/sh\necho hi\n# late comment\n");
        assert_eq!(chosen.value, None);
        assert_eq!(chosen.reasons, ["no leading comment block"]);
    }

    #[test]
    fn long_descriptions_are_cut_at_a_word() {
        let long = format!("# {}\n", "word ".repeat(100));
        let d = describe("a.sh", &long).unwrap();
        assert!(
            d.len() <= MAX_DESCRIPTION + 3 && d.ends_with("word..."),
            "{d}"
        );
    }
}
