//! Category, priority and a resource estimate (slot, memory limit, timeout) for a script,
//! from its name, path, comments and code. Pure functions over what `script.rs` read;
//! every value carries the reasons it was chosen.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::Chosen;
use super::script::{Comment, directive};
use crate::config::{ByteSize, Priority, Slot};

/// What a job is for. `Other` when nothing points anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Backup,
    Reporting,
    Sync,
    Cleanup,
    Monitoring,
    Import,
    Export,
    Maintenance,
    Notification,
    Other,
}

/// Every category with the words (in names and comments) and code fragments that point
/// to it; a tie goes to the one listed first.
const CATEGORIES: &[(Category, &str, &[&str], &[&str])] = &[
    (
        Category::Backup,
        "backup",
        &["backup", "backups", "bak", "dump", "snapshot", "archive"],
        &[
            "pg_dump",
            "mysqldump",
            "mongodump",
            "restic ",
            "borg ",
            "duplicity",
            "xtrabackup",
        ],
    ),
    (
        Category::Import,
        "import",
        &["import", "imports", "ingest", "load", "fetch", "etl"],
        &["load data", "copy from", "bulk insert"],
    ),
    (
        Category::Export,
        "export",
        &["export", "exports", "extract", "upload", "publish", "feed"],
        &["copy to", "into outfile"],
    ),
    (
        Category::Sync,
        "sync",
        &[
            "sync",
            "synchronize",
            "mirror",
            "replicate",
            "replication",
            "rsync",
        ],
        &["rsync ", "rclone ", "s3 sync"],
    ),
    (
        Category::Reporting,
        "reporting",
        &[
            "report",
            "reports",
            "reporting",
            "stats",
            "statistics",
            "summary",
            "digest",
            "analytics",
            "kpi",
        ],
        &[],
    ),
    (
        Category::Cleanup,
        "cleanup",
        &[
            "cleanup",
            "clean",
            "purge",
            "prune",
            "rotate",
            "logrotate",
            "tmp",
            "expire",
            "housekeeping",
        ],
        &["-delete", "rm -rf", "rm -f", "-mtime"],
    ),
    (
        Category::Monitoring,
        "monitoring",
        &[
            "monitor",
            "monitoring",
            "check",
            "health",
            "healthcheck",
            "heartbeat",
            "ping",
            "uptime",
            "watchdog",
            "probe",
        ],
        &["curl -f", "nagios", "check_http"],
    ),
    (
        Category::Maintenance,
        "maintenance",
        &[
            "maintenance",
            "vacuum",
            "reindex",
            "optimize",
            "compact",
            "migrate",
            "upgrade",
            "renew",
            "certbot",
            "fsck",
        ],
        &["vacuum", "optimize table", "certbot renew"],
    ),
    (
        Category::Notification,
        "notification",
        &[
            "notify",
            "notification",
            "notifications",
            "alert",
            "mail",
            "email",
            "remind",
            "reminder",
            "slack",
            "sms",
        ],
        &["sendmail", "mail -s", "mailx", "smtp", "hooks.slack.com"],
    ),
];

impl Category {
    pub fn name(self) -> &'static str {
        CATEGORIES
            .iter()
            .find(|(c, ..)| *c == self)
            .map_or("other", |(_, name, ..)| name)
    }

    fn from_name(name: &str) -> Option<Category> {
        let name = name.trim().to_ascii_lowercase();
        if name == "other" {
            return Some(Category::Other);
        }
        CATEGORIES
            .iter()
            .find(|(_, n, ..)| *n == name)
            .map(|(c, ..)| *c)
    }
}

