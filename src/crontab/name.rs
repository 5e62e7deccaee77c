//! Job names for imported entries, from their commands: the program's base name without
//! its extension (`/usr/local/bin/backup.sh --full` -> `backup`), past wrappers such as
//! `nice`, `flock FILE` or `cd DIR &&`, reduced to the job-name alphabet, unique within one
//! import (`backup`, `backup_2`, ...).

use std::collections::HashSet;

/// Longest name part, so `cron_<name>_<n>.yaml` stays well inside a job name's 128.
const MAX_LEN: usize = 48;

/// Programs that run another command; the name is taken from what they run.
const WRAPPERS: [&str; 12] = [
    "nice", "ionice", "nohup", "exec", "time", "env", "sudo", "chronic", "flock", "timeout",
    "setlock", "run-one",
];

/// The name a command suggests, before it is made unique.
///
/// ```
/// use slotcron::crontab::name_from_command;
/// assert_eq!(name_from_command("cd /srv && ./bin/Sync-Users.py -q"), "sync-users");
/// assert_eq!(name_from_command("nice -n 10 flock -n /tmp/l /usr/bin/backup.sh"), "backup");
/// assert_eq!(name_from_command("FOO=1 php artisan schedule:run"), "php");
/// ```
pub fn name_from_command(command: &str) -> String {
    let mut words = command
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .filter(|w| !w.is_empty())
        .peekable();
    while let Some(word) = words.next() {
        let word = word.trim_matches(|c| c == '"' || c == '\'');
        if word.contains('=') && !word.starts_with('-') && !word.starts_with('/') {
            continue; // VAR=value
        }
        if matches!(word, "cd" | "-u" | "-g") {
            words.next(); // its operand
            continue;
        }
        if word.starts_with('-') || word.chars().all(|c| c.is_ascii_digit()) {
            continue; // a wrapper's option or number
        }
        let base = word.rsplit('/').next().unwrap_or(word);
        if WRAPPERS.contains(&base) {
            if matches!(base, "flock" | "setlock") {
                skip_options_then_one(&mut words);
            }
            continue;
        }
        let stem = match base.rsplit_once('.') {
            Some((stem, _)) if !stem.is_empty() => stem,
            _ => base,
        };
        let name = sanitize(stem);
        if !name.is_empty() {
            return name;
        }
    }
    "job".to_owned()
}

/// Skips a wrapper's options and then its one operand (`flock -n FILE`).
fn skip_options_then_one<'a>(words: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>) {
    while words.peek().is_some_and(|w| w.starts_with('-')) {
        words.next();
    }
    words.next();
}

/// Lower case; letters, digits, `-` and `_` kept, runs of anything else one `_`.
fn sanitize(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches(|c| c == '_' || c == '-');
    out.chars().take(MAX_LEN).collect()
}

/// Hands out names unique within one import.
#[derive(Debug, Default)]
pub struct Names {
    taken: HashSet<String>,
}

impl Names {
    /// `base`, or `base_2`, `base_3`, ... if taken.
    pub fn unique(&mut self, base: &str) -> String {
        let mut name = base.to_owned();
        let mut n = 1;
        while !self.taken.insert(name.clone()) {
            n += 1;
            name = format!("{base}_{n}");
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_program_past_wrappers() {
        for (command, name) in [
            ("/usr/local/bin/backup.sh --full", "backup"),
            ("timeout 300 /opt/x/report.rb", "report"),
            ("sudo -u www-data php /var/www/cron.php", "php"),
            (
                "test -x /usr/sbin/anacron || ( cd / && run-parts /etc/cron.daily )",
                "test",
            ),
            ("\"/opt/My App/run\"", "my"),
            ("./weird$$name!.sh", "weird_name"),
            ("; ;", "job"),
        ] {
            assert_eq!(name_from_command(command), name, "{command}");
        }
        assert_eq!(
            name_from_command(&format!("/{}", "a".repeat(99))).len(),
            MAX_LEN
        );
    }

    #[test]
    fn clashes_get_a_numbered_suffix() {
        let mut names = Names::default();
        assert_eq!(names.unique("backup"), "backup");
        assert_eq!(names.unique("backup"), "backup_2");
        assert_eq!(names.unique("backup"), "backup_3");
        assert_eq!(names.unique("report"), "report");
    }
}
