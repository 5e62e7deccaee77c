//! What the Debian package ships, checked without building it: the conffile is the
//! documented defaults, the user example is a working user configuration, and the man
//! pages and completions `slotcron generate` makes cover every visible subcommand. The
//! package itself is built, linted and installed by `tests/systemd-vm/run`.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use slotcron::cli::Cli;
use slotcron::config::{
    CgroupRoot, DEFAULT_KILL_GRACE, DEFAULT_LOG_MAX, EnforcementMode, Settings, builtin_slots,
};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn the_packaged_config_is_the_builtin_defaults_with_system_paths_and_required_enforcement() {
    let text = std::fs::read_to_string(repo("packaging/slotcron.yaml")).unwrap();
    let s = Settings::parse(Path::new("/etc/slotcron/slotcron.yaml"), &text).unwrap();
    let builtin = Settings::builtin();
    assert_eq!(s.jobs_dir, Path::new("/etc/slotcron/jobs.d"));
    assert_eq!(s.state_dir, Path::new("/var/lib/slotcron"));
    assert_eq!(s.enforcement, EnforcementMode::Required);
    assert_eq!(s.cgroup_root, CgroupRoot::Auto);
    assert_eq!(s.slots, builtin_slots());
    assert_eq!(s.kill_grace, DEFAULT_KILL_GRACE);
    assert_eq!(s.log_max, DEFAULT_LOG_MAX);
    assert_eq!(s.metrics_listen, builtin.metrics_listen);
    assert_eq!(s.retention, builtin.retention);
    assert_eq!(s.memory_max, None);
}

#[test]
fn the_user_example_keeps_jobs_in_xdg_config_and_state_in_xdg_state() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".config/slotcron/slotcron.yaml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::copy(repo("packaging/slotcron-user.yaml"), &config).unwrap();
    let state = home.path().join(".local/state/slotcron");
    let s = Settings::load(&config, Some(&state)).unwrap();
    assert_eq!(s.jobs_dir, home.path().join(".config/slotcron/jobs.d"));
    assert_eq!(s.state_dir, state);
    assert_eq!(s.enforcement, EnforcementMode::Required);
    assert_eq!(s.cgroup_root, CgroupRoot::Auto);
    assert_eq!(
        s.metrics_listen.map(|a| a.port()),
        Some(0),
        "the system service has 9746"
    );
    assert_eq!(s.memory_max.map(|m| m.bytes()), Some(2 << 30));
    // A file that sets state_dir keeps it.
    std::fs::write(&config, "state_dir: /elsewhere\n").unwrap();
    let s = Settings::load(&config, Some(&state)).unwrap();
    assert_eq!(s.state_dir, Path::new("/elsewhere"));
}

fn visible_subcommands() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_owned())
        .collect()
}

#[test]
fn generate_writes_a_man_page_for_every_visible_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_slotcron"))
        .args(["generate", "man"])
        .arg(dir.path().join("man1"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut pages: Vec<String> = std::fs::read_dir(dir.path().join("man1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    let mut want: Vec<String> = visible_subcommands()
        .iter()
        .map(|c| format!("slotcron-{c}.1"))
        .chain(["slotcron.1".to_owned()])
        .collect();
    want.sort();
    assert_eq!(pages, want);
    assert!(want.len() > 20, "{want:?}");
    let run = std::fs::read_to_string(dir.path().join("man1/slotcron-run.1")).unwrap();
    assert!(run.contains(".TH slotcron-run 1"), "{run}");
}

#[test]
fn generate_prints_completions_that_know_every_visible_subcommand() {
    for (shell, head) in [
        ("bash", "_slotcron() {"),
        ("zsh", "#compdef slotcron"),
        ("fish", ""),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_slotcron"))
            .args(["generate", "completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.starts_with(head), "{shell}: {}", &script[..80]);
        for sub in visible_subcommands() {
            assert!(script.contains(&sub), "{shell} completion lacks `{sub}`");
        }
        assert!(
            !script.contains("generate"),
            "{shell}: the hidden command is offered"
        );
    }
}