/// Splits a file or folder name into lower-case words: at non-alphanumerics and at
/// lower-to-upper case changes (`nightlyDB_backup-v2` -> nightly, db, backup, v2).
pub fn split_name(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The words of a script's evidence, by where they were found (weights differ).
pub struct Evidence {
    /// Words of the file name without extension.
    pub name: Vec<String>,
    /// Words of the folders between the scanned root and the file.
    pub folders: Vec<String>,
    /// Words of the comment lines.
    pub comments: Vec<String>,
    /// The script's text, lower-cased, for code fragments.
    pub code: String,
}

impl Evidence {
    /// `relative` is the script's path below the folder that was scanned.
    pub fn new(relative: &Path, comments: &[Comment], text: &str) -> Evidence {
        let name = relative
            .file_stem()
            .and_then(|s| s.to_str())
            .map(split_name)
            .unwrap_or_default();
        let folders = relative
            .parent()
            .into_iter()
            .flat_map(|p| p.components())
            .filter_map(|c| c.as_os_str().to_str())
            .flat_map(split_name)
            .collect();
        let comments = comments.iter().flat_map(|c| split_name(&c.text)).collect();
        Evidence {
            name,
            folders,
            comments,
            code: text.to_ascii_lowercase(),
        }
    }
}

const NAME_WEIGHT: u32 = 3;
const FOLDER_WEIGHT: u32 = 2;
const WORD_WEIGHT: u32 = 1;

/// The category: a `# Category:` directive, else the best score of name words (3 each),
/// folder words (2), comment words (1) and code fragments (1); `other` at zero.
pub fn category(comments: &[Comment], ev: &Evidence) -> Chosen<Category> {
    for c in comments {
        if let Some(value) = directive(&c.text, &["category"])
            && let Some(cat) = Category::from_name(value)
        {
            return Chosen::new(cat, format!("line {}: directive `{}`", c.line, c.text));
        }
    }
    let mut scores: BTreeMap<Category, (u32, Vec<String>)> = BTreeMap::new();
    for (cat, _, words, fragments) in CATEGORIES {
        let entry = scores.entry(*cat).or_default();
        for (place, list, weight) in [
            ("name", &ev.name, NAME_WEIGHT),
            ("folder", &ev.folders, FOLDER_WEIGHT),
            ("comment", &ev.comments, WORD_WEIGHT),
        ] {
            for w in list.iter().filter(|w| words.contains(&w.as_str())) {
                entry.0 += weight;
                entry.1.push(format!("{place} word `{w}` +{weight}"));
            }
        }
        for f in fragments.iter().filter(|f| ev.code.contains(*f)) {
            entry.0 += WORD_WEIGHT;
            entry.1.push(format!("code `{}` +{WORD_WEIGHT}", f.trim()));
        }
    }
    // Ties go to the category listed first in CATEGORIES.
    let order = |c: &Category| CATEGORIES.iter().position(|(x, ..)| x == c);
    let best = scores
        .into_iter()
        .filter(|(_, (score, _))| *score > 0)
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(order(&b.0).cmp(&order(&a.0))));
    match best {
        Some((cat, (score, why))) => {
            Chosen::with(cat, vec![format!("score {score}: {}", why.join(", "))])
        }
        None => Chosen::new(
            Category::Other,
            "no category words in name, path or comments",
        ),
    }
}

/// Words that set a priority, highest level first.
const PRIORITY_WORDS: &[(Priority, &[&str])] = &[
    (
        Priority::Critical,
        &[
            "critical", "billing", "payment", "payments", "invoice", "invoices", "payroll",
            "security",
        ],
    ),
    (
        Priority::High,
        &[
            "important",
            "urgent",
            "production",
            "prod",
            "customer",
            "customers",
            "backup",
            "backups",
        ],
    ),
    (
        Priority::Low,
        &[
            "cleanup",
            "tmp",
            "temp",
            "cache",
            "debug",
            "test",
            "optional",
            "stats",
            "housekeeping",
        ],
    ),
];

/// The priority: a `# Priority:` directive, else the highest level whose words appear in
/// the name, folders or comments; `medium` when none do.
pub fn priority(comments: &[Comment], ev: &Evidence) -> Chosen<Priority> {
    for c in comments {
        if let Some(value) = directive(&c.text, &["priority"]) {
            let level = match value.trim().to_ascii_lowercase().as_str() {
                "critical" => Some(Priority::Critical),
                "high" => Some(Priority::High),
                "medium" | "normal" => Some(Priority::Medium),
                "low" => Some(Priority::Low),
                _ => None,
            };
            if let Some(level) = level {
                return Chosen::new(level, format!("line {}: directive `{}`", c.line, c.text));
            }
        }
    }
    for (level, words) in PRIORITY_WORDS {
        let places = [
            ("name", &ev.name),
            ("folder", &ev.folders),
            ("comment", &ev.comments),
        ];
        for (place, list) in places {
            if let Some(w) = list.iter().find(|w| words.contains(&w.as_str())) {
                return Chosen::new(*level, format!("{place} word `{w}`"));
            }
        }
    }
    Chosen::new(Priority::Medium, "no priority words -> medium")
}

