//! One test per rule of `classify.rs`.

use super::*;
use crate::config::builtin_slots;
use crate::discover::script::comments;

fn ev(relative: &str, text: &str) -> (Vec<Comment>, Evidence) {
    let c = comments(text);
    let e = Evidence::new(Path::new(relative), &c, text);
    (c, e)
}

fn cat(relative: &str, text: &str) -> Category {
    let (c, e) = ev(relative, text);
    category(&c, &e).value
}

fn prio(relative: &str, text: &str) -> Priority {
    let (c, e) = ev(relative, text);
    priority(&c, &e).value
}

#[test]
fn names_split_at_punctuation_and_case_changes() {
    assert_eq!(
        split_name("nightlyDB_backup-v2"),
        ["nightly", "db", "backup", "v2"]
    );
    assert_eq!(split_name("ETL"), ["etl"]);
}

#[test]
fn category_from_name_folder_comment_and_code() {
    assert_eq!(cat("db_backup.sh", ""), Category::Backup);
    assert_eq!(cat("reports/weekly.py", ""), Category::Reporting);
    assert_eq!(
        cat("job.sh", "# Mirror the uploads bucket\n"),
        Category::Sync
    );
    assert_eq!(
        cat("job.sh", "find /tmp -mtime +7 -delete\n"),
        Category::Cleanup
    );
    assert_eq!(cat("job.sh", "mail -s hi root\n"), Category::Notification);
    assert_eq!(cat("job.sh", "echo hi\n"), Category::Other);
}

#[test]
fn the_name_outweighs_comments_and_ties_go_to_the_first_listed() {
    // name `cleanup` (3) beats two comment words pointing at reporting (2).
    assert_eq!(cat("cleanup.sh", "# stats summary\n"), Category::Cleanup);
    // `backup` and `sync` once each in the name: backup is listed first.
    assert_eq!(cat("backup_sync.sh", ""), Category::Backup);
    let (c, e) = ev("reports/export.sh", "");
    let why = &category(&c, &e).reasons[0];
    assert_eq!(why, "score 3: name word `export` +3");
}

#[test]
fn category_and_priority_directives_win() {
    let text = "# Category: export\n# Priority: critical\n";
    assert_eq!(cat("db_backup.sh", text), Category::Export);
    assert_eq!(prio("cleanup.sh", text), Priority::Critical);
    // An unknown value is ignored, and the words decide.
    assert_eq!(cat("db_backup.sh", "# Category: misc\n"), Category::Backup);
}

#[test]
fn priority_from_words_highest_level_first() {
    assert_eq!(prio("billing_sync.sh", ""), Priority::Critical);
    assert_eq!(prio("backup.sh", "# clears the cache\n"), Priority::High);
    assert_eq!(prio("tmp_cleanup.sh", ""), Priority::Low);
    assert_eq!(prio("job.sh", ""), Priority::Medium);
}

fn res(category: Category, bytes: u64, lines: usize, text: &str) -> Resources {
    let (_, e) = ev("job.sh", text);
    resources(category, bytes, lines, &e).value
}

#[test]
fn backup_and_import_are_heavy_cleanup_is_light() {
    let heavy = res(Category::Backup, 100, 5, "");
    assert_eq!(
        (heavy.slot.as_str(), heavy.memory, heavy.timeout),
        ("heavy", ByteSize::gib(2), Duration::from_secs(4 * 3600))
    );
    assert_eq!(res(Category::Import, 100, 5, "").slot, "heavy");
    let light = res(Category::Cleanup, 100, 5, "");
    assert_eq!(
        (light.slot.as_str(), light.memory, light.timeout),
        ("light", ByteSize::new(128 << 20), Duration::from_secs(600))
    );
    assert_eq!(res(Category::Other, 100, 5, "").slot, "default");
}

#[test]
fn heavy_code_size_and_length_raise_the_estimate() {
    assert_eq!(
        res(Category::Other, 100, 5, "ffmpeg -i a b\n").slot,
        "heavy"
    );
    assert_eq!(res(Category::Cleanup, 300 * 1024, 50, "").slot, "heavy");
    assert_eq!(res(Category::Cleanup, 1000, 600, "").slot, "default");
    let long = res(Category::Other, 1000, 1500, "");
    assert_eq!(long.timeout, Duration::from_secs(2 * 3600));
}

#[test]
fn fitting_falls_back_to_default_and_caps_memory() {
    let (_, e) = ev("job.sh", "");
    let mut slots = builtin_slots();
    slots.remove("heavy");
    slots.get_mut("default").unwrap().memory_max = ByteSize::gib(1);
    let fitted = fit(resources(Category::Backup, 1, 1, &e), &slots);
    assert_eq!(fitted.value.slot, "default");
    assert_eq!(fitted.value.memory, ByteSize::gib(1));
    assert!(fitted.reasons.iter().any(|r| r.contains("no slot `heavy`")));
    assert!(fitted.reasons.iter().any(|r| r.contains("capped")));
}