/// Where a job runs and how far it may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// A slot name of the built-in set: `heavy`, `default` or `light`.
    pub slot: String,
    pub memory: ByteSize,
    pub timeout: Duration,
}

/// Code fragments of programs that take a lot of memory or time.
const HEAVY_CODE: &[&str] = &[
    "pg_dump",
    "mysqldump",
    "mongodump",
    "ffmpeg",
    "tar -c",
    "tar czf",
    "tar cf ",
    "gzip",
    "xz ",
    "zstd",
    "pandas",
    "spark-submit",
    "convert ",
    "pg_restore",
];
/// Above these a script is heavy whatever it does.
const HEAVY_BYTES: u64 = 256 * 1024;
const HEAVY_LINES: usize = 2_000;
/// Below this a cleanup, monitoring or notification script is light.
const LIGHT_LINES: usize = 500;
/// A script this long gets twice its slot's timeout.
const LONG_LINES: usize = 1_000;

/// The resource estimate from size, line count, category and code.
pub fn resources(category: Category, bytes: u64, lines: usize, ev: &Evidence) -> Chosen<Resources> {
    let mut reasons = Vec::new();
    let heavy_code = HEAVY_CODE.iter().find(|f| ev.code.contains(*f));
    let slot = if matches!(category, Category::Backup | Category::Import) {
        reasons.push(format!("slot heavy: category {}", category.name()));
        "heavy"
    } else if let Some(code) = heavy_code {
        reasons.push(format!("slot heavy: code uses `{}`", code.trim()));
        "heavy"
    } else if bytes > HEAVY_BYTES || lines > HEAVY_LINES {
        reasons.push(format!("slot heavy: {bytes} bytes, {lines} lines"));
        "heavy"
    } else if matches!(
        category,
        Category::Cleanup | Category::Monitoring | Category::Notification
    ) && lines < LIGHT_LINES
    {
        reasons.push(format!(
            "slot light: category {}, {lines} lines",
            category.name()
        ));
        "light"
    } else {
        reasons.push("slot default: nothing heavy or light about it".to_owned());
        "default"
    };
    let (memory, timeout) = match slot {
        "heavy" => (ByteSize::gib(2), Duration::from_secs(4 * 3600)),
        "light" => (ByteSize::new(128 << 20), Duration::from_secs(10 * 60)),
        _ => (ByteSize::new(512 << 20), Duration::from_secs(3600)),
    };
    reasons.push(format!("memory {memory}: the {slot} estimate"));
    let timeout = if lines > LONG_LINES {
        reasons.push(format!("timeout doubled: {lines} lines (> {LONG_LINES})"));
        timeout * 2
    } else {
        timeout
    };
    reasons.push(format!(
        "timeout {}: the {slot} estimate",
        crate::config::format_duration(timeout)
    ));
    Chosen::with(
        Resources {
            slot: slot.to_owned(),
            memory,
            timeout,
        },
        reasons,
    )
}

/// Fits an estimate to the slots this machine has: a slot it lacks becomes `default`
/// (which always exists), and the memory limit is kept within the slot's `memory_max`.
pub fn fit(mut chosen: Chosen<Resources>, slots: &BTreeMap<String, Slot>) -> Chosen<Resources> {
    if !slots.contains_key(&chosen.value.slot) {
        chosen.reasons.push(format!(
            "no slot `{}` in slotcron.yaml -> `default`",
            chosen.value.slot
        ));
        chosen.value.slot = "default".to_owned();
    }
    if let Some(slot) = slots.get(&chosen.value.slot)
        && chosen.value.memory > slot.memory_max
    {
        chosen.reasons.push(format!(
            "memory {} capped to slot `{}`'s memory_max {}",
            chosen.value.memory, slot.name, slot.memory_max
        ));
        chosen.value.memory = slot.memory_max;
    }
    chosen
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
